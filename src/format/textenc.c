/*-------------------------------------------------------------------------
 *
 * textenc.c
 *		Byte and text helpers of the value codecs: a growable buffer,
 *		UTF-8 validation and repair, base64 and base85, raw deflate, and
 *		small JSON text utilities (validation through json-c, white-space
 *		removal, string quoting as JSON.stringify does it).
 *
 * UTF-8 repair follows the WHATWG decoder (one U+FFFD per maximal ill-
 * formed subpart), which is what Node's Buffer.toString('utf8') does, so
 * decoded b:/z: payloads match what s3db.js sees.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <zlib.h>

#include "format/codec_int.h"

/* Upper bound for inflated payloads: a metadata value or body field. */
#define S3F_INFLATE_MAX (64u * 1024 * 1024)

/* ---------------------------------------------------------------- buffer */

static bool
buf_reserve(s3f_buf *b, size_t extra)
{
	size_t		need;

	if (b->oom)
		return false;
	if (extra > SIZE_MAX - b->len - 1)
	{
		b->oom = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need > b->cap)
	{
		size_t		ncap = b->cap ? b->cap : 64;
		char	   *n;

		while (ncap < need)
			ncap = (ncap > SIZE_MAX / 2) ? need : ncap * 2;
		n = realloc(b->data, ncap);
		if (n == NULL)
		{
			b->oom = true;
			return false;
		}
		b->data = n;
		b->cap = ncap;
	}
	return true;
}

