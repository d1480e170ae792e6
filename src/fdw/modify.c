/*-------------------------------------------------------------------------
 *
 * modify.c
 *		INSERT, UPDATE, DELETE and TRUNCATE on s3db foreign tables.
 *
 * Row identity is the record id (the column whose field is "id"), never
 * "the first column".  Rows are encoded into objects exactly as s3db.js
 * writes them (src/format/encode.c) and queued in the transaction buffer
 * (xact.c); nothing is written before commit.
 *
 * UPDATE strategies, chosen when planning and shown by EXPLAIN:
 *	replace	PUT only: the statement sets every attribute, so the old record
 *			is not read (the scan costs a HEAD per record, for its ETag)
 *	patch	HEAD + PUT of the new metadata: records that live entirely in
 *			metadata never transfer their fields twice; a record with a JSON
 *			body falls back to update; a record with binary content that the
 *			table does not carry is COPYed onto itself with new metadata, so
 *			the content never travels (its ETag, the MD5 of the content, does
 *			not change, so such a patch cannot detect a concurrent change)
 *	update	GET + PUT (body-only resources)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/optimizer.h"
#include "commands/defrem.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "fdw/modify_int.h"
#include "format/encode.h"
#include "format/metaenc.h"
#include "fdw/observer.h"

#define ROWID_NAME "s3db_id"

static const char *const strategy_names[] = {
	"insert (PUT)",
	"replace (PUT)",
	"patch (HEAD + PUT of the metadata; GET + PUT for records with a JSON body)",
	"update (GET + PUT)",
	"delete (DELETE)"
};


/*
 * The user a write runs as: the one whose privileges are checked on the
 * result relation, i.e. the owner of a view the statement writes through,
 * else the current user.  The scan under an UPDATE or DELETE uses the same
 * user (and so the same user mapping and pending writes).
 */
static Oid
result_rel_user(ResultRelInfo *rinfo, EState *estate)
{
	return ExecGetResultRelCheckAsUser(rinfo, estate);
}

/* The same, when planning. */
static Oid
planned_rel_user(PlannerInfo *root, RangeTblEntry *rte)
{
	Oid			user = s3db_planned_check_as_user(root, rte);

	return OidIsValid(user) ? user : GetUserId();
}

/* The column reading the record id; errors if there is none. */
static AttrNumber
id_attnum(Relation rel)
{
	AttrNumber	attnum = s3db_id_column(rel);

	if (attnum != 0)
		return attnum;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
			 errmsg("foreign table \"%s\" has no id column", RelationGetRelationName(rel)),
			 errhint("Add a column named \"id\", or a column with OPTIONS (field 'id'), to update or delete records.")));
	return InvalidAttrNumber;
}

void
s3dbAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
							RangeTblEntry *target_rte, Relation target_relation)
{
	AttrNumber	attno = id_attnum(target_relation);
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(target_relation), attno - 1);
	Var		   *var = makeVar(rtindex, attno, att->atttypid, att->atttypmod,
							  att->attcollation, 0);

	add_row_identity_var(root, var, rtindex, ROWID_NAME);
}

int
s3dbIsForeignRelUpdatable(Relation rel)
{
	return (1 << CMD_INSERT) | (1 << CMD_UPDATE) | (1 << CMD_DELETE);
}

/*
 * Does this UPDATE set every column that maps to an attribute, with values
 * that do not depend on the old row?  Then the old record need not be read.
 */
bool
s3db_update_is_replace(PlannerInfo *root, Index relid, Relation rel, List *update_colnos)
{
	TupleDesc	desc = RelationGetDescr(rel);
	ListCell   *lc;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *field;

		if (att->attisdropped)
			continue;
		field = s3db_column_field(RelationGetRelid(rel), att->attnum, NameStr(att->attname));
		if (strcmp(field, "id") == 0)
			continue;
		if (!list_member_int(update_colnos, att->attnum))
			return false;
	}
	/* the new values must not read the old row */
	foreach(lc, root->parse->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (!tle->resjunk && contain_vars_of_level((Node *) tle->expr, 0))
			return false;
	}
	return true;
}

