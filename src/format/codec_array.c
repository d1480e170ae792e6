/*-------------------------------------------------------------------------
 *
 * codec_array.c
 *		Arrays of strings and numbers, and embeddings (spec 6.2):
 *		"a|b" with backslash escapes, decimal62 or base62 items joined by
 *		"|", and the batch62 form "^[item,item,...]" of embeddings.
 *
 * Array inputs for encoding may be an S3F_ARRAY or the JSON text of an
 * array (S3F_JSON), which is what the FDW has at hand for a jsonb column.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "format/codec_int.h"

#define EMBED_PRECISION 6

/* Split s3db.js style: "\x" is x, unescaped "|" separates. */
static int
split_items(const char *s, size_t len, char sep, char ***items, size_t **lens)
{
	size_t		i,
				n = 1,
				k = 0;
	char	   *cur;
	size_t		cl = 0;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == sep)
			n++;
	}
	*items = calloc(n, sizeof(char *));
	*lens = calloc(n, sizeof(size_t));
	cur = malloc(len + 1);
	if (*items == NULL || *lens == NULL || cur == NULL)
		goto oom;
	for (i = 0; i <= len; i++)
	{
		if (i < len && s[i] == '\\' && i + 1 < len)
			cur[cl++] = s[++i];
		else if (i == len || s[i] == sep)
		{
			(*items)[k] = s3f_strndup(cur, cl);
			if ((*items)[k] == NULL)
				goto oom;
			(*lens)[k++] = cl;
			cl = 0;
		}
		else
			cur[cl++] = s[i];
	}
	free(cur);
	return (int) n;
oom:
	free(cur);
	if (*items)
		for (i = 0; i < k; i++)
			free((*items)[i]);
	free(*items);
	free(*lens);
	*items = NULL;
	*lens = NULL;
	return -1;
}

static s3s_code
nomem(s3s_error *err)
{
	if (err)
		s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
	return S3S_ERR_NOMEM;
}

static s3s_code
fixed_item(const char *s, size_t len, bool batch, s3f_val *out)
{
	double		scaled;
	char	   *txt;

	if (len == 0)
	{
		out->kind = S3F_NULL;
		return S3S_OK;
	}
	if (batch)
	{
		scaled = s3f_unbase62(s, len);
		if (isnan(scaled) || (len == 1 && s[0] == '-'))
			return S3S_ERR_FORMAT;
	}
	else if (!s3f_unfixed62(s, len, &scaled))
		return S3S_ERR_FORMAT;
	txt = s3f_fixed_text(scaled, EMBED_PRECISION);
	if (txt == NULL)
		return S3S_ERR_FORMAT;
	s3f_val_set_num(out, strtod(txt, NULL), txt);
	free(txt);
	return out->str ? S3S_OK : S3S_ERR_NOMEM;
}

