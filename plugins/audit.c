/*-------------------------------------------------------------------------
 *
 * audit.c
 *		The audit plugin: one plg_audits record per INSERT, UPDATE and
 *		DELETE made through SQL on an audited foreign table.
 *
 * Records have the layout of s3db.js's AuditPlugin (body-overflow,
 * partitions byDate and byResource, ids "audit-<ms>-<9 base36>"), so
 * s3db.js programs and IMPORT FOREIGN SCHEMA read them like their own.
 * Unlike s3db.js, whose audit entries are written after the change by an
 * event listener (and lost on a crash), the entry is queued in the
 * transaction buffer and written in the same commit as the change; and
 * oldData/newData hold the record itself, not the event payload with its
 * nested $before/$after copies, and never a secret attribute: s3db.js
 * copies those decrypted, which would put them in clear text in a
 * resource readable by anyone who may read the audit trail.
 *
 * Which tables are audited is the table s3db_fdw_audit in the extension's
 * schema, read by each writing statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "plugins.h"
#include "s3db_worker.h"

bool
s3db_audit_enabled(Oid relid)
{
	Oid			nsp = s3db_ext_namespace();
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	bool		found;
	char	   *sql;
	S3dbRoleSave save;

	if (!OidIsValid(nsp))
		return false;
	sql = psprintf("SELECT 1 FROM %s.s3db_fdw_audit "
				   "WHERE ftable OPERATOR(pg_catalog.=) $1 AND enabled",
				   quote_identifier(get_namespace_name(nsp)));
	args[0] = ObjectIdGetDatum(relid);
	/* configuration is read as the extension owner, whoever writes */
	s3db_enter_role(s3db_extension_owner(), &save);
	SPI_connect();
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read s3db_fdw_audit");
	found = SPI_processed == 1;
	SPI_finish();
	s3db_leave_role(&save);
	return found;
}

/* "audit-<ms>-<9 characters of [0-9a-z]>", like Math.random().toString(36) */
static char *
audit_id(int64 now_ms)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[9];
	char		tail[10];

	if (!pg_strong_random(rnd, sizeof(rnd)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes for an audit id")));
	for (int i = 0; i < 9; i++)
		tail[i] = alphabet[rnd[i] % 36];
	tail[9] = '\0';
	return psprintf("audit-" INT64_FORMAT "-%s", now_ms, tail);
}

/*
 * partition: the first partition with a value; partitionValues: every
 * partition's fields and values, as s3db.js reports them.
 */
static void
partition_info(const s3f_resource *res, const s3f_val *vals, char **first, char **values)
{
	StringInfoData b;
	bool		any = false;

	*first = NULL;
	*values = NULL;
	if (vals == NULL || res->nparts == 0)
		return;
	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	for (int p = 0; p < res->nparts; p++)
	{
		const s3f_partition *part = &res->parts[p];
		bool		has = false;

		if (any)
			appendStringInfoChar(&b, ',');
		escape_json(&b, part->name);
		appendStringInfoString(&b, ":{");
		for (int f = 0; f < part->nfields; f++)
		{
			int			i = s3db_attr_index(res, part->fields[f]);
			char	   *j = NULL;	/* palloc'd: appending may fail */

			if (f > 0)
				appendStringInfoChar(&b, ',');
			escape_json(&b, part->fields[f]);
			appendStringInfoChar(&b, ':');
			if (i >= 0 && vals[i].kind != S3F_MISSING && vals[i].kind != S3F_NULL)
				j = s3db_take_string(s3f_val_to_json(&vals[i]));
			appendStringInfoString(&b, j ? j : "null");
			has |= j != NULL;
		}
		appendStringInfoChar(&b, '}');
		any = true;
		if (has && *first == NULL)
			*first = pstrdup(part->name);
	}
	appendStringInfoChar(&b, '}');
	*values = b.data;
}

/*
 * Queue the audit record of one change.  before/after are the record's
 * values (NULL when there is none or it is not known).
 */
void
s3db_audit_row(const s3f_resource *audit, const s3f_resource *res, Oid serverid,
			   Oid userid, Oid caller, const s3f_write_opts *wopts, CmdType op, const char *id,
			   const s3f_val *before, const s3f_val *after)
{
	/* owned: the strings are malloc'd and held across lookups and queueing */
	s3f_val    *vals = s3db_owned_vals(audit->nattrs);
	int64		now = s3db_now_ms();
	char		iso[40];
	char	   *aid = audit_id(now);
	char	   *part;
	char	   *pvals;
	int			i;

#define SET_STR(path, s) \
	do { if ((s) != NULL && (i = s3db_attr_index(audit, (path))) >= 0) \
			s3db_val_str(&vals[i], (s)); } while (0)

	s3db_iso_ms(now, iso, sizeof(iso));
	SET_STR("id", aid);
	SET_STR("resourceName", res->name);
	SET_STR("operation", op == CMD_INSERT ? "insert" : op == CMD_UPDATE ? "update" : "delete");
	SET_STR("recordId", id);
	SET_STR("userId", GetUserNameFromId(caller, false));
	SET_STR("timestamp", iso);
	iso[10] = '\0';
	SET_STR("createdAt", iso);
	if (before)
		SET_STR("oldData", s3db_record_json(res, id, before));
	if (after)
		SET_STR("newData", s3db_record_json(res, id, after));
	partition_info(res, after ? after : before, &part, &pvals);
	SET_STR("partition", part);
	SET_STR("partitionValues", pvals);
	SET_STR("metadata", "{\"source\":\"audit-plugin\",\"version\":\"2.0\"}");
#undef SET_STR

	s3db_queue_record(serverid, userid, audit, aid, vals, wopts, true, NIL);
	s3f_vals_free(vals, audit->nattrs);
}
