/*-------------------------------------------------------------------------
 *
 * repl_deliver.c
 *		Delivery of the replication outbox: the worker task and
 *		s3db_replicate_now().
 *
 * Every enabled target is served on its own: it has its own pending rows,
 * its own state row (locked by whoever delivers to it, so a target has one
 * deliverer at a time) and its own backoff, so a target that keeps failing
 * never holds back another.
 *
 * Order: a batch holds only the oldest pending change of each record
 * (DISTINCT ON the record, lowest sequence), so a newer change of a record
 * is never sent before an older one has succeeded; different records go
 * on independently.  Delivery is at least once: a change leaves the
 * pending table in the transaction that follows its delivery, so a crash
 * in between sends it again (table and s3db targets apply the change in
 * that same transaction, so for them it is exactly once).
 *
 * Rights: the outbox, pending and state tables are read and written as
 * the extension owner; each delivery runs as the role that owns the
 * target (its "owner" column), in a security-restricted operation, so a
 * table or s3db target is written with that role's privileges and its
 * triggers run with them, never with the worker's.  search_path is pinned
 * to pg_catalog, pg_temp throughout.
 *
 * Failures: each delivery runs in a subtransaction; a failure (an error
 * raised or a refused request) gives the change and the target an
 * exponential backoff (options backoff_ms, max_backoff_ms) and ends the
 * target's round.  The worker delivers one batch per transaction, so a
 * restart repeats at most one batch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "fdw/trust.h"
#include "replicator.h"
#include "s3db_worker.h"

#define DEFAULT_BATCH		50
#define DEFAULT_BACKOFF_MS	1000
#define DEFAULT_MAX_BACKOFF_MS 60000
/* how often the worker looks at the outbox when nothing woke it */
#define POLL_MS				1000L
/* sleep while the extension is not installed in the worker's database */
#define IDLE_MS				10000L
/* time the worker spends on one target before it moves on */
#define TARGET_BUDGET_MS	2000

PG_FUNCTION_INFO_V1(s3db_replicate_now);

/* ---------------------------------------------------------------------
 * Options (repl_options.c parses them) and the envelope
 * ---------------------------------------------------------------------
 */

long
s3db_repl_option_long(const S3dbTarget *t, const char *path, long dflt)
{
	char	   *s = s3db_repl_option(t, path);
	char	   *end;
	long		v;

	if (s == NULL)
		return dflt;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("replication target \"%s\": option \"%s\" must be a non-negative integer",
						t->name, path)));
	return v;
}

void
s3db_repl_envelope(StringInfo buf, const S3dbChange *c, const char *source)
{
	appendStringInfoString(buf, "{\"resource\":");
	escape_json(buf, c->resource);
	appendStringInfoString(buf, ",\"action\":");
	escape_json(buf, c->operation);
	appendStringInfoString(buf, ",\"timestamp\":");
	escape_json(buf, c->timestamp);
	appendStringInfoString(buf, ",\"source\":");
	escape_json(buf, source);
	if (strcmp(c->operation, "update") == 0)
		appendStringInfo(buf, ",\"before\":%s", c->before ? c->before : "null");
	appendStringInfoString(buf, ",\"data\":");
	if (c->after)
		appendStringInfoString(buf, c->after);
	else if (c->before)
		appendStringInfoString(buf, c->before);	/* delete: the last known record */
	else
	{
		appendStringInfoString(buf, "{\"id\":");
		escape_json(buf, c->record_id);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, '}');
}

/* ---------------------------------------------------------------------
 * One batch of one target
 * ---------------------------------------------------------------------
 */

static char *
q_schema(void)
{
	Oid			nsp = s3db_extension_schema();

	if (!OidIsValid(nsp) ||
		!OidIsValid(get_relname_relid("s3db_fdw_replication_targets", nsp)))
		return NULL;
	return pstrdup(quote_identifier(get_namespace_name(nsp)));
}

static char *
col(int row, int i)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, i);
}

static void
exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "replication statement failed: %s", SPI_result_code_string(rc));
}

