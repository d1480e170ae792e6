/*-------------------------------------------------------------------------
 *
 * codec_type.c
 *		Attribute definitions to types (spec 6.2).
 *
 * Classification mirrors s3db.js: substring tests on the string definition
 * in a fixed order (embedding, array, secret, password, ip4, ip6, buffer,
 * bits, money/crypto, decimal, text, geo:lat, geo:lon, geo:point, number,
 * boolean, json, object), then the special formats that must be the
 * definition's first word, then everything else is a string.  Object-form
 * definitions ({"type": ...}) only get the array rules; other scalars are
 * stored as String(value).
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "format/codec_int.h"

static const char *const type_names[S3F_T__COUNT] = {
	[S3F_T_STRING] = "string",
	[S3F_T_NUMBER] = "number",
	[S3F_T_INTEGER] = "integer",
	[S3F_T_BOOLEAN] = "boolean",
	[S3F_T_ARRAY_STRING] = "array<string>",
	[S3F_T_ARRAY_NUMBER] = "array<number>",
	[S3F_T_ARRAY_INTEGER] = "array<integer>",
	[S3F_T_ARRAY_JSON] = "array",
	[S3F_T_EMBEDDING] = "embedding",
	[S3F_T_OBJECT] = "object",
	[S3F_T_JSON] = "json",
	[S3F_T_ANY] = "any",
	[S3F_T_SECRET] = "secret",
	[S3F_T_PASSWORD] = "password",
	[S3F_T_IP4] = "ip4",
	[S3F_T_IP6] = "ip6",
	[S3F_T_BUFFER] = "buffer",
	[S3F_T_BITS] = "bits",
	[S3F_T_MONEY] = "money",
	[S3F_T_DECIMAL] = "decimal",
	[S3F_T_TEXT] = "text",
	[S3F_T_GEO_LAT] = "geo:lat",
	[S3F_T_GEO_LON] = "geo:lon",
	[S3F_T_GEO_POINT] = "geo:point",
	[S3F_T_UUID] = "uuid",
	[S3F_T_DATETIME] = "datetime",
	[S3F_T_DATEONLY] = "dateonly",
	[S3F_T_TIMEONLY] = "timeonly",
	[S3F_T_MAC] = "mac",
	[S3F_T_CIDR] = "cidr",
	[S3F_T_SEMVER] = "semver",
	[S3F_T_PHONE] = "phone",
	[S3F_T_COLOR] = "color",
	[S3F_T_DURATION] = "duration",
	[S3F_T_EAN] = "ean",
	[S3F_T_DATE] = "date",
	[S3F_T_NESTED] = "nested",
	[S3F_T_FORM_SCALAR] = "scalar",
};

const char *
s3f_type_name(s3f_type t)
{
	if ((int) t < 0 || t >= S3F_T__COUNT || type_names[t] == NULL)
		return "unknown";
	return type_names[t];
}

/* ------------------------------------------------------ classification */

/* First occurrence of prefix followed by digits (JS /prefix(\d+)/). */
static bool
match_num(const char *def, const char *prefix, long *val, const char **where)
{
	const char *p = def;
	size_t		pl = strlen(prefix);

	while ((p = strstr(p, prefix)) != NULL)
	{
		const char *d = p + pl;

		if (*d >= '0' && *d <= '9')
		{
			long		v = 0;

			while (*d >= '0' && *d <= '9')
			{
				if (v < 100000000)
					v = v * 10 + (*d - '0');
				d++;
			}
			*val = v;
			if (where)
				*where = p;
			return true;
		}
		p++;
	}
	return false;
}

static int
clamp_precision(long p)
{
	return p > 22 ? 22 : (int) p;
}

/* The definition is the word itself or starts with "word|". */
static bool
is_word(const char *def, const char *word)
{
	size_t		n = strlen(word);

	return strncmp(def, word, n) == 0 && (def[n] == '\0' || def[n] == '|');
}

