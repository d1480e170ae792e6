/*-------------------------------------------------------------------------
 *
 * partition.c
 *		Partition reference keys and listing prefixes (spec 9).
 *
 * A reference is the empty object resource=R/partition=P/f1=v1/.../id=ID;
 * its field segments come in ICU order of the field names (s3f_partition
 * keeps them sorted) and each value is the JavaScript String() of the
 * record's logical value after the field's rule (maxlength:N cuts to N
 * UTF-16 units; a rule mentioning "date" keeps the UTC calendar date).
 * Values are not escaped: a "/" in a value makes extra key levels, as
 * s3db.js does.
 *
 * s3db.js builds these keys with a POSIX path join, which collapses "//"
 * and resolves "." and ".." segments.  We collapse "//" the same way but
 * never produce a key with a "." or ".." segment, or with a NUL: for such
 * a value no reference is written (NULL is returned), since resolving the
 * segment would address another record's key space.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/catalog_int.h"
#include "format/codec_int.h"
#include "format/encode_int.h"

/* String() of a JSON value: arrays comma-joined, objects "[object Object]" */
static void
json_string_of(s3f_buf *b, json_object *o, int depth)
{
	switch (json_object_get_type(o))
	{
		case json_type_null:
			if (depth > 0)
				break;			/* [null].join() is "" */
			s3f_buf_puts(b, "null");
			break;
		case json_type_boolean:
			s3f_buf_puts(b, json_object_get_boolean(o) ? "true" : "false");
			break;
		case json_type_int:
		case json_type_double:
			{
				char		t[64];

				s3f_js_number_to_string(json_object_get_double(o), t, sizeof(t));
				s3f_buf_puts(b, t);
				break;
			}
		case json_type_string:
			s3f_buf_put(b, json_object_get_string(o), (size_t) json_object_get_string_len(o));
			break;
		case json_type_array:
			{
				size_t		i;

				for (i = 0; i < json_object_array_length(o) && depth < S3F_MAX_DEPTH; i++)
				{
					if (i)
						s3f_buf_putc(b, ',');
					json_string_of(b, json_object_array_get_idx(o, i), depth + 1);
				}
				break;
			}
		case json_type_object:
			s3f_buf_puts(b, "[object Object]");
			break;
	}
}

static void
val_string_of(s3f_buf *b, const s3f_val *v, int depth)
{
	char		t[64];
	int			i;

	switch (v->kind)
	{
		case S3F_MISSING:
		case S3F_NULL:
			if (depth == 0)
				s3f_buf_puts(b, v->kind == S3F_NULL ? "null" : "undefined");
			break;
		case S3F_BOOL:
			s3f_buf_puts(b, v->b ? "true" : "false");
			break;
		case S3F_NUM:
			s3f_js_number_to_string(v->num, t, sizeof(t));
			s3f_buf_puts(b, t);
			break;
		case S3F_STR:
		case S3F_BYTES:
			s3f_buf_put(b, v->str ? v->str : "", v->str ? v->len : 0);
			break;
		case S3F_JSON:
			{
				const char *why;
				json_object *o = v->str ? s3f_json_parse(v->str, v->len, &why) : NULL;

				if (o == NULL)
					s3f_buf_put(b, v->str ? v->str : "", v->str ? v->len : 0);
				else
					json_string_of(b, o, depth);
				json_object_put(o);
				break;
			}
		case S3F_ARRAY:
			for (i = 0; i < v->nitems && depth < S3F_MAX_DEPTH; i++)
			{
				if (i)
					s3f_buf_putc(b, ',');
				val_string_of(b, &v->items[i], depth + 1);
			}
			break;
	}
}

/* the value of rule "maxlength:N", or -1 */
static long
rule_maxlength(const char *rule)
{
	const char *p = rule ? strstr(rule, "maxlength:") : NULL;

	if (p == NULL || p[10] < '0' || p[10] > '9')
		return -1;
	return strtol(p + 10, NULL, 10);
}

/* the first n UTF-16 units of s; a split surrogate pair becomes U+FFFD */
static void
cut_utf16(s3f_buf *b, const char *s, size_t len, long n)
{
	size_t		i = 0;
	long		units = 0;

	while (i < len && units < n)
	{
		unsigned char c = (unsigned char) s[i];
		size_t		cl = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

		if (i + cl > len)
			cl = len - i;
		if (cl == 4 && units + 2 > n)
		{
			s3f_buf_put(b, "\xEF\xBF\xBD", 3);
			return;
		}
		s3f_buf_put(b, s + i, cl);
		units += cl == 4 ? 2 : 1;
		i += cl;
	}
}

char *
s3f_partition_value_text(const char *rule, const s3f_val *v)
{
	s3f_buf		b = {0};
	long		maxlen = rule_maxlength(rule);

	if (v == NULL || v->kind == S3F_MISSING || v->kind == S3F_NULL)
		return NULL;
	if (v->kind == S3F_STR && v->str)
	{
		const char *s = v->str;
		size_t		len = v->len;
		char	   *cut = NULL;

		if (maxlen >= 0 && (long) s3f_utf16_length(s, len) > maxlen)
		{
			s3f_buf		c = {0};

			cut_utf16(&c, s, len, maxlen);
			s3f_buf_put(&c, "", 0);
			cut = s3f_buf_finish(&c, &len);
			if (cut == NULL)
				return NULL;
			s = cut;
		}
		if (rule && strstr(rule, "date"))
		{
			const char *t = memchr(s, 'T', len);
			double		ms;
			char		iso[40];

			if (t && memchr(s, 'Z', len))
				len = (size_t) (t - s);
			else if (s3f_parse_iso_datetime(s, len, &ms) &&
					 s3f_format_iso_datetime(ms, iso, sizeof(iso)))
			{
				free(cut);
				return s3f_strndup(iso, 10);
			}
		}
		s3f_buf_put(&b, s, len);
		free(cut);
		return s3f_buf_finish(&b, NULL);
	}
	val_string_of(&b, v, 0);
	s3f_buf_put(&b, "", 0);
	return s3f_buf_finish(&b, NULL);
}

