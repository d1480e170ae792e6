/*-------------------------------------------------------------------------
 *
 * s3resp.c
 *		Reading one S3 reply: headers, body, status, error documents, and
 *		deciding whether a failure is worth another attempt.
 *
 * Transient failures (5xx, SlowDown, throttling, timeouts, dropped
 * connections, a skewed clock) are reported as retryable; s3.c decides
 * whether attempts remain.  Error messages are built from the request line
 * (method, host and path, never the query) and the server's Code, Message
 * and RequestId: curl's own error text and the rest of the error document
 * (which may echo the string to sign) are never copied, so no credential
 * or signature can reach a message.
 *
 *-------------------------------------------------------------------------
 */
#include "store/s3int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3xml.h"

/* Longest header value we look at; longer ones are ignored. */
#define MAX_HEADER_VALUE 8192
/* Non-success bodies are only read for their error document. */
#define ERROR_BODY_LIMIT (1024 * 1024)
/* Server clocks further off than this are corrected for when signing. */
#define MAX_SKEW_S 300

static char *
dup_n(const char *s, size_t n)
{
	char	   *d = malloc(n + 1);

	if (d)
	{
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void
set_str(s3_xfer *x, char **dst, const char *v, size_t n)
{
	free(*dst);
	*dst = dup_n(v, n);
	if (*dst == NULL)
		x->hdr_nomem = true;
}

size_t
s3r_on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	s3_xfer    *x = ud;
	size_t		len = size * nitems;
	const char *colon;
	char		name[128];
	size_t		nlen;
	const char *v;
	size_t		vlen;
	char	   *tmp;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0)
	{
		/* a new status line (after a 100 Continue): forget earlier headers */
		const char *sp = memchr(buf, ' ', len);

		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		s3s_meta_free(&x->meta);
		free(x->etag);
		free(x->content_type);
		free(x->request_id);
		free(x->bucket_region);
		x->etag = x->content_type = x->request_id = x->bucket_region = NULL;
		x->content_length = -1;
		x->range_total = -1;
		x->last_modified_ms = 0;
		x->server_date = 0;
		return len;
	}
	colon = memchr(buf, ':', len);
	if (colon == NULL)
		return len;
	nlen = (size_t) (colon - buf);
	while (nlen > 0 && isspace((unsigned char) buf[nlen - 1]))
		nlen--;
	if (nlen == 0 || nlen >= sizeof(name))
		return len;
	for (size_t i = 0; i < nlen; i++)
		name[i] = (char) tolower((unsigned char) buf[i]);
	name[nlen] = '\0';
	v = colon + 1;
	vlen = len - (size_t) (v - buf);
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && isspace((unsigned char) v[vlen - 1]))
		vlen--;
	if (vlen > MAX_HEADER_VALUE)
		return len;

	if (strncmp(name, "x-amz-meta-", 11) == 0 && name[11] != '\0')
	{
		tmp = dup_n(v, vlen);
		if (tmp == NULL || s3s_meta_add(&x->meta, name + 11, tmp) != 0)
			x->hdr_nomem = true;
		free(tmp);
	}
	else if (strcmp(name, "etag") == 0)
	{
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
			set_str(x, &x->etag, v + 1, vlen - 2);
		else
			set_str(x, &x->etag, v, vlen);
	}
	else if (strcmp(name, "content-type") == 0)
		set_str(x, &x->content_type, v, vlen);
	else if (strcmp(name, "x-amz-request-id") == 0)
		set_str(x, &x->request_id, v, vlen);
	else if (strcmp(name, "x-amz-bucket-region") == 0)
		set_str(x, &x->bucket_region, v, vlen);
	else if (strcmp(name, "content-length") == 0 ||
			 strcmp(name, "content-range") == 0 ||
			 strcmp(name, "last-modified") == 0 ||
			 strcmp(name, "date") == 0)
	{
		tmp = dup_n(v, vlen);
		if (tmp == NULL)
		{
			x->hdr_nomem = true;
			return len;
		}
		if (name[0] == 'c' && name[8] == 'l')
			x->content_length = strtoll(tmp, NULL, 10);
		else if (name[0] == 'c')
		{
			/* "bytes 0-9/1234": the object's full size */
			const char *slash = strrchr(tmp, '/');

			if (slash && isdigit((unsigned char) slash[1]))
				x->range_total = strtoll(slash + 1, NULL, 10);
		}
		else
		{
			time_t		t = curl_getdate(tmp, NULL);

			if (t != (time_t) -1)
			{
				if (name[0] == 'l')
					x->last_modified_ms = (int64_t) t * 1000;
				else
					x->server_date = t;
			}
		}
		free(tmp);
	}
	return len;
}

