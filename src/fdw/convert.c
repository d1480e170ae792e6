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
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "datatype/timestamp.h"
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
	getTypeOutputInfo(col->typid, &col->typoutput, &col->typisvarlena);

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
			/* palloc'd: the element type's input may reject it */
			char	   *json = s3db_take_string(s3f_val_to_json(item));

			elems[i] = InputFunctionCall(&col->elemflinfo, json, col->elemioparam, -1);
			if (json)
				pfree(json);
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

/* A value's JSON rendering through the column's input function. */
static Datum
json_to_datum(S3dbColumn *col, const s3f_val *v)
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
		return json_to_datum(col, v);

	if (col->typid == BYTEAOID && (v->kind == S3F_BYTES || v->kind == S3F_STR))
		return bytes_to_bytea(v->str ? v->str : "", v->len);

	/* text cannot hold NUL: say so rather than cut the value short */
	if ((v->kind == S3F_STR || v->kind == S3F_JSON) && v->str && strlen(v->str) != v->len)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("stored value contains a NUL character"),
				 errhint("Read the field into a bytea column to see its bytes.")));

	if (col->typid == BOOLOID && v->kind == S3F_BOOL)
		return BoolGetDatum(v->b);

	if (v->kind == S3F_ARRAY)
	{
		if (OidIsValid(col->elemtype))
			return array_to_datum(col, v);
		/* an array into a scalar column (text, say): its JSON text */
		return json_to_datum(col, v);
	}

	return InputFunctionCall(&col->inflinfo, (char *) scalar_text(v),
							 col->typioparam, col->typmod);
}

/* ---------------------------------------------------------------------
 * Datums to values (the write side)
 * ---------------------------------------------------------------------
 */

/* Epoch milliseconds to "YYYY-MM-DDTHH:MM:SS.sssZ". */
static char *
iso_from_ms(int64 ms)
{
	int64		days = ms / 86400000;
	int64		rem = ms % 86400000;
	int			y,
				m,
				d;

	if (rem < 0)
	{
		rem += 86400000;
		days--;
	}
	j2date((int) (days + UNIX_EPOCH_JDATE), &y, &m, &d);
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
					(int) (rem / 3600000), (int) (rem / 60000 % 60),
					(int) (rem / 1000 % 60), (int) (rem % 1000));
}

static void
set_text(s3f_val *v, s3f_kind kind, char *text)
{
	v->kind = kind;
	v->str = text;
	v->len = strlen(text);
}

/*
 * A column value as an s3f_val for the encoder.  Strings point into palloc'd
 * memory; the caller must not s3f_val_free() the result.
 */
/* A timestamp as s3db.js stores a date: ISO 8601 in UTC, to the millisecond. */
void
s3db_timestamp_to_value(TimestampTz ts, s3f_val *v)
{
	int64		ms;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("s3db.js cannot store an infinite timestamp")));
	ms = ts / 1000;
	if (ts % 1000 < 0)
		ms--;					/* floor, for times before 2000 */
	memset(v, 0, sizeof(*v));
	set_text(v, S3F_STR,
			 iso_from_ms(ms + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * 86400000));
}

void
s3db_datum_to_value(S3dbColumn *col, Datum d, bool isnull, s3f_val *v)
{
	memset(v, 0, sizeof(*v));
	if (isnull)
	{
		v->kind = S3F_MISSING;
		return;
	}
	switch (col->typid)
	{
		case BOOLOID:
			v->kind = S3F_BOOL;
			v->b = DatumGetBool(d);
			return;
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			{
				char	   *t = OidOutputFunctionCall(col->typoutput, d);

				if (strcmp(t, "NaN") == 0 || strcmp(t, "Infinity") == 0 ||
					strcmp(t, "-Infinity") == 0)
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("s3db.js cannot store the number %s", t)));
				v->kind = S3F_NUM;
				v->num = strtod(t, NULL);
				v->str = t;
				v->len = strlen(t);
				return;
			}
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
			s3db_timestamp_to_value(DatumGetTimestamp(d), v);
			return;
		case DATEOID:
			{
				DateADT		dt = DatumGetDateADT(d);
				int			y,
							m,
							dd;

				if (DATE_NOT_FINITE(dt))
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("s3db.js cannot store an infinite date")));
				j2date(dt + POSTGRES_EPOCH_JDATE, &y, &m, &dd);
				set_text(v, S3F_STR, psprintf("%04d-%02d-%02d", y, m, dd));
				return;
			}
		case TIMEOID:
			{
				TimeADT		t = DatumGetTimeADT(d);
				int64		ms = t / 1000;

				set_text(v, S3F_STR, psprintf("%02d:%02d:%02d.%03d", (int) (ms / 3600000),
											  (int) (ms / 60000 % 60), (int) (ms / 1000 % 60),
											  (int) (ms % 1000)));
				return;
			}
		case BYTEAOID:
			{
				bytea	   *b = DatumGetByteaPP(d);

				v->kind = S3F_BYTES;
				v->len = VARSIZE_ANY_EXHDR(b);
				v->str = palloc(v->len + 1);
				memcpy(v->str, VARDATA_ANY(b), v->len);
				v->str[v->len] = '\0';
				return;
			}
		case JSONBOID:
		case JSONOID:
			set_text(v, S3F_JSON, OidOutputFunctionCall(col->typoutput, d));
			return;
		default:
			break;
	}

	if (OidIsValid(col->elemtype))
	{
		ArrayType  *arr = DatumGetArrayTypeP(d);
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		S3dbColumn	ecol;

		deconstruct_array(arr, col->elemtype, col->elemlen, col->elembyval,
						  col->elemalign, &elems, &nulls, &n);
		memset(&ecol, 0, sizeof(ecol));
		ecol.typid = col->elemtype;
		getTypeOutputInfo(col->elemtype, &ecol.typoutput, &ecol.typisvarlena);
		v->kind = S3F_ARRAY;
		v->nitems = n;
		v->items = palloc0(sizeof(s3f_val) * Max(n, 1));
		for (int i = 0; i < n; i++)
		{
			s3db_datum_to_value(&ecol, elems[i], nulls[i], &v->items[i]);
			if (v->items[i].kind == S3F_MISSING)
				v->items[i].kind = S3F_NULL;
		}
		return;
	}

	set_text(v, S3F_STR, OidOutputFunctionCall(col->typoutput, d));
}