static long
backoff_ms(const S3dbTarget *t, int n)
{
	long		base = s3db_repl_option_long(t, "backoff_ms", DEFAULT_BACKOFF_MS);
	long		max = s3db_repl_option_long(t, "max_backoff_ms", DEFAULT_MAX_BACKOFF_MS);
	long		d = base;

	for (int i = 1; i < n && d < max; i++)
		d *= 2;
	return Min(d, max);
}

static bool
deliver_one(const S3dbTarget *t, const S3dbChange *c, char **err)
{
	if (strcmp(t->kind, "webhook") == 0)
		return s3db_deliver_webhook(t, c, err);
	if (strcmp(t->kind, "table") == 0)
		return s3db_deliver_table(t, c, err);
	if (strcmp(t->kind, "s3db") == 0)
		return s3db_deliver_s3db(t, c, err);
	if (strcmp(t->kind, "sqs") == 0)
		return s3db_deliver_sqs(t, c, err);
	*err = psprintf("unknown target kind \"%s\"", t->kind);
	return false;
}

/*
 * May the target's owner receive this change?  Checked again at delivery:
 * the owner may have been dropped or lost its right to read the table
 * since the change was captured.
 */
static void
check_delivery_rights(const S3dbTarget *t, const S3dbChange *c)
{
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(t->owner)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the owner of replication target \"%s\" does not exist", t->name)));
	if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(c->relid)) &&
		pg_class_aclcheck(c->relid, t->owner, ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the owner of replication target \"%s\" may not read table \"%s\"",
						t->name, c->relname)));
}

/* Deliver in a subtransaction: errors become failures of this change. */
static bool
deliver_guarded(const S3dbTarget *t, const S3dbChange *c, char **err)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = false;
	char	   *volatile msg = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		char	   *e = NULL;
		S3dbRoleSave save;

		check_delivery_rights(t, c);
		s3db_enter_role(t->owner, &save);
		ok = deliver_one(t, c, &e);
		s3db_leave_role(&save);
		msg = e;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		msg = pstrdup(edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	*err = msg ? msg : pstrdup("delivery failed");
	return ok;
}

/*
 * Deliver one batch of target t; SPI must be connected.  Returns false
 * when the target is done for this round (nothing ready, a failure, its
 * backoff, or another deliverer holds it); *next_ms is set to how soon it
 * wants to run again when that is known.  force ignores backoffs; wait
 * waits for another deliverer instead of skipping the target.
 */
