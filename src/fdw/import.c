/*-------------------------------------------------------------------------
 *
 * import.c
 *		IMPORT FOREIGN SCHEMA: one typed foreign table per s3db resource.
 *
 * The remote schema name is not meaningful for an s3db store (there is one
 * catalog per store), so any name is accepted.  LIMIT TO and EXCEPT filter
 * by resource name.  Each table gets an "id" column and one column per
 * top-level attribute of the resource's current version, typed after the
 * attribute definition (see the README's type table); nested objects become
 * jsonb columns.  Columns whose SQL name differs from the attribute path
 * carry a "field" option.
 *
 * Each column type accepts every value s3db.js 21.6.2 accepts for the
 * attribute (its validators, then its mapper), so that no record written by
 * s3db.js makes the imported table unreadable: a cidr may have host bits
 * set (10.168.104.0/12: inet, not cidr); ip4 and ip6 are validated as plain
 * strings and stored as they are when they are not addresses (text); an
 * integer is any double without a fraction, 1e20 included (numeric, unless
 * min and max bound it within bigint); embeddings carry six decimals of any
 * magnitude (double precision[], not real[]).  The exceptions are values no
 * PostgreSQL type holds: text with NUL, and datetime/dateonly values before
 * 4713 BC (JavaScript dates reach 271821 BC); README, Types.
 *
 * A location without s3db.json is not an s3db store (a wrong prefix, an
 * empty bucket): importing from it fails, as postgres_fdw fails for a
 * missing remote schema, rather than silently creating nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "fdw/s3db_fdw.h"
#include "store/connstr.h"

/* The SQL type for an attribute, by its s3db type. */
const char *
s3db_sql_type_for(const s3f_attr *attr)
{
	switch (attr->ti.type)
	{
		case S3F_T_NUMBER:
		case S3F_T_GEO_LAT:
		case S3F_T_GEO_LON:
			return "double precision";
		case S3F_T_INTEGER:
			/* 9223372036854775807 as a double is 2^63 */
			if (attr->ti.has_min && attr->ti.has_max &&
				attr->ti.min >= -9223372036854775808.0 && attr->ti.max < 9223372036854775808.0)
				return "bigint";
			return "numeric";
		case S3F_T_BOOLEAN:
			return "boolean";
		case S3F_T_ARRAY_STRING:
			return "text[]";
		case S3F_T_ARRAY_NUMBER:
			return "double precision[]";
		case S3F_T_ARRAY_INTEGER:
			return "numeric[]";
		case S3F_T_EMBEDDING:
			return "double precision[]";
		case S3F_T_ARRAY_JSON:
		case S3F_T_OBJECT:
		case S3F_T_JSON:
		case S3F_T_NESTED:
		case S3F_T_GEO_POINT:
			return "jsonb";
		case S3F_T_BUFFER:
		case S3F_T_BITS:
			return "bytea";
		case S3F_T_MONEY:
		case S3F_T_DECIMAL:
			return "numeric";
		case S3F_T_UUID:
			return "uuid";
		case S3F_T_DATETIME:
		case S3F_T_DATE:
			return "timestamp with time zone";
		case S3F_T_DATEONLY:
			return "date";
		case S3F_T_TIMEONLY:
			return "time without time zone";
		case S3F_T_MAC:
			return "macaddr";
		case S3F_T_CIDR:
			return "inet";
		case S3F_T_FORM_SCALAR:
			if (attr->ti.form_scalar_kind == S3F_T_NUMBER)
				return "double precision";
			if (attr->ti.form_scalar_kind == S3F_T_BOOLEAN)
				return "boolean";
			return "text";
		default:
			return "text";
	}
}

static bool
wanted_table(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;

	if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
		return true;
	foreach(lc, stmt->table_list)
	{
		RangeVar   *rv = (RangeVar *) lfirst(lc);

		if (strcmp(rv->relname, name) == 0)
			return stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO;
	}
	return stmt->list_type == FDW_IMPORT_SCHEMA_EXCEPT;
}

List *
s3dbImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	S3dbConn   *conn = s3db_get_conn(serverOid, GetUserId());
	S3dbCatalog *cat = s3db_conn_catalog(conn);
	ForeignServer *server = GetForeignServer(serverOid);
	List	   *commands = NIL;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\" for IMPORT FOREIGN SCHEMA", def->defname)));
	}

	if (cat->etag == NULL)
	{
		S3dbConnOptions o;
		char	   *r;
		char	   *where;

		/* the location as configured, without its credentials */
		s3db_conn_options(serverOid, GetUserId(), &o);
		r = s3db_take_string(s3s_url_redact(o.connection_string));
		where = r ? r : "";
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("no s3db.json at \"%s\" of server \"%s\"", where, server->servername),
				 errdetail("An s3db.js database keeps its catalog in s3db.json at the root of its connection string; this location has none."),
				 errhint("Check the bucket and the prefix of the connection string.")));
	}

	for (int i = 0; i < cat->cat->nres; i++)
	{
		const s3f_resource *res = &cat->cat->res[i];
		StringInfoData buf;
		bool		has_id_attr = false;
		List	   *emitted = NIL;

		if (!wanted_table(stmt, res->name))
			continue;

		initStringInfo(&buf);
		appendStringInfo(&buf, "CREATE FOREIGN TABLE %s.%s (\n  id text NOT NULL",
						 quote_identifier(stmt->local_schema),
						 quote_identifier(res->name));

		/*
		 * Top-level attributes in definition order: leaves come in that order
		 * and a nested object takes the place of its first leaf.
		 */
		for (int a = 0; a < res->nattrs; a++)
		{
			const char *path = res->attrs[a].path;
			const char *dot = strchr(path, '.');
			char	   *top = dot ? pnstrdup(path, dot - path) : pstrdup(path);
			const s3f_attr *attr = s3f_resource_attr(res, top);

			if (attr == NULL || list_member(emitted, makeString(top)))
				continue;
			emitted = lappend(emitted, makeString(top));
			if (strcmp(top, "id") == 0)
			{
				has_id_attr = true;
				continue;
			}
			appendStringInfo(&buf, ",\n  %s %s", quote_identifier(top),
							 s3db_sql_type_for(attr));
		}
		(void) has_id_attr;
		appendStringInfo(&buf, "\n) SERVER %s OPTIONS (resource %s)",
						 quote_identifier(server->servername),
						 quote_literal_cstr(res->name));
		commands = lappend(commands, buf.data);
	}

	return commands;
}