s3s_code
s3f_array_decode(const s3f_typeinfo *t, const char *s, size_t len,
				 s3f_val *out, s3s_error *err)
{
	char	  **items = NULL;
	size_t	   *lens = NULL;
	int			n,
				i;
	bool		batch = false;
	const char *body = s;
	size_t		blen = len;
	s3s_code	rc = S3S_OK;

	memset(out, 0, sizeof(*out));
	out->kind = S3F_ARRAY;
	if (len == 0 || (t->type == S3F_T_EMBEDDING && len == 3 && memcmp(s, "^[]", 3) == 0))
		return S3S_OK;
	if (t->type == S3F_T_EMBEDDING && len >= 2 && s[0] == '^' && s[1] == '[')
	{
		if (len < 3 || s[len - 1] != ']')
		{
			out->kind = S3F_MISSING;
			return s3f_value_error(err, S3S_ERR_FORMAT, "embedding", s, len);
		}
		batch = true;
		body = s + 2;
		blen = len - 3;
	}
	n = split_items(body, blen, batch ? ',' : '|', &items, &lens);
	if (n < 0)
		return nomem(err);
	out->items = calloc((size_t) n, sizeof(s3f_val));
	if (out->items == NULL)
		rc = nomem(err);
	for (i = 0; rc == S3S_OK && i < n; i++)
	{
		s3f_val    *it = &out->items[i];
		char		txt[64];
		double		d;

		out->nitems = i + 1;
		switch (t->type)
		{
			case S3F_T_ARRAY_STRING:
				if (s3f_utf8_valid(items[i], lens[i]))
					s3f_val_set_str(it, S3F_STR, items[i], lens[i]);
				else
				{
					size_t		cl;
					char	   *c = s3f_utf8_sanitize(items[i], lens[i], &cl);

					if (c)
						s3f_val_set_str(it, S3F_STR, c, cl);
					free(c);
				}
				if (it->str == NULL)
					rc = nomem(err);
				break;
			case S3F_T_ARRAY_NUMBER:
				if (lens[i] == 0)
					it->kind = S3F_NULL;
				else if (s3f_undecimal62(items[i], lens[i], &d, txt, sizeof(txt)) && isfinite(d))
					s3f_val_set_num(it, d, txt);
				else
					rc = s3f_value_error(err, S3S_ERR_FORMAT, "array<number>", s, len);
				break;
			case S3F_T_ARRAY_INTEGER:
				if (lens[i] == 0)
					it->kind = S3F_NULL;
				else if (!isnan(d = s3f_unbase62(items[i], lens[i])) && isfinite(d))
					s3f_val_set_num(it, d + 0.0, NULL);
				else
					rc = s3f_value_error(err, S3S_ERR_FORMAT, "array<integer>", s, len);
				break;
			default:
				rc = fixed_item(items[i], lens[i], batch, it);
				if (rc == S3S_ERR_NOMEM)
					nomem(err);
				else if (rc != S3S_OK)
					rc = s3f_value_error(err, S3S_ERR_FORMAT, "embedding", s, len);
				break;
		}
	}
	for (i = 0; i < n; i++)
		free(items[i]);
	free(items);
	free(lens);
	if (rc != S3S_OK)
		s3f_val_free(out);
	return rc;
}

/* ---------------------------------------------------------------- encode */

/* A JSON array text as an S3F_ARRAY of scalars (nested values as JSON). */
static bool
json_to_array(const char *text, size_t len, s3f_val *out)
{
	json_object *o;
	size_t		i,
				n;
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	if (!s3f_json_valid(text, len))
		return false;
	o = json_tokener_parse(text);
	if (o == NULL || !json_object_is_type(o, json_type_array))
	{
		if (o)
			json_object_put(o);
		return false;
	}
	n = json_object_array_length(o);
	out->kind = S3F_ARRAY;
	out->items = calloc(n ? n : 1, sizeof(s3f_val));
	if (out->items == NULL)
		ok = false;
	for (i = 0; ok && i < n; i++)
	{
		json_object *e = json_object_array_get_idx(o, i);
		s3f_val    *it = &out->items[i];
		const char *js;

		out->nitems = (int) i + 1;
		switch (json_object_get_type(e))
		{
			case json_type_null:
				it->kind = S3F_NULL;
				break;
			case json_type_boolean:
				it->kind = S3F_BOOL;
				it->b = json_object_get_boolean(e);
				break;
			case json_type_int:
			case json_type_double:
				{
					double		d;

					js = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
					if (!s3f_parse_number(js, strlen(js), &d))
						d = json_object_get_double(e);
					s3f_val_set_num(it, d, NULL);
				}
				break;
			case json_type_string:
				s3f_val_set_str(it, S3F_STR, json_object_get_string(e),
								(size_t) json_object_get_string_len(e));
				break;
			default:
				js = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
				s3f_val_set_str(it, S3F_JSON, js, strlen(js));
				break;
		}
	}
	json_object_put(o);
	if (!ok)
		s3f_val_free(out);
	return ok;
}

static bool
item_number(const s3f_val *it, double *d)
{
	if (it->kind == S3F_NUM || it->kind == S3F_STR || it->kind == S3F_BOOL)
		return s3f_input_number(it, d);
	return false;
}