size_t
s3r_on_write(char *data, size_t size, size_t nitems, void *ud)
{
	s3_xfer    *x = ud;
	size_t		len = size * nitems;
	size_t		limit = (x->status >= 200 && x->status < 300) ? x->body_limit : ERROR_BODY_LIMIT;

	if (len > limit || x->body_len > limit - len)
	{
		x->body_overflow = true;
		return 0;				/* aborts the transfer */
	}
	if (x->body_len + len + 1 > x->body_cap)
	{
		size_t		cap = x->body_cap ? x->body_cap : 16384;
		char	   *nb;

		/* preallocate what Content-Length announces, within reason */
		if (x->body_cap == 0 && x->content_length > 0 &&
			(uint64_t) x->content_length < (uint64_t) limit &&
			x->content_length < (int64_t) 256 * 1024 * 1024)
			cap = (size_t) x->content_length + 1;
		while (cap < x->body_len + len + 1)
			cap *= 2;
		nb = realloc(x->body, cap);
		if (nb == NULL)
		{
			x->hdr_nomem = true;
			return 0;
		}
		x->body = nb;
		x->body_cap = cap;
	}
	memcpy(x->body + x->body_len, data, len);
	x->body_len += len;
	x->body[x->body_len] = '\0';
	x->req->bytes_in += (int64_t) len;
	return len;
}

/* Remember how far the server's clock is from ours. */
static void
note_clock(s3_conf *c, time_t server)
{
	long		skew;

	if (server <= 0)
		return;
	skew = (long) (server - time(NULL));
	if (skew > MAX_SKEW_S || skew < -MAX_SKEW_S)
		c->clock_offset_s = skew;
	else
		c->clock_offset_s = 0;
}

/* "GET http://host/bucket/key" without the query, for messages. */
static void
request_line(const s3_xfer *x, char *buf, size_t size)
{
	size_t		n = x->url ? strcspn(x->url, "?") : 0;

	snprintf(buf, size, "%s %.*s", x->method, (int) (n > 300 ? 300 : n), x->url ? x->url : "");
}

static void
set_error(s3_xfer *x, s3s_code code, long status, const char *s3code,
		  const char *request_id, const char *msg)
{
	s3s_error  *e = &x->req->err;

	s3s_error_set(e, code, s3s_op_name(x->req->op), x->req->key, "%s", msg);
	e->http_status = (int) status;
	snprintf(e->s3_code, sizeof(e->s3_code), "%s", s3code ? s3code : "");
	snprintf(e->request_id, sizeof(e->request_id), "%s",
			 request_id && request_id[0] ? request_id : (x->request_id ? x->request_id : ""));
}

/*
 * Our own words for the transport failures a user meets most: libcurl's
 * texts change between its versions ("Couldn't connect to server" became
 * "Could not connect to server" in 8.x), and an error message should not
 * depend on which libcurl the server was built with.
 */
static const char *
net_error_text(CURLcode cc)
{
	switch (cc)
	{
		case CURLE_OPERATION_TIMEDOUT:
			return "timed out";
		case CURLE_COULDNT_RESOLVE_HOST:
			return "could not resolve host name";
		case CURLE_COULDNT_CONNECT:
			return "could not connect to server";
		case CURLE_SEND_ERROR:
			return "could not send data to the server";
		case CURLE_RECV_ERROR:
			return "could not receive data from the server";
		case CURLE_GOT_NOTHING:
			return "server closed the connection without a reply";
		case CURLE_PARTIAL_FILE:
			return "reply shorter than announced";
		default:
			return curl_easy_strerror(cc);
	}
}

static bool
net_error(s3_xfer *x, CURLcode cc)
{
	char		line[400];
	char		msg[768];
	s3s_code	code = S3S_ERR_NETWORK;
	bool		retry;

	switch (cc)
	{
		case CURLE_OPERATION_TIMEDOUT:
			code = S3S_ERR_TIMEOUT;
			retry = true;
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_WEIRD_SERVER_REPLY:
			retry = true;
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
			code = S3S_ERR_TLS;
			retry = false;
			break;
		default:
			retry = false;
			break;
	}
	request_line(x, line, sizeof(line));
	/*
	 * For TLS, libcurl's error buffer says which check failed (issuer, host
	 * name); elsewhere its code says enough, and the buffer adds timings.
	 */
	snprintf(msg, sizeof(msg), "%s: %.*s", line, CURL_ERROR_SIZE,
			 code == S3S_ERR_TLS && x->curl_error[0] ? x->curl_error : net_error_text(cc));
	set_error(x, code, 0, NULL, NULL, msg);
	return retry;
}

