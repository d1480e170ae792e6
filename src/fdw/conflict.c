/*-------------------------------------------------------------------------
 *
 * conflict.c
 *		INSERT ... ON CONFLICT DO NOTHING on s3db foreign tables.
 *
 * A foreign table has no unique index, so PostgreSQL accepts only the form
 * without a conflict target (a target, or DO UPDATE, fails in the parser or
 * planner for want of an index to infer).  The record id is the key that
 * conflicts: a row whose id this transaction already wrote (and did not
 * delete again), or whose record is in the store, is skipped; the executor
 * then counts it neither in the row count nor in RETURNING, and no trigger,
 * plugin hook or replication capture sees it.
 *
 * The check happens when the row is inserted; the write happens at commit.
 * In between, another writer may create the same id.  The write is queued
 * with if_absent set, and at commit (commit.c) its If-None-Match failure is
 * not a unique violation: under READ COMMITTED the record is skipped, as a
 * heap insert that waited for the other writer's commit would skip it;
 * under REPEATABLE READ and SERIALIZABLE it is a serialization failure, as
 * a heap insert meeting a row its snapshot cannot see.  README, Guarantees.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "fdw/modify_int.h"

/*
 * The ON CONFLICT action of a modify statement: DO NOTHING, or none;
 * anything else is refused (PostgreSQL refuses it earlier for foreign
 * tables, this keeps a changed planner from executing it as a plain
 * INSERT).
 */
bool
s3db_conflict_do_nothing(OnConflictAction action, Relation rel)
{
	if (action == ONCONFLICT_NONE)
		return false;
	if (action == ONCONFLICT_NOTHING)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("ON CONFLICT DO UPDATE is not supported on foreign table \"%s\"",
					RelationGetRelationName(rel)),
			 errhint("Use INSERT ... ON CONFLICT DO NOTHING, then UPDATE the rows by id.")));
	return false;
}

/* An id looked up ahead, and whether its record is in the store. */
typedef struct Looked
{
	char	   *id;				/* hash key */
	bool		found;
} Looked;

/*
 * Are the records in the store?  One HEAD per id, sent together; an error
 * other than 404 raises.
 */
static void
in_store(S3dbModifyState *ms, char **ids, bool *found, int n)
{
	s3s_request *reqs = palloc0(sizeof(s3s_request) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		char	   *k = s3db_take_string(s3f_key_data(ms->res->name, ids[i]));

		s3s_request_init(&reqs[i], S3S_OP_HEAD, k);
	}
	s3db_execute(ms->conn, reqs, n);
	for (int i = 0; i < n; i++)
	{
		found[i] = reqs[i].err.code == S3S_OK;
		if (!found[i] && reqs[i].err.code != S3S_ERR_NOT_FOUND)
		{
			s3s_error	e = reqs[i].err;

			for (int j = 0; j < n; j++)
				s3s_request_reset(&reqs[j]);
			s3db_report(&e, psprintf("could not look up record \"%s\" of resource \"%s\"",
									 ids[i], ms->res->name));
		}
	}
	for (int i = 0; i < n; i++)
		s3s_request_reset(&reqs[i]);
	pfree(reqs);
}

/*
 * A batch of an INSERT ... SELECT: look up the given ids of its rows in the
 * store together, rather than one round trip per row.  The answers serve
 * s3db_conflict_skip for this batch only.
 */
void
s3db_conflict_prefetch(S3dbModifyState *ms, TupleTableSlot **slots, int nslots)
{
	MemoryContext old;
	char	  **ids;
	bool	   *found;
	int			n = 0;

	if (ms->prefetch_cxt == NULL)
		ms->prefetch_cxt = AllocSetContextCreate(ms->cxt, "s3db_fdw conflict lookups",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(ms->prefetch_cxt);
	ms->prefetched = NULL;
	if (ms->id_col < 0 ||
		s3db_pending_truncated(ms->serverid, ms->userid, ms->res->name, InvalidCommandId))
		return;
	old = MemoryContextSwitchTo(ms->prefetch_cxt);
	ids = palloc(sizeof(char *) * Max(nslots, 1));
	found = palloc(sizeof(bool) * Max(nslots, 1));
	ms->prefetched = s3db_strhash_create("s3db_fdw conflict lookups", sizeof(Looked),
										 ms->prefetch_cxt);
	for (int i = 0; i < nslots; i++)
	{
		int			a = ms->cols[ms->id_col].attnum - 1;
		char	   *id;
		bool		dup;

		slot_getallattrs(slots[i]);
		if (slots[i]->tts_isnull[a])
			continue;
		id = TextDatumGetCString(slots[i]->tts_values[a]);
		if (!s3f_valid_id(id, NULL) ||
			s3db_pending_state(ms->serverid, ms->userid, ms->res->name, id, NULL, NULL))
			continue;
		(void) s3db_strhash_lookup(ms->prefetched, id, HASH_ENTER, &dup, ms->prefetch_cxt);
		if (!dup)
			ids[n++] = id;
	}
	in_store(ms, ids, found, n);
	for (int i = 0; i < n; i++)
		((Looked *) s3db_strhash_lookup(ms->prefetched, ids[i], HASH_FIND, NULL,
										ms->prefetch_cxt))->found = found[i];
	MemoryContextSwitchTo(old);
}

/*
 * Whether an INSERT ... ON CONFLICT DO NOTHING skips the row with this id:
 * the transaction wrote the record (and did not delete it again), or it is
 * in the store (unless the transaction truncated the resource).
 */
bool
s3db_conflict_skip(S3dbModifyState *ms, const char *id)
{
	S3dbPendingOp op = PENDING_PUT;

	if (s3db_pending_state(ms->serverid, ms->userid, ms->res->name, id, &op, NULL))
		return op != PENDING_DELETE;
	if (s3db_pending_truncated(ms->serverid, ms->userid, ms->res->name, InvalidCommandId))
		return false;
	if (ms->prefetched != NULL)
	{
		Looked	   *l = s3db_strhash_lookup(ms->prefetched, id, HASH_FIND, NULL, NULL);

		if (l != NULL)
			return l->found;
	}
	{
		char	   *ids[1] = {(char *) id};
		bool		found[1];

		in_store(ms, ids, found, 1);
		return found[0];
	}
}

/*
 * At commit, a DO NOTHING write found the record created by another writer
 * since the statement looked: skip it (READ COMMITTED), or fail as a heap
 * insert meeting a row invisible to its snapshot does.
 */
void
s3db_conflict_at_commit(const char *resource, const char *id)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access to record \"%s\" of resource \"%s\"",
						id, resource),
				 errdetail("Another writer created the record after this transaction's INSERT ... ON CONFLICT DO NOTHING looked for it."),
				 errhint("Retry the transaction.")));
}
