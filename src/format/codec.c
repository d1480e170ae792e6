/*-------------------------------------------------------------------------
 *
 * codec.c
 *		The per-type stored string decoders and encoders (spec 6.2) of the
 *		scalar types, and the dispatch to the other codec files: arrays in
 *		codec_array.c, the compact special formats in codec_special.c and
 *		codec_time.c, secrets in secret.c, classification in codec_type.c.
 *
 * Decoders read what s3db.js writes and return the value s3db.js meant to
 * store, not the one it reads back where it is lossy (spec 6.4).  Nulls
 * are not encoded here: the caller writes the null literal (metadata) or
 * a JSON null (body) itself, so s3f_encode() rejects S3F_NULL/MISSING.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "format/codec_int.h"

s3s_code
s3f_value_error(s3s_error *err, s3s_code code, const char *what,
				const char *raw, size_t len)
{
	char		clean[72];
	size_t		i,
				n = len > 64 ? 64 : len;

	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) raw[i];

		clean[i] = (c >= 0x20 && c < 0x7F && c != '"') ? (char) c : '?';
	}
	clean[n] = '\0';
	if (err)
		s3s_error_set(err, code, code == S3S_ERR_FORMAT ? "decode" : "encode", NULL,
					  "invalid %s value \"%s%s\"", what, clean, len > 64 ? "..." : "");
	return code;
}

/* ---------------------------------------------------------------- decode */

static s3s_code
set_str_clean(s3f_val *out, s3f_kind kind, const char *s, size_t len, s3s_error *err)
{
	if (s3f_utf8_valid(s, len))
		s3f_val_set_str(out, kind, s, len);
	else
	{
		size_t		n;
		char	   *c = s3f_utf8_sanitize(s, len, &n);

		if (c == NULL)
			goto oom;
		s3f_val_set_str(out, kind, c, n);
		free(c);
	}
	if (out->str == NULL)
		goto oom;
	return S3S_OK;
oom:
	memset(out, 0, sizeof(*out));
	if (err)
		s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
	return S3S_ERR_NOMEM;
}

/* scaled / 10^p with its exact text */
static s3s_code
set_fixed(s3f_val *out, double scaled, int p, s3s_error *err)
{
	char	   *txt = s3f_fixed_text(scaled, p);

	if (txt == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_FORMAT, "decode", NULL, "number out of range");
		return S3S_ERR_FORMAT;
	}
	s3f_val_set_num(out, strtod(txt, NULL), txt);
	free(txt);
	return S3S_OK;
}

static s3s_code
decode_text(const char *s, size_t len, s3f_val *out, s3s_error *err)
{
	unsigned char *raw = NULL,
			   *plain = NULL;
	size_t		rawlen = 0,
				plainlen = 0;

	if (len > 4 && strncmp(s, "z85:", 4) == 0)
		raw = s3f_base85_decode(s + 4, len - 4, &rawlen);
	else if (len > 2 && strncmp(s, "z:", 2) == 0)
		raw = s3f_base64_decode(s + 2, len - 2, &rawlen);
	if (raw)
		plain = s3f_raw_inflate(raw, rawlen, &plainlen);
	free(raw);
	if (plain)
	{
		s3s_code	rc = set_str_clean(out, S3F_STR, (char *) plain, plainlen, err);

		free(plain);
		return rc;
	}
	return set_str_clean(out, S3F_STR, s, len, err);
}

static s3s_code
decode_plain_number(const s3f_typeinfo *t, const char *s, size_t len,
					s3f_val *out, s3s_error *err)
{
	double		d;

	if (s3f_parse_number(s, len, &d) && isfinite(d))
	{
		s3f_val_set_num(out, d, NULL);
		return S3S_OK;
	}
	return s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), s, len);
}

