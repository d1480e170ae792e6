/*-------------------------------------------------------------------------
 *
 * ids.c
 *		Record ids (spec 10.1, 10.2): random ids from s3db.js's alphabet and
 *		the incremental id configurations.
 *
 * Random ids take each character from a 64-character alphabet indexed by
 * the low six bits of a random byte, as nanoid does, so ids we generate
 * look and behave like s3db.js's own.
 *
 * An incremental configuration is written by the user in one of the forms
 * s3db.js accepts ("incremental", "incremental:1000", "incremental:ORD-0001",
 * "incremental:fast", or an object {"type":"incremental", ...}); s3db.js
 * does not persist it, so both sides must be given the same one.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/catalog_int.h"
#include "format/codec_int.h"
#include "format/encode_int.h"
#include "store/store_int.h"

static const char id_alphabet[] =
"useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";

char *
s3f_random_id(int size)
{
	unsigned char *rnd;
	char	   *id;
	int			i;

	if (size <= 0 || size > 1024)
		return NULL;
	rnd = malloc((size_t) size);
	id = malloc((size_t) size + 1);
	if (rnd == NULL || id == NULL)
	{
		free(rnd);
		free(id);
		return NULL;
	}
	s3s_random_bytes(rnd, (size_t) size);
	for (i = 0; i < size; i++)
		id[i] = id_alphabet[rnd[i] & 63];
	id[size] = '\0';
	free(rnd);
	return id;
}

void
s3f_incremental_free(s3f_incremental *c)
{
	if (c == NULL)
		return;
	free(c->prefix);
	c->prefix = NULL;
}

static void
defaults(s3f_incremental *c)
{
	memset(c, 0, sizeof(*c));
	c->start = 1;
	c->increment = 1;
	c->batch_size = 100;
}

static bool
fail(s3f_incremental *c, s3s_error *err, const char *spec)
{
	s3f_incremental_free(c);
	s3s_error_set(err, S3S_ERR_INVALID, "parse", NULL,
				  "invalid incremental id configuration \"%.100s\"", spec);
	return false;
}

/* rest == String(parseInt(rest)): an integer in canonical form */
static bool
canonical_int(const char *s, double *out)
{
	const char *p = s;
	double		v = 0;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '\0') || strlen(p) > 15)
		return false;
	for (; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (s[0] == '-' && v == 0)
		return false;			/* String(parseInt("-0")) is "0" */
	*out = s[0] == '-' ? -v : v;
	return true;
}

/* ^([A-Za-z]+-?)(\d+)$ */
static bool
prefixed(const char *s, s3f_incremental *c)
{
	const char *p = s,
			   *digits;
	double		v = 0;

	while (isalpha((unsigned char) *p))
		p++;
	if (p == s)
		return false;
	if (*p == '-')
		p++;
	digits = p;
	if (*p == '\0' || strlen(p) > 15)
		return false;
	for (; *p; p++)
	{
		if (!isdigit((unsigned char) *p))
			return false;
		v = v * 10 + (*p - '0');
	}
	free(c->prefix);
	c->prefix = s3f_strndup(s, (size_t) (digits - s));
	c->padding = (int) strlen(digits);
	c->start = v;
	return c->prefix != NULL;
}

static bool
parse_rest(const char *rest, s3f_incremental *c)
{
	if (canonical_int(rest, &c->start))
		return true;
	return prefixed(rest, c);
}

static bool
parse_object(const char *spec, s3f_incremental *c)
{
	const char *why;
	json_object *o = s3f_json_parse(spec, strlen(spec), &why),
			   *m;
	bool		ok = false;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	m = s3f_jmember(o, "type");
	if (!json_object_is_type(m, json_type_string) ||
		strcmp(json_object_get_string(m), "incremental") != 0)
		goto out;
#define NUMBER(x) (json_object_is_type((x), json_type_int) || json_object_is_type((x), json_type_double))
	if ((m = s3f_jmember(o, "start")) && NUMBER(m))
		c->start = json_object_get_double(m);
	if ((m = s3f_jmember(o, "increment")) && NUMBER(m))
		c->increment = json_object_get_double(m);
	if ((m = s3f_jmember(o, "padding")) && NUMBER(m))
		c->padding = (int) json_object_get_int(m);
	if ((m = s3f_jmember(o, "batchSize")) && NUMBER(m) && json_object_get_int(m) > 0)
		c->batch_size = json_object_get_int(m);
#undef NUMBER
	if ((m = s3f_jmember(o, "prefix")) && json_object_is_type(m, json_type_string))
	{
		c->prefix = strdup(json_object_get_string(m));
		if (c->prefix == NULL)
			goto out;
	}
	if ((m = s3f_jmember(o, "mode")) && json_object_is_type(m, json_type_string))
		c->fast = strcmp(json_object_get_string(m), "fast") == 0;
	ok = isfinite(c->start) && isfinite(c->increment) && c->padding >= 0 && c->padding <= 64;
out:
	json_object_put(o);
	return ok;
}

bool
s3f_incremental_parse(const char *spec, s3f_incremental *out, s3s_error *err)
{
	const char *rest;

	defaults(out);
	if (spec == NULL)
		return fail(out, err, "");
	while (*spec == ' ')
		spec++;
	if (*spec == '{')
	{
		if (!parse_object(spec, out))
			return fail(out, err, spec);
	}
	else if (strcmp(spec, "incremental") == 0)
		;
	else if (strncmp(spec, "incremental:", 12) == 0)
	{
		rest = spec + 12;
		if (strcmp(rest, "fast") == 0)
			out->fast = true;
		else if (strncmp(rest, "fast:", 5) == 0)
		{
			out->fast = true;
			if (!parse_rest(rest + 5, out))
				return fail(out, err, spec);
		}
		else if (!parse_rest(rest, out))
			return fail(out, err, spec);
	}
	else
		return fail(out, err, spec);
	if (out->prefix == NULL && (out->prefix = strdup("")) == NULL)
		return fail(out, err, spec);
	return true;
}

char *
s3f_incremental_format(const s3f_incremental *c, double value)
{
	char		num[64];
	const char *prefix = c->prefix ? c->prefix : "";
	size_t		nl,
				pad = 0,
				pl = strlen(prefix);
	char	   *out;

	s3f_js_number_to_string(value, num, sizeof(num));
	nl = strlen(num);
	if (c->padding > 0 && (size_t) c->padding > nl)
		pad = (size_t) c->padding - nl;
	out = malloc(pl + pad + nl + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, prefix, pl);
	memset(out + pl, '0', pad);
	memcpy(out + pl + pad, num, nl + 1);
	return out;
}
