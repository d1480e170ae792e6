/*-------------------------------------------------------------------------
 *
 * codec_json.c
 *		Logical values found in record bodies (spec 8.2 step 3).
 *
 * The update bodies of user-managed resources carry the record with full
 * attribute names and plain JSON values ({"age":42,"tags":["x","y"]}), not
 * stored strings.  This turns such a value into the s3f_val the stored-
 * string path gives for the same attribute.  Strings of the compact types
 * (datetime, uuid, money, ...) are logical texts there; they are taken
 * through the encoder and back so they come out normalised, and fall back
 * to the stored-string decoder when they are not a logical text.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "format/codec_int.h"

static bool
roundtrip_type(s3f_type t)
{
	switch (t)
	{
		case S3F_T_NUMBER:
		case S3F_T_INTEGER:
		case S3F_T_BOOLEAN:
		case S3F_T_MONEY:
		case S3F_T_DECIMAL:
		case S3F_T_GEO_LAT:
		case S3F_T_GEO_LON:
		case S3F_T_GEO_POINT:
		case S3F_T_UUID:
		case S3F_T_DATETIME:
		case S3F_T_DATEONLY:
		case S3F_T_TIMEONLY:
		case S3F_T_MAC:
		case S3F_T_CIDR:
		case S3F_T_SEMVER:
		case S3F_T_PHONE:
		case S3F_T_COLOR:
		case S3F_T_DURATION:
		case S3F_T_EAN:
		case S3F_T_IP4:
		case S3F_T_IP6:
			return true;
		default:
			return false;
	}
}

static bool
jsonish_type(s3f_type t)
{
	return t == S3F_T_JSON || t == S3F_T_OBJECT || t == S3F_T_ARRAY_JSON ||
		t == S3F_T_NESTED || t == S3F_T_ANY || t == S3F_T_STRING ||
		t == S3F_T_FORM_SCALAR;
}

/* logical value -> stored string -> decoded value */
static s3s_code
through_codec(const s3f_typeinfo *t, const s3f_val *logical, const char *passphrase,
			  s3f_val *out, s3s_error *err)
{
	char	   *stored = NULL;
	s3s_code	rc;

	rc = s3f_encode(t, logical, passphrase, &stored, NULL);
	if (rc != S3S_OK)
		return rc;
	rc = s3f_decode(t, stored, strlen(stored), passphrase, out, err);
	free(stored);
	return rc;
}

static s3s_code
set_json(s3f_val *out, const char *text, s3s_error *err)
{
	char	   *m = s3f_json_minify(text, strlen(text));

	if (m == NULL)
		goto oom;
	s3f_val_set_str(out, S3F_JSON, m, strlen(m));
	free(m);
	if (out->str == NULL)
		goto oom;
	return S3S_OK;
oom:
	if (err)
		s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
	return S3S_ERR_NOMEM;
}

static bool
json_number(json_object *o, double *d)
{
	const char *txt;

	if (!json_object_is_type(o, json_type_int) && !json_object_is_type(o, json_type_double))
		return false;
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!s3f_parse_number(txt, strlen(txt), d))
		*d = json_object_get_double(o);
	return isfinite(*d);
}

static s3s_code
decode_array(const s3f_typeinfo *t, json_object *o, s3f_val *out, s3s_error *err)
{
	size_t		i,
				n = json_object_array_length(o);

	out->kind = S3F_ARRAY;
	out->items = calloc(n ? n : 1, sizeof(s3f_val));
	if (out->items == NULL)
		goto oom;
	for (i = 0; i < n; i++)
	{
		json_object *e = json_object_array_get_idx(o, i);
		s3f_val    *it = &out->items[i];
		double		d;
		const char *txt;

		out->nitems = (int) i + 1;
		if (e == NULL)
		{
			it->kind = S3F_NULL;
			continue;
		}
		if (t->type == S3F_T_ARRAY_STRING)
		{
			if (json_object_is_type(e, json_type_string))
				txt = json_object_get_string(e);
			else if (json_number(e, &d))
			{
				s3f_val_set_num(it, d, NULL);
				it->kind = S3F_STR;
				continue;
			}
			else
				txt = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
			s3f_val_set_str(it, S3F_STR, txt, json_object_is_type(e, json_type_string) ?
							(size_t) json_object_get_string_len(e) : strlen(txt));
		}
		else if (json_number(e, &d))
			s3f_val_set_num(it, d, NULL);
		else if (json_object_is_type(e, json_type_string) &&
				 s3f_parse_number(json_object_get_string(e),
								  (size_t) json_object_get_string_len(e), &d) && isfinite(d))
			s3f_val_set_num(it, d, NULL);
		else
			return s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type),
								   json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
								   strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
		if (it->str == NULL)
			goto oom;
	}
	return S3S_OK;
oom:
	if (err)
		s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
	return S3S_ERR_NOMEM;
}

