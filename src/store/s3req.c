/*-------------------------------------------------------------------------
 *
 * s3req.c
 *		Building, signing and configuring one S3 HTTP exchange.
 *
 * Every attempt of a request is built from scratch: a fresh x-amz-date
 * (corrected by the clock offset learnt from the server), a fresh
 * signature and a fresh easy handle on the store's multi handle.  The raw
 * path is encoded once by s3s_uri_encode() and the same bytes are both
 * signed and sent, so keys with '=', '+', ' ', '%' or UTF-8 survive the
 * trip unchanged.
 *
 * Header values come from callers (metadata, ETags) and are checked for
 * control characters: a CR or LF would let a value inject headers.
 *
 * Reading the reply (status, headers, body, S3 error documents) lives in
 * s3resp.c.
 *
 *-------------------------------------------------------------------------
 */
#include "store/s3int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "store/s3xml.h"
#include "store/creds.h"
#include "store/sigv4.h"

/* Upper bound on a non-GET reply body (errors, listings, copy results). */
#define SMALL_REPLY_LIMIT S3XML_MAX_DOC

/* Request headers and query parameters for one attempt. */
typedef struct req_parts
{
	s3s_sigv4_kv *hdr;
	int			nhdr;
	int			hdr_cap;
	s3s_sigv4_kv query[8];
	int			nquery;
	char	   *owned[16];		/* strings to free after signing */
	int			nowned;
	bool		nomem;			/* a value could not be built */
} req_parts;

static const char *
keep(req_parts *p, char *s)
{
	if (s != NULL && p->nowned < (int) (sizeof(p->owned) / sizeof(p->owned[0])))
		p->owned[p->nowned++] = s;
	else
		free(s);
	return s;
}

static bool
add_header(req_parts *p, const char *name, const char *value)
{
	if (value == NULL || p->nhdr >= p->hdr_cap)
	{
		p->nomem = true;
		return false;
	}
	p->hdr[p->nhdr].name = name;
	p->hdr[p->nhdr].value = value;
	p->nhdr++;
	return true;
}

static void
add_query(req_parts *p, const char *name, const char *value)
{
	if (p->nquery < (int) (sizeof(p->query) / sizeof(p->query[0])))
	{
		p->query[p->nquery].name = name;
		p->query[p->nquery].value = value;
		p->nquery++;
	}
}

/* No CR, LF or other control characters (tab allowed) in a header value. */
static bool
header_value_ok(const char *v)
{
	for (; *v; v++)
		if (((unsigned char) *v < 0x20 && *v != '\t') || *v == 0x7f)
			return false;
	return true;
}

/* An HTTP token: what a metadata key may consist of. */
static bool
header_name_ok(const char *n)
{
	if (*n == '\0')
		return false;
	for (; *n; n++)
	{
		unsigned char c = (unsigned char) *n;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  strchr("!#$%&'*+-.^_`|~", c) != NULL))
			return false;
	}
	return true;
}

/*
 * "etag" -> "\"etag\"" (already quoted values are kept), or the bare ETag
 * when the store wants If-Match unquoted (s3s_conditions).
 */
static char *
etag_value(const s3s_store *st, const char *etag)
{
	size_t		n = strlen(etag);
	char	   *q;

	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
		return st->cond.if_match_unquoted ? strndup(etag + 1, n - 2) : strdup(etag);
	if (st->cond.if_match_unquoted)
		return strdup(etag);
	q = malloc(n + 3);
	if (q)
		snprintf(q, n + 3, "\"%s\"", etag);
	return q;
}

/*
 * x-amz-copy-source: "<bucket>/<key>", percent-encoded except for '/' and
 * the sub-delimiters "=:@&$,;".  S3 percent-decodes the value, so those may
 * go raw; sending them raw also suits servers that decode it with
 * JavaScript's decodeURI, which leaves their escapes undecoded.  '+' ('+'
 * may be read as a space), '?' (starts a version id), '%', '#', spaces and
 * non-ASCII bytes are always encoded.
 */
