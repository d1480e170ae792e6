/*-------------------------------------------------------------------------
 *
 * convert.c
 *		Decoded s3db values to column Datums.
 *
 * The format layer hands us typed values (s3f_val) in canonical text forms
 * (ISO timestamps, exact decimal text, dotted-quad addresses...).  Each is
 * converted through the column type's input function, so a column may use
 * any type whose input syntax accepts the value: text for anything, jsonb
 * for anything, arrays for arrays, numeric or float8 for numbers, and so
 * on.  A value that does not fit the column raises an error whose context
 * names the column, the record id and the value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "fdw/s3db_fdw.h"

/*
 * Set up a column: type input functions and the attribute it reads.
 */
void
s3db_column_init(S3dbColumn *col, Relation rel, AttrNumber attnum,
				 const s3f_resource *res)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);

	memset(col, 0, sizeof(*col));
	col->attnum = attnum;
	col->name = pstrdup(NameStr(att->attname));
	col->field = s3db_column_field(RelationGetRelid(rel), attnum, col->name);
	col->typid = att->atttypid;
	col->typmod = att->atttypmod;
	getTypeInputInfo(col->typid, &col->typinput, &col->typioparam);
	fmgr_info(col->typinput, &col->inflinfo);

	col->elemtype = get_element_type(col->typid);
	if (OidIsValid(col->elemtype))
	{
		getTypeInputInfo(col->elemtype, &col->eleminput, &col->elemioparam);
		fmgr_info(col->eleminput, &col->elemflinfo);
		get_typlenbyvalalign(col->elemtype, &col->elemlen, &col->elembyval,
							 &col->elemalign);
	}

	if (strcmp(col->field, "id") == 0)
		col->attr_index = S3DB_COL_ID;
	else if (strcmp(col->field, "$content") == 0)
		col->attr_index = S3DB_COL_CONTENT;
	else if (strcmp(col->field, "$content_type") == 0)
		col->attr_index = S3DB_COL_CONTENT_TYPE;
	else
	{
		const s3f_attr *a = s3f_resource_attr(res, col->field);

		col->attr_index = a ? (int) (a - res->attrs) : S3DB_COL_UNKNOWN;
	}
}

/* The text form of a scalar value, or NULL for arrays/missing/null. */
static const char *
scalar_text(const s3f_val *v)
{
	switch (v->kind)
	{
		case S3F_BOOL:
			return v->b ? "true" : "false";
		case S3F_NUM:
		case S3F_STR:
		case S3F_JSON:
		case S3F_BYTES:
			return v->str ? v->str : "";
		default:
			return NULL;
	}
}

Datum
s3db_text_to_datum(S3dbColumn *col, const char *text, bool *isnull)
{
	if (text == NULL)
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	return InputFunctionCall(&col->inflinfo, (char *) text, col->typioparam, col->typmod);
}

static Datum
bytes_to_bytea(const char *data, size_t len)
{
	bytea	   *b = (bytea *) palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return PointerGetDatum(b);
}

/* Build a PostgreSQL array from an S3F_ARRAY through the element type. */
static Datum
array_to_datum(S3dbColumn *col, const s3f_val *v)
{
	int			n = v->nitems;
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
	int			dims[1];
	int			lbs[1];

	for (int i = 0; i < n; i++)
	{
		const s3f_val *item = &v->items[i];
		const char *t = scalar_text(item);

		if (item->kind == S3F_ARRAY)
		{
			char	   *json = s3f_val_to_json(item);

			elems[i] = InputFunctionCall(&col->elemflinfo, json, col->elemioparam, -1);
			free(json);
			nulls[i] = false;
		}
		else if (t == NULL)
		{
			nulls[i] = true;
			elems[i] = (Datum) 0;
		}
		else if (item->kind == S3F_BYTES && col->elemtype == BYTEAOID)
		{
			elems[i] = bytes_to_bytea(item->str, item->len);
			nulls[i] = false;
		}
		else
		{
			elems[i] = InputFunctionCall(&col->elemflinfo, (char *) t,
										 col->elemioparam, -1);
			nulls[i] = false;
		}
	}
	dims[0] = n;
	lbs[0] = 1;
	if (n == 0)
		return PointerGetDatum(construct_empty_array(col->elemtype));
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  col->elemtype, col->elemlen,
											  col->elembyval, col->elemalign));
}

Datum
s3db_value_to_datum(S3dbColumn *col, const s3f_val *v, bool *isnull)
{
	*isnull = false;

	if (v->kind == S3F_MISSING || v->kind == S3F_NULL)
	{
		*isnull = true;
		return (Datum) 0;
	}

	/* json/jsonb columns take any value in its JSON rendering */
	if (col->typid == JSONBOID || col->typid == JSONOID)
	{
		char	   *json = s3f_val_to_json(v);
		Datum		d;

		PG_TRY();
		{
			d = InputFunctionCall(&col->inflinfo, json, col->typioparam, col->typmod);
		}
		PG_FINALLY();
		{
			free(json);
		}
		PG_END_TRY();
		return d;
	}

	if (col->typid == BYTEAOID && (v->kind == S3F_BYTES || v->kind == S3F_STR))
		return bytes_to_bytea(v->str ? v->str : "", v->len);

	if (col->typid == BOOLOID && v->kind == S3F_BOOL)
		return BoolGetDatum(v->b);

	if (v->kind == S3F_ARRAY)
	{
		if (OidIsValid(col->elemtype))
			return array_to_datum(col, v);
		else
		{
			/* an array into a scalar column (text, say): its JSON text */
			char	   *json = s3f_val_to_json(v);
			Datum		d;

			PG_TRY();
			{
				d = InputFunctionCall(&col->inflinfo, json, col->typioparam, col->typmod);
			}
			PG_FINALLY();
			{
				free(json);
			}
			PG_END_TRY();
			return d;
		}
	}

	return InputFunctionCall(&col->inflinfo, (char *) scalar_text(v),
							 col->typioparam, col->typmod);
}
