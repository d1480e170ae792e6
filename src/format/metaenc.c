/*-------------------------------------------------------------------------
 *
 * metaenc.c
 *		Client-layer encoding of metadata values (spec 6.5, Appendices B
 *		and C) and metadata key sanitization (spec 6.6).
 *
 * Decoding reproduces s3db.js exactly, including its failure modes: an
 * undecodable payload comes back unchanged, and b:/z: payloads are turned
 * into text the way Node does (ill-formed UTF-8 becomes U+FFFD).
 *
 * Encoding reproduces s3db.js for every value it reads back unchanged.
 * Where s3db.js would write something that reads back differently we
 * write another form it does read back: "font/woff2" is not dictionary
 * coded (its code decodes as "failed"), and a dictionary prefix is only
 * used when the remainder is printable ASCII (s3db.js would put raw
 * non-ASCII into a header).  Values that cannot be carried at all (the
 * texts "null" and "undefined", invalid UTF-8) make the encoder return
 * NULL so that the caller puts the field into the body.
 *
 * The UTF-16 based ratios of step 6 count code units as JavaScript does:
 * a code point above U+FFFF is two units, both "multibyte".
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/codec_int.h"
#include "format/metaenc.h"

typedef struct dict_entry
{
	const char *value;
	const char *code;			/* one character */
} dict_entry;

/* status codes first: they win when a code is in both tables */
static const dict_entry status_dict[] = {
	{"processing", "p"}, {"completed", "c"}, {"succeeded", "s"}, {"failed", "f"},
	{"cancelled", "x"}, {"timeout", "t"}, {"retrying", "r"}, {"authorized", "a"},
	{"captured", "K"}, {"refunded", "R"}, {"declined", "d"}, {"shipped", "h"},
	{"delivered", "D"}, {"returned", "e"}, {"in_transit", "i"}, {"initialized", "n"},
	{"terminated", "m"}, {NULL, 0}
};

static const dict_entry content_dict[] = {
	{"application/json", "j"}, {"application/xml", "X"}, {"application/ld+json", "J"},
	{"text/html", "H"}, {"text/plain", "T"}, {"text/css", "C"}, {"text/javascript", "V"},
	{"text/csv", "v"}, {"image/png", "P"}, {"image/jpeg", "I"}, {"image/gif", "G"},
	{"image/svg+xml", "S"}, {"image/webp", "W"}, {"application/pdf", "Q"},
	{"application/zip", "z"}, {"application/octet-stream", "o"},
	{"application/x-www-form-urlencoded", "u"}, {"multipart/form-data", "F"},
	{"font/woff", "w"}, {"font/woff2", "f"}, {NULL, 0}
};

static const dict_entry prefix_dict[] = {
	{"https://s3.amazonaws.com/", "s"}, {"https://api.example.com/", "A"},
	{"http://localhost:", "L"}, {"http://localhost", "l"}, {"https://api.", "H"},
	{"https://www.", "W"}, {"https://s3-", "S"}, {"/products/", "p"}, {"/api/v1/", "1"},
	{"/api/v2/", "2"}, {"/api/v3/", "3"}, {"https://", "h"}, {"http://", "t"},
	{"/users/", "u"}, {"/api/", "a"}, {"/v1/", "v"}, {NULL, 0}
};

const char *
s3f_dict_code(const char *value)
{
	const dict_entry *tabs[2] = {status_dict, content_dict};
	int			t,
				i;

	if (value == NULL)
		return NULL;
	for (t = 0; t < 2; t++)
		for (i = 0; tabs[t][i].value; i++)
			if (strcmp(tabs[t][i].value, value) == 0)
				return tabs[t][i].code;
	return NULL;
}

const char *
s3f_dict_value(char code)
{
	int			i;

	for (i = 0; status_dict[i].value; i++)
		if (status_dict[i].code[0] == code)
			return status_dict[i].value;
	for (i = 0; content_dict[i].value; i++)
		if (content_dict[i].code[0] == code)
			return content_dict[i].value;
	return NULL;
}

static const char *
prefix_value(char code)
{
	int			i;

	for (i = 0; prefix_dict[i].value; i++)
		if (prefix_dict[i].code[0] == code)
			return prefix_dict[i].value;
	return NULL;
}

