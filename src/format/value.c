/*-------------------------------------------------------------------------
 *
 * value.c
 *		Decoded attribute values: freeing, copying and JSON rendering.
 *
 * An s3f_val owns its string and its items.  A zeroed s3f_val is a valid
 * S3F_MISSING value, so callers can always free what a decoder returned,
 * whether it succeeded or not.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format/codec_int.h"
#include "format/value.h"

void
s3f_val_free(s3f_val *v)
{
	int			i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nitems; i++)
		s3f_val_free(&v->items[i]);
	free(v->items);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

/* v must be empty (zeroed or freed); on allocation failure str stays NULL */
void
s3f_val_set_str(s3f_val *v, s3f_kind kind, const char *s, size_t len)
{
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->str = s3f_strndup(s ? s : "", s ? len : 0);
	v->len = v->str ? (s ? len : 0) : 0;
}

/* text NULL means the JavaScript rendering of d */
void
s3f_val_set_num(s3f_val *v, double d, const char *text)
{
	char		buf[64];

	memset(v, 0, sizeof(*v));
	v->kind = S3F_NUM;
	v->num = d;
	if (text == NULL)
	{
		s3f_js_number_to_string(d, buf, sizeof(buf));
		text = buf;
	}
	v->str = strdup(text);
	v->len = v->str ? strlen(v->str) : 0;
}

int
s3f_val_copy(s3f_val *dst, const s3f_val *src)
{
	int			i;

	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	dst->b = src->b;
	dst->num = src->num;
	if (src->str)
	{
		dst->str = s3f_strndup(src->str, src->len);
		if (dst->str == NULL)
			goto oom;
		dst->len = src->len;
	}
	if (src->nitems > 0)
	{
		dst->items = calloc((size_t) src->nitems, sizeof(s3f_val));
		if (dst->items == NULL)
			goto oom;
		for (i = 0; i < src->nitems; i++)
		{
			dst->nitems = i + 1;
			if (s3f_val_copy(&dst->items[i], &src->items[i]) != 0)
				goto oom;
		}
	}
	return 0;
oom:
	s3f_val_free(dst);
	return -1;
}

static void
val_to_json(s3f_buf *b, const s3f_val *v)
{
	int			i;

	switch (v->kind)
	{
		case S3F_MISSING:
		case S3F_NULL:
			s3f_buf_puts(b, "null");
			break;
		case S3F_BOOL:
			s3f_buf_puts(b, v->b ? "true" : "false");
			break;
		case S3F_NUM:
			if (!isfinite(v->num))
				s3f_buf_puts(b, "null");
			else if (v->str && v->len > 0)
				s3f_buf_put(b, v->str, v->len);
			else
			{
				char		t[64];

				s3f_js_number_to_string(v->num, t, sizeof(t));
				s3f_buf_puts(b, t);
			}
			break;
		case S3F_STR:
			s3f_json_quote(b, v->str ? v->str : "", v->str ? v->len : 0);
			break;
		case S3F_JSON:
			if (v->str && v->len > 0)
				s3f_buf_put(b, v->str, v->len);
			else
				s3f_buf_puts(b, "null");
			break;
		case S3F_ARRAY:
			s3f_buf_putc(b, '[');
			for (i = 0; i < v->nitems; i++)
			{
				if (i > 0)
					s3f_buf_putc(b, ',');
				val_to_json(b, &v->items[i]);
			}
			s3f_buf_putc(b, ']');
			break;
		case S3F_BYTES:
			{
				char	   *e = s3f_base64_encode((const unsigned char *) (v->str ? v->str : ""),
												  v->str ? v->len : 0);

				if (e == NULL)
				{
					b->oom = true;
					return;
				}
				s3f_json_quote(b, e, strlen(e));
				free(e);
			}
			break;
	}
}

char *
s3f_val_to_json(const s3f_val *v)
{
	s3f_buf		b = {0};

	val_to_json(&b, v);
	return s3f_buf_finish(&b, NULL);
}
