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
 * answer is looked up once per table and transaction.  Capture is a write
 * observer (src/fdw/observer.h): it runs as the extension owner, who owns
 * the replication tables, with search_path pinned, so writers need no
 * rights on them and cannot substitute an operator or function of theirs.
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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "fdw/observer.h"
#include "fdw/s3db_fdw.h"
#include "fdw/trust.h"
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

bool
s3db_repl_captured_in_xact(void)
{
	return captured;
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
 * Run an SPI statement; callers run as the extension owner with
 * search_path pinned (src/fdw/observer.c sees to it for the capture).
 * Returns SPI_processed.
 */
static uint64
exec_sql(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
		 bool read_only)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);

	if (rc < 0)
		elog(ERROR, "replication statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * Which enabled targets receive the changes of a table: its filter names
 * the table, or it has no filter.  Either way the target's owner must be
 * allowed to read the table (a target is a way of reading its changes);
 * and a table or s3db target without a filter takes only tables whose
 * owner may write into the relation it names, so that nobody writes
 * through a target into a table they could not write themselves.
 * A target whose owner was dropped takes nothing (and must not make the
 * writes of everybody else fail).  rel and relowner are the parameters
 * holding the table and its owner; t is the target row.
 */
static char *
target_wants(const char *rel, const char *relowner)
{
	return psprintf("t.enabled "
					"AND (t.filter IS NULL OR %s::pg_catalog.regclass OPERATOR(pg_catalog.=) ANY (t.filter)) "
					"AND CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_authid a "
					"                      WHERE a.oid OPERATOR(pg_catalog.=) t.owner::pg_catalog.oid) "
					"    THEN pg_catalog.has_table_privilege(t.owner::pg_catalog.oid, %s::pg_catalog.oid, 'SELECT') "
					"    ELSE false END "
					"AND (t.filter IS NOT NULL OR t.kind OPERATOR(pg_catalog.<>) 'table' "
					"     OR pg_catalog.to_regclass(t.target) IS NULL "
					"     OR (pg_catalog.has_table_privilege(%s, pg_catalog.to_regclass(t.target)::pg_catalog.oid, 'INSERT') "
					"         AND pg_catalog.has_table_privilege(%s, pg_catalog.to_regclass(t.target)::pg_catalog.oid, 'UPDATE') "
					"         AND pg_catalog.has_table_privilege(%s, pg_catalog.to_regclass(t.target)::pg_catalog.oid, 'DELETE')))",
					rel, rel, relowner, relowner, relowner);
}

static bool
replicator_wants(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	char	   *schema;
	ListCell   *lc;
	WantEntry  *e;
	MemoryContext old;
	bool		wants = false;

	if (s3db_repl_delivering)
		return false;
	if (s3db_my_lxid() != want_lxid)
	{
		want_lxid = s3db_my_lxid();
		want_cache = NIL;
	}
	foreach(lc, want_cache)
	{
		e = (WantEntry *) lfirst(lc);
		if (e->relid == relid)
			return e->wants;
	}

	schema = s3db_extension_schema_sql();
	if (schema)
	{
		char	   *sql = psprintf("SELECT 1 FROM %s.%s t WHERE %s LIMIT 1",
								   schema, TARGETS_TABLE, target_wants("$1", "$2"));
		Oid			types[2] = {OIDOID, OIDOID};
		Datum		values[2] = {ObjectIdGetDatum(relid), ObjectIdGetDatum(rel->rd_rel->relowner)};

		SPI_connect();
		wants = exec_sql(sql, 2, types, values, NULL, true) > 0;
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

/* One writing statement on a replicated table. */
typedef struct CaptureState
{
	Oid			relid;
	Oid			relowner;
	char	   *relname;
	char	   *server;
	char	   *resource;
	char	   *schema;			/* the extension schema, quoted */
	Datum		drop;			/* text[]: keys to drop */
	Datum		from;			/* text[]: keys to rename ... */
	Datum		to;				/* ... to these */
} CaptureState;

/* Is the attribute a column reads an s3db.js secret? */
static bool
is_secret(const s3f_resource *res, const char *field)
{
	for (int i = 0; res && i < res->nattrs; i++)
		if (strcmp(res->attrs[i].path, field) == 0)
			return res->attrs[i].ti.type == S3F_T_SECRET;
	return false;
}

/*
 * Keys to drop (binary content, secrets) and to rename (a column reading
 * another top-level attribute) so that the document uses attribute names.
 * A secret is never put into a document: the outbox, and every target,
 * would hold it in clear text.
 */
static void
key_maps(Relation rel, const s3f_resource *res, Datum *drop, Datum *from, Datum *to)
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
		if (field[0] == '$' || is_secret(res, field))
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
queue_change(CaptureState *cs, const char *opname, const char *id,
			 const char *before, const char *after)
{
	char	   *sql;
	Oid			types[12] = {TEXTOID, TEXTOID, TEXTOID, OIDOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, OIDOID};
	Datum		values[12];
	char		nulls[12];
	const char *schema = cs->schema;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(cs->server);
	values[1] = CStringGetTextDatum(cs->resource);
	values[2] = CStringGetTextDatum(id);
	values[3] = ObjectIdGetDatum(cs->relid);
	values[4] = CStringGetTextDatum(cs->relname);
	values[5] = CStringGetTextDatum(opname);
	values[6] = before ? CStringGetTextDatum(before) : (Datum) 0;
	nulls[6] = before ? ' ' : 'n';
	values[7] = after ? CStringGetTextDatum(after) : (Datum) 0;
	nulls[7] = after ? ' ' : 'n';
	values[8] = cs->drop;
	values[9] = cs->from;
	values[10] = cs->to;
	values[11] = ObjectIdGetDatum(cs->relowner);

	/*
	 * The records row first: its lock orders the writers of one record,
	 * and the outbox sequence is drawn only once it is held.  Every name
	 * and operator is qualified: this runs as the extension owner.
	 */
	sql = psprintf(
				   "WITH r AS ("
				   " INSERT INTO %s.s3db_fdw_replication_records AS r "
				   "   (server, resource, record_id, last_seq) VALUES ($1, $2, $3, 1)"
				   " ON CONFLICT (server, resource, record_id) "
				   "   DO UPDATE SET last_seq = r.last_seq OPERATOR(pg_catalog.+) 1 RETURNING last_seq), "
				   "o AS ("
				   " INSERT INTO %s.s3db_fdw_replication_outbox "
				   "   (relid, relname, server, resource, record_id, record_seq, operation, before, after) "
				   " SELECT $4, $5, $1, $2, $3, r.last_seq, $6, "
				   "   %s.s3db_fdw_replication_doc($7::pg_catalog.jsonb, $3, $9, $10, $11), "
				   "   %s.s3db_fdw_replication_doc($8::pg_catalog.jsonb, $3, $9, $10, $11) FROM r "
				   " RETURNING seq) "
				   "INSERT INTO %s.s3db_fdw_replication_pending (target, seq) "
				   "SELECT t.name, o.seq FROM o, %s." TARGETS_TABLE " t WHERE %s",
				   schema, schema, schema, schema, schema, schema, target_wants("$4", "$12"));

	SPI_connect();
	exec_sql(sql, 12, types, values, nulls, false);
	SPI_finish();

	if (!callback_registered)
	{
		RegisterXactCallback(repl_xact_callback, NULL);
		callback_registered = true;
	}
	captured = true;
}

/* ---- the write observer ---- */

static void *
capture_begin(const S3dbWriteTarget *t, bool *want_rows)
{
	CaptureState *cs;
	S3dbTableOptions topts;

	*want_rows = false;
	if (!replicator_wants(t->rel))
		return NULL;
	cs = palloc0(sizeof(CaptureState));
	s3db_table_options(RelationGetRelid(t->rel), &topts);
	cs->relid = RelationGetRelid(t->rel);
	cs->relowner = t->rel->rd_rel->relowner;
	cs->relname = pstrdup(RelationGetRelationName(t->rel));
	cs->server = pstrdup(GetForeignServer(topts.serverid)->servername);
	cs->resource = pstrdup(topts.resource);
	cs->schema = s3db_extension_schema_sql();
	key_maps(t->rel, t->res, &cs->drop, &cs->from, &cs->to);
	*want_rows = true;
	return cs;
}

static void
capture_row(void *state, CmdType op, const char *id, const char *before, const char *after)
{
	queue_change((CaptureState *) state,
				 op == CMD_INSERT ? "insert" : op == CMD_UPDATE ? "update" : "delete",
				 id, before, after);
}

/*
 * TRUNCATE of a replicated table reaches capture_row as a delete of every
 * record the transaction sees (src/fdw/observer.c lists them), so that
 * every kind of target (a webhook consumer too) learns of each deletion in
 * the envelope it already understands.  Records another writer creates
 * between the statement and the commit are deleted by the commit without
 * being announced.
 */
const S3dbWriteObserver s3db_replicator_observer = {
	"replicator", capture_begin, NULL, capture_row
};