List *
s3dbPlanForeignModify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
					  int subplan_index)
{
	CmdType		op = plan->operation;
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	S3dbStrategy strategy = STRATEGY_INSERT;
	bool		do_nothing = false;

	if (op == CMD_DELETE)
		strategy = STRATEGY_DELETE;
	else if (op == CMD_UPDATE)
	{
		Relation	rel = table_open(rte->relid, NoLock);
		List	   *colnos = list_nth(plan->updateColnosLists, subplan_index);
		S3dbTableOptions topts;
		S3dbConn   *conn;
		S3dbCatalog *cat;
		const s3f_resource *res;

		s3db_table_options(rte->relid, &topts);
		conn = s3db_get_conn(topts.serverid, planned_rel_user(root, rte));
		cat = s3db_conn_catalog(conn);
		res = s3db_find_resource(cat, topts.resource, RelationGetRelationName(rel));

		if (res->nparts == 0 && s3db_update_is_replace(root, resultRelation, rel, colnos))
			strategy = STRATEGY_REPLACE;
		else if (res->behavior == S3F_B_BODY_ONLY)
			strategy = STRATEGY_UPDATE;
		else
			strategy = STRATEGY_PATCH;
		table_close(rel, NoLock);
	}
	else if (op == CMD_INSERT)
	{
		Relation	rel = table_open(rte->relid, NoLock);

		do_nothing = s3db_conflict_do_nothing(plan->onConflictAction, rel);
		table_close(rel, NoLock);
	}
	return list_make2_int(strategy, do_nothing);
}

static void
open_state(S3dbModifyState *ms, Relation rel, EState *estate, ResultRelInfo *rinfo)
{
	S3dbTableOptions topts;
	TupleDesc	desc = RelationGetDescr(rel);
	MemoryContextCallback *cb;
	ForeignTable *ft = GetForeignTable(RelationGetRelid(rel));
	ListCell   *lc;

	ms->cxt = AllocSetContextCreate(estate->es_query_cxt, "s3db_fdw modify",
									ALLOCSET_DEFAULT_SIZES);
	ms->row_cxt = AllocSetContextCreate(ms->cxt, "s3db_fdw row", ALLOCSET_DEFAULT_SIZES);
	ms->relname = pstrdup(RelationGetRelationName(rel));
	ms->rel = rel;

	s3db_table_options(RelationGetRelid(rel), &topts);
	ms->serverid = topts.serverid;
	ms->userid = result_rel_user(rinfo, estate);
	ms->conn = s3db_get_conn(ms->serverid, ms->userid);
	s3db_check_store_access(ms->conn, ms->userid, true);
	/* the writes this statement queues commit through this connection */
	s3db_conn_bind(ms->conn, ms->serverid, ms->userid);
	ms->cat = s3db_catalog_pin(ms->conn, ms->cxt);
	ms->res = s3db_find_resource(ms->cat, topts.resource, ms->relname);

	ms->cols = MemoryContextAllocZero(ms->cxt, sizeof(S3dbColumn) * Max(desc->natts, 1));
	ms->id_col = ms->content_col = ms->mime_col = -1;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		MemoryContext old;
		S3dbColumn *col;

		if (att->attisdropped)
			continue;
		old = MemoryContextSwitchTo(ms->cxt);
		col = &ms->cols[ms->ncols];
		s3db_column_init(col, rel, att->attnum, ms->res);
		MemoryContextSwitchTo(old);
		if (col->attr_index == S3DB_COL_ID)
			ms->id_col = ms->ncols;
		else if (col->attr_index == S3DB_COL_CONTENT)
			ms->content_col = ms->ncols;
		else if (col->attr_index == S3DB_COL_CONTENT_TYPE)
			ms->mime_col = ms->ncols;
		ms->ncols++;
	}

	ms->wopts.metadata_limit = ms->conn->opts.metadata_limit;
	ms->wopts.passphrase = ms->conn->opts.passphrase;
	ms->batch_size = 100;
	ms->id_generator = ms->res->id_generator;
	foreach(lc, ft->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "id_generator") == 0)
			ms->id_generator = MemoryContextStrdup(ms->cxt, defGetString(def));
		else if (strcmp(def->defname, "batch_size") == 0)
			ms->batch_size = atoi(defGetString(def));
	}
	if (ms->id_generator && strncmp(ms->id_generator, "incremental", 11) == 0)
	{
		s3s_error	err;

		s3s_error_clear(&err);
		if (!s3f_incremental_parse(ms->id_generator, &ms->incr, &err))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid id_generator \"%s\" for foreign table \"%s\": %s",
							ms->id_generator, ms->relname, err.message)));
		ms->have_incr = true;
		cb = MemoryContextAlloc(ms->cxt, sizeof(MemoryContextCallback));
		cb->func = (MemoryContextCallbackFunction) s3f_incremental_free;
		cb->arg = &ms->incr;
		MemoryContextRegisterResetCallback(ms->cxt, cb);
	}
	/* the write observers (plugins) that want this table */
	ms->target.rel = rel;
	ms->target.conn = ms->conn;
	ms->target.res = ms->res;
	ms->target.serverid = ms->serverid;
	ms->target.userid = ms->userid;
	ms->target.caller = GetUserId();
	ms->target.wopts = &ms->wopts;
	ms->observers = s3db_observers_begin(&ms->target);
}

