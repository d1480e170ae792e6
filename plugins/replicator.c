/*-------------------------------------------------------------------------
 *
 * replicator.c
 *		Capture of SQL writes on s3db foreign tables into the replication
 *		outbox, in the writing transaction.
 *
 * s3db.js replicates from in-process event listeners after each write: a
 * crash loses the change, a failed write may still be announced, and the
 * changes of one record can arrive out of order.  Here every change made
 * through SQL is inserted into the outbox tables of the extension schema
 * by the statement that makes it, so a rolled-back write is never
 * replicated and a committed one always is; the background worker
 * delivers later (repl_deliver.c).
 *
 * Capturing a change locks the record's row in s3db_fdw_replication_records
 * (its per-record change counter) until the writer commits, and only then
 * draws the global outbox sequence number: two transactions changing the
 * same record are serialised, so the outbox order of a record's changes is
 * their commit order.
 *
 * Capture costs nothing unless an enabled target wants the table: the
 * answer is looked up once per table and transaction.  The outbox rows are
 * written with the privileges of the owner of the replication tables, so
 * writers need no rights on them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "fdw/s3db_fdw.h"
#include "replicator.h"
#include "s3db_worker.h"

#define TARGETS_TABLE "s3db_fdw_replication_targets"

/* Per-transaction cache of "does a target want this table". */
typedef struct WantEntry
{
	Oid			relid;
	bool		wants;
} WantEntry;

static LocalTransactionId want_lxid = InvalidLocalTransactionId;
static List *want_cache = NIL;	/* of WantEntry, in TopTransactionContext */
static bool captured = false;	/* this transaction queued a change */
static bool callback_registered = false;

bool		s3db_repl_delivering = false;

Oid
s3db_repl_schema(void)
{
	ForeignDataWrapper *fdw = GetForeignDataWrapperByName("s3db_fdw", true);

	/* the extension is relocatable, so everything lives with the handler */
	if (fdw == NULL || !OidIsValid(fdw->fdwhandler))
		return InvalidOid;
	return get_func_namespace(fdw->fdwhandler);
}

bool
s3db_repl_captured_in_xact(void)
{
	return captured;
}

/* Owner of the replication tables, or InvalidOid when they do not exist. */
static Oid
tables_owner(Oid nsp)
{
	Oid			relid = get_relname_relid(TARGETS_TABLE, nsp);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		return InvalidOid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

static void
wake_worker(void)
{
	S3dbWorkerShared *sh = s3db_worker_shared();
	pid_t		pid = 0;
	PGPROC	   *proc;

	if (sh == NULL)
		return;
	LWLockAcquire(sh->lock, LW_SHARED);
	pid = sh->pid;
	LWLockRelease(sh->lock);
	if (pid != 0 && (proc = BackendPidGetProc(pid)) != NULL)
		SetLatch(&proc->procLatch);
}

/* Wake the worker when changes commit, so that delivery starts at once. */
static void
repl_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (captured)
				wake_worker();
			captured = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			captured = false;
			break;
		default:
			break;
	}
}

/*
 * Run an SPI statement as the owner of the replication tables; returns
 * SPI_processed, the result (if any) left in SPI_tuptable until
 * SPI_finish.
 */
static uint64
exec_as_owner(Oid owner, const char *sql, int nargs, Oid *types, Datum *values,
			  const char *nulls, bool read_only)
{
	Oid			save_user;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);
		if (rc < 0)
			elog(ERROR, "replication statement failed: %s", SPI_result_code_string(rc));
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	return SPI_processed;
}