static void
parse_modifiers(const char *def, s3f_typeinfo *out)
{
	const char *seg = def;

	while (seg && *seg)
	{
		const char *end = strchr(seg, '|');
		size_t		n = end ? (size_t) (end - seg) : strlen(seg);
		char		part[64];
		char	   *colon;
		const char *val = NULL;

		if (n < sizeof(part))
		{
			memcpy(part, seg, n);
			part[n] = '\0';
			colon = strchr(part, ':');
			if (colon)
			{
				*colon = '\0';
				val = colon + 1;
			}
			if (strcmp(part, "optional") == 0)
				out->optional = !(val && strcmp(val, "false") == 0);
			else if (strcmp(part, "required") == 0)
				out->required = !(val && strcmp(val, "false") == 0);
			else if (val && strcmp(part, "min") == 0)
				out->has_min = s3f_parse_number(val, strlen(val), &out->min);
			else if (val && strcmp(part, "max") == 0)
				out->has_max = s3f_parse_number(val, strlen(val), &out->max);
			else if (val && strcmp(part, "maxlength") == 0)
			{
				double		m;

				if (s3f_parse_number(val, strlen(val), &m) && m >= 0 && m < 1e9)
					out->maxlength = (int) m;
			}
		}
		seg = end ? end + 1 : NULL;
	}
}

void
s3f_type_classify(const char *def, s3f_typeinfo *out)
{
	long		v;
	bool		integer;

	memset(out, 0, sizeof(*out));
	out->type = S3F_T_STRING;
	if (def == NULL)
		return;
	parse_modifiers(def, out);
	integer = strstr(def, "integer:true") || strstr(def, "|integer:") || strstr(def, "|integer");

	if (strstr(def, "embedding"))
	{
		out->type = S3F_T_EMBEDDING;
		out->precision = 6;
		if (match_num(def, "embedding:", &v, NULL) || match_num(def, "length:", &v, NULL))
			out->length = (int) v;
		return;
	}
	if (strstr(def, "array"))
	{
		if (match_num(def, "length:", &v, NULL))
			out->length = (int) v;
		if (strstr(def, "items:string"))
			out->type = S3F_T_ARRAY_STRING;
		else if (strstr(def, "items:number"))
		{
			if (integer)
				out->type = S3F_T_ARRAY_INTEGER;
			else if (out->length >= 256)
			{
				out->type = S3F_T_EMBEDDING;
				out->precision = 6;
			}
			else
				out->type = S3F_T_ARRAY_NUMBER;
		}
		else
			out->type = S3F_T_ARRAY_JSON;
		return;
	}
	if (strstr(def, "secret"))
		out->type = S3F_T_SECRET;
	else if (strstr(def, "password"))
		out->type = S3F_T_PASSWORD;
	else if (strstr(def, "ip4"))
		out->type = S3F_T_IP4;
	else if (strstr(def, "ip6"))
		out->type = S3F_T_IP6;
	else if (strstr(def, "buffer"))
		out->type = S3F_T_BUFFER;
	else if (strstr(def, "bits"))
	{
		out->type = S3F_T_BITS;
		if (match_num(def, "bits:", &v, NULL))
			out->length = (int) v;
	}
	else if (strstr(def, "money") || strstr(def, "crypto"))
	{
		const char *w1 = NULL,
				   *w2 = NULL;
		long		v1 = 0,
					v2 = 0;
		bool		m1 = match_num(def, "money:", &v1, &w1);
		bool		m2 = match_num(def, "crypto:", &v2, &w2);

		out->type = S3F_T_MONEY;
		out->precision = strstr(def, "crypto") ? 8 : 2;
		if (m1 && (!m2 || w1 < w2))
			out->precision = clamp_precision(v1);
		else if (m2)
			out->precision = clamp_precision(v2);
	}
	else if (strstr(def, "decimal"))
	{
		out->type = S3F_T_DECIMAL;
		out->precision = match_num(def, "decimal:", &v, NULL) ? clamp_precision(v) : 2;
	}
	else if (strstr(def, "text"))
		out->type = S3F_T_TEXT;
	else if (strstr(def, "geo:lat"))
	{
		out->type = S3F_T_GEO_LAT;
		out->precision = match_num(def, "geo:lat:", &v, NULL) ? clamp_precision(v) : 6;
	}
	else if (strstr(def, "geo:lon"))
	{
		out->type = S3F_T_GEO_LON;
		out->precision = match_num(def, "geo:lon:", &v, NULL) ? clamp_precision(v) : 6;
	}
	else if (strstr(def, "geo:point"))
	{
		out->type = S3F_T_GEO_POINT;
		out->precision = match_num(def, "geo:point:", &v, NULL) ? clamp_precision(v) : 6;
	}
	else if (strstr(def, "number"))
		out->type = integer ? S3F_T_INTEGER : S3F_T_NUMBER;
	else if (strstr(def, "boolean") || is_word(def, "bool"))
		out->type = S3F_T_BOOLEAN;
	else if (strstr(def, "json"))
		out->type = S3F_T_JSON;
	else if (strstr(def, "object"))
		out->type = S3F_T_OBJECT;
	else if (is_word(def, "uuid"))
		out->type = S3F_T_UUID;
	else if (strstr(def, "datetime"))
		out->type = S3F_T_DATETIME;
	else if (strstr(def, "dateonly"))
		out->type = S3F_T_DATEONLY;
	else if (is_word(def, "timeonly"))
		out->type = S3F_T_TIMEONLY;
	else if (is_word(def, "mac"))
		out->type = S3F_T_MAC;
	else if (is_word(def, "cidr"))
		out->type = S3F_T_CIDR;
	else if (is_word(def, "semver"))
		out->type = S3F_T_SEMVER;
	else if (is_word(def, "phone"))
		out->type = S3F_T_PHONE;
	else if (is_word(def, "color"))
		out->type = S3F_T_COLOR;
	else if (is_word(def, "duration"))
		out->type = S3F_T_DURATION;
	else if (is_word(def, "ean"))
		out->type = S3F_T_EAN;
	else if (is_word(def, "date"))
		out->type = S3F_T_DATE;
	else if (is_word(def, "any"))
		out->type = S3F_T_ANY;
}

