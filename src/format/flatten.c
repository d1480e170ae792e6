/*-------------------------------------------------------------------------
 *
 * flatten.c
 *		Spreading nested container values onto their leaves, and small
 *		helpers of the write side (clock, sleep, UTF-16 lengths).
 *
 * The FDW hands a nested container (a column holding a JSON object) to the
 * encoder as one value, while s3db.js stores every leaf of it under its own
 * short key (spec 6, step 3).  Flattening turns the first into the second;
 * an empty object stays under the container's own key, where s3db.js puts
 * it as "{}".  Members the schema does not declare are dropped: s3db.js
 * would store them under unmapped keys and lose them on read.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/catalog_int.h"
#include "format/codec_int.h"
#include "format/encode_int.h"

/* ---- small shared helpers ---- */

int64_t
s3f_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
s3f_now_iso(char *buf, size_t buflen)
{
	if (!s3f_format_iso_datetime((double) s3f_now_ms(), buf, buflen) && buflen > 0)
		buf[0] = '\0';
}

void
s3f_sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

size_t
s3f_utf16_length(const char *s, size_t len)
{
	size_t		i,
				n = 0;

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if ((c & 0xC0) != 0x80)
			n += (c >= 0xF0) ? 2 : 1;
	}
	return n;
}

void
s3f_vals_free(s3f_val *vals, int n)
{
	int			i;

	for (i = 0; vals && i < n; i++)
		s3f_val_free(&vals[i]);
}

/* ---- flattening nested containers ---- */

static s3s_code
oom(s3s_error *err)
{
	s3s_error_set(err, S3S_ERR_NOMEM, "encode", NULL, "out of memory");
	return S3S_ERR_NOMEM;
}

/* a JSON member as a logical value */
static bool
json_to_val(json_object *j, s3f_val *out)
{
	memset(out, 0, sizeof(*out));
	switch (json_object_get_type(j))
	{
		case json_type_null:
			out->kind = S3F_NULL;
			return true;
		case json_type_boolean:
			out->kind = S3F_BOOL;
			out->b = json_object_get_boolean(j);
			return true;
		case json_type_int:
		case json_type_double:
			{
				char	   *t = s3f_json_text(j);

				if (t == NULL)
					return false;
				s3f_val_set_num(out, json_object_get_double(j), t);
				free(t);
				return out->str != NULL;
			}
		case json_type_string:
			s3f_val_set_str(out, S3F_STR, json_object_get_string(j),
							(size_t) json_object_get_string_len(j));
			return out->str != NULL;
		default:
			{
				char	   *t = s3f_json_text(j);

				if (t == NULL)
					return false;
				s3f_val_set_str(out, S3F_JSON, t, strlen(t));
				free(t);
				return out->str != NULL;
			}
	}
}

static int
find_attr(const s3f_resource *res, const char *path)
{
	const s3f_attr *a = s3f_resource_attr(res, path);

	return a ? (int) (a - res->attrs) : -1;
}

/* spread object o over the attributes below container ci */
static s3s_code
spread(const s3f_resource *res, int ci, json_object *o, s3f_val *out, int depth,
	   s3s_error *err)
{
	const char *cpath = res->attrs[ci].path;

	if (json_object_object_length(o) == 0)
	{
		if (out[ci].kind == S3F_MISSING)
			s3f_val_set_str(&out[ci], S3F_JSON, "{}", 2);
		return out[ci].kind == S3F_JSON && out[ci].str == NULL ? oom(err) : S3S_OK;
	}
	json_object_object_foreach(o, k, v)
	{
		size_t		n = strlen(cpath) + strlen(k) + 2;
		char	   *path = malloc(n);
		int			i;

		if (path == NULL)
			return oom(err);
		snprintf(path, n, "%s.%s", cpath, k);
		i = find_attr(res, path);
		free(path);
		if (i < 0)
			continue;			/* undeclared member: s3db.js would lose it too */
		if (res->attrs[i].ti.type == S3F_T_NESTED)
		{
			if (json_object_is_type(v, json_type_object) && depth < S3F_MAX_DEPTH)
			{
				s3s_code	rc = spread(res, i, v, out, depth + 1, err);

				if (rc != S3S_OK)
					return rc;
			}
			else if (out[i].kind == S3F_MISSING && !json_to_val(v, &out[i]))
				return oom(err);
			continue;
		}
		if (out[i].kind == S3F_MISSING && !json_to_val(v, &out[i]))
			return oom(err);
	}
	return S3S_OK;
}

s3s_code
s3f_flatten_vals(const s3f_resource *res, const s3f_val *vals, s3f_val *out,
				 s3s_error *err)
{
	int			i,
				depth,
				maxdepth = 0;

	for (i = 0; i < res->nattrs; i++)
	{
		memset(&out[i], 0, sizeof(s3f_val));
		if (res->attrs[i].depth > maxdepth)
			maxdepth = res->attrs[i].depth;
	}
	for (i = 0; i < res->nattrs; i++)
		if (res->attrs[i].ti.type != S3F_T_NESTED &&
			s3f_val_copy(&out[i], &vals[i]) != 0)
			goto nomem;

	/* deepest containers first, so an inner container given explicitly wins */
	for (depth = maxdepth; depth >= 0; depth--)
		for (i = 0; i < res->nattrs; i++)
		{
			const s3f_val *v = &vals[i];
			json_object *o;
			const char *why;
			s3s_code	rc;

			if (res->attrs[i].ti.type != S3F_T_NESTED || res->attrs[i].depth != depth)
				continue;
			if (v->kind == S3F_MISSING)
				continue;
			if (v->kind == S3F_NULL)
			{
				if (out[i].kind == S3F_MISSING)
					out[i].kind = S3F_NULL;
				continue;
			}
			if (v->kind != S3F_JSON || v->str == NULL ||
				(o = s3f_json_parse(v->str, v->len, &why)) == NULL)
			{
				s3s_error_set(err, S3S_ERR_INVALID, "encode", NULL,
							  "field \"%.100s\" expects a JSON object", res->attrs[i].path);
				s3f_vals_free(out, res->nattrs);
				return S3S_ERR_INVALID;
			}
			if (json_object_is_type(o, json_type_null))
			{
				if (out[i].kind == S3F_MISSING)
					out[i].kind = S3F_NULL;
				json_object_put(o);
				continue;
			}
			if (!json_object_is_type(o, json_type_object))
			{
				json_object_put(o);
				s3s_error_set(err, S3S_ERR_INVALID, "encode", NULL,
							  "field \"%.100s\" expects a JSON object", res->attrs[i].path);
				s3f_vals_free(out, res->nattrs);
				return S3S_ERR_INVALID;
			}
			rc = spread(res, i, o, out, depth, err);
			json_object_put(o);
			if (rc != S3S_OK)
			{
				s3f_vals_free(out, res->nattrs);
				return rc;
			}
		}
	return S3S_OK;

nomem:
	s3f_vals_free(out, res->nattrs);
	return oom(err);
}