/* Map an S3 error reply to a code; *retry says whether to try again. */
static s3s_code
classify(long status, const char *s3code, bool *retry)
{
	*retry = false;
	if (strcmp(s3code, "SlowDown") == 0 || strcmp(s3code, "InternalError") == 0 ||
		strcmp(s3code, "ServiceUnavailable") == 0 || strcmp(s3code, "RequestTimeout") == 0 ||
		status == 429 || status >= 500)
	{
		*retry = true;
		return status >= 400 && status < 500 && status != 429 ? S3S_ERR_CLIENT : S3S_ERR_SERVER;
	}
	/*
	 * A conditional write that raced another write of the key: S3 says
	 * ConditionalRequestConflict, radosgw ConcurrentModification.  Sent
	 * again, the condition is evaluated against the winner's object.
	 */
	if (strcmp(s3code, "ConditionalRequestConflict") == 0 ||
		strcmp(s3code, "ConcurrentModification") == 0)
	{
		*retry = true;
		return S3S_ERR_PRECONDITION;
	}
	if (status == 301 || status == 302 || status == 307 || status == 308 ||
		strcmp(s3code, "PermanentRedirect") == 0 || strcmp(s3code, "TemporaryRedirect") == 0)
		return S3S_ERR_REDIRECT;
	if (status == 404 || strcmp(s3code, "NoSuchKey") == 0 || strcmp(s3code, "NoSuchBucket") == 0)
		return S3S_ERR_NOT_FOUND;
	if (status == 412 || status == 304 || strcmp(s3code, "PreconditionFailed") == 0)
		return S3S_ERR_PRECONDITION;
	if (status == 401 || status == 403)
		return S3S_ERR_ACCESS;
	return S3S_ERR_CLIENT;
}

/* Fail x from an S3 error (HTTP error status or an <Error> in a 200). */
static bool
s3_error(s3_xfer *x, long status, const s3xml_error *xe)
{
	s3_conf    *c = x->st->impl;
	char		msg[512];
	char		line[400];
	bool		retry;
	s3s_code	code;
	const char *region = x->bucket_region ? x->bucket_region : (xe->region[0] ? xe->region : NULL);
	size_t		ml = strlen(xe->message);
	char		smsg[256];

	snprintf(smsg, sizeof(smsg), "%s", xe->message);
	while (ml > 0 && (smsg[ml - 1] == '.' || smsg[ml - 1] == ' '))
		smsg[--ml] = '\0';

	if (strcmp(xe->code, "RequestTimeTooSkewed") == 0)
	{
		/* sign with the server's clock from now on, and try again */
		if (xe->server_time_ms > 0)
			c->clock_offset_s = (long) (xe->server_time_ms / 1000 - time(NULL));
		else if (x->server_date > 0)
			c->clock_offset_s = (long) (x->server_date - time(NULL));
		set_error(x, S3S_ERR_CLIENT, status, xe->code, xe->request_id,
				  "request time too skewed from the server's clock");
		return true;
	}
	code = classify(status, xe->code, &retry);
	if (strcmp(xe->code, "AuthorizationHeaderMalformed") == 0 && region)
		code = S3S_ERR_REDIRECT;
	request_line(x, line, sizeof(line));
	if (code == S3S_ERR_REDIRECT)
	{
		if (region)
			snprintf(msg, sizeof(msg), "bucket \"%s\" is in region \"%s\", not \"%s\": set the region option (http %ld)",
					 c->bucket, region, c->region, status);
		else
			snprintf(msg, sizeof(msg), "bucket \"%s\" must be reached through another endpoint%s%s (http %ld)",
					 c->bucket, xe->endpoint[0] ? " such as " : "", xe->endpoint, status);
	}
	else if (xe->code[0])
		snprintf(msg, sizeof(msg), "%.300s: http %ld %.63s%s%.120s", line, status, xe->code,
				 smsg[0] ? ": " : "", smsg);
	else
		snprintf(msg, sizeof(msg), "%s: http %ld", line, status);
	set_error(x, code, status, xe->code, xe->request_id, msg);
	return retry;
}

static bool
protocol_error(s3_xfer *x, const char *what)
{
	char		line[400];
	char		msg[512];

	request_line(x, line, sizeof(line));
	snprintf(msg, sizeof(msg), "%s: %s", line, what);
	set_error(x, S3S_ERR_PROTOCOL, x->status, NULL, NULL, msg);
	return false;
}

static bool
nomem(s3_xfer *x)
{
	set_error(x, S3S_ERR_NOMEM, x->status, NULL, NULL, "out of memory");
	return false;
}

