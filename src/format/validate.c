/*-------------------------------------------------------------------------
 *
 * validate.c
 *		Validation and normalisation of a record before it is written
 *		(spec 6, step 1): the subset of fastest-validator's rules that
 *		s3db.js attribute definitions use.
 *
 * s3db.js validates every insert with fastest-validator: a field without
 * "optional" is required, strings are trimmed, numbers checked against
 * min/max, and so on.  A record that s3db.js would refuse must not be
 * written by us either, or s3db.js would fail to update it later.  The
 * rules come from the definition string ("number|min:0|max:10"), or from
 * the members of an object-form definition ({"type":"number","min":0}).
 *
 * Nested containers are optional (s3db.js declares nested objects with
 * allNestedObjectsOptional, which defaults to true), but once a container
 * has a value its required leaves must be present.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/catalog_int.h"
#include "format/codec_int.h"
#include "format/encode_int.h"

static s3s_code
oom(s3s_error *err)
{
	s3s_error_set(err, S3S_ERR_NOMEM, "encode", NULL, "out of memory");
	return S3S_ERR_NOMEM;
}

static int
find_attr(const s3f_resource *res, const char *path)
{
	const s3f_attr *a = s3f_resource_attr(res, path);

	return a ? (int) (a - res->attrs) : -1;
}

/* ---- rules ---- */

typedef struct rules
{
	bool		positive;
	bool		negative;
	bool		has_length;
	long		length;
	bool		has_minlength;
	long		minlength;
	bool		has_maxlength;
	long		maxlength;
	char	   *enum_list;		/* "a,b,c" (malloc'd) or NULL */
	char		word[32];		/* first word of the definition */
} rules;

static void
parse_rules(const s3f_attr *a, rules *r)
{
	memset(r, 0, sizeof(*r));
	if (a->def == NULL)
		return;
	if (a->def_is_object)
	{
		json_object *o = json_tokener_parse(a->def),
				   *m;

		if (o && json_object_is_type(o, json_type_object))
		{
			if ((m = s3f_jmember(o, "type")) && json_object_is_type(m, json_type_string))
				snprintf(r->word, sizeof(r->word), "%s", json_object_get_string(m));
			r->positive = s3f_js_truthy(s3f_jmember(o, "positive"));
			r->negative = s3f_js_truthy(s3f_jmember(o, "negative"));
			if ((m = s3f_jmember(o, "length")) && json_object_is_type(m, json_type_int))
			{
				r->has_length = true;
				r->length = (long) json_object_get_int64(m);
			}
			if ((m = s3f_jmember(o, "enum")) && json_object_is_type(m, json_type_array))
			{
				s3f_sb		sb = {0};
				size_t		i;

				for (i = 0; i < json_object_array_length(m); i++)
				{
					if (i)
						s3f_sb_putc(&sb, ',');
					s3f_sb_puts(&sb, json_object_get_string(json_object_array_get_idx(m, i)));
				}
				r->enum_list = s3f_sb_finish(&sb);
			}
		}
		json_object_put(o);
		return;
	}
	{
		const char *seg = a->def;
		bool		first = true;

		while (seg)
		{
			const char *end = strchr(seg, '|');
			size_t		n = end ? (size_t) (end - seg) : strlen(seg);
			const char *colon = memchr(seg, ':', n);
			size_t		kl = colon ? (size_t) (colon - seg) : n;
			const char *val = colon ? colon + 1 : NULL;
			size_t		vl = colon ? n - kl - 1 : 0;
			char		vbuf[64];

			if (first)
			{
				snprintf(r->word, sizeof(r->word), "%.*s", (int) (kl < 31 ? kl : 31), seg);
				first = false;
			}
			snprintf(vbuf, sizeof(vbuf), "%.*s", (int) (vl < 63 ? vl : 63), val ? val : "");
#define KEY(s) (kl == strlen(s) && strncmp(seg, s, kl) == 0)
#define TRUE_VAL (val == NULL || strcmp(vbuf, "true") == 0)
			if (KEY("positive"))
				r->positive = TRUE_VAL;
			else if (KEY("negative"))
				r->negative = TRUE_VAL;
			else if (KEY("length") && val)
			{
				r->has_length = true;
				r->length = strtol(vbuf, NULL, 10);
			}
			else if (KEY("minlength") && val)
			{
				r->has_minlength = true;
				r->minlength = strtol(vbuf, NULL, 10);
			}
			else if (KEY("maxlength") && val)
			{
				r->has_maxlength = true;
				r->maxlength = strtol(vbuf, NULL, 10);
			}
			else if (KEY("enum") && val && r->enum_list == NULL)
				r->enum_list = s3f_strndup(val, vl);
#undef KEY
#undef TRUE_VAL
			seg = end ? end + 1 : NULL;
		}
	}
}