static bool
deliver_batch(const char *schema, const S3dbTarget *t, bool force, bool wait,
			  int64 *delivered, long *next_ms)
{
	Oid			types[4] = {TEXTOID, INT4OID, BOOLOID, INT8OID};
	Datum		values[4];
	char	   *sql;
	int			n;
	int			limit = (int) s3db_repl_option_long(t, "batch_size", DEFAULT_BATCH);
	S3dbChange *changes;
	int			done = 0;

	values[0] = CStringGetTextDatum(t->name);
	exec(psprintf("INSERT INTO %s.s3db_fdw_replication_state (target) VALUES ($1) "
				  "ON CONFLICT DO NOTHING", schema), 1, types, values, NULL);
	exec(psprintf("SELECT next_attempt OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp(), "
				  " CASE WHEN next_attempt OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp() THEN "
				  "  pg_catalog.ceil(pg_catalog.date_part('epoch', next_attempt "
				  "    OPERATOR(pg_catalog.-) pg_catalog.clock_timestamp()) "
				  "    OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8 END "
				  "FROM %s.s3db_fdw_replication_state WHERE target OPERATOR(pg_catalog.=) $1 FOR UPDATE%s",
				  schema, wait ? "" : " SKIP LOCKED"), 1, types, values, NULL);
	if (SPI_processed == 0)
		return false;			/* someone else is delivering to it */
	if (!force && strcmp(col(0, 1), "t") == 0)
	{
		*next_ms = atol(col(0, 2));
		return false;
	}

	values[1] = Int32GetDatum(Max(limit, 1));
	values[2] = BoolGetDatum(force);
	sql = psprintf(
				   "SELECT h.seq, o.record_seq, o.relname, o.resource, o.record_id, o.operation, "
				   "  o.before::pg_catalog.text, o.after::pg_catalog.text, "
				   "  pg_catalog.to_char(pg_catalog.timezone('UTC', o.created_at), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), o.relid "
				   "FROM (SELECT DISTINCT ON (o.server, o.resource, o.record_id) p.seq, p.next_attempt "
				   "        FROM %s.s3db_fdw_replication_pending p "
				   "        JOIN %s.s3db_fdw_replication_outbox o ON o.seq OPERATOR(pg_catalog.=) p.seq "
				   "       WHERE p.target OPERATOR(pg_catalog.=) $1 "
				   "       ORDER BY o.server, o.resource, o.record_id, p.seq) h "
				   "JOIN %s.s3db_fdw_replication_outbox o ON o.seq OPERATOR(pg_catalog.=) h.seq "
				   "WHERE $3 OR h.next_attempt OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() "
				   "ORDER BY h.seq LIMIT $2", schema, schema, schema);
	exec(sql, 3, types, values, NULL);
	n = (int) SPI_processed;
	changes = palloc0(sizeof(S3dbChange) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		S3dbChange *c = &changes[i];

		c->seq = atoll(col(i, 1));
		c->record_seq = atoll(col(i, 2));
		c->relname = col(i, 3);
		c->resource = col(i, 4);
		c->record_id = col(i, 5);
		c->operation = col(i, 6);
		c->before = col(i, 7);
		c->after = col(i, 8);
		c->timestamp = col(i, 9);
		c->relid = (Oid) strtoul(col(i, 10), NULL, 10);
	}

	for (int i = 0; i < n; i++)
	{
		char	   *err = NULL;

		CHECK_FOR_INTERRUPTS();
		values[3] = Int64GetDatum(changes[i].seq);
		if (deliver_guarded(t, &changes[i], &err))
		{
			exec(psprintf("DELETE FROM %s.s3db_fdw_replication_pending "
						  "WHERE target OPERATOR(pg_catalog.=) $1 AND seq OPERATOR(pg_catalog.=) $4", schema), 4, types, values, NULL);
			done++;
			continue;
		}

		/* a failure: back off this change and the target */
		{
			Oid			ftypes[4] = {TEXTOID, INT8OID, TEXTOID, INT8OID};
			Datum		fvalues[4];
			char	   *msg = psprintf("change %lld of %s %s: %s", (long long) changes[i].seq,
									   changes[i].resource, changes[i].record_id, err);

			fvalues[0] = values[0];
			fvalues[1] = values[3];
			fvalues[2] = CStringGetTextDatum(msg);
			exec(psprintf("SELECT failures FROM %s.s3db_fdw_replication_state "
						  "WHERE target OPERATOR(pg_catalog.=) $1",
						  schema), 1, ftypes, fvalues, NULL);
			fvalues[3] = Int64GetDatum(backoff_ms(t, atoi(col(0, 1)) + 1));
			exec(psprintf("UPDATE %s.s3db_fdw_replication_pending "
						  " SET attempts = attempts OPERATOR(pg_catalog.+) 1, last_error = $3, "
						  " next_attempt = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) "
						  "   ($4 OPERATOR(pg_catalog.*) '1 ms'::pg_catalog.interval) "
						  "WHERE target OPERATOR(pg_catalog.=) $1 AND seq OPERATOR(pg_catalog.=) $2", schema), 4, ftypes, fvalues, NULL);
			exec(psprintf("UPDATE %s.s3db_fdw_replication_state "
						  " SET failures = failures OPERATOR(pg_catalog.+) 1, "
						  " last_error = $3, last_error_at = pg_catalog.clock_timestamp(), "
						  " next_attempt = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) "
						  "   ($4 OPERATOR(pg_catalog.*) '1 ms'::pg_catalog.interval), "
						  " delivered = delivered OPERATOR(pg_catalog.+) %d, "
						  " last_delivery_at = CASE WHEN %s THEN pg_catalog.clock_timestamp() "
						  "   ELSE last_delivery_at END "
						  "WHERE target OPERATOR(pg_catalog.=) $1", schema, done, done > 0 ? "true" : "false"), 4, ftypes, fvalues, NULL);
			*delivered += done;
			*next_ms = DatumGetInt64(fvalues[3]);
			return false;
		}
	}
	if (done > 0)
		exec(psprintf("UPDATE %s.s3db_fdw_replication_state "
					  " SET delivered = delivered OPERATOR(pg_catalog.+) %d, failures = 0, "
					  " next_attempt = '-infinity', last_delivery_at = pg_catalog.clock_timestamp() "
					  "WHERE target OPERATOR(pg_catalog.=) $1", schema, done), 1, types, values, NULL);
	*delivered += done;
	return n == limit;
}

