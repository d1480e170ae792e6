/*-------------------------------------------------------------------------
 *
 * observer.c
 *		Write observers: registration, and the calls from the write path.
 *
 * This is the only place where the write path hands control to code
 * outside src/fdw, so it is where rights are settled, once for every
 * observer: each callback runs as the extension owner (who owns the
 * configuration and outbox tables the observers read and write; writers
 * need no rights on them) in a security-restricted operation with
 * search_path pinned to pg_catalog, pg_temp.  What depends on the writing
 * user -- turning its rows into JSON, which may call cast functions of
 * the row's types, and reading the records a TRUNCATE removes -- happens
 * here before the switch, as that user, also with search_path pinned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "fdw/observer.h"
#include "fdw/trust.h"

#define MAX_OBSERVERS 8

static const S3dbWriteObserver *observers[MAX_OBSERVERS];
static int	nobservers = 0;

struct S3dbObservers
{
	S3dbWriteTarget target;
	Oid			owner;			/* the extension owner: the callbacks' user */
	bool		want_rows;
	bool		want_records;
	int			n;
	const S3dbWriteObserver *obs[MAX_OBSERVERS];
	void	   *state[MAX_OBSERVERS];
	bool		rows[MAX_OBSERVERS];
};

void
s3db_register_write_observer(const S3dbWriteObserver *obs)
{
	for (int i = 0; i < nobservers; i++)
		if (observers[i] == obs)
			return;
	if (nobservers >= MAX_OBSERVERS)
		elog(ERROR, "too many s3db_fdw write observers");
	observers[nobservers++] = obs;
}

S3dbObservers *
s3db_observers_begin(const S3dbWriteTarget *t)
{
	Oid			owner;
	S3dbObservers *o;
	S3dbRoleSave save;

	if (nobservers == 0)
		return NULL;
	owner = s3db_extension_owner();
	if (!OidIsValid(owner))
		return NULL;
	o = palloc0(sizeof(S3dbObservers));
	o->target = *t;
	o->owner = owner;
	s3db_enter_role(owner, &save);
	for (int i = 0; i < nobservers; i++)
	{
		bool		rows = false;
		void	   *st = observers[i]->begin(&o->target, &rows);

		if (st == NULL)
			continue;
		o->obs[o->n] = observers[i];
		o->state[o->n] = st;
		o->rows[o->n] = rows && observers[i]->row != NULL;
		o->want_rows |= o->rows[o->n];
		o->want_records |= observers[i]->record != NULL;
		o->n++;
	}
	s3db_leave_role(&save);
	if (o->n == 0)
	{
		pfree(o);
		return NULL;
	}
	return o;
}

bool
s3db_observers_want_rows(const S3dbObservers *o)
{
	return o != NULL && o->want_rows;
}

void
s3db_observers_record(S3dbObservers *o, CmdType op, const char *id, const s3f_val *vals)
{
	S3dbRoleSave save;

	if (o == NULL || !o->want_records)
		return;
	s3db_enter_role(o->owner, &save);
	for (int i = 0; i < o->n; i++)
		if (o->obs[i]->record)
			o->obs[i]->record(o->state[i], op, id, vals);
	s3db_leave_role(&save);
}

static void
deliver_row(S3dbObservers *o, CmdType op, const char *id, const char *before,
			const char *after)
{
	S3dbRoleSave save;

	s3db_enter_role(o->owner, &save);
	for (int i = 0; i < o->n; i++)
		if (o->rows[i])
			o->obs[i]->row(o->state[i], op, id, before, after);
	s3db_leave_role(&save);
}

static char *
row_json(Datum row)
{
	return TextDatumGetCString(DirectFunctionCall1(row_to_json, row));
}

void
s3db_observers_row(S3dbObservers *o, CmdType op, const char *id,
				   TupleTableSlot *newslot, TupleTableSlot *oldslot,
				   ResultRelInfo *rinfo, TupleTableSlot *planSlot)
{
	char	   *before = NULL;
	char	   *after = NULL;
	S3dbRoleSave save;

	if (!s3db_observers_want_rows(o))
		return;
	/* as the writing user: a cast to json of a column's type may run */
	s3db_enter_role(InvalidOid, &save);
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
	s3db_leave_role(&save);
	deliver_row(o, op, id, before, after);
}

void
s3db_observers_truncate(Relation rel, const S3dbTableOptions *topts)
{
	S3dbWriteTarget t;
	S3dbObservers *o;
	AttrNumber	idatt;
	List	   *ids = NIL;
	List	   *docs = NIL;
	ListCell   *lc,
			   *ld;
	MemoryContext caller;
	S3dbRoleSave save;
	char	   *sql;

	if (nobservers == 0 || !OidIsValid(s3db_extension_owner()))
		return;
	memset(&t, 0, sizeof(t));
	t.rel = rel;
	t.serverid = topts->serverid;
	t.userid = topts->userid;
	t.caller = GetUserId();
	t.conn = s3db_get_conn(topts->serverid, topts->userid);
	t.res = s3db_find_resource(s3db_conn_catalog(t.conn), topts->resource,
							   RelationGetRelationName(rel));
	t.truncate = true;
	o = s3db_observers_begin(&t);
	if (!s3db_observers_want_rows(o))
		return;

	idatt = s3db_id_column(rel);
	if (idatt == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot replicate TRUNCATE of foreign table \"%s\"",
						RelationGetRelationName(rel)),
				 errdetail("The table has no column for the record id.")));

	/*
	 * Every record the transaction sees, read as the user who truncates
	 * (its mapping, its rights), as a delete of that record.
	 */
	sql = psprintf("SELECT t.%s::pg_catalog.text, pg_catalog.row_to_json(t)::pg_catalog.text "
				   "FROM %s t",
				   quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), idatt - 1)->attname)),
				   quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											  RelationGetRelationName(rel)));
	caller = CurrentMemoryContext;
	s3db_enter_role(InvalidOid, &save);
	SPI_connect();
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the records of \"%s\" to announce its truncation",
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
	s3db_leave_role(&save);
	forboth(lc, ids, ld, docs)
		deliver_row(o, CMD_DELETE, (char *) lfirst(lc), (char *) lfirst(ld), NULL);
}