static char *
copy_source(const char *bucket, const char *full_key)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		bl = strlen(bucket);
	size_t		kl = strlen(full_key);
	char	   *out = malloc(3 * (bl + kl + 1) + 1);
	size_t		o = 0;

	if (out == NULL)
		return NULL;
	for (int part = 0; part < 3; part++)
	{
		const char *s = part == 0 ? bucket : part == 1 ? "/" : full_key;

		for (; *s; s++)
		{
			unsigned char c = (unsigned char) *s;

			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				strchr("-._~/=:@&$,;", c) != NULL)
				out[o++] = (char) c;
			else
			{
				out[o++] = '%';
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			}
		}
	}
	out[o] = '\0';
	return out;
}

static char *
base64_md5(const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char	   *out = malloc(32);

	if (out == NULL)
		return NULL;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
	{
		free(out);
		return NULL;
	}
	EVP_EncodeBlock((unsigned char *) out, md, 16);
	return out;
}

static size_t
on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	s3_xfer    *x = ud;
	size_t		want = size * nitems;
	size_t		left = x->up_len - x->up_off;

	if (want > left)
		want = left;
	if (want > 0)
		memcpy(buf, x->up + x->up_off, want);
	x->up_off += want;
	x->req->bytes_out += (int64_t) want;
	return want;
}

static int
on_seek(void *ud, curl_off_t offset, int origin)
{
	s3_xfer    *x = ud;

	if (origin != SEEK_SET || offset < 0 || (size_t) offset > x->up_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->up_off = (size_t) offset;
	return CURL_SEEKFUNC_OK;
}

static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	s3_xfer    *x = ud;

	/* non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK */
	return s3s_cancelled(x->st) ? 1 : 0;
}

static bool
fail(s3_xfer *x, s3s_code code, const char *msg)
{
	s3s_error_set(&x->req->err, code, s3s_op_name(x->req->op), x->req->key, "%s", msg);
	return false;
}

