/*-------------------------------------------------------------------------
 *
 * deliver_sql.c
 *		Replication targets inside PostgreSQL: a local table, and the
 *		foreign tables of another s3db server.
 *
 * table: target names a table with a unique key column (option key,
 * default "id").  An insert or update becomes
 * INSERT ... SELECT ... FROM jsonb_populate_record(...) ON CONFLICT (key)
 * DO UPDATE, over the columns the document has (other columns keep their
 * values or defaults); a delete deletes by key.  Unlike s3db.js's
 * PostgresReplicator (ON CONFLICT DO NOTHING, plain UPDATE), a replayed or
 * reordered-by-retry change always leaves the latest state.
 *
 * s3db: target names a foreign server of s3db_fdw; a change is applied
 * through SQL to the foreign table of that server whose resource is the
 * change's resource (its resource option, or its name): UPDATE by id, or
 * INSERT when there is no such record, or DELETE.  The FDW queues those
 * writes and applies them when the delivering transaction commits, in the
 * same commit that marks the change delivered.
 *
 * Both run in the delivering transaction (a subtransaction per change),
 * so they are applied exactly once.  Rights: the role that owns the
 * target (repl_deliver.c switches to it) must be allowed to insert,
 * update and delete in the table, and the statements run as the table's
 * owner, so that its triggers never run with more rights than their
 * creator had (as VACUUM and ANALYZE run index functions).  The s3db
 * target uses only a foreign table the target's owner owns.  A target with no
 * filter also needs the writing table's owner to be allowed to write the
 * relation, so nobody writes through a target where they could not
 * write themselves.  Statements qualify every name and operator.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "fdw/pg_compat.h"
#include "fdw/trust.h"
#include "replicator.h"

/*
 * Without a filter, a target takes only changes of tables whose owner may
 * write the target relation too.  Capture checks this for table targets;
 * here it is checked again (rights may have changed since) and for s3db
 * targets, whose relation depends on the change's resource.  A change that
 * fails it is not for this target: it is skipped, not retried, so nobody
 * can hold a target back by writing a table of their own.
 */
static bool
source_owner_may_write(const S3dbTarget *t, const S3dbChange *c, Oid relid)
{
	Oid			src_owner;
	AclMode		need = ACL_INSERT | ACL_UPDATE | ACL_DELETE;

	if (t->has_filter)
		return true;
	src_owner = s3db_relation_owner(c->relid);
	if (OidIsValid(src_owner) && pg_class_aclmask(relid, src_owner, need, ACLMASK_ALL) == need)
		return true;
	ereport(DEBUG1,
			(errmsg("replication target \"%s\" skips change %lld: the owner of \"%s\" may not write \"%s\"",
					t->name, (long long) c->seq, c->relname, get_rel_name(relid))));
	return false;
}

static void
run(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);

	if (rc < 0)
		elog(ERROR, "statement failed: %s", SPI_result_code_string(rc));
}

/* The table a table target names; search_path is pinned, so with its schema. */
static Oid
target_table(const S3dbTarget *t)
{
	List	   *names = stringToQualifiedNameList(t->target, NULL);
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("replication target \"%s\": table \"%s\" does not exist",
						t->name, t->target),
				 errhint("A table target names its table with the schema, as in public.%s.",
						 t->target)));
	return relid;
}

/* The target's owner (the current user) must be allowed to write relid. */
static void
check_target_owner(const S3dbTarget *t, Oid relid)
{
	AclMode		need = ACL_INSERT | ACL_UPDATE | ACL_DELETE;

	if (pg_class_aclmask(relid, GetUserId(), need, ACLMASK_ALL) != need)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the owner of replication target \"%s\" may not write \"%s\"",
						t->name, get_rel_name(relid))));
}

static char *
qualified(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * The columns of relid named in the document, as a quoted list, without
 * the key column; NULL when there is none.
 */
static char *
doc_columns(Oid relid, const char *doc, const char *key, const char *prefix)
{
	Oid			types[4] = {OIDOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4] = {ObjectIdGetDatum(relid), CStringGetTextDatum(doc),
	CStringGetTextDatum(key), CStringGetTextDatum(prefix)};

	run("SELECT pg_catalog.string_agg($4 OPERATOR(pg_catalog.||) pg_catalog.quote_ident(attname), "
		"  ', ' ORDER BY attnum) "
		"FROM pg_catalog.pg_attribute WHERE attrelid OPERATOR(pg_catalog.=) $1 "
		"AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped "
		"AND attgenerated OPERATOR(pg_catalog.=) '' AND attname OPERATOR(pg_catalog.<>) $3 "
		"AND $2::pg_catalog.jsonb OPERATOR(pg_catalog.?) attname::pg_catalog.text",
		4, types, values);
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

static char *
key_type(Oid relid, const char *key)
{
	AttrNumber	att = get_attnum(relid, key);

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" has no key column \"%s\"", get_rel_name(relid), key)));
	return format_type_be(get_atttype(relid, att));
}