void
s3f_type_classify_object(const char *json_text, s3f_typeinfo *out)
{
	json_object *o,
			   *m;
	const char *type = "";

	memset(out, 0, sizeof(*out));
	out->type = S3F_T_FORM_SCALAR;
	out->form_scalar_kind = S3F_T_STRING;
	if (json_text == NULL)
		return;
	o = json_tokener_parse(json_text);
	if (o == NULL || !json_object_is_type(o, json_type_object))
	{
		if (o)
			json_object_put(o);
		return;
	}
	if (json_object_object_get_ex(o, "type", &m) && json_object_is_type(m, json_type_string))
		type = json_object_get_string(m);
	if (json_object_object_get_ex(o, "optional", &m))
		out->optional = json_object_get_boolean(m);
	if (json_object_object_get_ex(o, "required", &m))
		out->required = json_object_get_boolean(m);
	if (json_object_object_get_ex(o, "min", &m) &&
		(json_object_is_type(m, json_type_int) || json_object_is_type(m, json_type_double)))
	{
		out->has_min = true;
		out->min = json_object_get_double(m);
	}
	if (json_object_object_get_ex(o, "max", &m) &&
		(json_object_is_type(m, json_type_int) || json_object_is_type(m, json_type_double)))
	{
		out->has_max = true;
		out->max = json_object_get_double(m);
	}
	if (json_object_object_get_ex(o, "maxlength", &m) && json_object_is_type(m, json_type_int))
		out->maxlength = json_object_get_int(m);
	if (json_object_object_get_ex(o, "length", &m) && json_object_is_type(m, json_type_int))
		out->length = json_object_get_int(m);

	if (strcmp(type, "array") == 0)
	{
		const char *items = NULL;

		out->form_scalar_kind = 0;
		if (json_object_object_get_ex(o, "items", &m) && json_object_is_type(m, json_type_string))
			items = json_object_get_string(m);
		if (items && strstr(items, "string"))
			out->type = S3F_T_ARRAY_STRING;
		else if (items && strstr(items, "number"))
		{
			if (strstr(items, "integer"))
				out->type = S3F_T_ARRAY_INTEGER;
			else if (out->length >= 256)
			{
				out->type = S3F_T_EMBEDDING;
				out->precision = 6;
			}
			else
				out->type = S3F_T_ARRAY_NUMBER;
		}
		else
			out->type = S3F_T_ARRAY_JSON;
	}
	else if (strcmp(type, "object") == 0)
	{
		out->type = S3F_T_OBJECT;
		out->form_scalar_kind = 0;
	}
	else if (strcmp(type, "number") == 0)
		out->form_scalar_kind = S3F_T_NUMBER;
	else if (strcmp(type, "boolean") == 0)
		out->form_scalar_kind = S3F_T_BOOLEAN;
	json_object_put(o);
}