/* Build the path, query, headers and body of this attempt. */
static bool
build(s3_xfer *x, s3_conf *c, req_parts *p, char **rawpath, char *payload_hash)
{
	s3s_request *r = x->req;
	s3s_store  *st = x->st;
	char	   *full = NULL;
	const char *m = "GET";
	char		tmp[64];

	if (r->op != S3S_OP_LIST && r->op != S3S_OP_DELETE_MANY)
	{
		full = s3s_full_key(st, r->key);
		if (full == NULL)
			return fail(x, S3S_ERR_NOMEM, "out of memory");
	}

	/* path: "/bucket/key" (path style) or "/key" (virtual-hosted) */
	{
		const char *k = full ? full : "";
		size_t		n = strlen(c->bucket) + strlen(k) + 3;

		*rawpath = malloc(n);
		if (*rawpath == NULL)
		{
			free(full);
			return fail(x, S3S_ERR_NOMEM, "out of memory");
		}
		if (c->path_style)
			snprintf(*rawpath, n, full ? "/%s/%s" : "/%s", c->bucket, k);
		else
			snprintf(*rawpath, n, "/%s", k);
	}

	x->up = NULL;
	x->up_len = 0;
	switch (r->op)
	{
		case S3S_OP_HEAD:
			m = "HEAD";
			break;
		case S3S_OP_GET:
			m = "GET";
			if (r->range_start >= 0)
			{
				if (r->range_end >= 0)
					snprintf(tmp, sizeof(tmp), "bytes=%lld-%lld",
							 (long long) r->range_start, (long long) r->range_end);
				else
					snprintf(tmp, sizeof(tmp), "bytes=%lld-", (long long) r->range_start);
				add_header(p, "Range", keep(p, strdup(tmp)));
			}
			break;
		case S3S_OP_PUT:
		case S3S_OP_COPY:
			m = "PUT";
			if (r->op == S3S_OP_PUT)
			{
				x->up = r->body;
				x->up_len = r->body ? r->body_len : 0;
				if (r->content_type)
				{
					if (!header_value_ok(r->content_type))
						goto bad_header;
					add_header(p, "Content-Type", r->content_type);
				}
				if (r->if_none_match)
					add_header(p, "If-None-Match", "*");
			}
			else
			{
				char	   *src = s3s_full_key(st, r->copy_source);

				add_header(p, "x-amz-copy-source",
						   keep(p, src ? copy_source(c->bucket, src) : NULL));
				free(src);
				add_header(p, "x-amz-metadata-directive", "REPLACE");
			}
			if (r->if_match)
			{
				if (!header_value_ok(r->if_match))
					goto bad_header;
				add_header(p, r->op == S3S_OP_PUT ? "If-Match" : "x-amz-copy-source-if-match",
						   keep(p, etag_value(st, r->if_match)));
			}
			for (int i = 0; r->meta && i < r->meta->n; i++)
			{
				size_t		kn = strlen(r->meta->keys[i]) + 12;
				char	   *name = malloc(kn);

				if (name == NULL)
				{
					p->nomem = true;
					break;
				}
				snprintf(name, kn, "x-amz-meta-%s", r->meta->keys[i]);
				/* metadata names are not kept in p->owned: there may be many */
				if (!header_name_ok(r->meta->keys[i]) || !header_value_ok(r->meta->values[i]) ||
					!add_header(p, name, r->meta->values[i]))
				{
					free(name);
					goto bad_header;
				}
			}
			break;
		case S3S_OP_DELETE:
			m = "DELETE";
			if (r->if_match)
			{
				if (!header_value_ok(r->if_match))
					goto bad_header;
				add_header(p, "If-Match", keep(p, etag_value(st, r->if_match)));
			}
			break;
		case S3S_OP_DELETE_MANY:
			{
				char	  **fk = calloc((size_t) r->nkeys + 1, sizeof(char *));
				bool		ok = fk != NULL;
				size_t		len = 0;

				m = "POST";
				add_query(p, "delete", NULL);
				for (int i = 0; ok && i < r->nkeys; i++)
				{
					fk[i] = s3s_full_key(st, r->keys[i]);
					ok = fk[i] != NULL;
				}
				if (ok)
					x->up_owned = s3xml_delete_body((const char *const *) fk, r->nkeys, &len);
				for (int i = 0; fk && i < r->nkeys; i++)
					free(fk[i]);
				free(fk);
				if (x->up_owned == NULL)
				{
					free(full);
					return fail(x, S3S_ERR_NOMEM, "could not build the delete request");
				}
				x->up = (const unsigned char *) x->up_owned;
				x->up_len = len;
				add_header(p, "Content-Type", "application/xml");
				add_header(p, "Content-MD5", keep(p, base64_md5(x->up, len)));
			}
			break;
		case S3S_OP_LIST:
			{
				char	   *fp = s3s_full_key(st, r->prefix ? r->prefix : "");

				m = "GET";
				add_query(p, "list-type", "2");
				if (fp && fp[0])
					add_query(p, "prefix", keep(p, fp));
				else
					free(fp);
				if (r->delimiter && r->delimiter[0])
					add_query(p, "delimiter", r->delimiter);
				if (r->continuation && r->continuation[0])
					add_query(p, "continuation-token", r->continuation);
				if (r->start_after && r->start_after[0])
					add_query(p, "start-after", keep(p, s3s_full_key(st, r->start_after)));
				if (r->max_keys > 0)
				{
					snprintf(tmp, sizeof(tmp), "%d", r->max_keys);
					add_query(p, "max-keys", keep(p, strdup(tmp)));
				}
			}
			break;
	}
	free(full);
	snprintf(x->method, sizeof(x->method), "%s", m);
	s3s_sha256_hex(x->up, x->up_len, payload_hash);
	return true;

bad_header:
	free(full);
	return fail(x, S3S_ERR_INVALID, "invalid character in a header value or metadata key");
}