bool
s3db_replicator_wants(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			nsp;
	Oid			owner;
	ListCell   *lc;
	WantEntry  *e;
	MemoryContext old;
	bool		wants = false;

	if (s3db_repl_delivering)
		return false;
	if (MyProc->lxid != want_lxid)
	{
		want_lxid = MyProc->lxid;
		want_cache = NIL;
	}
	foreach(lc, want_cache)
	{
		e = (WantEntry *) lfirst(lc);
		if (e->relid == relid)
			return e->wants;
	}

	nsp = s3db_repl_schema();
	owner = OidIsValid(nsp) ? tables_owner(nsp) : InvalidOid;
	if (OidIsValid(owner))
	{
		char	   *sql = psprintf("SELECT 1 FROM %s.%s WHERE enabled "
								   "AND (filter IS NULL OR $1::regclass = ANY (filter)) LIMIT 1",
								   quote_identifier(get_namespace_name(nsp)), TARGETS_TABLE);
		Oid			types[1] = {OIDOID};
		Datum		values[1] = {ObjectIdGetDatum(relid)};

		SPI_connect();
		wants = exec_as_owner(owner, sql, 1, types, values, NULL, true) > 0;
		SPI_finish();
	}

	old = MemoryContextSwitchTo(TopTransactionContext);
	e = palloc(sizeof(WantEntry));
	e->relid = relid;
	e->wants = wants;
	want_cache = lappend(want_cache, e);
	MemoryContextSwitchTo(old);
	return wants;
}

/* A row as JSON text (column names as keys). */
static char *
row_json(Datum row)
{
	return TextDatumGetCString(DirectFunctionCall1(row_to_json, row));
}

/*
 * Keys to drop (binary content) and to rename (a column reading another
 * top-level attribute) so that the document uses attribute names.
 */
static void
key_maps(Relation rel, Datum *drop, Datum *from, Datum *to)
{
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *d = NIL,
			   *f = NIL,
			   *t = NIL;
	Datum	   *arr;
	int			n;
	ListCell   *lc;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *name = NameStr(att->attname);
		char	   *field;

		if (att->attisdropped)
			continue;
		field = s3db_column_field(RelationGetRelid(rel), att->attnum, name);
		if (field[0] == '$')
			d = lappend(d, name);
		else if (strcmp(field, "id") == 0 && strcmp(name, "id") != 0)
			d = lappend(d, name);	/* the id is added under "id" */
		else if (strcmp(field, name) != 0 && strchr(field, '.') == NULL)
		{
			f = lappend(f, name);
			t = lappend(t, field);
		}
	}
#define TO_ARRAY(list, out) \
	do { \
		n = 0; \
		arr = palloc(sizeof(Datum) * (list_length(list) + 1)); \
		foreach(lc, list) \
			arr[n++] = CStringGetTextDatum((char *) lfirst(lc)); \
		*(out) = PointerGetDatum(construct_array(arr, n, TEXTOID, -1, false, TYPALIGN_INT)); \
	} while (0)
	TO_ARRAY(d, drop);
	TO_ARRAY(f, from);
	TO_ARRAY(t, to);
#undef TO_ARRAY
}

/*
 * Queue one change of record id: the outbox row with the documents made
 * from the rows' JSON (before, after: row_to_json text or NULL), and one
 * pending delivery per enabled target that wants the table.
 */
