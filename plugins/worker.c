/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The s3db_fdw background worker: settings, registration, shared
 *		memory, and the loop that drives the coordinator.
 *
 * When s3db_fdw is in shared_preload_libraries, one worker per database
 * named in s3db_fdw.database (a comma-separated list) connects to it and,
 * while s3db_fdw.coordinator_server names an s3db_fdw server there, takes
 * part in the leader election of src/coord on that server's store and
 * runs that database's TTL and replication tasks.  Each worker has its own
 * slot of shared memory; s3db_coordinator() reads the one of its database.  Each turn of the loop resolves the
 * server in a short transaction (reopening the store only when its
 * options changed), runs one tick outside any transaction, publishes what
 * the tick saw in shared memory for s3db_coordinator(), and sleeps on its
 * latch until the next heartbeat.
 *
 * Storage trouble never ends the worker: a failed tick counts toward the
 * coordinator's circuit breaker and is logged at LOG, once per distinct
 * message and minute.  SIGHUP rereads the settings; SIGTERM gives up the
 * lease (so another worker elects at once) and exits with status 1, so the
 * postmaster starts a fresh worker after bgw_restart_time unless it is
 * shutting down.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/shmem.h"
#include "utils/backend_status.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "fdw/trust.h"
#include "s3db_worker.h"
#include "tasks.h"

/* seconds before the postmaster starts a worker that exited or crashed */
#define WORKER_RESTART_S		5
/* how long store I/O may go on once a shutdown was requested */
#define SHUTDOWN_GRACE_MS		3000
/* repeat an unchanged problem in the log at most this often */
#define LOG_REPEAT_MS			60000
/* sleep while the coordinator is off or misconfigured (SIGHUP wakes us) */
#define IDLE_DELAY_MS			60000L
#define CONFIG_RETRY_MS			10000L

char	   *s3db_worker_database = NULL;
bool		s3db_worker_enabled = true;
char	   *s3db_coordinator_server = NULL;
char	   *s3db_coordinator_namespace = NULL;
int			s3db_lease_ms = 15000;
int			s3db_heartbeat_ms = 5000;
int			s3db_breaker_failures = 5;
int			s3db_breaker_reset_ms = 30000;

/* the slots, one per configured database; shared is this worker's */
typedef struct S3dbWorkerSlots
{
	int			n;
	S3dbWorkerShared slot[S3DB_MAX_DATABASES];
} S3dbWorkerSlots;

static S3dbWorkerSlots *slots = NULL;
static S3dbWorkerShared *shared = NULL;
static char worker_dbname[NAMEDATALEN];

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* ---------------------------------------------------------------------
 * Settings, shared memory and registration (postmaster and backends)
 * ---------------------------------------------------------------------
 */