s3s_code
s3f_json_value_decode(const s3f_typeinfo *t, const char *json_text,
					  const char *passphrase, s3f_val *out, s3s_error *err)
{
	json_object *o;
	s3s_code	rc = S3S_OK;
	double		d;
	size_t		len = json_text ? strlen(json_text) : 0;
	s3f_val		logical = {0};

	memset(out, 0, sizeof(*out));
	if (json_text == NULL || !s3f_json_valid(json_text, len) ||
		(o = json_tokener_parse(json_text)) == NULL)
	{
		if (json_text && len == 4 && strcmp(json_text, "null") == 0)
		{
			out->kind = S3F_NULL;
			return S3S_OK;
		}
		return s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type),
							   json_text ? json_text : "", len);
	}

	switch (json_object_get_type(o))
	{
		case json_type_null:
			out->kind = S3F_NULL;
			break;

		case json_type_string:
			{
				const char *s = json_object_get_string(o);
				size_t		sl = (size_t) json_object_get_string_len(o);

				if (roundtrip_type(t->type))
				{
					s3f_val_set_str(&logical, S3F_STR, s, sl);
					if (logical.str &&
						through_codec(t, &logical, passphrase, out, NULL) == S3S_OK)
						break;
					s3f_val_free(out);
				}
				rc = s3f_decode(t, s, sl, passphrase, out, err);
			}
			break;

		case json_type_int:
		case json_type_double:
			/* the text itself: json-c clamps integers beyond 64 bits */
			{
				size_t		a = 0,
							b = len;

				while (a < b && strchr(" \t\r\n", json_text[a]))
					a++;
				while (b > a && strchr(" \t\r\n", json_text[b - 1]))
					b--;
				if (!s3f_parse_number(json_text + a, b - a, &d))
					d = NAN;
			}
			if (!isfinite(d) && !json_number(o, &d))
			{
				rc = s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), json_text, len);
				break;
			}
			if (t->type == S3F_T_NUMBER || t->type == S3F_T_INTEGER || t->type == S3F_T_MONEY ||
				t->type == S3F_T_DECIMAL || t->type == S3F_T_GEO_LAT || t->type == S3F_T_GEO_LON ||
				(t->type == S3F_T_FORM_SCALAR && t->form_scalar_kind == S3F_T_NUMBER))
				s3f_val_set_num(out, d, NULL);
			else if (t->type == S3F_T_STRING || t->type == S3F_T_ANY || t->type == S3F_T_PASSWORD ||
					 t->type == S3F_T_FORM_SCALAR || t->type == S3F_T_TEXT ||
					 t->type == S3F_T_DATE)
			{
				s3f_val_set_num(out, d, NULL);
				out->kind = S3F_STR;
			}
			else if (t->type == S3F_T_BOOLEAN)
			{
				out->kind = S3F_BOOL;
				out->b = (d == 1);
			}
			else if (jsonish_type(t->type))
				rc = set_json(out, json_text, err);
			else
			{
				s3f_val_set_num(&logical, d, NULL);
				rc = through_codec(t, &logical, passphrase, out, NULL);
				if (rc != S3S_OK)
					rc = s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), json_text, len);
			}
			break;

		case json_type_boolean:
			if (t->type == S3F_T_BOOLEAN ||
				(t->type == S3F_T_FORM_SCALAR && t->form_scalar_kind == S3F_T_BOOLEAN))
			{
				out->kind = S3F_BOOL;
				out->b = json_object_get_boolean(o);
			}
			else if (t->type == S3F_T_STRING || t->type == S3F_T_ANY ||
					 t->type == S3F_T_FORM_SCALAR || t->type == S3F_T_PASSWORD)
				s3f_val_set_str(out, S3F_STR, json_object_get_boolean(o) ? "true" : "false",
								json_object_get_boolean(o) ? 4 : 5);
			else if (jsonish_type(t->type))
				rc = set_json(out, json_text, err);
			else
				rc = s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), json_text, len);
			break;

		case json_type_array:
			if (t->type == S3F_T_ARRAY_STRING || t->type == S3F_T_ARRAY_NUMBER ||
				t->type == S3F_T_ARRAY_INTEGER || t->type == S3F_T_EMBEDDING)
				rc = decode_array(t, o, out, err);
			else if (t->type == S3F_T_GEO_POINT)
			{
				double		lat,
							lon;

				if (json_object_array_length(o) == 2 &&
					json_number(json_object_array_get_idx(o, 0), &lat) &&
					json_number(json_object_array_get_idx(o, 1), &lon))
					rc = s3f_geo_point_value(lat, lon, out, err);
				else
					rc = s3f_value_error(err, S3S_ERR_FORMAT, "geo:point", json_text, len);
			}
			else if (jsonish_type(t->type))
				rc = set_json(out, json_text, err);
			else
				rc = s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), json_text, len);
			break;

		case json_type_object:
			if (t->type == S3F_T_GEO_POINT)
			{
				json_object *a,
						   *b;
				double		lat,
							lon;

				if (((json_object_object_get_ex(o, "latitude", &a) &&
					  json_object_object_get_ex(o, "longitude", &b)) ||
					 (json_object_object_get_ex(o, "lat", &a) &&
					  json_object_object_get_ex(o, "lon", &b))) &&
					json_number(a, &lat) && json_number(b, &lon))
					rc = s3f_geo_point_value(lat, lon, out, err);
				else
					rc = s3f_value_error(err, S3S_ERR_FORMAT, "geo:point", json_text, len);
			}
			else if (jsonish_type(t->type))
				rc = set_json(out, json_text, err);
			else
				rc = s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), json_text, len);
			break;
	}
	if (rc == S3S_OK && (out->kind == S3F_NUM || out->kind == S3F_STR) && out->str == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
		rc = S3S_ERR_NOMEM;
	}
	if (rc != S3S_OK)
		s3f_val_free(out);
	s3f_val_free(&logical);
	json_object_put(o);
	return rc;
}
