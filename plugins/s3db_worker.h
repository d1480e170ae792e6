/*-------------------------------------------------------------------------
 *
 * s3db_worker.h
 *		The s3db_fdw background worker and the coordinator it hosts:
 *		settings, the status it publishes in shared memory, and the
 *		helpers the worker and the SQL functions share.
 *
 * The worker (worker.c) runs the plain-C coordinator of src/coord against
 * the store of one foreign server and publishes what each tick saw in a
 * small shared-memory struct, so that any backend can show it through
 * s3db_coordinator() and s3db_coordinator_metrics() (coordinator.c)
 * without touching the store.  coord_store.c turns a server name into a
 * store configuration for both.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_WORKER_H
#define S3DB_WORKER_H

#include "postgres.h"

#include "storage/lwlock.h"

#include "coord/coord.h"
#include "fdw/s3db_fdw.h"

#define S3DB_WORKER_TYPE "s3db_fdw worker"
#define S3DB_ERRMSG_MAX 512
/* databases s3db_fdw.database may name, one worker each */
#define S3DB_MAX_DATABASES 16

/* settings (worker.c) */
extern char *s3db_worker_database;
extern bool s3db_worker_enabled;
extern char *s3db_coordinator_server;
extern char *s3db_coordinator_namespace;
extern int	s3db_lease_ms;
extern int	s3db_heartbeat_ms;
extern int	s3db_breaker_failures;
extern int	s3db_breaker_reset_ms;

/*
 * What the worker publishes.  Written by the worker only, read by any
 * backend, both under the lock.
 */
typedef struct S3dbWorkerShared
{
	LWLock	   *lock;
	char		database[NAMEDATALEN];	/* the worker's, from s3db_fdw.database */
	Oid			dboid;			/* set once the worker connected */
	pid_t		pid;			/* 0 while no worker runs */
	bool		enabled;		/* a coordinator is configured and ticking */
	bool		have_status;	/* at least one tick since it was enabled */
	char		ns[S3C_ID_MAX + 1];
	char		worker_id[S3C_ID_MAX + 1];
	s3c_status	status;			/* of the last tick */
	s3c_metrics metrics;		/* since the coordinator was (re)created */
	int64		last_tick_ms;	/* epoch ms of the last tick, 0 = none */
	char		last_error[S3DB_ERRMSG_MAX];	/* "" after a good tick */
} S3dbWorkerShared;

/* worker.c */
extern void s3db_worker_init(void);
/* This database's worker slot, or NULL (not preloaded, or no worker here). */
extern S3dbWorkerShared *s3db_worker_shared(void);
/* The database the running worker serves (in the worker). */
extern const char *s3db_worker_dbname(void);
extern PGDLLEXPORT void s3db_worker_main(Datum arg);

/* Wall clock in epoch milliseconds, and back to a timestamptz. */
extern int64 s3db_now_ms(void);
/* epoch ms read from a store: between 1970 and the year 5000 */
#define S3DB_MS_OK(ms) ((ms) > 0 && (ms) < INT64CONST(95617584000000))
extern TimestampTz s3db_ms_to_timestamptz(int64 ms);

/* coord_store.c */

/* A resolved coordinator server: what is needed to open its store. */
typedef struct S3dbCoordTarget
{
	Oid			serverid;
	Oid			userid;			/* whose user mapping was used */
	uint64		fingerprint;	/* of every option, to notice changes */
	S3dbConnOptions opts;		/* palloc'd in the caller's context */
} S3dbCoordTarget;

/*
 * Resolve a server by name, in a transaction.  Returns false and a message
 * in errbuf when there is no such s3db_fdw server.
 */
extern bool s3db_coord_resolve(const char *server_name, S3dbCoordTarget *out,
							   char *errbuf, size_t errlen);

/* Fill an s3s_config from resolved options (strings are borrowed). */
extern void s3db_coord_store_config(const S3dbCoordTarget *t, s3s_config *cfg);

/* A coordinator configuration from the current settings. */
extern void s3db_coord_config(s3c_config *cfg, const char *worker_id);

#endif							/* S3DB_WORKER_H */
