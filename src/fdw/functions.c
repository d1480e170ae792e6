/*-------------------------------------------------------------------------
 *
 * functions.c
 *		SQL-callable functions: looking at a store and creating resources.
 *
 * s3db_list(server, prefix) lists the objects of a store, as a table, for
 * inspection and tests.  s3db_create_resource(foreign table, ...) writes a
 * resource definition into s3db.json from a foreign table's columns, under
 * the same lock protocol s3db.js uses, so s3db.js programs see and use the
 * new resource (or the new attributes of an existing one).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_type.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "fdw/s3db_fdw.h"
#include "format/encode.h"

PG_FUNCTION_INFO_V1(s3db_list);
PG_FUNCTION_INFO_V1(s3db_create_resource);

static S3dbConn *
conn_for_server(const char *servername)
{
	ForeignServer *server = GetForeignServerByName(servername, false);
	AclResult	acl = object_aclcheck(ForeignServerRelationId, server->serverid,
									  GetUserId(), ACL_USAGE);

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FOREIGN_SERVER, server->servername);
	return s3db_get_conn(server->serverid, GetUserId());
}

/*
 * s3db_list(server name, prefix text) returns table(key, size, etag,
 * last_modified)
 */
Datum
s3db_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	S3dbConn   *conn = conn_for_server(NameStr(*PG_GETARG_NAME(0)));
	char	   *prefix = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	S3dbPager	pg;
	const s3s_list *page;

	InitMaterializedSRF(fcinfo, 0);
	s3db_pager_start(&pg, conn, prefix, NULL, "could not list the store");
	while ((page = s3db_pager_next(&pg)) != NULL)
	{
		for (int i = 0; i < page->n; i++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};
			const s3s_list_entry *e = &page->entries[i];

			values[0] = CStringGetTextDatum(e->key);
			values[1] = Int64GetDatum(e->size);
			if (e->etag)
				values[2] = CStringGetTextDatum(e->etag);
			else
				nulls[2] = true;
			if (e->last_modified > 0)
				values[3] = TimestampTzGetDatum(time_t_to_timestamptz(e->last_modified / 1000) +
												(e->last_modified % 1000) * 1000);
			else
				nulls[3] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/* The s3db.js definition for a column type. */
static const char *
definition_for(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return "number|integer:true";
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return "number";
		case BOOLOID:
			return "boolean";
		case TEXTARRAYOID:
		case VARCHARARRAYOID:
			return "array|items:string";
		case INT4ARRAYOID:
		case INT8ARRAYOID:
			return "array|items:number|integer:true";
		case FLOAT8ARRAYOID:
		case FLOAT4ARRAYOID:
		case NUMERICARRAYOID:
			return "array|items:number";
		case JSONBOID:
		case JSONOID:
			return "json";
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
			return "datetime";
		case DATEOID:
			return "dateonly";
		case TIMEOID:
			return "timeonly";
		case UUIDOID:
			return "uuid";
		case MACADDROID:
			return "mac";
		case CIDROID:
			return "cidr";
		default:
			return "string";
	}
}

static void
json_escape(StringInfo buf, const char *s)
{
	escape_json(buf, s);
}

/*
 * s3db_create_resource(ftable regclass, behavior text, partitions jsonb,
 * timestamps boolean)
 *
 * Attributes come from the table's columns (except id and binary content
 * columns): the column's "field" (dotted paths make nested objects), the
 * s3db.js type for its SQL type, "|optional" unless the column is NOT NULL.
 */
Datum
s3db_create_resource(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	const char *behavior = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	const char *partitions = PG_ARGISNULL(2) ? "{}" :
		DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(2)));
	bool		timestamps = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);
	Relation	rel;
	S3dbTableOptions topts;
	S3dbConn   *conn;
	StringInfoData attrs;
	TupleDesc	desc;
	s3s_error	err;
	int			n = 0;
	List	   *tops = NIL;

	if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_FOREIGN_TABLE, get_rel_name(relid));
	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table", get_rel_name(relid))));

	rel = table_open(relid, AccessShareLock);
	s3db_table_options(relid, &topts);
	conn = s3db_get_conn(topts.serverid, GetUserId());
	/* it writes s3db.json */
	s3db_check_store_access(conn, GetUserId(), true);
	desc = RelationGetDescr(rel);

	/* nested attributes: group dotted fields under their top-level object */
	initStringInfo(&attrs);
	appendStringInfoChar(&attrs, '{');
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *field;
		char	   *dot;

		if (att->attisdropped)
			continue;
		field = s3db_column_field(relid, att->attnum, NameStr(att->attname));
		if (strcmp(field, "id") == 0 || field[0] == '$')
			continue;
		dot = strchr(field, '.');
		if (dot == NULL)
		{
			char	   *def = psprintf("%s%s", definition_for(att->atttypid),
									   att->attnotnull ? "" : "|optional");

			if (n++ > 0)
				appendStringInfoChar(&attrs, ',');
			json_escape(&attrs, field);
			appendStringInfoChar(&attrs, ':');
			json_escape(&attrs, def);
		}
		else
		{
			char	   *top = pnstrdup(field, dot - field);

			if (strchr(dot + 1, '.') != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("field \"%s\" nests deeper than one level", field),
						 errhint("Declare the resource with s3db.js, or use a jsonb column for the object.")));
			if (!list_member(tops, makeString(top)))
				tops = lappend(tops, makeString(top));
		}
	}
	/* one nested object per top-level name, with its leaves */
	{
		ListCell   *lc;

		foreach(lc, tops)
		{
			const char *top = strVal(lfirst(lc));
			int			m = 0;

			if (n++ > 0)
				appendStringInfoChar(&attrs, ',');
			json_escape(&attrs, top);
			appendStringInfoString(&attrs, ":{");
			for (int i = 0; i < desc->natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);
				char	   *field;

				if (att->attisdropped)
					continue;
				field = s3db_column_field(relid, att->attnum, NameStr(att->attname));
				if (strncmp(field, top, strlen(top)) == 0 && field[strlen(top)] == '.')
				{
					if (m++ > 0)
						appendStringInfoChar(&attrs, ',');
					json_escape(&attrs, field + strlen(top) + 1);
					appendStringInfoChar(&attrs, ':');
					json_escape(&attrs, psprintf("%s%s", definition_for(att->atttypid),
												 att->attnotnull ? "" : "|optional"));
				}
			}
			appendStringInfoChar(&attrs, '}');
		}
	}
	appendStringInfoChar(&attrs, '}');
	table_close(rel, AccessShareLock);

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("foreign table \"%s\" has no columns to make attributes of",
						get_rel_name(relid))));

	s3s_error_clear(&err);
	if (s3f_catalog_update(conn->store, topts.resource, attrs.data, behavior, partitions,
						   timestamps, 0, &err) != S3S_OK)
		s3db_report(&err, psprintf("could not write resource \"%s\" to s3db.json",
								   topts.resource));
	/* the next statement re-reads the catalog */
	conn->validated_at = 0;
	PG_RETURN_TEXT_P(cstring_to_text(attrs.data));
}