static bool
is_numeric_type(const s3f_typeinfo *t)
{
	switch (t->type)
	{
		case S3F_T_NUMBER:
		case S3F_T_INTEGER:
		case S3F_T_MONEY:
		case S3F_T_DECIMAL:
		case S3F_T_GEO_LAT:
		case S3F_T_GEO_LON:
			return true;
		case S3F_T_FORM_SCALAR:
			return t->form_scalar_kind == S3F_T_NUMBER;
		default:
			return false;
	}
}

static bool
is_array_type(s3f_type t)
{
	return t == S3F_T_ARRAY_STRING || t == S3F_T_ARRAY_NUMBER || t == S3F_T_ARRAY_INTEGER ||
		t == S3F_T_ARRAY_JSON || t == S3F_T_EMBEDDING;
}

/* types whose value s3db.js validates as a fastest-validator string (trimmed) */
static bool
is_trimmed_type(const s3f_typeinfo *t)
{
	switch (t->type)
	{
		case S3F_T_STRING:
		case S3F_T_TEXT:
		case S3F_T_UUID:
		case S3F_T_IP4:
		case S3F_T_IP6:
		case S3F_T_MAC:
		case S3F_T_CIDR:
		case S3F_T_SEMVER:
		case S3F_T_PHONE:
		case S3F_T_COLOR:
		case S3F_T_EAN:
			return true;
		case S3F_T_FORM_SCALAR:
			return t->form_scalar_kind == S3F_T_STRING;
		default:
			return false;
	}
}

/* JS String#trim white space at s (UTF-8); returns its byte length or 0 */
static int
js_space(const unsigned char *s, size_t len)
{
	unsigned int cp;
	int			n;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		return (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0D)) ? 1 : 0;
	n = s3f_utf8_next(s, len, &cp);
	if (n <= 0)
		return 0;
	if (cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
		cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF)
		return n;
	return 0;
}

static bool
trim_val(s3f_val *v)
{
	size_t		a = 0,
				b = v->len;
	int			n;
	char	   *t;

	while (a < b && (n = js_space((unsigned char *) v->str + a, b - a)) > 0)
		a += n;
	while (b > a)
	{
		size_t		k = b - 1;

		while (k > a && ((unsigned char) v->str[k] & 0xC0) == 0x80)
			k--;
		n = js_space((unsigned char *) v->str + k, b - k);
		if (n <= 0 || k + n != b)
			break;
		b = k;
	}
	if (a == 0 && b == v->len)
		return true;
	t = s3f_strndup(v->str + a, b - a);
	if (t == NULL)
		return false;
	free(v->str);
	v->str = t;
	v->len = b - a;
	return true;
}

/* fastest-validator's quick e-mail pattern /^\S+@\S+\.\S+$/ */
static bool
email_ok(const char *s, size_t len)
{
	size_t		i,
				j;

	for (i = 0; i < len; i++)
		if (isspace((unsigned char) s[i]) || s[i] == '\0')
			return false;
	for (i = 1; i < len; i++)
		if (s[i] == '@')
			for (j = i + 2; j + 1 < len; j++)
				if (s[j] == '.')
					return true;
	return false;
}

/*
 * An http(s) URL with a host and no white space.  Looser than
 * fastest-validator's pattern on purpose: s3db.js 21.6.2 stores URLs such
 * as "http://localhost:3000/a" (no dot in the host), and whatever s3db.js
 * stores must be writable back through SQL.
 */