static void
queue_change(Relation rel, const char *opname, const char *id,
			 const char *before, const char *after)
{
	Oid			nsp;
	Oid			owner;
	char	   *schema;
	char	   *sql;
	S3dbTableOptions topts;
	ForeignServer *server;
	Oid			types[11] = {TEXTOID, TEXTOID, TEXTOID, OIDOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		values[11];
	char		nulls[11];

	nsp = s3db_repl_schema();
	owner = tables_owner(nsp);
	if (!OidIsValid(owner))
		return;

	s3db_table_options(RelationGetRelid(rel), &topts);
	server = GetForeignServer(topts.serverid);
	schema = pstrdup(quote_identifier(get_namespace_name(nsp)));

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(server->servername);
	values[1] = CStringGetTextDatum(topts.resource);
	values[2] = CStringGetTextDatum(id);
	values[3] = ObjectIdGetDatum(RelationGetRelid(rel));
	values[4] = CStringGetTextDatum(RelationGetRelationName(rel));
	values[5] = CStringGetTextDatum(opname);
	values[6] = before ? CStringGetTextDatum(before) : (Datum) 0;
	nulls[6] = before ? ' ' : 'n';
	values[7] = after ? CStringGetTextDatum(after) : (Datum) 0;
	nulls[7] = after ? ' ' : 'n';
	key_maps(rel, &values[8], &values[9], &values[10]);

	/*
	 * The records row first: its lock orders the writers of one record,
	 * and the outbox sequence is drawn only once it is held.
	 */
	sql = psprintf(
				   "WITH r AS ("
				   " INSERT INTO %s.s3db_fdw_replication_records AS r "
				   "   (server, resource, record_id, last_seq) VALUES ($1, $2, $3, 1)"
				   " ON CONFLICT (server, resource, record_id) "
				   "   DO UPDATE SET last_seq = r.last_seq + 1 RETURNING last_seq), "
				   "o AS ("
				   " INSERT INTO %s.s3db_fdw_replication_outbox "
				   "   (relid, relname, server, resource, record_id, record_seq, operation, before, after) "
				   " SELECT $4, $5, $1, $2, $3, r.last_seq, $6, "
				   "   %s.s3db_fdw_replication_doc($7::jsonb, $3, $9, $10, $11), "
				   "   %s.s3db_fdw_replication_doc($8::jsonb, $3, $9, $10, $11) FROM r "
				   " RETURNING seq) "
				   "INSERT INTO %s.s3db_fdw_replication_pending (target, seq) "
				   "SELECT t.name, o.seq FROM o, %s." TARGETS_TABLE " t "
				   " WHERE t.enabled AND (t.filter IS NULL OR $4::regclass = ANY (t.filter))",
				   schema, schema, schema, schema, schema, schema);

	SPI_connect();
	exec_as_owner(owner, sql, 11, types, values, nulls, false);
	SPI_finish();

	if (!callback_registered)
	{
		RegisterXactCallback(repl_xact_callback, NULL);
		callback_registered = true;
	}
	captured = true;
}

void
s3db_replicator_capture(Relation rel, CmdType op, const char *id,
						TupleTableSlot *newslot, TupleTableSlot *oldslot,
						ResultRelInfo *rinfo, TupleTableSlot *planSlot)
{
	char	   *before = NULL;
	char	   *after = NULL;

	if (!s3db_replicator_wants(rel))
		return;
	if (newslot)
		after = row_json(ExecFetchSlotHeapTupleDatum(newslot));
	if (oldslot && !TTS_EMPTY(oldslot))
		before = row_json(ExecFetchSlotHeapTupleDatum(oldslot));
	else if (rinfo && planSlot && AttributeNumberIsValid(rinfo->ri_RowIdAttNo))
	{
		/* UPDATE on a foreign table always fetches the old whole row */
		bool		isnull;
		Datum		oldrow = ExecGetJunkAttribute(planSlot, rinfo->ri_RowIdAttNo, &isnull);

		if (!isnull)
			before = row_json(oldrow);
	}
	queue_change(rel, op == CMD_INSERT ? "insert" : op == CMD_UPDATE ? "update" : "delete",
				 id, before, after);
}

/*
 * TRUNCATE of a replicated table: a delete of every record the transaction
 * sees, so that every kind of target (a webhook consumer too) learns of
 * each deletion in the envelope it already understands.  Runs before the
 * truncate is queued, so the scan still returns the rows.  Records another
 * writer creates between this statement and the commit are deleted by the
 * commit without being announced.
 */
void
s3db_replicator_capture_truncate(Relation rel)
{
	AttrNumber	idatt;
	char	   *sql;
	List	   *ids = NIL;
	List	   *docs = NIL;
	ListCell   *lc,
			   *ld;
	MemoryContext caller;

	if (!s3db_replicator_wants(rel))
		return;
	idatt = s3db_id_column(rel);
	if (idatt == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot replicate TRUNCATE of foreign table \"%s\"",
						RelationGetRelationName(rel)),
				 errdetail("The table has no column for the record id.")));
	sql = psprintf("SELECT t.%s::text, row_to_json(t)::text FROM %s.%s t",
				   quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), idatt - 1)->attname)),
				   quote_identifier(get_namespace_name(RelationGetNamespace(rel))),
				   quote_identifier(RelationGetRelationName(rel)));
	caller = CurrentMemoryContext;
	SPI_connect();
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the records of \"%s\" to replicate its truncation",
			 RelationGetRelationName(rel));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		/* SPI's memory goes with SPI_finish */
		MemoryContext old = MemoryContextSwitchTo(caller);

		ids = lappend(ids, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		docs = lappend(docs, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	forboth(lc, ids, ld, docs)
		queue_change(rel, "delete", (char *) lfirst(lc), (char *) lfirst(ld), NULL);
}