/* ---------------------------------------------------------------- decode */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* decodeURIComponent; NULL when JavaScript would throw URIError */
static char *
uri_decode(const char *s, size_t len, size_t *outlen)
{
	char	   *out = malloc(len + 1);
	size_t		i = 0,
				o = 0;

	if (out == NULL)
		return NULL;
	while (i < len)
	{
		unsigned char seq[4];
		int			n,
					k;
		unsigned int cp;

		if (s[i] != '%')
		{
			out[o++] = s[i++];
			continue;
		}
		if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
			goto bad;
		seq[0] = (unsigned char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 3;
		if (seq[0] < 0x80)
		{
			out[o++] = (char) seq[0];
			continue;
		}
		n = seq[0] >= 0xF0 ? 4 : seq[0] >= 0xE0 ? 3 : seq[0] >= 0xC0 ? 2 : 0;
		if (n == 0)
			goto bad;
		for (k = 1; k < n; k++)
		{
			if (i + 2 >= len || s[i] != '%' || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				goto bad;
			seq[k] = (unsigned char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 3;
		}
		if (s3f_utf8_next(seq, (size_t) n, &cp) != n)
			goto bad;
		memcpy(out + o, seq, n);
		o += n;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

static s3f_meta_kind
give(char **out, size_t *outlen, char *s, size_t n)
{
	*out = s;
	*outlen = s ? n : 0;
	return S3F_META_STRING;
}

static s3f_meta_kind
give_copy(char **out, size_t *outlen, const char *s, size_t n)
{
	return give(out, outlen, s3f_strndup(s, n), n);
}

/* bytes -> text as Node's Buffer.toString('utf8') */
static s3f_meta_kind
give_text(char **out, size_t *outlen, unsigned char *bytes, size_t n)
{
	size_t		cl;
	char	   *c = s3f_utf8_sanitize((char *) bytes, n, &cl);

	free(bytes);
	return give(out, outlen, c, cl);
}

s3f_meta_kind
s3f_meta_decode(const char *in, char **out, size_t *outlen)
{
	size_t		len,
				n;
	unsigned char *raw,
			   *plain;

	*out = NULL;
	*outlen = 0;
	if (in == NULL)
		in = "";
	len = strlen(in);
	if (strcmp(in, "null") == 0)
		return S3F_META_NULL;
	if (strcmp(in, "undefined") == 0)
		return S3F_META_UNDEFINED;

	if (len > 2 && strncmp(in, "d:", 2) == 0)
	{
		if (len == 3 && s3f_dict_value(in[2]))
			return give_copy(out, outlen, s3f_dict_value(in[2]), strlen(s3f_dict_value(in[2])));
		if (len >= 4 && in[2] == '@' && prefix_value(in[3]))
		{
			const char *p = prefix_value(in[3]);
			size_t		pl = strlen(p);
			char	   *r = malloc(pl + len - 4 + 1);

			if (r)
			{
				memcpy(r, p, pl);
				memcpy(r + pl, in + 4, len - 4 + 1);
			}
			return give(out, outlen, r, pl + len - 4);
		}
	}
	if (len > 4 && strncmp(in, "z85:", 4) == 0)
	{
		raw = s3f_base85_decode(in + 4, len - 4, &n);
		plain = raw ? s3f_raw_inflate(raw, n, &n) : NULL;
		free(raw);
		if (plain)
			return give_text(out, outlen, plain, n);
	}
	else if (len > 2 && strncmp(in, "z:", 2) == 0)
	{
		raw = s3f_base64_decode(in + 2, len - 2, &n);
		plain = raw ? s3f_raw_inflate(raw, n, &n) : NULL;
		free(raw);
		if (plain)
			return give_text(out, outlen, plain, n);
	}
	else if (len > 2 && strncmp(in, "u:", 2) == 0)
	{
		char	   *r = uri_decode(in + 2, len - 2, &n);

		if (r)
			return give(out, outlen, r, n);
	}
	else if (len > 2 && strncmp(in, "b:", 2) == 0)
	{
		raw = s3f_base64_decode(in + 2, len - 2, &n);
		if (raw)
			return give_text(out, outlen, raw, n);
	}
	return give_copy(out, outlen, in, len);
}

/* ---------------------------------------------------------------- encode */

static char *
wrap_b64(const char *s, size_t len)
{
	char	   *b = s3f_base64_encode((const unsigned char *) s, len);
	char	   *r;

	if (b == NULL)
		return NULL;
	r = malloc(strlen(b) + 3);
	if (r)
	{
		memcpy(r, "b:", 2);
		strcpy(r + 2, b);
	}
	free(b);
	return r;
}

static bool
printable_ascii(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7E)
			return false;
	return true;
}

static bool
ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char *
uri_encode(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	s3f_buf		b = {0};
	size_t		i;

	s3f_buf_put(&b, "u:", 2);
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (ascii_alnum(c) || (c != '\0' && strchr("-_.!~*'()", c) != NULL))
			s3f_buf_putc(&b, (char) c);
		else
		{
			char		e[3] = {'%', hex[c >> 4], hex[c & 15]};

			s3f_buf_put(&b, e, 3);
		}
	}
	return s3f_buf_finish(&b, NULL);
}

char *
s3f_meta_encode(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *) in;
	size_t		i,
				units = 0,
				latin1 = 0,
				multi = 0;
	bool		b64;
	int			k;

	if (in == NULL)
		return NULL;
	if (!s3f_utf8_valid(in, len))
		return NULL;
	if ((len == 4 && memcmp(in, "null", 4) == 0) ||
		(len == 9 && memcmp(in, "undefined", 9) == 0))
		return NULL;

	if (len >= 2 && (memcmp(in, "d:", 2) == 0 || memcmp(in, "u:", 2) == 0 ||
					 memcmp(in, "b:", 2) == 0 || memcmp(in, "z:", 2) == 0 ||
					 (len >= 4 && memcmp(in, "z85:", 4) == 0)))
		return wrap_b64(in, len);

	/* dictionary: exact values, then the longest URL prefix */
	if (memchr(in, '\0', len) == NULL)
	{
		const dict_entry *code = NULL;
		int			best = -1;
		size_t		bestlen = 0;

		for (k = 0; status_dict[k].value && !code; k++)
			if (strlen(status_dict[k].value) == len && memcmp(status_dict[k].value, in, len) == 0)
				code = &status_dict[k];
		for (k = 0; content_dict[k].value && !code; k++)
			if (strlen(content_dict[k].value) == len && memcmp(content_dict[k].value, in, len) == 0 &&
				strcmp(content_dict[k].value, "font/woff2") != 0)
				code = &content_dict[k];
		if (code && len > 3)
		{
			char		r[4] = {'d', ':', code->code[0], '\0'};

			return strdup(r);
		}
		for (k = 0; prefix_dict[k].value; k++)
		{
			size_t		pl = strlen(prefix_dict[k].value);

			if (pl <= len && pl > bestlen && memcmp(in, prefix_dict[k].value, pl) == 0)
			{
				best = k;
				bestlen = pl;
			}
		}
		if (best >= 0 && bestlen > 4 && printable_ascii(in + bestlen, len - bestlen))
		{
			char	   *r = malloc(len - bestlen + 5);

			if (r == NULL)
				return NULL;
			r[0] = 'd';
			r[1] = ':';
			r[2] = '@';
			r[3] = prefix_dict[best].code[0];
			memcpy(r + 4, in + bestlen, len - bestlen);
			r[len - bestlen + 4] = '\0';
			return r;
		}
	}

	if (printable_ascii(in, len))
		return s3f_strndup(in, len);

	for (i = 0; i < len;)
	{
		unsigned int cp;
		int			n = s3f_utf8_next(p + i, len - i, &cp);

		if (n <= 0)
			return NULL;
		i += n;
		if (cp >= 0x10000)
		{
			units += 2;
			multi += 2;
			continue;
		}
		units++;
		if (cp >= 0x80 && cp <= 0xFF)
			latin1++;
		else if (cp < 0x20 || cp == 0x7F || cp >= 0x100)
			multi++;
	}
	if (multi > 0)
		b64 = (double) multi / (double) units > 0.3;
	else
		b64 = (double) latin1 / (double) units > 0.5;
	return b64 ? wrap_b64(in, len) : uri_encode(in, len);
}

char *
s3f_meta_key(const char *name)
{
	const unsigned char *p = (const unsigned char *) (name ? name : "");
	size_t		len = strlen((const char *) p),
				i = 0;
	s3f_buf		b = {0};

	s3f_buf_put(&b, "", 0);
	while (i < len)
	{
		unsigned char c = p[i];
		unsigned int cp;
		int			n;

		if (ascii_alnum(c) || c == '_' || c == '-')
		{
			s3f_buf_putc(&b, (char) ((c >= 'A' && c <= 'Z') ? c + 32 : c));
			i++;
			continue;
		}
		n = s3f_utf8_next(p + i, len - i, &cp);
		if (n <= 0)
			n = 1;
		else if (cp >= 0x10000)
			s3f_buf_putc(&b, '_');
		s3f_buf_putc(&b, '_');
		i += n;
	}
	return s3f_buf_finish(&b, NULL);
}