/* "name: value" for curl ("name;" sends an empty value). */
static bool
append_header(struct curl_slist **list, const char *name, const char *value)
{
	size_t		n = strlen(name) + strlen(value) + 3;
	char	   *line = malloc(n);
	struct curl_slist *nl;

	if (line == NULL)
		return false;
	if (value[0] == '\0')
		snprintf(line, n, "%s;", name);
	else
		snprintf(line, n, "%s: %s", name, value);
	nl = curl_slist_append(*list, line);
	free(line);
	if (nl == NULL)
		return false;
	*list = nl;
	return true;
}

/* The URL sent: base, encoded path, encoded query. */
static char *
build_url(const s3_conf *c, const char *rawpath, const req_parts *p)
{
	char	   *path = s3s_uri_encode(rawpath, strlen(rawpath), true);
	size_t		n;
	char	   *url;
	size_t		o;

	if (path == NULL)
		return NULL;
	n = strlen(c->base_url) + strlen(path) + 2;
	for (int i = 0; i < p->nquery; i++)
		n += 3 * (strlen(p->query[i].name) + strlen(p->query[i].value ? p->query[i].value : "")) + 2;
	url = malloc(n);
	if (url == NULL)
	{
		free(path);
		return NULL;
	}
	o = (size_t) snprintf(url, n, "%s%s", c->base_url, path);
	free(path);
	for (int i = 0; i < p->nquery; i++)
	{
		const char *v = p->query[i].value ? p->query[i].value : "";
		char	   *ek = s3s_uri_encode(p->query[i].name, strlen(p->query[i].name), false);
		char	   *ev = s3s_uri_encode(v, strlen(v), false);

		if (ek == NULL || ev == NULL)
		{
			free(ek);
			free(ev);
			free(url);
			return NULL;
		}
		o += (size_t) snprintf(url + o, n - o, "%c%s=%s", i == 0 ? '?' : '&', ek, ev);
		free(ek);
		free(ev);
	}
	return url;
}