void
s3dbBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
					   List *fdw_private, int subplan_index, int eflags)
{
	S3dbModifyState *ms = palloc0(sizeof(S3dbModifyState));

	rinfo->ri_FdwState = ms;
	ms->strategy = (S3dbStrategy) linitial_int(fdw_private);
	ms->do_nothing = lsecond_int(fdw_private) != 0;
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	open_state(ms, rinfo->ri_RelationDesc, mtstate->ps.state, rinfo);

	if (mtstate->operation == CMD_UPDATE && ms->res->timestamps)
	{
		Bitmapset  *set = ExecGetUpdatedCols(rinfo, mtstate->ps.state);

		for (int c = 0; c < ms->ncols; c++)
			if (ms->cols[c].attr_index >= 0 &&
				strcmp(ms->res->attrs[ms->cols[c].attr_index].path, "updatedAt") == 0 &&
				bms_is_member(ms->cols[c].attnum - FirstLowInvalidHeapAttributeNumber, set))
				ms->sets_updated_at = true;
	}
	if (mtstate->operation == CMD_UPDATE || mtstate->operation == CMD_DELETE)
	{
		Plan	   *subplan = outerPlanState(mtstate)->plan;

		ms->rowid_attno = ExecFindJunkAttributeInTlist(subplan->targetlist, ROWID_NAME);
		if (!AttributeNumberIsValid(ms->rowid_attno))
			elog(ERROR, "could not find junk column \"%s\"", ROWID_NAME);
	}
}


static TupleTableSlot *
insert_one(S3dbModifyState *ms, TupleTableSlot *slot)
{
	MemoryContext old = MemoryContextSwitchTo(ms->row_cxt);
	char	   *id = NULL;
	s3s_error	err;
	bool		prev_insert = false;
	bool		known;
	bool		given_id;
	S3dbPendingOp prev_op = PENDING_PUT;

	MemoryContextReset(ms->row_cxt);
	slot_getallattrs(slot);
	given_id = ms->id_col >= 0 && !slot->tts_isnull[ms->cols[ms->id_col].attnum - 1];
	if (given_id)
		id = TextDatumGetCString(slot->tts_values[ms->cols[ms->id_col].attnum - 1]);
	else
		id = s3db_new_id(ms);

	s3s_error_clear(&err);
	if (!s3f_valid_id(id, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid record id \"%.100s\"", id),
				 errdetail("%s", err.message)));

	/*
	 * ON CONFLICT DO NOTHING: a row whose record exists is not inserted.  An
	 * id generated here is new (random, or from the shared sequence); should
	 * it exist after all, the commit skips it like any raced row.
	 */
	if (ms->do_nothing && given_id && s3db_conflict_skip(ms, id))
	{
		MemoryContextSwitchTo(old);
		return NULL;
	}

	known = s3db_pending_state(ms->serverid, ms->userid, ms->res->name, id, &prev_op, &prev_insert);
	if (known && prev_op != PENDING_DELETE)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("record \"%s\" of resource \"%s\" already exists", id, ms->res->name),
				 errdetail("It was inserted earlier in this transaction.")));

	s3db_queue_row(ms, slot, id, !known || prev_insert, false);
	MemoryContextSwitchTo(old);

	/* RETURNING sees the generated id */
	if (ms->id_col >= 0 && slot->tts_isnull[ms->cols[ms->id_col].attnum - 1])
	{
		int			a = ms->cols[ms->id_col].attnum - 1;
		bool		isnull;

		slot->tts_values[a] = s3db_text_to_datum(&ms->cols[ms->id_col], id, &isnull);
		slot->tts_isnull[a] = false;
	}
	/* observers see the row as queued */
	s3db_observers_row(ms->observers, CMD_INSERT, id, slot, NULL, NULL, NULL);
	return slot;
}