/* The enabled targets (all, or the one named), in the current context. */
static List *
load_targets(const char *schema, const char *only, Oid member)
{
	Oid			types[2] = {TEXTOID, OIDOID};
	Datum		values[2];
	char		nulls[2] = {only ? ' ' : 'n', OidIsValid(member) ? ' ' : 'n'};
	List	   *list = NIL;

	values[0] = only ? CStringGetTextDatum(only) : (Datum) 0;
	values[1] = ObjectIdGetDatum(member);
	exec(psprintf("SELECT name, kind, target, options::pg_catalog.text, owner::pg_catalog.oid, "
				  "  filter IS NOT NULL "
				  "FROM %s.s3db_fdw_replication_targets "
				  "WHERE enabled AND ($1 IS NULL OR name OPERATOR(pg_catalog.=) $1) "
				  "  AND ($2 IS NULL OR pg_catalog.pg_has_role($2, owner::pg_catalog.oid, 'USAGE')) "
				  "ORDER BY name", schema),
		 2, types, values, nulls);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		S3dbTarget *t = palloc0(sizeof(S3dbTarget));

		t->name = col(i, 1);
		t->kind = col(i, 2);
		t->target = col(i, 3);
		t->options = col(i, 4);
		t->owner = (Oid) strtoul(col(i, 5), NULL, 10);
		t->has_filter = strcmp(col(i, 6), "t") == 0;
		list = lappend(list, t);
	}
	return list;
}

/* Forget outbox rows no target needs any more. */
static void
collect_garbage(const char *schema)
{
	exec(psprintf("DELETE FROM %s.s3db_fdw_replication_outbox o WHERE NOT EXISTS "
				  "(SELECT 1 FROM %s.s3db_fdw_replication_pending p "
				  " WHERE p.seq OPERATOR(pg_catalog.=) o.seq)",
				  schema, schema), 0, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * s3db_replicate_now(target text DEFAULT NULL)
 * ---------------------------------------------------------------------
 */
Datum
s3db_replicate_now(PG_FUNCTION_ARGS)
{
	char	   *only = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext cxt = CurrentMemoryContext;
	char	   *schema;
	List	   *targets;
	ListCell   *lc;
	int64		delivered = 0;
	Oid			caller;
	S3dbRoleSave save;

	if (s3db_repl_captured_in_xact())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot deliver replication changes in a transaction that made some"),
				 errhint("Commit first; uncommitted changes are never delivered.")));

	SPI_connect();
	schema = q_schema();
	if (schema == NULL)
		elog(ERROR, "the replication tables of s3db_fdw are missing");
	/* the caller's targets (those of roles it has the rights of) */
	caller = GetUserId();
	s3db_enter_role(s3db_extension_owner(), &save);
	PG_TRY();
	{
		s3db_repl_delivering = true;
		targets = load_targets(schema, only, caller);
		foreach(lc, targets)
		{
			S3dbTarget *t = (S3dbTarget *) lfirst(lc);
			long		next = 0;

			while (deliver_batch(schema, t, true, true, &delivered, &next))
				CHECK_FOR_INTERRUPTS();
		}
		collect_garbage(schema);
	}
	PG_FINALLY();
	{
		s3db_repl_delivering = false;
	}
	PG_END_TRY();
	s3db_leave_role(&save);
	SPI_finish();
	MemoryContextSwitchTo(cxt);
	PG_RETURN_INT64(delivered);
}

/* ---------------------------------------------------------------------
 * The worker task
 * ---------------------------------------------------------------------
 */

/*
 * A transaction of the worker: its bookkeeping runs as the extension
 * owner, never as the role the worker connected as.  An error aborts the
 * transaction, which restores the user and search_path.
 */