/*
 * Append "/seg" to b with "//" collapsed; false when the text makes a "."
 * or ".." segment or holds a NUL.
 */
static bool
append_segment(s3f_buf *b, const char *text, size_t len)
{
	size_t		i = 0;

	if (memchr(text, '\0', len))
		return false;
	if (b->len == 0 || b->data[b->len - 1] != '/')
		s3f_buf_putc(b, '/');
	while (i < len)
	{
		const char *slash = memchr(text + i, '/', len - i);
		size_t		n = slash ? (size_t) (slash - (text + i)) : len - i;

		if ((n == 1 && text[i] == '.') || (n == 2 && text[i] == '.' && text[i + 1] == '.'))
			return false;
		s3f_buf_put(b, text + i, n);
		i += n;
		if (slash)
		{
			i++;
			if (b->len > 0 && b->data[b->len - 1] != '/')
				s3f_buf_putc(b, '/');
		}
	}
	return true;
}

static bool
append_field(s3f_buf *b, const char *field, const char *value)
{
	size_t		fl = strlen(field),
				vl = strlen(value);
	char	   *seg = malloc(fl + vl + 2);
	bool		ok;

	if (seg == NULL)
	{
		b->oom = true;
		return false;
	}
	memcpy(seg, field, fl);
	seg[fl] = '=';
	memcpy(seg + fl + 1, value, vl + 1);
	ok = append_segment(b, seg, fl + vl + 1);
	free(seg);
	return ok;
}

/* the logical value of a partition field: a flattened leaf of the record */
static const s3f_val *
field_value(const s3f_resource *res, const s3f_val *flat, const char *field)
{
	const s3f_attr *a = s3f_resource_attr(res, field);

	return a ? &flat[a - res->attrs] : NULL;
}

static bool
text_has_nul(const s3f_val *v)
{
	return v->kind == S3F_STR && v->str && strlen(v->str) != v->len;
}

char *
s3f_partition_key(const s3f_resource *res, const s3f_partition *p,
				  const s3f_val *vals, const char *id)
{
	s3f_val    *flat = calloc(res->nattrs ? res->nattrs : 1, sizeof(s3f_val));
	s3f_buf		b = {0};
	s3s_error	err;
	bool		ok = true;
	int			i;

	if (flat == NULL || id == NULL)
	{
		free(flat);
		return NULL;
	}
	if (s3f_flatten_vals(res, vals, flat, &err) != S3S_OK)
	{
		free(flat);
		return NULL;
	}
	s3f_buf_puts(&b, "resource=");
	s3f_buf_puts(&b, res->name);
	s3f_buf_puts(&b, "/partition=");
	s3f_buf_puts(&b, p->name);
	for (i = 0; i < p->nfields && ok; i++)
	{
		const s3f_val *v = field_value(res, flat, p->fields[i]);
		char	   *text;

		if (v == NULL || v->kind == S3F_MISSING || v->kind == S3F_NULL || text_has_nul(v))
		{
			ok = false;
			break;
		}
		text = s3f_partition_value_text(p->rules ? p->rules[i] : NULL, v);
		if (text == NULL)
		{
			ok = false;
			break;
		}
		ok = append_field(&b, p->fields[i], text);
		free(text);
	}
	if (ok)
		ok = append_field(&b, "id", id);
	s3f_vals_free(flat, res->nattrs);
	free(flat);
	if (!ok)
	{
		free(s3f_buf_finish(&b, NULL));
		return NULL;
	}
	return s3f_buf_finish(&b, NULL);
}

char *
s3f_partition_prefix(const s3f_resource *res, const s3f_partition *p,
					 const s3f_val *const *field_vals)
{
	s3f_buf		b = {0};
	int			i;

	s3f_buf_puts(&b, "resource=");
	s3f_buf_puts(&b, res->name);
	s3f_buf_puts(&b, "/partition=");
	s3f_buf_puts(&b, p->name);
	for (i = 0; field_vals && i < p->nfields; i++)
	{
		const s3f_val *v = field_vals[i];
		char	   *text;
		bool		ok;

		if (v == NULL || v->kind == S3F_MISSING || v->kind == S3F_NULL)
			continue;
		if (text_has_nul(v) || (text = s3f_partition_value_text(p->rules ? p->rules[i] : NULL, v)) == NULL)
		{
			free(s3f_buf_finish(&b, NULL));
			return NULL;
		}
		ok = append_field(&b, p->fields[i], text);
		free(text);
		if (!ok)
		{
			free(s3f_buf_finish(&b, NULL));
			return NULL;
		}
	}
	return s3f_buf_finish(&b, NULL);
}