static void
define_settings(void)
{
	/*
	 * PGC_POSTMASTER settings may only be created while preloading; a backend
	 * that loads the module on first use (no preload, no worker) gets them
	 * as plain SIGHUP settings, which it never acts on.
	 */
	GucContext	startup = process_shared_preload_libraries_in_progress ?
		PGC_POSTMASTER : PGC_SIGHUP;

	DefineCustomStringVariable("s3db_fdw.database",
							   "Databases the s3db_fdw background workers connect to, one worker each.",
							   "A comma-separated list; each worker looks up the coordinator "
							   "server and runs the plugin tasks of its database.",
							   &s3db_worker_database, "postgres",
							   startup, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("s3db_fdw.worker_enabled",
							 "Starts the s3db_fdw background worker.",
							 "Takes effect only when s3db_fdw is in shared_preload_libraries.",
							 &s3db_worker_enabled, true,
							 startup, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("s3db_fdw.coordinator_server",
							   "Foreign server whose store hosts the leader election.",
							   "Empty turns the coordinator off.",
							   &s3db_coordinator_server, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("s3db_fdw.coordinator_namespace",
							   "Coordinator namespace (plugin=coordinator/namespace=<ns>/).",
							   "s3db.js plugins use \"default\"; joining it makes this "
							   "cluster a candidate for their duties.",
							   &s3db_coordinator_namespace, S3C_DEFAULT_NAMESPACE,
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("s3db_fdw.lease_ms",
							"Length of the coordinator leader lease.",
							NULL, &s3db_lease_ms, 15000, 1000, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("s3db_fdw.heartbeat_ms",
							"Interval between coordinator ticks; must be shorter than the lease.",
							NULL, &s3db_heartbeat_ms, 5000, 10, 600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("s3db_fdw.breaker_failures",
							"Consecutive failed coordinator ticks that open the circuit breaker.",
							NULL, &s3db_breaker_failures, 5, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("s3db_fdw.breaker_reset_ms",
							"Time an open circuit breaker waits before it probes the store again.",
							NULL, &s3db_breaker_reset_ms, 30000, 0, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

static Size
shared_size(void)
{
	return MAXALIGN(sizeof(S3dbWorkerSlots));
}

/*
 * The databases of s3db_fdw.database, without repeats, at most
 * S3DB_MAX_DATABASES (more are refused at startup with a message).
 */
static List *
configured_databases(void)
{
	char	   *raw = pstrdup(s3db_worker_database ? s3db_worker_database : "");
	List	   *names = NIL;
	List	   *out = NIL;
	ListCell   *lc;

	if (!SplitIdentifierString(raw, ',', &names))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid list syntax in parameter \"s3db_fdw.database\"")));
	foreach(lc, names)
	{
		char	   *name = (char *) lfirst(lc);
		bool		dup = false;
		ListCell   *lo;

		foreach(lo, out)
			dup |= strcmp((char *) lfirst(lo), name) == 0;
		if (!dup && name[0] != '\0')
			out = lappend(out, pstrdup(name));
	}
	if (list_length(out) > S3DB_MAX_DATABASES)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"s3db_fdw.database\" names %d databases", list_length(out)),
				 errdetail("At most %d databases can have an s3db_fdw worker.", S3DB_MAX_DATABASES)));
	return out;
}

static void
worker_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche("s3db_fdw", S3DB_MAX_DATABASES);
}

static void
worker_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	slots = ShmemInitStruct("s3db_fdw workers", shared_size(), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("s3db_fdw");
		List	   *dbs = configured_databases();
		ListCell   *lc;

		memset(slots, 0, shared_size());
		for (int i = 0; i < S3DB_MAX_DATABASES; i++)
			slots->slot[i].lock = &locks[i].lock;
		foreach(lc, dbs)
			strlcpy(slots->slot[slots->n++].database, (char *) lfirst(lc), NAMEDATALEN);
	}
	LWLockRelease(AddinShmemInitLock);
}

static void
register_worker(int index, const char *database)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = WORKER_RESTART_S;
	strlcpy(worker.bgw_library_name, "s3db_fdw", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "s3db_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_type, S3DB_WORKER_TYPE, BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s for database %s", S3DB_WORKER_TYPE, database);
	worker.bgw_main_arg = Int32GetDatum(index);
	strlcpy(worker.bgw_extra, database, BGW_EXTRALEN);
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

/*
 * Called from _PG_init in every process that loads the module: the
 * settings always (so that every backend sees them), shared memory and the
 * worker only while shared_preload_libraries is processed.
 */
void
s3db_worker_init(void)
{
	define_settings();
	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;

	if (s3db_worker_enabled)
	{
		int			i = 0;
		ListCell   *lc;

		foreach(lc, configured_databases())
			register_worker(i++, (const char *) lfirst(lc));
	}
}

S3dbWorkerShared *
s3db_worker_shared(void)
{
	if (shared != NULL)
		return shared;			/* in a worker */
	if (slots == NULL || !OidIsValid(MyDatabaseId))
		return NULL;
	for (int i = 0; i < slots->n; i++)
	{
		Oid			db;

		LWLockAcquire(slots->slot[i].lock, LW_SHARED);
		db = slots->slot[i].dboid;
		LWLockRelease(slots->slot[i].lock);
		if (db == MyDatabaseId)
			return &slots->slot[i];
	}
	return NULL;
}

const char *
s3db_worker_dbname(void)
{
	return worker_dbname;
}

int64
s3db_now_ms(void)
{
	return GetCurrentTimestamp() / 1000 +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;
}

TimestampTz
s3db_ms_to_timestamptz(int64 ms)
{
	return (ms - (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000) * 1000;
}

/* ---------------------------------------------------------------------
 * The worker process
 * ---------------------------------------------------------------------
 */

/* The settings a coordinator was made with; any change makes a new one. */
typedef struct CoordSettings
{
	char		server[NAMEDATALEN];
	char		ns[S3C_ID_MAX + 1];
	int			lease_ms;
	int			heartbeat_ms;
	int			breaker_failures;
	int			breaker_reset_ms;
} CoordSettings;

static MemoryContext worker_cxt;
static char worker_id[S3C_ID_MAX + 1];
static char worker_pod[S3C_ID_MAX + 1];	/* host name, for "pod" */
static CoordSettings cur_settings;
static s3s_store *w_store = NULL;
static s3c_coord *w_coord = NULL;
static uint64 w_fingerprint;
static bool w_last_ok = false;	/* the last tick did its I/O */
static bool w_failing = false;	/* a problem was logged, not yet cleared */
static int64 w_last_tick_ms = 0;
static char w_error[S3DB_ERRMSG_MAX];
static char logged_msg[S3DB_ERRMSG_MAX];
static int64 logged_at = 0;
static int64 shutdown_seen_at = 0;
static s3c_breaker_state w_breaker = S3C_BREAKER_CLOSED;
static int64 w_leader_epoch = 0;	/* epoch we last reported leading */

static void
current_settings(CoordSettings *s)
{
	memset(s, 0, sizeof(*s));
	strlcpy(s->server, s3db_coordinator_server ? s3db_coordinator_server : "",
			sizeof(s->server));
	strlcpy(s->ns, s3db_coordinator_namespace && s3db_coordinator_namespace[0] ?
			s3db_coordinator_namespace : S3C_DEFAULT_NAMESPACE, sizeof(s->ns));
	s->lease_ms = s3db_lease_ms;
	s->heartbeat_ms = s3db_heartbeat_ms;
	s->breaker_failures = s3db_breaker_failures;
	s->breaker_reset_ms = s3db_breaker_reset_ms;
}

/*
 * Store cancel hook: abort I/O when the postmaster died, or when a
 * shutdown request has waited SHUTDOWN_GRACE_MS (enough to resign).
 */
static bool
worker_cancel(void *arg)
{
	if (!PostmasterIsAlive())
		return true;
	if (ShutdownRequestPending)
	{
		int64		now = s3db_now_ms();

		if (shutdown_seen_at == 0)
			shutdown_seen_at = now;
		return now - shutdown_seen_at >= SHUTDOWN_GRACE_MS;
	}
	return false;
}

/* A problem, logged once per distinct message and LOG_REPEAT_MS. */
static void
note_problem(const char *msg)
{
	int64		now = s3db_now_ms();

	strlcpy(w_error, msg, sizeof(w_error));
	if (strcmp(msg, logged_msg) != 0 || now - logged_at >= LOG_REPEAT_MS)
	{
		ereport(LOG, (errmsg("s3db_fdw coordinator: %s", msg)));
		strlcpy(logged_msg, msg, sizeof(logged_msg));
		logged_at = now;
	}
	w_failing = true;
}

static void
note_recovered(void)
{
	if (w_failing)
		ereport(LOG, (errmsg("s3db_fdw coordinator: ticking again")));
	w_failing = false;
	w_error[0] = '\0';
	logged_msg[0] = '\0';
}

static void
publish(void)
{
	s3c_status st;
	s3c_metrics m;

	if (shared == NULL)
		return;
	if (w_coord)
	{
		s3c_get_status(w_coord, &st);
		s3c_get_metrics(w_coord, &m);
	}
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->pid = MyProcPid;
	shared->enabled = cur_settings.server[0] != '\0';
	shared->have_status = w_coord != NULL && w_last_tick_ms != 0;
	strlcpy(shared->ns, cur_settings.ns, sizeof(shared->ns));
	strlcpy(shared->worker_id, worker_id, sizeof(shared->worker_id));
	if (w_coord)
	{
		shared->status = st;
		shared->metrics = m;
	}
	else
	{
		memset(&shared->status, 0, sizeof(shared->status));
		memset(&shared->metrics, 0, sizeof(shared->metrics));
	}
	shared->last_tick_ms = w_last_tick_ms;
	strlcpy(shared->last_error, w_error, sizeof(shared->last_error));
	LWLockRelease(shared->lock);
}

/*
 * Drop the coordinator, and the store with it when close_store.  Resign
 * first if the store answered lately, so that another worker elects at its
 * next tick instead of waiting for our lease to end.
 */
static void
stop_coordinator(bool close_store)
{
	if (w_coord)
	{
		if (w_last_ok)
		{
			s3s_error	err;

			if (s3c_resign(w_coord, s3db_now_ms(), &err) != S3S_OK)
				ereport(LOG, (errmsg("s3db_fdw coordinator: could not resign: %s",
									 err.message)));
		}
		s3c_coord_free(w_coord);
		w_coord = NULL;
	}
	w_last_ok = false;
	w_breaker = S3C_BREAKER_CLOSED;
	w_leader_epoch = 0;
	if (close_store && w_store)
	{
		s3s_close(w_store);
		w_store = NULL;
	}
}

/*
 * Resolve the coordinator server in a short transaction and (re)open its
 * store when it is new or its options changed.  Catalog errors are caught:
 * they are reported like store errors and retried.
 */
static bool
ensure_store(void)
{
	volatile bool ok = false;
	volatile bool aborted = false;
	char		msg[S3DB_ERRMSG_MAX];
	MemoryContext oldcxt = CurrentMemoryContext;

	msg[0] = '\0';
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "resolving the coordinator server");
	PG_TRY();
	{
		S3dbCoordTarget t;

		if (s3db_coord_resolve(cur_settings.server, &t, msg, sizeof(msg)))
		{
			if (w_store == NULL || t.fingerprint != w_fingerprint)
			{
				s3s_config cfg;
				s3s_error	err;

				stop_coordinator(true);
				s3db_coord_store_config(&t, &cfg);
				cfg.cancel = worker_cancel;
				w_store = s3s_open(&cfg, &err);
				if (w_store == NULL)
					snprintf(msg, sizeof(msg), "could not open the store of server \"%s\": %s",
							 cur_settings.server, err.message);
				else
				{
					w_fingerprint = t.fingerprint;
					ereport(LOG,
							(errmsg("s3db_fdw coordinator: namespace \"%s\" on server \"%s\" (%s)",
									cur_settings.ns, cur_settings.server,
									s3s_store_describe(w_store))));
					ok = true;
				}
			}
			else
				ok = true;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(worker_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		snprintf(msg, sizeof(msg), "could not resolve server \"%s\": %s",
				 cur_settings.server, edata->message);
		FreeErrorData(edata);
		AbortCurrentTransaction();
		aborted = true;
	}
	PG_END_TRY();
	if (!aborted)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	MemoryContextSwitchTo(oldcxt);
	if (!ok)
	{
		stop_coordinator(true);
		note_problem(msg);
	}
	return ok;
}

static void
report_transitions(const s3c_status *st)
{
	/* a lapsed lease won back carries a new epoch: report that too */
	if (st->promoted || (st->is_leader && st->epoch != w_leader_epoch))
		ereport(LOG, (errmsg("s3db_fdw coordinator: %s is now the leader of namespace \"%s\" (epoch %lld)",
							 worker_id, cur_settings.ns, (long long) st->epoch)));
	else if (st->demoted)
		ereport(LOG, (errmsg("s3db_fdw coordinator: %s is no longer the leader of namespace \"%s\"",
							 worker_id, cur_settings.ns)));
	if (st->breaker != w_breaker)
		ereport(LOG, (errmsg("s3db_fdw coordinator: circuit breaker %s",
							 s3c_breaker_name(st->breaker))));
	w_breaker = st->breaker;
	w_leader_epoch = st->is_leader ? st->epoch : 0;
	if (st->contention)
		ereport(LOG, (errmsg("s3db_fdw coordinator: slow tick (%lld ms, heartbeat %d ms)",
							 (long long) st->duration_ms, cur_settings.heartbeat_ms)));
}

static void
report_idle(const s3c_status *st)
{
	char		buf[S3C_ID_MAX * 2 + 128];

	if (st->is_leader)
		snprintf(buf, sizeof(buf), "coordinator \"%s\": leader (epoch %lld)",
				 cur_settings.ns, (long long) st->epoch);
	else if (st->leader_id[0])
		snprintf(buf, sizeof(buf), "coordinator \"%s\": follower of %s (epoch %lld)",
				 cur_settings.ns, st->leader_id, (long long) st->epoch);
	else
		snprintf(buf, sizeof(buf), "coordinator \"%s\": no leader (breaker %s)",
				 cur_settings.ns, s3c_breaker_name(st->breaker));
	pgstat_report_activity(STATE_IDLE, buf);
}

/* One turn of the loop; returns how long to sleep, in ms. */
static long
worker_step(void)
{
	CoordSettings want;
	s3c_config	cfg;
	s3c_status	st;
	s3s_error	err;
	s3s_code	code;

	current_settings(&want);
	if (memcmp(&want, &cur_settings, sizeof(want)) != 0)
	{
		stop_coordinator(strcmp(want.server, cur_settings.server) != 0);
		if (want.server[0] == '\0' && cur_settings.server[0] != '\0')
			ereport(LOG, (errmsg("s3db_fdw coordinator: disabled")));
		cur_settings = want;
		w_error[0] = '\0';
		w_failing = false;
	}
	if (cur_settings.server[0] == '\0')
	{
		stop_coordinator(true);
		publish();
		pgstat_report_activity(STATE_IDLE, "coordinator disabled");
		return IDLE_DELAY_MS;
	}

	if (!ensure_store())
	{
		publish();
		pgstat_report_activity(STATE_IDLE, "coordinator server unusable");
		return cur_settings.heartbeat_ms;
	}
	if (w_coord == NULL)
	{
		s3db_coord_config(&cfg, worker_id);
		cfg.pod = worker_pod;
		w_coord = s3c_coord_new(w_store, &cfg, &err);
		if (w_coord == NULL)
		{
			char		msg[S3DB_ERRMSG_MAX];

			snprintf(msg, sizeof(msg), "invalid coordinator settings: %s", err.message);
			note_problem(msg);
			publish();
			pgstat_report_activity(STATE_IDLE, "coordinator misconfigured");
			return CONFIG_RETRY_MS;
		}
	}

	pgstat_report_activity(STATE_RUNNING, "coordinator tick");
	w_last_tick_ms = s3db_now_ms();
	code = s3c_tick(w_coord, w_last_tick_ms, &st, &err);
	if (code != S3S_OK)
	{
		char		msg[S3DB_ERRMSG_MAX];

		w_last_ok = false;
		if (err.key[0])
			snprintf(msg, sizeof(msg), "tick failed (%s): %s %s: %s",
					 s3s_code_name(code), err.op, err.key, err.message);
		else
			snprintf(msg, sizeof(msg), "tick failed (%s): %s",
					 s3s_code_name(code), err.message);
		note_problem(msg);
	}
	else if (!st.skipped)
	{
		w_last_ok = true;
		note_recovered();
	}
	report_transitions(&st);
	publish();
	report_idle(&st);
	return (long) s3c_next_delay(w_coord);
}

/* Whatever ends the worker, do not leave it looking alive. */
static void
worker_exit(int code, Datum arg)
{
	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->pid == MyProcPid)
	{
		shared->pid = 0;
		shared->enabled = false;
		shared->status.is_leader = false;
	}
	LWLockRelease(shared->lock);
}

void
s3db_worker_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	strlcpy(worker_dbname, MyBgworkerEntry->bgw_extra, sizeof(worker_dbname));
	shared = &slots->slot[DatumGetInt32(arg)];
	BackgroundWorkerInitializeConnection(worker_dbname, NULL, 0);

	/*
	 * The connection applied ALTER DATABASE / ROLE ... SET; whatever they
	 * say, the worker's statements resolve names in pg_catalog only.  It
	 * runs nothing as the role it connected as: its bookkeeping runs as
	 * the extension owner, each task as the owner of what it serves
	 * (src/fdw/trust.h).
	 */
	s3db_pin_session_search_path();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->dboid = MyDatabaseId;
	LWLockRelease(shared->lock);
	pgstat_report_appname(S3DB_WORKER_TYPE);
	worker_cxt = AllocSetContextCreate(TopMemoryContext, "s3db_fdw worker",
									   ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(worker_cxt);

	/* a fresh process is a fresh participant: its pid is part of its id */
	snprintf(worker_id, sizeof(worker_id), "pg-" UINT64_FORMAT "-%d",
			 GetSystemIdentifier(), MyProcPid);
	if (gethostname(worker_pod, sizeof(worker_pod) - 1) != 0)
		worker_pod[0] = '\0';
	worker_pod[sizeof(worker_pod) - 1] = '\0';
	memset(&cur_settings, 0, sizeof(cur_settings));
	before_shmem_exit(worker_exit, (Datum) 0);
	publish();
	ereport(LOG, (errmsg("s3db_fdw worker %s started in database \"%s\"",
						 worker_id, worker_dbname)));

	while (!ShutdownRequestPending)
	{
		long		delay;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		delay = worker_step();
		{
			S3dbTaskContext tc;
			s3c_status	cs;

			memset(&tc, 0, sizeof(tc));
			tc.store = w_store;
			tc.coord = w_coord;
			tc.now_ms = s3db_now_ms();
			if (w_coord)
			{
				s3c_get_status(w_coord, &cs);
				tc.is_leader = cs.is_leader;
				tc.epoch = cs.epoch;
			}
			delay = s3db_run_tasks(&tc, delay);
		}
		MemoryContextReset(worker_cxt);
		if (ShutdownRequestPending)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(delay, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	pgstat_report_activity(STATE_RUNNING, "resigning");
	stop_coordinator(true);
	worker_exit(0, (Datum) 0);
	ereport(LOG, (errmsg("s3db_fdw worker %s stopped", worker_id)));
	proc_exit(1);
}