s3s_code
s3f_array_encode(const s3f_typeinfo *t, const s3f_val *in, char **out, s3s_error *err)
{
	s3f_val		tmp = {0};
	const s3f_val *arr = in;
	s3f_buf		b = {0};
	s3s_code	rc = S3S_OK;
	int			i;

	*out = NULL;
	if (in->kind == S3F_JSON && in->str)
	{
		if (!json_to_array(in->str, in->len, &tmp))
			return s3f_value_error(err, S3S_ERR_INVALID, s3f_type_name(t->type), in->str, in->len);
		arr = &tmp;
	}
	else if (in->kind != S3F_ARRAY)
		return s3f_value_error(err, S3S_ERR_INVALID, s3f_type_name(t->type),
							   in->str ? in->str : "", in->str ? in->len : 0);

	if (t->type == S3F_T_EMBEDDING)
		s3f_buf_put(&b, "^[", 2);
	else
		s3f_buf_put(&b, "", 0);
	for (i = 0; rc == S3S_OK && i < arr->nitems; i++)
	{
		const s3f_val *it = &arr->items[i];
		char		nb[64];
		double		d;
		char	   *e = NULL;

		if (i > 0)
			s3f_buf_putc(&b, t->type == S3F_T_EMBEDDING ? ',' : '|');
		switch (t->type)
		{
			case S3F_T_ARRAY_STRING:
				if (it->kind == S3F_STR && it->str)
				{
					size_t		k;

					for (k = 0; k < it->len; k++)
					{
						if (it->str[k] == '\\' || it->str[k] == '|')
							s3f_buf_putc(&b, '\\');
						s3f_buf_putc(&b, it->str[k]);
					}
				}
				else if (it->kind == S3F_NUM)
				{
					s3f_js_number_to_string(it->num, nb, sizeof(nb));
					s3f_buf_puts(&b, nb);
				}
				else if (it->kind == S3F_BOOL)
					s3f_buf_puts(&b, it->b ? "true" : "false");
				else if (it->kind == S3F_JSON && it->str)
					s3f_buf_put(&b, it->str, it->len);
				else
					s3f_buf_puts(&b, "null");
				break;
			case S3F_T_ARRAY_NUMBER:
				if (it->kind == S3F_NULL || it->kind == S3F_MISSING)
					break;
				if (!item_number(it, &d) || !isfinite(d))
					rc = S3S_ERR_INVALID;
				else if ((e = s3f_decimal62_safe(d)) != NULL)
					s3f_buf_puts(&b, e);
				break;
			case S3F_T_ARRAY_INTEGER:
				if (it->kind == S3F_NULL || it->kind == S3F_MISSING)
					break;
				if (!item_number(it, &d) || !isfinite(d) || d != floor(d))
					rc = S3S_ERR_INVALID;
				else if ((e = s3f_base62(d)) != NULL)
					s3f_buf_puts(&b, e);
				break;
			default:
				if (it->kind == S3F_NULL || it->kind == S3F_MISSING)
					break;
				if (!item_number(it, &d) || !isfinite(d))
					rc = S3S_ERR_INVALID;
				else
				{
					d = s3f_js_round(d * s3f_pow10(EMBED_PRECISION));
					if (d == 0)
						s3f_buf_putc(&b, '0');
					else if (isfinite(d) && (e = s3f_base62(fabs(d))) != NULL)
					{
						if (d < 0)
							s3f_buf_putc(&b, '-');
						s3f_buf_puts(&b, e);
					}
					else
						rc = S3S_ERR_INVALID;
				}
				break;
		}
		free(e);
		if (rc != S3S_OK)
		{
			char		nb2[64];
			const char *txt = it->str ? it->str : "null";
			size_t		tl = it->str ? it->len : 4;

			if (it->kind == S3F_NUM)
			{
				s3f_js_number_to_string(it->num, nb2, sizeof(nb2));
				txt = nb2;
				tl = strlen(nb2);
			}
			s3f_value_error(err, rc, s3f_type_name(t->type), txt, tl);
		}
	}
	if (t->type == S3F_T_EMBEDDING)
		s3f_buf_putc(&b, ']');
	s3f_val_free(&tmp);
	if (rc != S3S_OK)
	{
		free(s3f_buf_finish(&b, NULL));
		return rc;
	}
	*out = s3f_buf_finish(&b, NULL);
	if (*out == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_NOMEM, "encode", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	return S3S_OK;
}
