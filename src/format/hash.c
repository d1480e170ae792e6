/*-------------------------------------------------------------------------
 *
 * hash.c
 *		The definition hash of a catalog version (spec 3.3): SHA-256 of the
 *		stable JSON text of {attributes, behavior, partitions}.
 *
 * s3db.js uses json-stable-stringify: object keys sorted by UTF-16 code
 * unit order at every level, no whitespace, strings and numbers written
 * as JSON.stringify writes them.  The hash decides whether a re-declared
 * resource gets a new version, so a writer that alters resources must
 * reproduce it bit for bit.
 *
 * This file also holds the small string buffer and the base36/base62 of
 * indices shared by the catalog code.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "format/catalog_int.h"
#include "format/codec.h"

/* ---- string buffer ---- */

void
s3f_sb_put(s3f_sb *sb, const char *s, size_t n)
{
	if (sb->oom)
		return;
	if (sb->len + n + 1 > sb->cap)
	{
		size_t		cap = sb->cap ? sb->cap : 64;
		char	   *d;

		while (cap < sb->len + n + 1)
			cap *= 2;
		d = realloc(sb->data, cap);
		if (d == NULL)
		{
			sb->oom = true;
			return;
		}
		sb->data = d;
		sb->cap = cap;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
s3f_sb_puts(s3f_sb *sb, const char *s)
{
	s3f_sb_put(sb, s, strlen(s));
}

void
s3f_sb_putc(s3f_sb *sb, char c)
{
	s3f_sb_put(sb, &c, 1);
}

void
s3f_sb_json_string(s3f_sb *sb, const char *s, size_t n)
{
	size_t		i,
				run = 0;

	s3f_sb_putc(sb, '"');
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		const char *esc = NULL;
		char		ubuf[8];

		switch (c)
		{
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			case '\b':
				esc = "\\b";
				break;
			case '\f':
				esc = "\\f";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\t':
				esc = "\\t";
				break;
			default:
				if (c < 0x20)
				{
					snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
					esc = ubuf;
				}
				break;
		}
		if (esc)
		{
			s3f_sb_put(sb, s + i - run, run);
			run = 0;
			s3f_sb_puts(sb, esc);
		}
		else
			run++;
	}
	s3f_sb_put(sb, s + n - run, run);
	s3f_sb_putc(sb, '"');
}

char *
s3f_sb_finish(s3f_sb *sb)
{
	char	   *d;

	if (sb->oom)
	{
		free(sb->data);
		sb->data = NULL;
		return NULL;
	}
	if (sb->data == NULL)
		return strdup("");
	d = sb->data;
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return d;
}

/* ---- indices ---- */

static void
int_base(unsigned long long v, int base, const char *digits, char *buf)
{
	char		tmp[32];
	int			n = 0,
				i;

	do
	{
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v > 0 && n < (int) sizeof(tmp));
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

void
s3f_int_base36(unsigned long long v, char *buf)
{
	int_base(v, 36, "0123456789abcdefghijklmnopqrstuvwxyz", buf);
}

void
s3f_int_base62(unsigned long long v, char *buf)
{
	int_base(v, 62, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", buf);
}

/* ---- stable JSON ---- */

/*
 * Next code point of UTF-8 text as UTF-16 code units (1 or 2); invalid
 * bytes count as U+FFFD so the order stays total.
 */
static int
next_utf16(const unsigned char **p, const unsigned char *end, uint16_t u[2])
{
	const unsigned char *s = *p;
	uint32_t	cp;
	int			need,
				i;

	if (s[0] < 0x80)
	{
		cp = s[0];
		need = 0;
	}
	else if ((s[0] & 0xE0) == 0xC0)
	{
		cp = s[0] & 0x1F;
		need = 1;
	}
	else if ((s[0] & 0xF0) == 0xE0)
	{
		cp = s[0] & 0x0F;
		need = 2;
	}
	else if ((s[0] & 0xF8) == 0xF0)
	{
		cp = s[0] & 0x07;
		need = 3;
	}
	else
	{
		cp = 0xFFFD;
		need = -1;
	}
	if (need > 0)
	{
		if (end - s <= need)
			need = -1;
		else
			for (i = 1; i <= need; i++)
			{
				if ((s[i] & 0xC0) != 0x80)
				{
					need = -1;
					break;
				}
				cp = (cp << 6) | (s[i] & 0x3F);
			}
	}
	if (need < 0)
	{
		cp = 0xFFFD;
		need = 0;
	}
	*p = s + need + 1;
	if (cp >= 0x10000)
	{
		cp -= 0x10000;
		u[0] = (uint16_t) (0xD800 + (cp >> 10));
		u[1] = (uint16_t) (0xDC00 + (cp & 0x3FF));
		return 2;
	}
	u[0] = (uint16_t) cp;
	return 1;
}

/* strcmp by UTF-16 code units, as JS sorts strings */
static int
utf16_cmp(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *) a,
			   *pb = (const unsigned char *) b;
	const unsigned char *ea = pa + strlen(a),
			   *eb = pb + strlen(b);
	uint16_t	ua[2],
				ub[2];
	int			na = 0,
				nb = 0,
				ia = 0,
				ib = 0;

	for (;;)
	{
		if (ia == na)
		{
			if (pa >= ea)
				na = 0;
			else
				na = next_utf16(&pa, ea, ua);
			ia = 0;
		}
		if (ib == nb)
		{
			if (pb >= eb)
				nb = 0;
			else
				nb = next_utf16(&pb, eb, ub);
			ib = 0;
		}
		if (na == 0 || nb == 0)
			return (na != 0) - (nb != 0);
		if (ua[ia] != ub[ib])
			return ua[ia] < ub[ib] ? -1 : 1;
		ia++;
		ib++;
	}
}

static int
member_cmp(const void *x, const void *y)
{
	return utf16_cmp(((const s3f_member *) x)->key, ((const s3f_member *) y)->key);
}

static void
stable_number(s3f_sb *sb, json_object *o)
{
	char		buf[64];
	double		d;

	if (json_object_get_type(o) == json_type_int)
	{
		int64_t		v = json_object_get_int64(o);

		if (v > -9007199254740992LL && v < 9007199254740992LL)
		{
			snprintf(buf, sizeof(buf), "%lld", (long long) v);
			s3f_sb_puts(sb, buf);
			return;
		}
		d = (v == INT64_MAX) ? (double) json_object_get_uint64(o) : (double) v;
	}
	else
		d = json_object_get_double(o);
	if (d != d || d - d != 0)
	{
		s3f_sb_puts(sb, "null");	/* JSON.stringify of NaN/Infinity */
		return;
	}
	s3f_js_number_to_string(d, buf, sizeof(buf));
	s3f_sb_puts(sb, buf);
}

void
s3f_stable_json(s3f_sb *sb, json_object *o)
{
	switch (json_object_get_type(o))
	{
		case json_type_null:
			s3f_sb_puts(sb, "null");
			break;
		case json_type_boolean:
			s3f_sb_puts(sb, json_object_get_boolean(o) ? "true" : "false");
			break;
		case json_type_int:
		case json_type_double:
			stable_number(sb, o);
			break;
		case json_type_string:
			s3f_sb_json_string(sb, json_object_get_string(o),
							   (size_t) json_object_get_string_len(o));
			break;
		case json_type_array:
			{
				size_t		i,
							n = json_object_array_length(o);

				s3f_sb_putc(sb, '[');
				for (i = 0; i < n; i++)
				{
					if (i)
						s3f_sb_putc(sb, ',');
					s3f_stable_json(sb, json_object_array_get_idx(o, i));
				}
				s3f_sb_putc(sb, ']');
				break;
			}
		case json_type_object:
			{
				s3f_member *m;
				int			n = s3f_js_members(o, &m),
							i;

				if (n < 0)
				{
					sb->oom = true;
					return;
				}
				/* an empty object has no member array: qsort(NULL) is undefined */
				if (n > 1)
					qsort(m, n, sizeof(*m), member_cmp);
				s3f_sb_putc(sb, '{');
				for (i = 0; i < n; i++)
				{
					if (i)
						s3f_sb_putc(sb, ',');
					s3f_sb_json_string(sb, m[i].key, strlen(m[i].key));
					s3f_sb_putc(sb, ':');
					s3f_stable_json(sb, m[i].val);
				}
				s3f_sb_putc(sb, '}');
				free(m);
				break;
			}
	}
}

char *
s3f_definition_hash(const char *attributes_json, const char *behavior,
					const char *partitions_json, bool timestamps)
{
	json_object *attrs,
			   *parts = NULL;
	const char *why;
	s3f_sb		sb = {0};
	char	   *text,
			   *out;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned int i;

	attrs = s3f_json_parse(attributes_json, strlen(attributes_json), &why);
	if (attrs == NULL)
		return NULL;
	if (partitions_json)
	{
		parts = s3f_json_parse(partitions_json, strlen(partitions_json), &why);
		if (parts == NULL)
		{
			json_object_put(attrs);
			return NULL;
		}
	}
	if (timestamps && json_object_is_type(attrs, json_type_object))
	{
		json_object_object_del(attrs, "createdAt");
		json_object_object_del(attrs, "updatedAt");
	}

	s3f_sb_puts(&sb, "{\"attributes\":");
	s3f_stable_json(&sb, attrs);
	s3f_sb_puts(&sb, ",\"behavior\":");
	behavior = behavior ? behavior : "user-managed";
	s3f_sb_json_string(&sb, behavior, strlen(behavior));
	s3f_sb_puts(&sb, ",\"partitions\":");
	if (parts)
		s3f_stable_json(&sb, parts);
	else
		s3f_sb_puts(&sb, "{}");
	s3f_sb_putc(&sb, '}');
	json_object_put(attrs);
	json_object_put(parts);

	text = s3f_sb_finish(&sb);
	if (text == NULL)
		return NULL;
	if (!EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL))
	{
		free(text);
		return NULL;
	}
	free(text);
	out = malloc(7 + 2 * mdlen + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, "sha256:", 7);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return out;
}
