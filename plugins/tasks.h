/*-------------------------------------------------------------------------
 *
 * tasks.h
 *		Plugin tasks run by the s3db_fdw background worker.
 *
 * After each coordinator tick the worker runs every task of the table in
 * tasks.c.  A task gets the coordinator's view (the store, whether this
 * worker leads and under which epoch) and returns how soon it wants to run
 * again.  Tasks that must run on one cluster only (TTL) check is_leader and
 * fence their side effects with s3c_fence_ok_at(coord, epoch, now); tasks
 * that serve this cluster (the replicator's outbox) run on every worker.
 * A task runs its own transactions and catches its own errors: a failing
 * task must never stop the coordinator or the other tasks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_TASKS_H
#define S3DB_TASKS_H

#include "postgres.h"

#include "coord/coord.h"
#include "store/store.h"

typedef struct S3dbTaskContext
{
	s3s_store  *store;			/* the coordinator server's store, or NULL */
	s3c_coord  *coord;			/* NULL when the coordinator is off */
	bool		is_leader;
	int64		epoch;
	int64		now_ms;			/* wall clock, epoch ms */
} S3dbTaskContext;

/* Run one task; return the wanted delay before the next run, in ms. */
typedef long (*S3dbTaskFn) (const S3dbTaskContext *ctx);

typedef struct S3dbTask
{
	const char *name;
	S3dbTaskFn	run;
} S3dbTask;

/* Run every task; returns the smallest delay they asked for (or max_delay). */
extern long s3db_run_tasks(const S3dbTaskContext *ctx, long max_delay);

#endif							/* S3DB_TASKS_H */