static void
begin_xact(void)
{
	S3dbRoleSave save;
	Oid			owner;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	owner = s3db_extension_owner();
	if (OidIsValid(owner))
		s3db_enter_role(owner, &save);
}

static void
end_xact(void)
{
	SPI_finish();
	PopActiveSnapshot();
	/* commit pops the GUC nest level and resets the user id */
	CommitTransactionCommand();
}

/* After an error: note it on the target, in a fresh transaction. */
static void
note_target_error(const char *schema, const S3dbTarget *t, const char *msg)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		Oid			types[3] = {TEXTOID, TEXTOID, INT8OID};
		Datum		values[3];

		begin_xact();
		values[0] = CStringGetTextDatum(t->name);
		values[1] = CStringGetTextDatum(msg);
		exec(psprintf("SELECT failures FROM %s.s3db_fdw_replication_state "
						  "WHERE target OPERATOR(pg_catalog.=) $1",
					  schema), 1, types, values, NULL);
		values[2] = Int64GetDatum(backoff_ms(t, (SPI_processed ? atoi(col(0, 1)) : 0) + 1));
		exec(psprintf("UPDATE %s.s3db_fdw_replication_state "
					  " SET failures = failures OPERATOR(pg_catalog.+) 1, "
					  " last_error = $2, last_error_at = pg_catalog.clock_timestamp(), "
					  " next_attempt = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) "
					  "   ($3 OPERATOR(pg_catalog.*) '1 ms'::pg_catalog.interval) "
					  "WHERE target OPERATOR(pg_catalog.=) $1",
					  schema), 3, types, values, NULL);
		end_xact();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
}

/*
 * One batch of target t in its own transaction; errors are caught, logged
 * and noted on the target.  Returns whether more is ready.
 */
static bool
worker_batch(const char *schema, const S3dbTarget *t, long *next)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool more = false;
	int64		delivered = 0;

	PG_TRY();
	{
		s3db_repl_delivering = true;
		begin_xact();
		more = deliver_batch(schema, t, false, false, &delivered, next);
		end_xact();
		s3db_repl_delivering = false;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		s3db_repl_delivering = false;
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG,
				(errmsg("s3db_fdw replication to \"%s\" failed: %s", t->name, edata->message)));
		note_target_error(schema, t, edata->message);
		FreeErrorData(edata);
		more = false;
		*next = backoff_ms(t, 1);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return more;
}

static void
worker_gc(const char *schema)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		begin_xact();
		collect_garbage(schema);
		end_xact();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
}

long
s3db_replicator_task(const S3dbTaskContext *ctx)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *schema;
	List	   *targets = NIL;
	ListCell   *lc;
	long		delay = POLL_MS;

	begin_xact();
	schema = q_schema();
	if (schema)
	{
		List	   *loaded = load_targets(schema, NULL, InvalidOid);

		/* copy out of the transaction */
		MemoryContextSwitchTo(cxt);
		schema = pstrdup(schema);
		foreach(lc, loaded)
		{
			S3dbTarget *s = (S3dbTarget *) lfirst(lc);
			S3dbTarget *t = palloc(sizeof(S3dbTarget));

			t->name = pstrdup(s->name);
			t->kind = pstrdup(s->kind);
			t->target = pstrdup(s->target);
			t->options = pstrdup(s->options);
			t->owner = s->owner;
			t->has_filter = s->has_filter;
			targets = lappend(targets, t);
		}
	}
	end_xact();
	MemoryContextSwitchTo(cxt);
	if (schema == NULL)
		return IDLE_MS;

	foreach(lc, targets)
	{
		S3dbTarget *t = (S3dbTarget *) lfirst(lc);
		int64		start = s3db_now_ms();
		bool		more = true;

		while (more)
		{
			long		next = -1;

			more = worker_batch(schema, t, &next);
			if (next >= 0 && next < delay)
				delay = Max(next, 1);
			if (ShutdownRequestPending || s3db_now_ms() - start > TARGET_BUDGET_MS)
			{
				if (more)
					delay = 1;	/* come back soon: there is more */
				break;
			}
		}
		if (ShutdownRequestPending)
			break;
	}
	worker_gc(schema);
	return delay;
}