s3s_code
s3f_decode(const s3f_typeinfo *t, const char *stored, size_t len,
		   const char *passphrase, s3f_val *out, s3s_error *err)
{
	char		txt[64];
	double		d;

	memset(out, 0, sizeof(*out));
	if (stored == NULL)
		stored = "";

	switch (t->type)
	{
		case S3F_T_STRING:
		case S3F_T_ANY:
		case S3F_T_PASSWORD:
			return set_str_clean(out, S3F_STR, stored, len, err);

		case S3F_T_NUMBER:
			if (len == 0)
			{
				/* s3db.js reads "" back as "" (it wrote 1e-7 so): no number */
				out->kind = S3F_NULL;
				return S3S_OK;
			}
			if (!s3f_undecimal62(stored, len, &d, txt, sizeof(txt)) || !isfinite(d))
				return s3f_value_error(err, S3S_ERR_FORMAT, "number", stored, len);
			s3f_val_set_num(out, d, txt);
			return S3S_OK;

		case S3F_T_INTEGER:
			if (len == 0)
			{
				out->kind = S3F_NULL;
				return S3S_OK;
			}
			d = s3f_unbase62(stored, len);
			if (isnan(d) || !isfinite(d))
				return s3f_value_error(err, S3S_ERR_FORMAT, "integer", stored, len);
			s3f_val_set_num(out, d + 0.0, NULL);
			return S3S_OK;

		case S3F_T_BOOLEAN:
			out->kind = S3F_BOOL;
			out->b = (len == 4 && memcmp(stored, "true", 4) == 0) ||
				(len == 1 && (stored[0] == '1' || stored[0] == 'y')) ||
				(len == 3 && memcmp(stored, "yes", 3) == 0);
			return S3S_OK;

		case S3F_T_JSON:
			if (s3f_json_valid(stored, len))
				return set_str_clean(out, S3F_JSON, stored, len, err);
			return set_str_clean(out, S3F_STR, stored, len, err);

		case S3F_T_OBJECT:
		case S3F_T_ARRAY_JSON:
		case S3F_T_NESTED:
			if (len == 0)
			{
				out->kind = S3F_NULL;
				return S3S_OK;
			}
			if (s3f_json_valid(stored, len))
				return set_str_clean(out, S3F_JSON, stored, len, err);
			return s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), stored, len);

		case S3F_T_ARRAY_STRING:
		case S3F_T_ARRAY_NUMBER:
		case S3F_T_ARRAY_INTEGER:
		case S3F_T_EMBEDDING:
			return s3f_array_decode(t, stored, len, out, err);

		case S3F_T_SECRET:
			{
				char	   *plain;
				size_t		plen;
				s3s_code	rc = s3f_secret_decrypt(passphrase, stored, len, &plain, &plen, err);

				if (rc != S3S_OK)
					return rc;
				if (plen == 4 && memcmp(plain, "null", 4) == 0)
					out->kind = S3F_NULL;
				else if (plen == 9 && memcmp(plain, "undefined", 9) == 0)
					out->kind = S3F_MISSING;
				else
					rc = set_str_clean(out, S3F_STR, plain, plen, err);
				free(plain);
				return rc;
			}

		case S3F_T_BUFFER:
		case S3F_T_BITS:
			{
				size_t		n;
				unsigned char *b = s3f_base64_decode(stored, len, &n);

				if (b == NULL)
					return s3f_value_error(err, S3S_ERR_NOMEM, "buffer", stored, 0);
				out->kind = S3F_BYTES;
				out->str = (char *) b;
				out->len = n;
				return S3S_OK;
			}

		case S3F_T_MONEY:
			if (len >= 1 && stored[0] == '$')
			{
				d = s3f_unbase62(stored + 1, len - 1);
				if (isnan(d))
					return s3f_value_error(err, S3S_ERR_FORMAT, "money", stored, len);
				return set_fixed(out, d, t->precision, err);
			}
			return decode_plain_number(t, stored, len, out, err);

		case S3F_T_DECIMAL:
			if (s3f_unfixed62(stored, len, &d))
				return set_fixed(out, d, t->precision, err);
			return decode_plain_number(t, stored, len, out, err);

		case S3F_T_TEXT:
			return decode_text(stored, len, out, err);

		case S3F_T_DATE:
			if (len >= 2 && stored[0] == '"' && stored[len - 1] == '"' &&
				s3f_json_valid(stored, len))
			{
				json_object *o = json_tokener_parse(stored);
				s3s_code	rc;

				if (o == NULL || !json_object_is_type(o, json_type_string))
				{
					if (o)
						json_object_put(o);
					return set_str_clean(out, S3F_STR, stored, len, err);
				}
				rc = set_str_clean(out, S3F_STR, json_object_get_string(o),
								   (size_t) json_object_get_string_len(o), err);
				json_object_put(o);
				return rc;
			}
			return set_str_clean(out, S3F_STR, stored, len, err);

		case S3F_T_FORM_SCALAR:
			if (t->form_scalar_kind == S3F_T_NUMBER &&
				s3f_parse_number(stored, len, &d) && isfinite(d))
			{
				s3f_val_set_num(out, d, NULL);
				return S3S_OK;
			}
			if (t->form_scalar_kind == S3F_T_BOOLEAN &&
				((len == 4 && memcmp(stored, "true", 4) == 0) ||
				 (len == 5 && memcmp(stored, "false", 5) == 0)))
			{
				out->kind = S3F_BOOL;
				out->b = (len == 4);
				return S3S_OK;
			}
			return set_str_clean(out, S3F_STR, stored, len, err);

		case S3F_T_DATETIME:
		case S3F_T_DATEONLY:
		case S3F_T_TIMEONLY:
		case S3F_T_DURATION:
			return s3f_time_decode(t, stored, len, out, err);

		default:
			return s3f_special_decode(t, stored, len, out, err);
	}
}