bool
s3r_prepare(s3_xfer *x)
{
	s3_conf    *c = x->st->impl;
	s3s_request *r = x->req;
	req_parts	p;
	char	   *rawpath = NULL;
	char		hash[65];
	char		amz_date[17];
	bool		ok = false;
	CURL	   *e;
	int			i;
	s3s_credentials cur;
	const char *akid = c->access_key_id;
	const char *secret = c->secret_access_key;
	const char *token = c->session_token;

	/*
	 * Temporary credentials are taken per attempt, so a long scan or commit
	 * signs with refreshed ones once the old ones near their expiry.
	 */
	memset(&cur, 0, sizeof(cur));
	if (c->creds)
	{
		s3s_error	cerr;

		s3s_error_clear(&cerr);
		if (!s3s_creds_get(c->creds, &cur, &cerr))
		{
			s3s_error_set(&r->err, cerr.code, s3s_op_name(r->op), r->key,
						  "could not obtain AWS credentials: %s", cerr.message);
			r->err.http_status = cerr.http_status;
			memcpy(r->err.s3_code, cerr.s3_code, sizeof(r->err.s3_code));
			return false;
		}
		akid = cur.access_key_id;
		secret = cur.secret_access_key;
		token = cur.session_token;
	}

	memset(&p, 0, sizeof(p));
	p.hdr_cap = 16 + (r->meta && (r->op == S3S_OP_PUT || r->op == S3S_OP_COPY) ? r->meta->n : 0);
	p.hdr = calloc((size_t) p.hdr_cap, sizeof(s3s_sigv4_kv));
	if (p.hdr == NULL)
	{
		s3s_credentials_free(&cur);
		return fail(x, S3S_ERR_NOMEM, "out of memory");
	}

	x->status = 0;
	x->content_length = -1;
	x->range_total = -1;
	x->body_limit = r->op == S3S_OP_GET ? SIZE_MAX / 2 : SMALL_REPLY_LIMIT;

	add_header(&p, "Host", c->host);
	if (!build(x, c, &p, &rawpath, hash))
		goto done;
	s3s_sigv4_amz_date(time(NULL) + c->clock_offset_s, amz_date);
	add_header(&p, "x-amz-content-sha256", hash);
	add_header(&p, "x-amz-date", amz_date);
	if (token)
		add_header(&p, "x-amz-security-token", token);
	if (p.nomem)
	{
		fail(x, S3S_ERR_NOMEM, "out of memory");
		goto done;
	}

	for (i = 0; i < p.nhdr; i++)
		if (!append_header(&x->headers, p.hdr[i].name, p.hdr[i].value))
			break;
	/* "Expect:" stops curl from waiting for 100-continue on uploads */
	ok = i == p.nhdr;
	if (ok)
	{
		struct curl_slist *nl = curl_slist_append(x->headers, "Expect:");

		ok = nl != NULL;
		if (nl)
			x->headers = nl;
	}
	if (ok && akid)
	{
		s3s_sigv4_input in = {0};
		s3s_sigv4_output out;

		in.method = x->method;
		in.path = rawpath;
		in.query = p.query;
		in.nquery = p.nquery;
		in.headers = p.hdr;
		in.nheaders = p.nhdr;
		in.payload_hash = hash;
		in.access_key_id = akid;
		in.secret_access_key = secret ? secret : "";
		in.region = c->region;
		in.service = "s3";
		in.amz_date = amz_date;
		ok = s3s_sigv4_sign(&in, &out) &&
			append_header(&x->headers, "Authorization", out.authorization);
		s3s_sigv4_output_free(&out);
	}
	if (ok)
		x->url = build_url(c, rawpath, &p);
	if (!ok || x->url == NULL)
	{
		ok = false;
		fail(x, S3S_ERR_NOMEM, "out of memory");
		goto done;
	}

	e = x->easy = curl_easy_init();
	if (e == NULL)
	{
		ok = false;
		fail(x, S3S_ERR_NOMEM, "could not create a transfer");
		goto done;
	}
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	x->curl_error[0] = '\0';
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_error);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->request_timeout_ms);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->low_speed_time_s);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s3r_on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s3r_on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);

	if (strcmp(x->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(x->method, "PUT") == 0)
	{
		x->up_off = 0;
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, x);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) x->up_len);
	}
	else if (strcmp(x->method, "POST") == 0)
	{
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *) x->up);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) x->up_len);
		x->req->bytes_out += (int64_t) x->up_len;
	}
	else if (strcmp(x->method, "DELETE") == 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	ok = true;

done:
	for (i = 0; i < p.nhdr; i++)
		if (strncmp(p.hdr[i].name, "x-amz-meta-", 11) == 0)
			free((char *) p.hdr[i].name);
	for (i = 0; i < p.nowned; i++)
		free(p.owned[i]);
	free(p.hdr);
	free(rawpath);
	s3s_credentials_free(&cur);
	return ok;
}

void
s3r_release(s3_xfer *x)
{
	if (x->easy)
	{
		curl_multi_remove_handle(((s3_conf *) x->st->impl)->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	free(x->url);
	x->url = NULL;
	free(x->up_owned);
	x->up_owned = NULL;
	x->up = NULL;
	x->up_len = 0;
	free(x->body);
	x->body = NULL;
	x->body_len = x->body_cap = 0;
	x->body_overflow = false;
	x->hdr_nomem = false;
	s3s_meta_free(&x->meta);
	free(x->etag);
	free(x->content_type);
	free(x->request_id);
	free(x->bucket_region);
	x->etag = x->content_type = x->request_id = x->bucket_region = NULL;
	x->server_date = 0;
	x->last_modified_ms = 0;
}