TupleTableSlot *
s3dbExecForeignInsert(EState *estate, ResultRelInfo *rinfo,
					  TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	return insert_one((S3dbModifyState *) rinfo->ri_FdwState, slot);
}

TupleTableSlot **
s3dbExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo,
						   TupleTableSlot **slots, TupleTableSlot **planSlots,
						   int *numSlots)
{
	S3dbModifyState *ms = (S3dbModifyState *) rinfo->ri_FdwState;
	TupleTableSlot **done;
	int			n = 0;

	if (!ms->do_nothing)
	{
		for (int i = 0; i < *numSlots; i++)
			insert_one(ms, slots[i]);
		return slots;
	}
	/*
	 * The rows ON CONFLICT DO NOTHING skips are not returned: the inserted
	 * ones go into an array of our own (the executor reuses its slots).
	 */
	s3db_conflict_prefetch(ms, slots, *numSlots);
	done = MemoryContextAlloc(ms->prefetch_cxt, sizeof(TupleTableSlot *) * Max(*numSlots, 1));
	for (int i = 0; i < *numSlots; i++)
		if (insert_one(ms, slots[i]) != NULL)
			done[n++] = slots[i];
	*numSlots = n;
	return done;
}

int
s3dbGetForeignModifyBatchSize(ResultRelInfo *rinfo)
{
	S3dbModifyState *ms = (S3dbModifyState *) rinfo->ri_FdwState;

	/* no batching with RETURNING or row triggers, as for postgres_fdw */
	if (ms == NULL || rinfo->ri_projectReturning ||
		(rinfo->ri_TrigDesc && (rinfo->ri_TrigDesc->trig_insert_after_row ||
								rinfo->ri_TrigDesc->trig_insert_before_row)))
		return 1;
	return Max(ms->batch_size, 1);
}

static char *
row_id(S3dbModifyState *ms, TupleTableSlot *planSlot)
{
	bool		isnull;
	Datum		d = ExecGetJunkAttribute(planSlot, ms->rowid_attno, &isnull);

	if (isnull)
		elog(ERROR, "record id is NULL");
	return TextDatumGetCString(d);
}

/*
 * Whether this statement already updated or deleted the record: a join
 * (UPDATE ... FROM, DELETE ... USING) can produce a row twice, and a heap
 * table changes it once (the second finds it already changed by itself
 * and skips it), so the count and the outcome must not see it twice.
 */
static bool
already_changed(S3dbModifyState *ms, const char *id)
{
	bool		found;

	if (ms->changed == NULL)
		ms->changed = s3db_strhash_create("s3db_fdw changed ids", sizeof(char *), ms->cxt);
	(void) s3db_strhash_lookup(ms->changed, id, HASH_ENTER, &found, ms->cxt);
	return found;
}

TupleTableSlot *
s3dbExecForeignUpdate(EState *estate, ResultRelInfo *rinfo,
					  TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	S3dbModifyState *ms = (S3dbModifyState *) rinfo->ri_FdwState;
	MemoryContext old = MemoryContextSwitchTo(ms->row_cxt);
	char	   *id;
	bool		prev_insert = false;

	MemoryContextReset(ms->row_cxt);
	id = row_id(ms, planSlot);
	if (already_changed(ms, id))
	{
		MemoryContextSwitchTo(old);
		return NULL;
	}
	slot_getallattrs(slot);
	if (ms->id_col >= 0)
	{
		int			a = ms->cols[ms->id_col].attnum - 1;

		if (slot->tts_isnull[a] ||
			strcmp(TextDatumGetCString(slot->tts_values[a]), id) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot change the id of record \"%s\" of resource \"%s\"",
							id, ms->res->name),
					 errhint("Insert a new record and delete the old one instead.")));
	}
	prev_insert = false;
	(void) s3db_pending_state(ms->serverid, ms->userid, ms->res->name, id, NULL, &prev_insert);
	s3db_queue_row(ms, slot, id, prev_insert, true);
	/* observers: the change, old row from planSlot unless a replace never
	 * read it */
	s3db_observers_row(ms->observers, CMD_UPDATE, id, slot, NULL, rinfo,
					   ms->strategy == STRATEGY_REPLACE ? NULL : planSlot);
	MemoryContextSwitchTo(old);
	return slot;
}