void
s3f_buf_put(s3f_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
s3f_buf_putc(s3f_buf *b, char c)
{
	s3f_buf_put(b, &c, 1);
}

void
s3f_buf_puts(s3f_buf *b, const char *s)
{
	s3f_buf_put(b, s, strlen(s));
}

char *
s3f_buf_finish(s3f_buf *b, size_t *len)
{
	char	   *r;

	if (b->oom)
	{
		free(b->data);
		b->data = NULL;
		b->len = b->cap = 0;
		return NULL;
	}
	if (!buf_reserve(b, 0))
		return NULL;
	r = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return r;
}

char *
s3f_strndup(const char *s, size_t n)
{
	char	   *r = malloc(n + 1);

	if (r == NULL)
		return NULL;
	if (n)
		memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* ------------------------------------------------------------------ UTF-8 */

/*
 * Length of the well-formed prefix of a sequence starting at s, and the
 * total length the lead byte announces (0 for an invalid lead byte).
 */
static int
utf8_scan(const unsigned char *s, size_t len, int *want, unsigned int *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80,
				hi = 0xBF;
	int			n,
				i;
	unsigned int v;

	if (c < 0x80)
	{
		*want = 1;
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
	{
		n = 2;
		v = c & 0x1F;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		n = 3;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		n = 4;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
	{
		*want = 0;
		return 0;
	}
	*want = n;
	for (i = 1; i < n; i++)
	{
		if ((size_t) i >= len || s[i] < lo || s[i] > hi)
			return i;
		v = (v << 6) | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = v;
	return n;
}

int
s3f_utf8_next(const unsigned char *s, size_t len, unsigned int *cp)
{
	int			want,
				got;

	if (len == 0)
		return 0;
	got = utf8_scan(s, len, &want, cp);
	return (want != 0 && got == want) ? got : 0;
}

bool
s3f_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;
	unsigned int cp;

	while (i < len)
	{
		int			n;

		if (p[i] < 0x80)
		{
			i++;
			continue;
		}
		n = s3f_utf8_next(p + i, len - i, &cp);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

char *
s3f_utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *) s;
	s3f_buf		b = {0};
	size_t		i = 0;

	s3f_buf_put(&b, "", 0);
	while (i < len)
	{
		int			want,
					got;
		unsigned int cp;

		got = utf8_scan(p + i, len - i, &want, &cp);
		if (want != 0 && got == want)
		{
			s3f_buf_put(&b, s + i, got);
			i += got;
		}
		else
		{
			s3f_buf_put(&b, "\xEF\xBF\xBD", 3);
			i += got > 0 ? got : 1;
		}
	}
	return s3f_buf_finish(&b, outlen);
}

/* ------------------------------------------------------------------- JSON */

/*
 * JSON puts no limit on a number's size, but json-c 0.17 and later, in
 * strict mode, refuse an integer literal beyond 64 bits (0.16 accepted it
 * and clamped it).  The validator only asks whether the text is JSON, so in
 * its private copy it rewrites every integer literal longer than 18 digits
 * as a fraction of the same length ("0.000..."), which every json-c version
 * takes.  Literals with a leading zero are left alone: they are not JSON.
 */
static void
hide_long_integers(char *s, size_t len)
{
	bool		instr = false;
	size_t		i = 0;

	while (i < len)
	{
		size_t		j;

		if (instr)
		{
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = false;
			i++;
			continue;
		}
		if (s[i] == '"')
		{
			instr = true;
			i++;
			continue;
		}
		if (s[i] < '1' || s[i] > '9' ||
			(i > 0 && ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.' ||
					   s[i - 1] == 'e' || s[i - 1] == 'E' || s[i - 1] == '+' ||
					   (s[i - 1] == '-' && i > 1 && (s[i - 2] == 'e' || s[i - 2] == 'E')))))
		{
			i++;
			continue;
		}
		for (j = i; j < len && s[j] >= '0' && s[j] <= '9'; j++)
			;
		if (j - i > 18 && (j == len || (s[j] != '.' && s[j] != 'e' && s[j] != 'E')))
		{
			s[i] = '0';
			s[i + 1] = '.';
			memset(s + i + 2, '0', j - i - 2);
		}
		i = j;
	}
}

bool
s3f_json_valid(const char *s, size_t len)
{
	json_tokener *tok;
	json_object *obj;
	char	   *copy;
	size_t		end;
	bool		ok = false;

	if (len == 0 || len > (size_t) INT32_MAX - 2 || memchr(s, '\0', len) != NULL)
		return false;
	copy = s3f_strndup(s, len);
	if (copy == NULL)
		return false;
	hide_long_integers(copy, len);
	tok = json_tokener_new_ex(512);
	if (tok == NULL)
	{
		free(copy);
		return false;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* include the NUL so that a bare top-level number is complete */
	obj = json_tokener_parse_ex(tok, copy, (int) len + 1);
	if (obj != NULL && json_tokener_get_error(tok) == json_tokener_success)
	{
		end = json_tokener_get_parse_end(tok);
		while (end < len && (copy[end] == ' ' || copy[end] == '\t' ||
							 copy[end] == '\n' || copy[end] == '\r'))
			end++;
		ok = (end >= len);
	}
	if (obj)
		json_object_put(obj);
	json_tokener_free(tok);
	free(copy);
	return ok;
}

char *
s3f_json_minify(const char *s, size_t len)
{
	s3f_buf		b = {0};
	bool		instr = false;
	size_t		i;

	s3f_buf_put(&b, "", 0);
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (instr)
		{
			s3f_buf_putc(&b, c);
			if (c == '\\' && i + 1 < len)
				s3f_buf_putc(&b, s[++i]);
			else if (c == '"')
				instr = false;
		}
		else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		else
		{
			if (c == '"')
				instr = true;
			s3f_buf_putc(&b, c);
		}
	}
	return s3f_buf_finish(&b, NULL);
}

void
s3f_json_quote(s3f_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char	   *clean = NULL;
	size_t		i;

	if (!s3f_utf8_valid(s, len))
	{
		clean = s3f_utf8_sanitize(s, len, &len);
		if (clean == NULL)
		{
			b->oom = true;
			return;
		}
		s = clean;
	}
	s3f_buf_putc(b, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		switch (c)
		{
			case '"':
				s3f_buf_put(b, "\\\"", 2);
				break;
			case '\\':
				s3f_buf_put(b, "\\\\", 2);
				break;
			case '\b':
				s3f_buf_put(b, "\\b", 2);
				break;
			case '\f':
				s3f_buf_put(b, "\\f", 2);
				break;
			case '\n':
				s3f_buf_put(b, "\\n", 2);
				break;
			case '\r':
				s3f_buf_put(b, "\\r", 2);
				break;
			case '\t':
				s3f_buf_put(b, "\\t", 2);
				break;
			default:
				if (c < 0x20)
				{
					char		u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

					s3f_buf_put(b, u, 6);
				}
				else
					s3f_buf_putc(b, (char) c);
		}
	}
	s3f_buf_putc(b, '"');
	free(clean);
}

/* ----------------------------------------------------------------- base64 */

static const char b64chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
s3f_base64_encode(const unsigned char *data, size_t len)
{
	size_t		olen,
				i,
				o = 0;
	char	   *out;

	if (len > (SIZE_MAX / 4) * 3 - 3)
		return NULL;
	olen = ((len + 2) / 3) * 4;
	out = malloc(olen + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3)
	{
		uint32_t	v = ((uint32_t) data[i] << 16) | ((uint32_t) data[i + 1] << 8) | data[i + 2];

		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (i < len)
	{
		uint32_t	v = (uint32_t) data[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t) data[i + 1] << 8;
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = (i + 1 < len) ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/*
 * Like Node's base64 decoder: characters outside the alphabet (both the
 * standard and the URL-safe one) are skipped, '=' ends the data, and a
 * final lone sextet is dropped.
 */
unsigned char *
s3f_base64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out = malloc(len / 4 * 3 + 3);
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		o = 0,
				i;

	*outlen = 0;
	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++)
	{
		int			v;

		if (s[i] == '=')
			break;
		v = b64val((unsigned char) s[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (unsigned char) ((acc >> bits) & 0xFF);
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* ----------------------------------------------------------------- base85 */

/*
 * The alphabet s3db.js uses has 90 characters although it is base 85: the
 * encoder only ever emits the first 85, and the decoder maps all 90 (and
 * any other ASCII character to 0), wrapping each group modulo 2^32.  We
 * decode the same way so that we read exactly what s3db.js reads.
 */
static const char b85chars[] =
"!#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~";

unsigned char *
s3f_base85_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out = malloc(len / 5 * 4 + 5);
	size_t		o = 0,
				i = 0;

	*outlen = 0;
	if (out == NULL)
		return NULL;
	while (i < len)
	{
		size_t		r = len - i < 5 ? len - i : 5;
		uint64_t	v = 0;
		size_t		k;

		for (k = 0; k < 5; k++)
		{
			int			d = 84;

			if (k < r)
			{
				unsigned char c = (unsigned char) s[i + k];
				const char *p;

				if (c >= 0x80)
					goto bad;
				p = c ? memchr(b85chars, c, sizeof(b85chars) - 1) : NULL;
				d = p ? (int) (p - b85chars) : 0;
			}
			v = v * 85 + (uint64_t) d;
		}
		v &= 0xFFFFFFFFu;
		for (k = 0; k + 1 < r; k++)
			out[o++] = (unsigned char) (v >> (24 - 8 * k));
		i += r;
	}
	*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

char *
s3f_base85_encode(const unsigned char *data, size_t len)
{
	char	   *out = malloc(len / 4 * 5 + 6);
	size_t		o = 0,
				i = 0;

	if (out == NULL)
		return NULL;
	while (i < len)
	{
		size_t		r = len - i < 4 ? len - i : 4;
		uint32_t	v = 0;
		char		d[5];
		size_t		k;

		for (k = 0; k < 4; k++)
			v = (v << 8) | (k < r ? data[i + k] : 0);
		for (k = 5; k-- > 0;)
		{
			d[k] = b85chars[v % 85];
			v /= 85;
		}
		memcpy(out + o, d, r + 1);
		o += r + 1;
		i += r;
	}
	out[o] = '\0';
	return out;
}

/* ------------------------------------------------------------ raw deflate */

unsigned char *
s3f_raw_inflate(const unsigned char *in, size_t len, size_t *outlen)
{
	z_stream	zs;
	unsigned char *out = NULL;
	size_t		cap = len * 4 + 64;
	int			rc;

	*outlen = 0;
	if (len > UINT32_MAX)
		return NULL;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return NULL;
	zs.next_in = (unsigned char *) in;
	zs.avail_in = (uInt) len;
	for (;;)
	{
		unsigned char *n;

		if (cap > S3F_INFLATE_MAX + 1)
			cap = S3F_INFLATE_MAX + 1;
		n = realloc(out, cap + 1);
		if (n == NULL)
			break;
		out = n;
		zs.next_out = out + zs.total_out;
		zs.avail_out = (uInt) (cap - zs.total_out);
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
		{
			inflateEnd(&zs);
			*outlen = zs.total_out;
			out[*outlen] = '\0';
			return out;
		}
		if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0))
			break;
		if (zs.avail_out != 0)
			break;				/* input exhausted before the end */
		if (cap >= S3F_INFLATE_MAX + 1)
			break;
		cap *= 2;
	}
	inflateEnd(&zs);
	free(out);
	return NULL;
}

unsigned char *
s3f_raw_deflate(const unsigned char *in, size_t len, size_t *outlen)
{
	z_stream	zs;
	unsigned char *out;
	uLong		bound;

	*outlen = 0;
	if (len > UINT32_MAX / 2)
		return NULL;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&zs, (uLong) len);
	out = malloc(bound + 1);
	if (out == NULL)
	{
		deflateEnd(&zs);
		return NULL;
	}
	zs.next_in = (unsigned char *) in;
	zs.avail_in = (uInt) len;
	zs.next_out = out;
	zs.avail_out = (uInt) bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
	{
		deflateEnd(&zs);
		free(out);
		return NULL;
	}
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}
