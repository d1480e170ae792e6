/*-------------------------------------------------------------------------
 *
 * coordinator.c
 *		SQL functions showing the coordinator of the background worker:
 *		s3db_coordinator(), s3db_coordinator_metrics() and
 *		s3db_coordinator_workers().
 *
 * The first two read what the worker published in shared memory and do no
 * I/O, so they are cheap enough for monitoring queries and open to every
 * user.  s3db_coordinator_workers() lists the worker records of the
 * namespace from the store itself, with the identity the worker uses (see
 * coord_store.c), because the worker keeps no list of its peers.  That is
 * a request made with the coordinator server owner's credentials whoever
 * calls, so the install script revokes it from PUBLIC and grants it to
 * pg_monitor, as pg_buffercache does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "s3db_worker.h"

PG_FUNCTION_INFO_V1(s3db_coordinator);
PG_FUNCTION_INFO_V1(s3db_coordinator_metrics);
PG_FUNCTION_INFO_V1(s3db_coordinator_workers);

#define COORD_COLS		11
#define METRICS_COLS	12
#define WORKERS_COLS	4

static TupleDesc
result_desc(FunctionCallInfo fcinfo, int natts)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != natts)
		elog(ERROR, "function returns %d columns, the library expects %d "
			 "(is the extension up to date?)", tupdesc->natts, natts);
	return BlessTupleDesc(tupdesc);
}

/* A snapshot of the shared struct; false when the module was not preloaded. */
static bool
read_shared(S3dbWorkerShared *copy)
{
	S3dbWorkerShared *sh = s3db_worker_shared();

	memset(copy, 0, sizeof(*copy));
	if (sh == NULL)
		return false;
	LWLockAcquire(sh->lock, LW_SHARED);
	*copy = *sh;
	LWLockRelease(sh->lock);
	return true;
}

/*
 * s3db_coordinator(): enabled, namespace, worker_id, is_leader, leader_id,
 * epoch, lease_end, live_workers, breaker_state, last_tick, last_error
 */
