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

/* Is the record in the store?  (A HEAD; an error other than 404 raises.) */
static bool
in_store(S3dbModifyState *ms, const char *id)
{
	s3s_request r;
	char	   *k = s3f_key_data(ms->res->name, id);
	char	   *key = pstrdup(k);
	bool		found;

	free(k);
	s3s_request_init(&r, S3S_OP_HEAD, key);
	s3db_execute(ms->conn, &r, 1);
	found = r.err.code == S3S_OK;
	if (!found && r.err.code != S3S_ERR_NOT_FOUND)
	{
		s3s_error	e = r.err;

		s3s_request_reset(&r);
		s3db_report(&e, psprintf("could not look up record \"%s\" of resource \"%s\"",
								 id, ms->res->name));
	}
	s3s_request_reset(&r);
	pfree(key);
	return found;
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
	if (s3db_pending_truncated(ms->serverid, ms->userid, ms->res->name))
		return false;
	return in_store(ms, id);
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