TupleTableSlot *
s3dbExecForeignDelete(EState *estate, ResultRelInfo *rinfo,
					  TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	S3dbModifyState *ms = (S3dbModifyState *) rinfo->ri_FdwState;
	MemoryContext old = MemoryContextSwitchTo(ms->row_cxt);
	S3dbPending p;
	bool		prev_insert = false;

	MemoryContextReset(ms->row_cxt);
	memset(&p, 0, sizeof(p));
	p.op = PENDING_DELETE;
	p.serverid = ms->serverid;
	p.userid = ms->userid;
	p.resource = ms->res->name;
	p.id = row_id(ms, planSlot);
	if (already_changed(ms, p.id))
	{
		MemoryContextSwitchTo(old);
		return NULL;
	}
	p.key = s3db_take_string(s3f_key_data(ms->res->name, p.id));
	prev_insert = false;
	(void) s3db_pending_state(ms->serverid, ms->userid, ms->res->name, p.id, NULL, &prev_insert);
	p.is_insert = prev_insert;
	p.version = ms->res->current_version;

	/* RETURNING (and observers): the row as it was, from what the scan read */
	if (rinfo->ri_projectReturning || s3db_observers_want_rows(ms->observers))
		s3db_returning_row(ms, slot, p.id,
					  p.is_insert ? NULL : s3db_seen_get(ms->serverid, ms->userid,
														 ms->res->name, p.id, ms->row_cxt));
	/* observers see the record before its write is queued */
	s3db_observers_record(ms->observers, CMD_DELETE, p.id, NULL);
	s3db_pending_add(&p);
	/* and the row once queued: the old row in slot */
	s3db_observers_row(ms->observers, CMD_DELETE, p.id, NULL, slot, NULL, NULL);
	MemoryContextSwitchTo(old);
	return slot;
}

void
s3dbEndForeignModify(EState *estate, ResultRelInfo *rinfo)
{
	/* everything lives in the state's memory context, freed with the query */
}

void
s3dbExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
						 List *fdw_private, int subplan_index, ExplainState *es)
{
	S3dbStrategy s = (S3dbStrategy) linitial_int(fdw_private);

	ExplainPropertyText("S3 Write Strategy", strategy_names[s], es);
	if (es->verbose)
		ExplainPropertyText("S3 Commit", "writes are applied when the transaction commits", es);
}

void
s3dbExecForeignTruncate(List *rels, DropBehavior behavior, bool restart_seqs)
{
	ListCell   *lc;

	foreach(lc, rels)
	{
		Relation	rel = (Relation) lfirst(lc);
		S3dbTableOptions topts;

		s3db_table_options(RelationGetRelid(rel), &topts);
		/* TRUNCATE runs as the current user (it cannot go through a view) */
		s3db_check_store_access(s3db_get_conn(topts.serverid, topts.userid),
								topts.userid, true);
		/* announce the deletions while the records can still be read */
		s3db_observers_truncate(rel, &topts);
		/* the truncation commits through this connection */
		s3db_conn_bind(s3db_get_conn(topts.serverid, topts.userid), topts.serverid,
					   topts.userid);
		s3db_pending_truncate(topts.serverid, topts.userid, topts.resource);
	}
}

/*
 * COPY FROM and tuple routing insert through BeginForeignInsert rather
 * than a planned ModifyTable.
 */
void
s3dbBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	S3dbModifyState *ms = palloc0(sizeof(S3dbModifyState));

	rinfo->ri_FdwState = ms;
	ms->strategy = STRATEGY_INSERT;
	/* tuple routing of an INSERT into a partitioned table, or COPY (no plan) */
	if (mtstate->ps.plan != NULL && IsA(mtstate->ps.plan, ModifyTable) &&
		mtstate->operation == CMD_INSERT)
		ms->do_nothing = s3db_conflict_do_nothing(((ModifyTable *) mtstate->ps.plan)->onConflictAction,
												  rinfo->ri_RelationDesc);
	open_state(ms, rinfo->ri_RelationDesc, mtstate->ps.state, rinfo);
}

void
s3dbEndForeignInsert(EState *estate, ResultRelInfo *rinfo)
{
	/* nothing: the writes wait in the transaction buffer */
}
