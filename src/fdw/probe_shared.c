/*-------------------------------------------------------------------------
 *
 * probe_shared.c
 *		Sharing what store probes found between the backends of a cluster.
 *
 * Before the first conditional write through a connection its store is
 * probed (src/store/gate.c): about fifteen sequential requests, a few
 * hundred milliseconds on S3, paid by the first write of every new backend.
 * What a probe learns is a property of the place the requests go to, not of
 * the backend or of the user, so when s3db_fdw is loaded through
 * shared_preload_libraries (as the background worker needs anyway) the
 * results are kept in shared memory, and a new connection to the same place
 * adopts a result younger than an hour instead of asking again.
 *
 * The key is the database, the server and a fingerprint of the effective
 * options that say where the store is and what a write needs of it: the
 * connection string, endpoint, region, URL style and metadata_limit.  A
 * user mapping that points somewhere else therefore has its own entry.
 * Credentials are left out: they decide who may write, not what the store
 * honours, and a backend that may not write fails its own requests either
 * way.  Whether weaker guarantees are accepted is decided by each store
 * from the result (gate.c), so a server's weak_conditions option is not
 * part of the key either.  Only the results of probes that finished are
 * shared; s3db_check_store() probes afresh and replaces its entry.
 *
 * Without preloading nothing is shared and every connection probes for
 * itself.  s3db_store_checks() shows the table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "fdw/probe.h"
#include "store/probe.h"

PG_FUNCTION_INFO_V1(s3db_store_checks);

/* How many places are remembered, and for how long. */
#define SHARED_PROBES 64
#define SHARED_PROBE_MAX_AGE_MS (3600 * 1000)

typedef struct SharedProbe
{
	Oid			dboid;
	Oid			serverid;
	uint64		fingerprint;
	TimestampTz checked_at;		/* 0: the slot is free */
	s3s_probe_result res;
} SharedProbe;

typedef struct SharedProbes
{
	LWLock	   *lock;
	SharedProbe slot[SHARED_PROBES];
} SharedProbes;

static SharedProbes *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
probes_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(sizeof(SharedProbes));
	RequestNamedLWLockTranche("s3db_fdw probes", 1);
}

static void
probes_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("s3db_fdw probes", sizeof(SharedProbes), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(SharedProbes));
		shared->lock = &(GetNamedLWLockTranche("s3db_fdw probes"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
s3db_probe_shared_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = probes_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = probes_shmem_startup;
}

static uint64
hash_opt(uint64 h, const char *s)
{
	/* a missing option hashes apart from an empty one */
	if (s == NULL)
		return hash_bytes_uint32_extended(0x5333db, h);
	return hash_bytes_extended((const unsigned char *) s, strlen(s), h) ^ 0x9e3779b97f4a7c15ULL;
}

uint64
s3db_probe_fingerprint(const S3dbConnOptions *o)
{
	uint64		h = 0;

	h = hash_opt(h, o->connection_string);
	h = hash_opt(h, o->endpoint);
	h = hash_opt(h, o->region);
	h = hash_opt(h, o->url_style);
	return hash_bytes_uint32_extended((uint32) o->metadata_limit, h);
}

static bool
same_place(const SharedProbe *p, Oid serverid, uint64 fingerprint)
{
	return p->checked_at != 0 && p->dboid == MyDatabaseId &&
		p->serverid == serverid && p->fingerprint == fingerprint;
}

void
s3db_probe_shared_adopt(S3dbConn *c)
{
	s3s_probe_result res;
	bool		hit = false;
	TimestampTz now = GetCurrentTimestamp();

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int i = 0; i < SHARED_PROBES && !hit; i++)
	{
		SharedProbe *p = &shared->slot[i];

		if (same_place(p, c->serverid, c->probe_fingerprint) &&
			!TimestampDifferenceExceeds(p->checked_at, now, SHARED_PROBE_MAX_AGE_MS))
		{
			res = p->res;
			hit = true;
		}
	}
	LWLockRelease(shared->lock);
	if (hit)
		s3s_adopt_probe(c->store, &res);
}

/*
 * The store's on_probe callback (s3s_config): runs inside s3s_execute(),
 * so it takes only the lock and copies; nothing here can raise an error.
 */
void
s3db_probe_shared_publish(void *arg, const s3s_probe_result *res)
{
	S3dbConn   *c = (S3dbConn *) arg;
	SharedProbe *victim = NULL;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < SHARED_PROBES; i++)
	{
		SharedProbe *p = &shared->slot[i];

		if (same_place(p, c->serverid, c->probe_fingerprint))
		{
			victim = p;
			break;
		}
		/* else the first free slot, else the oldest */
		if (victim == NULL || (victim->checked_at != 0 && p->checked_at < victim->checked_at))
			victim = p;
	}
	victim->dboid = MyDatabaseId;
	victim->serverid = c->serverid;
	victim->fingerprint = c->probe_fingerprint;
	victim->checked_at = GetCurrentTimestamp();
	victim->res = *res;
	LWLockRelease(shared->lock);
}

/*
 * s3db_store_checks() returns table(server, checked_at, conditions_honoured,
 * metadata_wanted, metadata_accepted): the shared probe results of this
 * database's servers, newest first.  Empty when s3db_fdw is not preloaded.
 */
Datum
s3db_store_checks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SharedProbe *copy;
	int			n = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;
	copy = palloc(sizeof(shared->slot));
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int i = 0; i < SHARED_PROBES; i++)
		if (shared->slot[i].checked_at != 0 && shared->slot[i].dboid == MyDatabaseId)
			copy[n++] = shared->slot[i];
	LWLockRelease(shared->lock);

	/* newest first: a handful of entries, an insertion sort is enough */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && copy[j].checked_at > copy[j - 1].checked_at; j--)
		{
			SharedProbe tmp = copy[j];

			copy[j] = copy[j - 1];
			copy[j - 1] = tmp;
		}

	for (int i = 0; i < n; i++)
	{
		ForeignServer *server = GetForeignServerExtended(copy[i].serverid, FSV_MISSING_OK);
		s3s_conditions cond;
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		if (server == NULL)
			continue;			/* dropped since */
		values[0] = DirectFunctionCall1(namein, CStringGetDatum(server->servername));
		values[1] = TimestampTzGetDatum(copy[i].checked_at);
		values[2] = BoolGetDatum(s3s_probe_conditions(&copy[i].res, &cond));
		values[3] = Int32GetDatum(copy[i].res.meta_wanted);
		values[4] = Int32GetDatum(copy[i].res.meta_accepted);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
