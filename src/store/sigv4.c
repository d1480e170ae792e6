/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *		AWS Signature Version 4 for S3, with OpenSSL's SHA-256 and HMAC.
 *
 * S3 differs from other AWS services in two ways that matter here: the
 * path is not normalised (keys may contain "//", "." and ".."), and each
 * path segment is encoded exactly once.  Keys such as "id=a b+c%" must
 * appear in the canonical URI as "id%3Da%20b%2Bc%25" and be sent the same
 * way, so the transport and the signer share s3s_uri_encode().
 *
 * The signing key is derived per call and wiped afterwards; nothing here
 * keeps state between calls.
 *
 *-------------------------------------------------------------------------
 */
#include "store/sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/* A growable string that remembers running out of memory. */
typedef struct sbuf
{
	char	   *p;
	size_t		len;
	size_t		cap;
	bool		oom;
} sbuf;

static void
sb_putn(sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;
		char	   *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL)
		{
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_puts(sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void
sb_putc(sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

/* Take the string out of the buffer (NULL after an allocation failure). */
static char *
sb_take(sbuf *b)
{
	char	   *p;

	if (b->oom)
	{
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	if (b->p == NULL)
		return strdup("");
	p = b->p;
	b->p = NULL;
	return p;
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

char *
s3s_uri_encode(const char *s, size_t len, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char	   *out;
	size_t		o = 0;

	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_unreserved(c) || (keep_slash && c == '/'))
			out[o++] = (char) c;
		else
		{
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++)
	{
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void
s3s_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data ? data : (const void *) "", len, md);
	hex_encode(md, sizeof(md), out);
}

void
s3s_sigv4_amz_date(time_t t, char out[17])
{
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
		strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		strcpy(out, "19700101T000000Z");
}

static bool
hmac256(const unsigned char *key, size_t keylen, const char *data,
		unsigned char out[32])
{
	unsigned int outlen = 32;

	return HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) data,
				strlen(data), out, &outlen) != NULL && outlen == 32;
}

/* ---- canonical query ---- */

typedef struct enc_pair
{
	char	   *name;
	char	   *value;
} enc_pair;

static int
cmp_pair(const void *a, const void *b)
{
	const enc_pair *x = a;
	const enc_pair *y = b;
	int			c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static void
canonical_query(sbuf *b, const s3s_sigv4_kv *q, int n)
{
	enc_pair   *pairs;
	int			i;

	if (n <= 0)
		return;
	pairs = calloc((size_t) n, sizeof(enc_pair));
	if (pairs == NULL)
	{
		b->oom = true;
		return;
	}
	for (i = 0; i < n; i++)
	{
		const char *v = q[i].value ? q[i].value : "";
		const char *k = q[i].name ? q[i].name : "";

		pairs[i].name = s3s_uri_encode(k, strlen(k), false);
		pairs[i].value = s3s_uri_encode(v, strlen(v), false);
		if (pairs[i].name == NULL || pairs[i].value == NULL)
			b->oom = true;
	}
	if (!b->oom)
	{
		qsort(pairs, (size_t) n, sizeof(enc_pair), cmp_pair);
		for (i = 0; i < n; i++)
		{
			if (i > 0)
				sb_putc(b, '&');
			sb_puts(b, pairs[i].name);
			sb_putc(b, '=');
			sb_puts(b, pairs[i].value);
		}
	}
	for (i = 0; i < n; i++)
	{
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

/* ---- canonical headers ---- */

typedef struct canon_hdr
{
	char	   *name;			/* lower-cased */
	char	   *value;			/* trimmed, whitespace collapsed */
	int			order;			/* position in the input, for a stable sort */
} canon_hdr;

static int
cmp_hdr(const void *a, const void *b)
{
	const canon_hdr *x = a;
	const canon_hdr *y = b;
	int			c = strcmp(x->name, y->name);

	return c != 0 ? c : x->order - y->order;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char *
lower_dup(const char *s)
{
	size_t		n = strlen(s);
	char	   *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] - 'A' + 'a') : s[i];
	return d;
}

static char *
collapse_dup(const char *s)
{
	size_t		n = strlen(s);
	char	   *d = malloc(n + 1);
	size_t		o = 0;
	bool		pending_space = false;

	if (d == NULL)
		return NULL;
	while (*s && is_space(*s))
		s++;
	for (; *s; s++)
	{
		if (is_space(*s))
		{
			pending_space = true;
			continue;
		}
		if (pending_space)
			d[o++] = ' ';
		pending_space = false;
		d[o++] = *s;
	}
	d[o] = '\0';
	return d;
}

/* Appends canonical headers to b and the signed-header list to sh. */
static void
canonical_headers(sbuf *b, sbuf *sh, const s3s_sigv4_kv *h, int n)
{
	canon_hdr  *hs;
	int			i;

	if (n <= 0)
		return;
	hs = calloc((size_t) n, sizeof(canon_hdr));
	if (hs == NULL)
	{
		b->oom = true;
		return;
	}
	for (i = 0; i < n; i++)
	{
		hs[i].name = lower_dup(h[i].name ? h[i].name : "");
		hs[i].value = collapse_dup(h[i].value ? h[i].value : "");
		hs[i].order = i;
		if (hs[i].name == NULL || hs[i].value == NULL)
			b->oom = true;
	}
	if (!b->oom)
	{
		qsort(hs, (size_t) n, sizeof(canon_hdr), cmp_hdr);
		for (i = 0; i < n; i++)
		{
			bool		same_as_prev = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;

			if (same_as_prev)
			{
				sb_putc(b, ',');
				sb_puts(b, hs[i].value);
				continue;
			}
			if (i > 0)
			{
				sb_putc(b, '\n');
				sb_putc(sh, ';');
			}
			sb_puts(b, hs[i].name);
			sb_putc(b, ':');
			sb_puts(b, hs[i].value);
			sb_puts(sh, hs[i].name);
		}
		sb_putc(b, '\n');
	}
	for (i = 0; i < n; i++)
	{
		free(hs[i].name);
		free(hs[i].value);
	}
	free(hs);
}

void
s3s_sigv4_output_free(s3s_sigv4_output *out)
{
	free(out->canonical_request);
	free(out->string_to_sign);
	free(out->signed_headers);
	free(out->signature);
	free(out->authorization);
	memset(out, 0, sizeof(*out));
}

bool
s3s_sigv4_sign(const s3s_sigv4_input *in, s3s_sigv4_output *out)
{
	sbuf		creq = {0};
	sbuf		sh = {0};
	sbuf		sts = {0};
	sbuf		authz = {0};
	char	   *path_enc;
	char		creq_hash[65];
	char		date8[9];
	unsigned char k1[32],
				k2[32],
				k3[32],
				k4[32],
				sig[32];
	char		sighex[65];
	sbuf		ksecret = {0};
	bool		ok;

	memset(out, 0, sizeof(*out));
	if (in == NULL || in->method == NULL || in->path == NULL ||
		in->payload_hash == NULL || in->access_key_id == NULL ||
		in->secret_access_key == NULL || in->region == NULL ||
		in->service == NULL || in->amz_date == NULL ||
		strlen(in->amz_date) != 16)
		return false;

	/* canonical request */
	sb_puts(&creq, in->method);
	sb_putc(&creq, '\n');
	path_enc = s3s_uri_encode(in->path, strlen(in->path), true);
	if (path_enc == NULL)
		creq.oom = true;
	else
		sb_puts(&creq, path_enc);
	free(path_enc);
	sb_putc(&creq, '\n');
	canonical_query(&creq, in->query, in->nquery);
	sb_putc(&creq, '\n');
	canonical_headers(&creq, &sh, in->headers, in->nheaders);
	sb_putc(&creq, '\n');
	if (sh.oom)
		creq.oom = true;
	if (sh.p)
		sb_puts(&creq, sh.p);
	sb_putc(&creq, '\n');
	sb_puts(&creq, in->payload_hash);

	/* string to sign */
	memcpy(date8, in->amz_date, 8);
	date8[8] = '\0';
	if (!creq.oom)
		s3s_sha256_hex(creq.p, creq.len, creq_hash);
	else
		creq_hash[0] = '\0';
	sb_puts(&sts, "AWS4-HMAC-SHA256\n");
	sb_puts(&sts, in->amz_date);
	sb_putc(&sts, '\n');
	sb_puts(&sts, date8);
	sb_putc(&sts, '/');
	sb_puts(&sts, in->region);
	sb_putc(&sts, '/');
	sb_puts(&sts, in->service);
	sb_puts(&sts, "/aws4_request\n");
	sb_puts(&sts, creq_hash);

	/* signing key: HMAC chain over date, region, service, "aws4_request" */
	sb_puts(&ksecret, "AWS4");
	sb_puts(&ksecret, in->secret_access_key);
	ok = !creq.oom && !sts.oom && !ksecret.oom &&
		hmac256((unsigned char *) ksecret.p, ksecret.len, date8, k1) &&
		hmac256(k1, 32, in->region, k2) &&
		hmac256(k2, 32, in->service, k3) &&
		hmac256(k3, 32, "aws4_request", k4) &&
		hmac256(k4, 32, sts.p, sig);
	if (ksecret.p)
		OPENSSL_cleanse(ksecret.p, ksecret.len);
	free(ksecret.p);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(k3, sizeof(k3));
	OPENSSL_cleanse(k4, sizeof(k4));

	if (ok)
	{
		hex_encode(sig, 32, sighex);
		sb_puts(&authz, "AWS4-HMAC-SHA256 Credential=");
		sb_puts(&authz, in->access_key_id);
		sb_putc(&authz, '/');
		sb_puts(&authz, date8);
		sb_putc(&authz, '/');
		sb_puts(&authz, in->region);
		sb_putc(&authz, '/');
		sb_puts(&authz, in->service);
		sb_puts(&authz, "/aws4_request, SignedHeaders=");
		if (sh.p)
			sb_puts(&authz, sh.p);
		sb_puts(&authz, ", Signature=");
		sb_puts(&authz, sighex);
		out->signature = strdup(sighex);
	}
	out->canonical_request = sb_take(&creq);
	out->string_to_sign = sb_take(&sts);
	out->signed_headers = sb_take(&sh);
	out->authorization = ok ? sb_take(&authz) : NULL;
	free(authz.p);
	if (!ok || out->canonical_request == NULL || out->string_to_sign == NULL ||
		out->signed_headers == NULL || out->signature == NULL ||
		out->authorization == NULL)
	{
		s3s_sigv4_output_free(out);
		return false;
	}
	return true;
}