bool
s3db_deliver_table(const S3dbTarget *t, const S3dbChange *c, char **err)
{
	Oid			relid;
	char	   *key = s3db_repl_option(t, "key");
	char	   *rel;
	char	   *ktype;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	S3dbRoleSave save;

	if (key == NULL)
		key = "id";
	relid = target_table(t);
	if (!source_owner_may_write(t, c, relid))
		return true;
	check_target_owner(t, relid);
	rel = qualified(relid);
	ktype = key_type(relid, key);

	/*
	 * The statements run as the table's owner, so its triggers never run
	 * with more rights than whoever created them had.
	 */
	s3db_enter_role(s3db_relation_owner(relid), &save);
	SPI_connect();
	values[0] = CStringGetTextDatum(c->record_id);
	if (strcmp(c->operation, "delete") == 0)
		run(psprintf("DELETE FROM %s WHERE %s OPERATOR(pg_catalog.=) $1::%s",
					 rel, quote_identifier(key), ktype),
			1, types, values);
	else
	{
		char	   *cols = doc_columns(relid, c->after, key, "");
		char	   *ex = doc_columns(relid, c->after, key, "EXCLUDED.");
		char	   *qk = (char *) quote_identifier(key);

		values[1] = CStringGetTextDatum(c->after);
		if (cols == NULL)
			run(psprintf("INSERT INTO %s (%s) VALUES ($1::%s) ON CONFLICT (%s) DO NOTHING",
						 rel, qk, ktype, qk), 1, types, values);
		else
			run(psprintf("INSERT INTO %s (%s, %s) SELECT $1::%s, %s "
						 "FROM pg_catalog.jsonb_populate_record(NULL::%s, $2::pg_catalog.jsonb) "
						 "ON CONFLICT (%s) DO UPDATE SET (%s) = ROW(%s)",
						 rel, qk, cols, ktype, cols, rel, qk, cols, ex), 2, types, values);
	}
	SPI_finish();
	s3db_leave_role(&save);
	return true;
}

bool
s3db_deliver_s3db(const S3dbTarget *t, const S3dbChange *c, char **err)
{
	Oid			types[3] = {TEXTOID, TEXTOID, OIDOID};
	Datum		values[3];
	Oid			relid;
	char	   *rel;
	bool		ok = true;

	SPI_connect();
	values[0] = CStringGetTextDatum(t->target);
	values[1] = CStringGetTextDatum(c->resource);
	/* only a foreign table of the target's owner (the current user) */
	values[2] = ObjectIdGetDatum(GetUserId());
	run("SELECT c.oid FROM pg_catalog.pg_foreign_table ft "
		"JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) ft.ftrelid "
		"JOIN pg_catalog.pg_foreign_server s ON s.oid OPERATOR(pg_catalog.=) ft.ftserver "
		"JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid OPERATOR(pg_catalog.=) s.srvfdw "
		"  AND w.fdwname OPERATOR(pg_catalog.=) 's3db_fdw' "
		"WHERE s.srvname OPERATOR(pg_catalog.=) $1 AND c.relowner OPERATOR(pg_catalog.=) $3 "
		"  AND COALESCE((SELECT pg_catalog.substr(o, 10) FROM pg_catalog.unnest(ft.ftoptions) o "
		"  WHERE o OPERATOR(pg_catalog.~~) 'resource=%' LIMIT 1), c.relname::pg_catalog.text) "
		"  OPERATOR(pg_catalog.=) $2 "
		"ORDER BY c.oid LIMIT 1", 3, types, values);
	if (SPI_processed == 0)
	{
		*err = psprintf("server \"%s\" has no foreign table for resource \"%s\" owned by the target's owner",
						t->target, c->resource);
		SPI_finish();
		return false;
	}
	relid = DatumGetObjectId(DirectFunctionCall1(oidin,
												 CStringGetDatum(SPI_getvalue(SPI_tuptable->vals[0],
																			  SPI_tuptable->tupdesc, 1))));
	if (!source_owner_may_write(t, c, relid))
	{
		SPI_finish();
		return true;
	}
	rel = qualified(relid);

	values[0] = CStringGetTextDatum(c->record_id);
	if (strcmp(c->operation, "delete") == 0)
		run(psprintf("DELETE FROM %s WHERE id OPERATOR(pg_catalog.=) $1", rel), 1, types, values);
	else
	{
		char	   *cols = doc_columns(relid, c->after, "id", "");
		char	   *rcols = doc_columns(relid, c->after, "id", "r.");

		values[1] = CStringGetTextDatum(c->after);
		if (cols != NULL)
			run(psprintf("UPDATE %s SET (%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, $2::pg_catalog.jsonb) r) "
						 "WHERE id OPERATOR(pg_catalog.=) $1", rel, cols, rcols, rel), 2, types, values);
		if (cols == NULL || SPI_processed == 0)
			run(psprintf("INSERT INTO %s (id%s%s) SELECT $1%s%s FROM pg_catalog.jsonb_populate_record(NULL::%s, $2::pg_catalog.jsonb) r",
						 rel, cols ? ", " : "", cols ? cols : "", rcols ? ", " : "", rcols ? rcols : "", rel),
				2, types, values);
	}
	SPI_finish();
	return ok;
}