Datum
s3db_coordinator(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc = result_desc(fcinfo, COORD_COLS);
	Datum		values[COORD_COLS];
	bool		nulls[COORD_COLS];
	S3dbWorkerShared s;
	bool		preloaded = read_shared(&s);
	bool		running = preloaded && s.pid != 0;
	bool		ticked = running && s.enabled && s.have_status;
	int64		now = s3db_now_ms();

	memset(nulls, true, sizeof(nulls));
	values[0] = BoolGetDatum(running && s.enabled);
	nulls[0] = false;
	values[1] = CStringGetTextDatum(running && s.ns[0] ? s.ns :
									(s3db_coordinator_namespace[0] ?
									 s3db_coordinator_namespace : S3C_DEFAULT_NAMESPACE));
	nulls[1] = false;
	if (running)
	{
		values[2] = CStringGetTextDatum(s.worker_id);
		nulls[2] = false;
	}
	if (ticked)
	{
		/* a lease that ended since the last tick leads nobody any more */
		bool		current = s.status.lease_end > now;

		values[3] = BoolGetDatum(s.status.is_leader && current);
		nulls[3] = false;
		if (s.status.leader_id[0] && current)
		{
			values[4] = CStringGetTextDatum(s.status.leader_id);
			nulls[4] = false;
		}
		if (s.status.epoch > 0)
		{
			values[5] = Int64GetDatum(s.status.epoch);
			nulls[5] = false;
		}
		if (S3DB_MS_OK(s.status.lease_end))
		{
			values[6] = TimestampTzGetDatum(s3db_ms_to_timestamptz(s.status.lease_end));
			nulls[6] = false;
		}
		values[7] = Int32GetDatum(s.status.live_workers);
		nulls[7] = false;
		values[8] = CStringGetTextDatum(s3c_breaker_name(s.status.breaker));
		nulls[8] = false;
	}
	else if (running && s.enabled)
	{
		values[3] = BoolGetDatum(false);
		nulls[3] = false;
	}
	if (running && s.last_tick_ms > 0)
	{
		values[9] = TimestampTzGetDatum(s3db_ms_to_timestamptz(s.last_tick_ms));
		nulls[9] = false;
	}
	if (!preloaded)
	{
		values[10] = CStringGetTextDatum("the background worker is not running: "
										 "s3db_fdw is not in shared_preload_libraries");
		nulls[10] = false;
	}
	else if (!running)
	{
		values[10] = CStringGetTextDatum("the background worker is not running");
		nulls[10] = false;
	}
	else if (s.last_error[0])
	{
		values[10] = CStringGetTextDatum(s.last_error);
		nulls[10] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * s3db_coordinator_metrics(): ticks, elections_won, elections_lost,
 * renewals, failures, contention_events, latency_p50_ms, latency_p95_ms,
 * latency_p99_ms, skipped, breaker_trips, leader_changes.  Counters start
 * when the coordinator is (re)created; latencies are NULL before a tick.
 */
Datum
s3db_coordinator_metrics(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc = result_desc(fcinfo, METRICS_COLS);
	Datum		values[METRICS_COLS];
	bool		nulls[METRICS_COLS];
	S3dbWorkerShared s;
	const s3c_metrics *m = &s.metrics;

	read_shared(&s);			/* all zero when not preloaded */
	if (s.pid == 0)
		memset(&s.metrics, 0, sizeof(s.metrics));
	memset(nulls, false, sizeof(nulls));
	values[0] = Int64GetDatum(m->ticks);
	values[1] = Int64GetDatum(m->elections_won);
	values[2] = Int64GetDatum(m->elections_lost);
	values[3] = Int64GetDatum(m->renewals);
	values[4] = Int64GetDatum(m->failures);
	values[5] = Int64GetDatum(m->contention_events);
	values[6] = Int64GetDatum(m->latency_p50);
	values[7] = Int64GetDatum(m->latency_p95);
	values[8] = Int64GetDatum(m->latency_p99);
	if (m->latency_count == 0)
		nulls[6] = nulls[7] = nulls[8] = true;
	values[9] = Int64GetDatum(m->skipped);
	values[10] = Int64GetDatum(m->breaker_trips);
	values[11] = Int64GetDatum(m->leader_changes);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* What the store calls need in this backend: freed by a callback. */
typedef struct WorkersScan
{
	s3s_store  *st;
	s3c_coord  *coord;
	s3c_worker *w;
	int			n;
} WorkersScan;

static void
workers_scan_free(void *arg)
{
	WorkersScan *ws = (WorkersScan *) arg;

	if (ws->w)
		s3c_workers_free(ws->w, ws->n);
	if (ws->coord)
		s3c_coord_free(ws->coord);
	if (ws->st)
		s3s_close(ws->st);
	ws->w = NULL;
	ws->coord = NULL;
	ws->st = NULL;
}

/*
 * s3db_coordinator_workers(): the live workers of the namespace, read from
 * the store now: worker_id, pod, last_heartbeat, started_at.
 */
Datum
s3db_coordinator_workers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	S3dbCoordTarget t;
	char		msg[S3DB_ERRMSG_MAX];
	char		observer[64];
	s3s_config	scfg;
	s3c_config	ccfg;
	s3s_error	err;
	WorkersScan *ws;
	MemoryContextCallback *cb;
	int			i;

	if (s3db_coordinator_server == NULL || s3db_coordinator_server[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the coordinator is disabled"),
				 errhint("Set s3db_fdw.coordinator_server to an s3db_fdw server.")));
	if (!s3db_coord_resolve(s3db_coordinator_server, &t, msg, sizeof(msg)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s", msg)));

	InitMaterializedSRF(fcinfo, 0);

	/* released with the query's memory, also on error */
	ws = palloc0(sizeof(WorkersScan));
	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = workers_scan_free;
	cb->arg = ws;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);

	s3db_coord_store_config(&t, &scfg);
	scfg.cancel = s3db_cancel_requested;
	ws->st = s3s_open(&scfg, &err);
	if (ws->st == NULL)
		s3db_report(&err, "could not open the coordinator store");

	snprintf(observer, sizeof(observer), "observer-%d", MyProcPid);
	s3db_coord_config(&ccfg, observer);
	ws->coord = s3c_coord_new(ws->st, &ccfg, &err);
	if (ws->coord == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid coordinator settings: %s", err.message)));

	if (s3c_workers(ws->coord, s3db_now_ms(), &ws->w, &ws->n, &err) != S3S_OK)
		s3db_report(&err, "could not list the coordinator workers");

	for (i = 0; i < ws->n; i++)
	{
		const s3c_worker *w = &ws->w[i];
		Datum		values[WORKERS_COLS];
		bool		nulls[WORKERS_COLS];

		memset(nulls, false, sizeof(nulls));
		values[0] = CStringGetTextDatum(w->worker_id);
		if (w->pod)
			values[1] = CStringGetTextDatum(w->pod);
		else
			nulls[1] = true;
		if (S3DB_MS_OK(w->last_heartbeat))
			values[2] = TimestampTzGetDatum(s3db_ms_to_timestamptz(w->last_heartbeat));
		else
			nulls[2] = true;
		if (S3DB_MS_OK(w->start_time))
			values[3] = TimestampTzGetDatum(s3db_ms_to_timestamptz(w->start_time));
		else
			nulls[3] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	workers_scan_free(ws);
	return (Datum) 0;
}