s3s_code
s3f_decode_json_value(const s3f_typeinfo *t, const char *json_text,
					  const char *passphrase, s3f_val *out, s3s_error *err)
{
	return s3f_json_value_decode(t, json_text, passphrase, out, err);
}

/* ---------------------------------------------------------------- encode */

/* String(v) of a scalar input, NULL for arrays and nulls. */
static const char *
scalar_text(const s3f_val *in, size_t *len, char *numbuf, size_t numlen)
{
	switch (in->kind)
	{
		case S3F_STR:
		case S3F_JSON:
		case S3F_BYTES:
			*len = in->str ? in->len : 0;
			return in->str ? in->str : "";
		case S3F_NUM:
			s3f_js_number_to_string(in->num, numbuf, numlen);
			*len = strlen(numbuf);
			return numbuf;
		case S3F_BOOL:
			*len = in->b ? 4 : 5;
			return in->b ? "true" : "false";
		default:
			return NULL;
	}
}

/* The number an input denotes (numbers, numeric strings, booleans). */
bool
s3f_input_number(const s3f_val *in, double *d)
{
	if (in->kind == S3F_NUM)
	{
		*d = in->num;
		return true;
	}
	if (in->kind == S3F_BOOL)
	{
		*d = in->b ? 1 : 0;
		return true;
	}
	if (in->kind == S3F_STR && in->str)
	{
		size_t		a = 0,
					b = in->len;

		while (a < b && isspace((unsigned char) in->str[a]))
			a++;
		while (b > a && isspace((unsigned char) in->str[b - 1]))
			b--;
		return s3f_parse_number(in->str + a, b - a, d);
	}
	return false;
}