/* Move the reply's object description into r->obj. */
static bool
take_object(s3_xfer *x)
{
	s3s_object *o = &x->req->obj;

	o->etag = x->etag;
	o->content_type = x->content_type;
	x->etag = x->content_type = NULL;
	o->meta = x->meta;
	memset(&x->meta, 0, sizeof(x->meta));
	o->last_modified = x->last_modified_ms;
	o->size = x->range_total >= 0 ? x->range_total :
		x->content_length >= 0 ? x->content_length : (int64_t) x->body_len;
	if (x->req->op == S3S_OP_GET)
	{
		if (x->body == NULL && (x->body = malloc(1)) == NULL)
			return nomem(x);
		x->body[x->body_len] = '\0';
		o->body = (unsigned char *) x->body;
		o->body_len = x->body_len;
		x->body = NULL;
		x->body_len = x->body_cap = 0;
		if (x->range_total < 0 && x->content_length < 0)
			o->size = (int64_t) o->body_len;
	}
	return true;
}

static bool
success(s3_xfer *x)
{
	s3s_request *r = x->req;
	s3xml_error xe;
	char		msg[256];

	/* CopyObject (and in principle any call) may report an error in a 200 */
	if ((r->op == S3S_OP_COPY || r->op == S3S_OP_DELETE_MANY) && x->body_len > 0 &&
		s3xml_parse_error(x->body, x->body_len, &xe))
		return s3_error(x, x->status, &xe);

	switch (r->op)
	{
		case S3S_OP_HEAD:
		case S3S_OP_GET:
			take_object(x);
			return false;
		case S3S_OP_PUT:
			r->obj.etag = x->etag;
			x->etag = NULL;
			r->obj.size = (int64_t) r->body_len;
			r->obj.last_modified = x->last_modified_ms;
			if (r->content_type && (r->obj.content_type = strdup(r->content_type)) == NULL)
				return nomem(x);
			return false;
		case S3S_OP_COPY:
			if (!s3xml_parse_copy(x->body, x->body_len, &r->obj.etag, &r->obj.last_modified))
				return protocol_error(x, "unparsable copy reply");
			return false;
		case S3S_OP_DELETE:
			return false;
		case S3S_OP_DELETE_MANY:
			{
				char		key[1024];
				int			nerr = s3xml_parse_delete(x->body, x->body_len, &xe, key, sizeof(key));
				bool		retry;
				s3s_code	code;
				char	   *logical;

				if (nerr < 0)
					return protocol_error(x, "unparsable delete reply");
				if (nerr == 0)
					return false;
				code = classify(0, xe.code, &retry);
				if (code == S3S_ERR_CLIENT && strcmp(xe.code, "AccessDenied") == 0)
					code = S3S_ERR_ACCESS;
				logical = s3s_logical_key(x->st, key);
				snprintf(msg, sizeof(msg), "could not delete \"%.100s\": %.40s%s%.60s (%d key%s failed)",
						 logical ? logical : key, xe.code, xe.message[0] ? ": " : "",
						 xe.message, nerr, nerr == 1 ? "" : "s");
				set_error(x, code, x->status, xe.code, xe.request_id, msg);
				if (logical)
					snprintf(r->err.key, sizeof(r->err.key), "%s", logical);
				free(logical);
				return retry;
			}
		case S3S_OP_LIST:
			if (!s3xml_parse_list(x->st, x->body, x->body_len, &r->list, msg, sizeof(msg)))
				return protocol_error(x, msg);
			return false;
	}
	return false;
}

bool
s3r_complete(s3_xfer *x, CURLcode cc)
{
	s3_conf    *c = x->st->impl;
	long		status = 0;
	s3xml_error xe;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->status = status;
	note_clock(c, x->server_date);

	if (cc == CURLE_ABORTED_BY_CALLBACK)
	{
		set_error(x, S3S_ERR_CANCELLED, 0, NULL, NULL, "request cancelled");
		return false;
	}
	if (x->hdr_nomem)
		return nomem(x);
	if (cc == CURLE_WRITE_ERROR && x->body_overflow)
		return protocol_error(x, "reply too large");
	if (cc != CURLE_OK)
		return net_error(x, cc);
	if (status >= 200 && status < 300)
		return success(x);

	if (x->body_len == 0 || !s3xml_parse_error(x->body, x->body_len, &xe))
	{
		memset(&xe, 0, sizeof(xe));
		/* HEAD replies have no body: name the usual codes ourselves */
		if (status == 404)
			snprintf(xe.code, sizeof(xe.code), "%s", "NotFound");
		else if (status == 412)
			snprintf(xe.code, sizeof(xe.code), "%s", "PreconditionFailed");
		else if (status == 503)
			snprintf(xe.code, sizeof(xe.code), "%s", "SlowDown");
	}
	return s3_error(x, status, &xe);
}
