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
 * so they are applied exactly once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "replicator.h"

static void
run(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);

	if (rc < 0)
		elog(ERROR, "statement failed: %s", SPI_result_code_string(rc));
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

	run("SELECT string_agg($4 || quote_ident(attname), ', ' ORDER BY attnum) "
		"FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped "
		"AND attgenerated = '' AND attname <> $3 AND $2::jsonb ? attname::text",
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

	if (key == NULL)
		key = "id";
	relid = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(t->target)));
	rel = qualified(relid);
	ktype = key_type(relid, key);

	SPI_connect();
	values[0] = CStringGetTextDatum(c->record_id);
	if (strcmp(c->operation, "delete") == 0)
		run(psprintf("DELETE FROM %s WHERE %s = $1::%s", rel, quote_identifier(key), ktype),
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
						 "FROM jsonb_populate_record(NULL::%s, $2::jsonb) "
						 "ON CONFLICT (%s) DO UPDATE SET (%s) = ROW(%s)",
						 rel, qk, cols, ktype, cols, rel, qk, cols, ex), 2, types, values);
	}
	SPI_finish();
	return true;
}

bool
s3db_deliver_s3db(const S3dbTarget *t, const S3dbChange *c, char **err)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	Oid			relid;
	char	   *rel;
	bool		ok = true;

	SPI_connect();
	values[0] = CStringGetTextDatum(t->target);
	values[1] = CStringGetTextDatum(c->resource);
	run("SELECT c.oid FROM pg_foreign_table ft "
		"JOIN pg_class c ON c.oid = ft.ftrelid "
		"JOIN pg_foreign_server s ON s.oid = ft.ftserver "
		"JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw AND w.fdwname = 's3db_fdw' "
		"WHERE s.srvname = $1 AND coalesce((SELECT substr(o, 10) FROM unnest(ft.ftoptions) o "
		"  WHERE o LIKE 'resource=%' LIMIT 1), c.relname::text) = $2 "
		"ORDER BY c.oid LIMIT 1", 2, types, values);
	if (SPI_processed == 0)
	{
		*err = psprintf("server \"%s\" has no foreign table for resource \"%s\"",
						t->target, c->resource);
		SPI_finish();
		return false;
	}
	relid = DatumGetObjectId(DirectFunctionCall1(oidin,
												 CStringGetDatum(SPI_getvalue(SPI_tuptable->vals[0],
																			  SPI_tuptable->tupdesc, 1))));
	rel = qualified(relid);

	values[0] = CStringGetTextDatum(c->record_id);
	if (strcmp(c->operation, "delete") == 0)
		run(psprintf("DELETE FROM %s WHERE id = $1", rel), 1, types, values);
	else
	{
		char	   *cols = doc_columns(relid, c->after, "id", "");
		char	   *rcols = doc_columns(relid, c->after, "id", "r.");

		values[1] = CStringGetTextDatum(c->after);
		if (cols != NULL)
			run(psprintf("UPDATE %s SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, $2::jsonb) r) "
						 "WHERE id = $1", rel, cols, rcols, rel), 2, types, values);
		if (cols == NULL || SPI_processed == 0)
			run(psprintf("INSERT INTO %s (id%s%s) SELECT $1%s%s FROM jsonb_populate_record(NULL::%s, $2::jsonb) r",
						 rel, cols ? ", " : "", cols ? cols : "", rcols ? ", " : "", rcols ? rcols : "", rel),
				2, types, values);
	}
	SPI_finish();
	return ok;
}