static s3s_code
emit(char **out, char *s, s3s_error *err)
{
	if (s == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_NOMEM, "encode", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	*out = s;
	return S3S_OK;
}

static s3s_code
bad_input(const s3f_typeinfo *t, const s3f_val *in, s3s_error *err)
{
	char		nb[64];
	size_t		n = 0;
	const char *s = scalar_text(in, &n, nb, sizeof(nb));

	if (s == NULL)
	{
		s = in->kind == S3F_ARRAY ? "(array)" : "null";
		n = strlen(s);
	}
	return s3f_value_error(err, S3S_ERR_INVALID, s3f_type_name(t->type), s, n);
}

static s3s_code
encode_json(const s3f_typeinfo *t, const s3f_val *in, char **out, s3s_error *err)
{
	if (in->kind == S3F_JSON && in->str)
	{
		if (!s3f_json_valid(in->str, in->len))
			return bad_input(t, in, err);
		return emit(out, s3f_json_minify(in->str, in->len), err);
	}
	if (in->kind == S3F_ARRAY)
		return emit(out, s3f_val_to_json(in), err);
	return bad_input(t, in, err);
}

static s3s_code
encode_text(const char *s, size_t len, char **out, s3s_error *err)
{
	bool		must = (len >= 2 && strncmp(s, "z:", 2) == 0) ||
		(len >= 4 && strncmp(s, "z85:", 4) == 0);

	if (len >= 100 || must)
	{
		size_t		zl;
		unsigned char *z = s3f_raw_deflate((const unsigned char *) s, len, &zl);

		if (z)
		{
			char	   *b = s3f_base64_encode(z, zl);

			free(z);
			if (b && (must || strlen(b) + 2 < len))
			{
				size_t		n = strlen(b) + 3;
				char	   *r = malloc(n);

				if (r)
					snprintf(r, n, "z:%s", b);
				free(b);
				return emit(out, r, err);
			}
			free(b);
		}
		if (must)
			return emit(out, NULL, err);
	}
	return emit(out, s3f_strndup(s, len), err);
}

s3s_code
s3f_encode(const s3f_typeinfo *t, const s3f_val *in, const char *passphrase,
		   char **out, s3s_error *err)
{
	char		nb[64];
	size_t		n = 0;
	const char *s;
	double		d;

	*out = NULL;
	if (in == NULL || in->kind == S3F_MISSING || in->kind == S3F_NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_INVALID, "encode", NULL,
						  "null values have no stored %s form", s3f_type_name(t->type));
		return S3S_ERR_INVALID;
	}
	s = scalar_text(in, &n, nb, sizeof(nb));

	switch (t->type)
	{
		case S3F_T_STRING:
		case S3F_T_ANY:
		case S3F_T_PASSWORD:
		case S3F_T_FORM_SCALAR:
			if (s == NULL)
				return encode_json(t, in, out, err);
			return emit(out, s3f_strndup(s, n), err);

		case S3F_T_NUMBER:
			if (!s3f_input_number(in, &d) || !isfinite(d))
				return bad_input(t, in, err);
			return emit(out, s3f_decimal62_safe(d), err);

		case S3F_T_INTEGER:
			if (!s3f_input_number(in, &d) || !isfinite(d) || d != floor(d))
				return bad_input(t, in, err);
			return emit(out, s3f_base62(d), err);

		case S3F_T_BOOLEAN:
			{
				bool		b;

				if (in->kind == S3F_BOOL)
					b = in->b;
				else if (in->kind == S3F_NUM)
					b = in->num == 1;
				else if (in->kind == S3F_STR && s)
					b = (n == 4 && memcmp(s, "true", 4) == 0) || (n == 1 && (s[0] == '1' || s[0] == 'y')) ||
						(n == 3 && memcmp(s, "yes", 3) == 0);
				else
					return bad_input(t, in, err);
				return emit(out, strdup(b ? "1" : "0"), err);
			}

		case S3F_T_JSON:
			if (in->kind == S3F_STR || in->kind == S3F_NUM || in->kind == S3F_BOOL)
				return emit(out, s3f_strndup(s, n), err);
			return encode_json(t, in, out, err);

		case S3F_T_OBJECT:
		case S3F_T_ARRAY_JSON:
		case S3F_T_NESTED:
			return encode_json(t, in, out, err);

		case S3F_T_ARRAY_STRING:
		case S3F_T_ARRAY_NUMBER:
		case S3F_T_ARRAY_INTEGER:
		case S3F_T_EMBEDDING:
			return s3f_array_encode(t, in, out, err);

		case S3F_T_SECRET:
			if (s == NULL)
				return bad_input(t, in, err);
			return s3f_secret_encrypt(passphrase, s, n, out, err);

		case S3F_T_BUFFER:
		case S3F_T_BITS:
			if (in->kind == S3F_BYTES)
				return emit(out, s3f_base64_encode((const unsigned char *) (in->str ? in->str : ""),
												   in->str ? in->len : 0), err);
			if (in->kind == S3F_STR)
				return emit(out, s3f_strndup(s, n), err);
			return bad_input(t, in, err);

		case S3F_T_MONEY:
			{
				char	   *b,
						   *r;
				size_t		rl;

				if (!s3f_input_number(in, &d) || !isfinite(d))
					return bad_input(t, in, err);
				d = s3f_js_round(d * s3f_pow10(t->precision));
				if (!isfinite(d))
					return bad_input(t, in, err);
				b = s3f_base62(d);
				if (b == NULL)
					return emit(out, NULL, err);
				rl = strlen(b) + 2;
				r = malloc(rl);
				if (r)
					snprintf(r, rl, "$%s", b);
				free(b);
				return emit(out, r, err);
			}

		case S3F_T_DECIMAL:
			if (!s3f_input_number(in, &d) || !isfinite(d) ||
				!isfinite(d * s3f_pow10(t->precision)))
				return bad_input(t, in, err);
			return emit(out, s3f_fixed62(d, t->precision), err);

		case S3F_T_TEXT:
			if (s == NULL)
				return bad_input(t, in, err);
			return encode_text(s, n, out, err);

		case S3F_T_DATE:
			{
				s3f_buf		b = {0};

				if (s == NULL)
					return bad_input(t, in, err);
				s3f_json_quote(&b, s, n);
				return emit(out, s3f_buf_finish(&b, NULL), err);
			}

		case S3F_T_DATETIME:
		case S3F_T_DATEONLY:
		case S3F_T_TIMEONLY:
		case S3F_T_DURATION:
			return s3f_time_encode(t, in, out, err);

		default:
			return s3f_special_encode(t, in, out, err);
	}
}
