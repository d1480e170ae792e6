/*-------------------------------------------------------------------------
 *
 * ttl_task.c
 *		When the TTL sweep runs, and what it reports.
 *
 * The worker's leader sweeps every enabled table of s3db_fdw_ttl after
 * each coordinator tick (each table in a subtransaction, so one failing
 * table is recorded and the others still run); s3db_ttl_sweep(table)
 * sweeps one table now, in the calling session, without fencing.  What
 * each sweep did goes to s3db_fdw_ttl_state, shown by s3db_ttl_status().
 *
 * Rights: the configuration and state tables are read and written as the
 * extension owner.  A sweep deletes (or, for soft-delete, updates) records
 * of the table, so it needs what the equivalent DELETE or UPDATE needs:
 * s3db_ttl_sweep() checks the caller's privileges before anything
 * happens and sweeps with the caller's user mapping; the worker sweeps
 * each table as the table's owner (its privileges checked the same way,
 * its user mapping), never as the role the worker connected as.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "plugins.h"
#include "s3db_worker.h"
#include "tasks.h"

/* no wish of our own: the leader sweeps after every coordinator tick */
#define SWEEP_DELAY_MS 60000L

static void
record_state(Oid relid, bool swept, int64 expired, const char *error)
{
	Oid			nsp = s3db_ext_namespace();
	Oid			types[4] = {OIDOID, INT8OID, TEXTOID, BOOLOID};
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	char	   *sql;
	S3dbRoleSave save;

	if (!OidIsValid(nsp))
		return;
	sql = psprintf("INSERT INTO %s.s3db_fdw_ttl_state AS s "
				   "(ftable, last_sweep, last_expired, total_expired, last_error, last_error_at) "
				   "VALUES ($1, CASE WHEN $4 THEN pg_catalog.clock_timestamp() END, $2, $2, $3, "
				   "CASE WHEN $3 IS NOT NULL THEN pg_catalog.clock_timestamp() END) "
				   "ON CONFLICT (ftable) DO UPDATE SET "
				   "last_sweep = CASE WHEN $4 THEN pg_catalog.clock_timestamp() ELSE s.last_sweep END, "
				   "last_expired = CASE WHEN $4 THEN $2 ELSE s.last_expired END, "
				   "total_expired = s.total_expired OPERATOR(pg_catalog.+) $2, "
				   "last_error = COALESCE($3, s.last_error), "
				   "last_error_at = CASE WHEN $3 IS NOT NULL THEN pg_catalog.clock_timestamp() "
				   "ELSE s.last_error_at END",
				   quote_identifier(get_namespace_name(nsp)));
	args[0] = ObjectIdGetDatum(relid);
	args[1] = Int64GetDatum(expired);
	args[2] = error && error[0] ? CStringGetTextDatum(error) : (Datum) 0;
	nulls[2] = error && error[0] ? ' ' : 'n';
	args[3] = BoolGetDatum(swept);
	s3db_enter_role(s3db_extension_owner(), &save);
	SPI_connect();
	if (SPI_execute_with_args(sql, 4, types, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not update s3db_fdw_ttl_state");
	SPI_finish();
	s3db_leave_role(&save);
}

/*
 * May role sweep the table?  The privileges of the statement the sweep
 * stands for: SELECT (it reads the records) and DELETE, or UPDATE for a
 * soft delete.  Errors out, before anything is done, when it may not.
 */
static void
check_sweep_rights(Oid relid, Oid role)
{
	S3dbTtlConfig cfg;
	AclMode		need = ACL_SELECT;
	char	   *relname = get_rel_name(relid);

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table", relname)));
	if (s3db_ttl_config(relid, &cfg) && strcmp(cfg.action, "soft-delete") == 0)
		need |= ACL_UPDATE;
	else
		need |= ACL_DELETE;
	if (pg_class_aclmask(relid, role, need, ACLMASK_ALL) != need)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, relname);
}

PG_FUNCTION_INFO_V1(s3db_ttl_sweep);

Datum
s3db_ttl_sweep(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char		errbuf[S3DB_ERRMSG_MAX];
	int64		n;
	S3dbRoleSave save;

	check_sweep_rights(relid, GetUserId());
	/* the caller's user mapping, search_path pinned */
	s3db_enter_role(InvalidOid, &save);
	n = s3db_ttl_sweep_relation(relid, NULL, errbuf, sizeof(errbuf));
	s3db_leave_role(&save);
	record_state(relid, true, n, errbuf);
	if (errbuf[0])
		ereport(WARNING, (errmsg("ttl sweep of \"%s\": %s", get_rel_name(relid), errbuf)));
	PG_RETURN_INT64(n);
}

/* The enabled tables of s3db_fdw_ttl (in the current transaction). */
static pg_noinline List *
ttl_tables(void)
{
	Oid			nsp = s3db_ext_namespace();
	List	   *out = NIL;
	S3dbRoleSave save;

	if (!OidIsValid(nsp))
		return NIL;
	s3db_enter_role(s3db_extension_owner(), &save);
	SPI_connect();
	if (SPI_execute(psprintf("SELECT ftable::pg_catalog.oid FROM %s.s3db_fdw_ttl WHERE enabled ORDER BY 1",
							 quote_identifier(get_namespace_name(nsp))), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read s3db_fdw_ttl");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(CurTransactionContext);

			out = lappend_oid(out, DatumGetObjectId(d));
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	s3db_leave_role(&save);
	return out;
}

/*
 * The worker task: on the leader, sweep every enabled table, each in a
 * subtransaction so that one table's failure is recorded and the others
 * still run.
 */
long
s3db_ttl_task(const S3dbTaskContext *ctx)
{
	List	   *rels;
	ListCell   *lc;

	if (!ctx->is_leader || ctx->coord == NULL)
		return 60000L;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rels = ttl_tables();
	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		MemoryContext cxt = CurrentMemoryContext;
		ResourceOwner owner = CurrentResourceOwner;
		char		errbuf[S3DB_ERRMSG_MAX];
		int64		n = 0;

		if (!s3c_fence_ok_at(ctx->coord, ctx->epoch, s3db_now_ms()))
			break;
		errbuf[0] = '\0';
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			/* as the table's owner: its rights, its user mapping */
			Oid			relowner = s3db_relation_owner(relid);
			S3dbRoleSave save;

			if (!OidIsValid(relowner))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_TABLE),
						 errmsg("relation with OID %u does not exist", relid)));
			check_sweep_rights(relid, relowner);
			s3db_enter_role(relowner, &save);
			n = s3db_ttl_sweep_relation(relid, ctx, errbuf, sizeof(errbuf));
			s3db_leave_role(&save);
			record_state(relid, true, n, errbuf);
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
			record_state(relid, false, 0, edata->message);
			ereport(LOG, (errmsg("s3db_fdw ttl sweep of table %u failed: %s",
								 relid, edata->message)));
			FreeErrorData(edata);
		}
		PG_END_TRY();
		if (errbuf[0])
			ereport(LOG, (errmsg("s3db_fdw ttl sweep of \"%s\": %s",
								 get_rel_name(relid), errbuf)));
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return SWEEP_DELAY_MS;
}