static bool
url_ok(const char *s, size_t len)
{
	size_t		i;

	if (len > 8 && strncmp(s, "https://", 8) == 0)
		i = 8;
	else if (len > 7 && strncmp(s, "http://", 7) == 0)
		i = 7;
	else
		return false;
	if (i >= len || s[i] == '/')
		return false;
	for (; i < len; i++)
		if (isspace((unsigned char) s[i]) || s[i] == '\0')
			return false;
	return true;
}

/* RFC 4122 text as fastest-validator's uuid rule accepts it */
static bool
uuid_ok(const char *s, size_t len)
{
	size_t		i;
	int			ver;
	char		var;

	if (len != 36)
		return false;
	for (i = 0; i < 36; i++)
	{
		bool		d = (i == 8 || i == 13 || i == 18 || i == 23);

		if (d ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
			return false;
	}
	ver = s[14] - '0';
	if (ver < 0 || ver > 8)
		return false;
	if (ver == 0)
	{
		for (i = 0; i < 36; i++)
			if (s[i] != '-' && s[i] != '0')
				return false;
		return true;
	}
	var = (char) tolower((unsigned char) s[19]);
	if (ver >= 3 && ver <= 5 && strchr("89ab", var) == NULL)
		return false;
	return true;
}

static bool
ip_ok(int af, const char *s, size_t len)
{
	char		tmp[64];
	unsigned char buf[16];

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(af, tmp, buf) == 1;
}

static bool
enum_ok(const char *list, const char *s, size_t len)
{
	const char *p = list;

	while (p)
	{
		const char *c = strchr(p, ',');
		size_t		n = c ? (size_t) (c - p) : strlen(p);

		if (n == len && memcmp(p, s, n) == 0)
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

static s3s_code
check_fail(s3s_error *err, const s3f_attr *a, const char *fmt, const char *arg, double num)
{
	char		msg[256];

	snprintf(msg, sizeof(msg), fmt, arg ? arg : "", num);
	s3s_error_set(err, S3S_ERR_CONSTRAINT, "encode", NULL, "field \"%.100s\" %s", a->path, msg);
	snprintf(err->s3_code, sizeof(err->s3_code), "check");
	return S3S_ERR_CONSTRAINT;
}

/* normalise one present (non-null) value in place and check its rules */
static s3s_code
check_value(const s3f_attr *a, s3f_val *v, s3s_error *err)
{
	const s3f_typeinfo *t = &a->ti;
	rules		r;
	s3s_code	rc = S3S_OK;
	double		d;

	parse_rules(a, &r);

	if (v->kind == S3F_STR && is_trimmed_type(t) && !trim_val(v))
	{
		rc = oom(err);
		goto done;
	}
	if (v->kind == S3F_STR && (t->type == S3F_T_MAC || t->type == S3F_T_COLOR))
	{
		size_t		i;

		for (i = 0; i < v->len; i++)
			v->str[i] = (char) tolower((unsigned char) v->str[i]);
	}
	if (v->kind == S3F_NUM && v->num == 0 && signbit(v->num))
	{
		s3f_val_free(v);
		s3f_val_set_num(v, 0.0, "0");
	}

	if (is_numeric_type(t) && s3f_input_number(v, &d))
	{
		if (!isfinite(d))
			rc = check_fail(err, a, "must be a finite number%s", NULL, 0);
		else if (t->type == S3F_T_INTEGER && d != floor(d))
			rc = check_fail(err, a, "must be an integer%s", NULL, 0);
		else if (t->has_min && d < t->min)
			rc = check_fail(err, a, "must be at least %s%g", NULL, t->min);
		else if (t->has_max && d > t->max)
			rc = check_fail(err, a, "must be at most %s%g", NULL, t->max);
		else if (r.positive && !(d > 0))
			rc = check_fail(err, a, "must be positive%s", NULL, 0);
		else if (r.negative && !(d < 0))
			rc = check_fail(err, a, "must be negative%s", NULL, 0);
		else if (t->type == S3F_T_MONEY && d < 0)
			rc = check_fail(err, a, "must be at least %s%g (money)", NULL, 0);
		else if (t->type == S3F_T_GEO_LAT && (d < -90 || d > 90))
			rc = check_fail(err, a, "must be a latitude between -90 and 90%s", NULL, 0);
		else if (t->type == S3F_T_GEO_LON && (d < -180 || d > 180))
			rc = check_fail(err, a, "must be a longitude between -180 and 180%s", NULL, 0);
		else if (t->type == S3F_T_DECIMAL && v->kind == S3F_NUM)
		{
			double		scaled = s3f_js_round(d * s3f_pow10(t->precision));
			char	   *txt = isfinite(scaled) ? s3f_fixed_text(scaled, t->precision) : NULL;

			if (txt)
			{
				s3f_val_free(v);
				s3f_val_set_num(v, strtod(txt, NULL), txt);
				free(txt);
			}
		}
		if (rc == S3S_OK && r.enum_list)
		{
			char		nb[64];

			s3f_js_number_to_string(d, nb, sizeof(nb));
			if (!enum_ok(r.enum_list, nb, strlen(nb)))
				rc = check_fail(err, a, "must be one of %s", r.enum_list, 0);
		}
		goto done;
	}

	if (v->kind == S3F_STR && !is_numeric_type(t) && !is_array_type(t->type))
	{
		double		n = (double) s3f_utf16_length(v->str, v->len);
		bool		stringy = is_trimmed_type(t) || t->type == S3F_T_PASSWORD ||
			t->type == S3F_T_SECRET || t->type == S3F_T_JSON || t->type == S3F_T_ANY;

		if (stringy && t->has_min && n < t->min)
			rc = check_fail(err, a, "must be at least %s%g characters long", NULL, t->min);
		else if (stringy && t->has_max && n > t->max)
			rc = check_fail(err, a, "must be at most %s%g characters long", NULL, t->max);
		else if (r.has_minlength && n < r.minlength)
			rc = check_fail(err, a, "must be at least %s%g characters long", NULL, (double) r.minlength);
		else if ((r.has_maxlength || t->maxlength > 0) &&
				 n > (r.has_maxlength ? r.maxlength : t->maxlength))
			rc = check_fail(err, a, "must be at most %s%g characters long", NULL,
							(double) (r.has_maxlength ? r.maxlength : t->maxlength));
		else if (stringy && r.has_length && n != r.length)
			rc = check_fail(err, a, "must be %s%g characters long", NULL, (double) r.length);
		else if (r.enum_list && !enum_ok(r.enum_list, v->str, v->len))
			rc = check_fail(err, a, "must be one of %s", r.enum_list, 0);
		else if (strcmp(r.word, "email") == 0 && !email_ok(v->str, v->len))
			rc = check_fail(err, a, "must be a valid e-mail address%s", NULL, 0);
		else if (strcmp(r.word, "url") == 0 && !url_ok(v->str, v->len))
			rc = check_fail(err, a, "must be a valid url%s", NULL, 0);
		else if (t->type == S3F_T_UUID && !uuid_ok(v->str, v->len))
			rc = check_fail(err, a, "must be a valid uuid%s", NULL, 0);
		/*
		 * s3db.js validates ip4/ip6 as plain strings and stores one that is
		 * not an address as it is; refused only when it would read it back
		 * as an address (see s3f_ip_raw_misread)
		 */
		else if (t->type == S3F_T_IP4 && !ip_ok(AF_INET, v->str, v->len) &&
				 s3f_ip_raw_misread(v->str, v->len, 4))
			rc = check_fail(err, a, "must be a valid ipv4 address%s", NULL, 0);
		else if (t->type == S3F_T_IP6 && !ip_ok(AF_INET6, v->str, v->len) &&
				 s3f_ip_raw_misread(v->str, v->len, 16))
			rc = check_fail(err, a, "must be a valid ipv6 address%s", NULL, 0);
		goto done;
	}

	if (is_array_type(t->type))
	{
		int			n = -1,
					i;

		if (v->kind == S3F_ARRAY)
		{
			n = v->nitems;
			for (i = 0; i < v->nitems; i++)
			{
				s3f_val    *it = &v->items[i];

				if (it->kind == S3F_NUM && it->num == 0 && signbit(it->num))
				{
					s3f_val_free(it);
					s3f_val_set_num(it, 0.0, "0");
				}
				if (t->type == S3F_T_ARRAY_INTEGER && it->kind == S3F_NUM &&
					it->num != floor(it->num))
				{
					rc = check_fail(err, a, "must contain integers only%s", NULL, 0);
					goto done;
				}
			}
		}
		else if (v->kind == S3F_JSON && v->str)
		{
			const char *why;
			json_object *o = s3f_json_parse(v->str, v->len, &why);

			if (json_object_is_type(o, json_type_array))
				n = (int) json_object_array_length(o);
			json_object_put(o);
		}
		if (n >= 0)
		{
			long		want = t->type == S3F_T_EMBEDDING && t->length > 0 ? t->length :
				(r.has_length ? r.length : -1);

			if (want >= 0 && n != want)
				rc = check_fail(err, a, "must contain %s%g items", NULL, (double) want);
			else if (t->has_min && n < t->min)
				rc = check_fail(err, a, "must contain at least %s%g items", NULL, t->min);
			else if (t->has_max && n > t->max)
				rc = check_fail(err, a, "must contain at most %s%g items", NULL, t->max);
			else if (r.has_minlength && n < r.minlength)
				rc = check_fail(err, a, "must contain at least %s%g items", NULL, (double) r.minlength);
			else if (r.has_maxlength && n > r.maxlength)
				rc = check_fail(err, a, "must contain at most %s%g items", NULL, (double) r.maxlength);
		}
	}

done:
	free(r.enum_list);
	return rc;
}

/* does container ci hold a value (its own object, or any member)? */
static bool
container_present(const s3f_resource *res, const s3f_val *vals, int ci)
{
	const char *p = res->attrs[ci].path;
	size_t		n = strlen(p);
	int			j;

	if (vals[ci].kind == S3F_JSON)
		return true;
	for (j = 0; j < res->nattrs; j++)
		if (strncmp(res->attrs[j].path, p, n) == 0 && res->attrs[j].path[n] == '.' &&
			vals[j].kind != S3F_MISSING && vals[j].kind != S3F_NULL)
			return true;
	return false;
}

/* are all the containers above leaf i present? */
static bool
ancestors_present(const s3f_resource *res, const s3f_val *vals, int i)
{
	const char *path = res->attrs[i].path;
	const char *dot;

	for (dot = strchr(path, '.'); dot; dot = strchr(dot + 1, '.'))
	{
		char	   *prefix = s3f_strndup(path, (size_t) (dot - path));
		int			ci;
		bool		present;

		if (prefix == NULL)
			return true;
		ci = find_attr(res, prefix);
		free(prefix);
		if (ci < 0)
			continue;
		present = container_present(res, vals, ci);
		if (!present)
			return false;
	}
	return true;
}

s3s_code
s3f_record_normalize(const s3f_resource *res, const s3f_val *vals,
					 s3f_val *out, s3s_error *err)
{
	s3s_code	rc;
	int			i;

	s3s_error_clear(err);
	rc = s3f_flatten_vals(res, vals, out, err);
	if (rc != S3S_OK)
		return rc;
	for (i = 0; i < res->nattrs; i++)
	{
		const s3f_attr *a = &res->attrs[i];
		s3f_val    *v = &out[i];

		if (a->ti.type == S3F_T_NESTED)
			continue;			/* optional (allNestedObjectsOptional) */
		if (v->kind == S3F_MISSING || v->kind == S3F_NULL)
		{
			if (a->ti.optional || a->plugin || !ancestors_present(res, out, i))
				continue;
			s3s_error_set(err, S3S_ERR_CONSTRAINT, "encode", NULL,
						  "field \"%.100s\" is required", a->path);
			snprintf(err->s3_code, sizeof(err->s3_code), "not_null");
			rc = S3S_ERR_CONSTRAINT;
			break;
		}
		rc = check_value(a, v, err);
		if (rc != S3S_OK)
			break;
	}
	if (rc != S3S_OK)
		s3f_vals_free(out, res->nattrs);
	return rc;
}
