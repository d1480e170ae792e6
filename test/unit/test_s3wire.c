/*-------------------------------------------------------------------------
 *
 * test_s3wire.c
 *		The S3 backend against a scripted HTTP server: what goes on the
 *		wire (headers, copy source, delete document, Content-MD5), and how
 *		replies are treated (retries on 5xx and in-body errors, clock skew,
 *		redirects, access errors that must not leak signatures, timeouts,
 *		malformed documents).
 *
 * The server runs in a thread on a free 127.0.0.1 port, answers each
 * connection with the next scripted reply and records the requests.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "unit.h"
#include "store/store.h"

#define MAXREC 16
#define HANG "HANG"				/* script entry: read the request, never answer */

typedef struct fake
{
	int			lfd;
	int			port;
	pthread_t	th;
	const char *const *script;
	int			nscript;
	int			served;
	char	   *rec[MAXREC];	/* request head + body, by arrival */
	int			hung[8];
	int			nhung;
	volatile int stop;
	pthread_mutex_t mu;
} fake;

static void
serve_one(fake *f, int fd)
{
	char	   *buf = malloc(65536);
	size_t		n = 0;
	char	   *end = NULL;
	long		clen = 0;
	const char *reply;

	buf[0] = '\0';
	while (n < 65535 && (end = strstr(buf, "\r\n\r\n")) == NULL)
	{
		ssize_t		r = recv(fd, buf + n, 65535 - n, 0);

		if (r <= 0)
			break;
		n += (size_t) r;
		buf[n] = '\0';
	}
	if (end)
	{
		char	   *cl = strcasestr(buf, "\r\nContent-Length:");

		if (cl && cl < end)
			clen = strtol(cl + 17, NULL, 10);
		while ((long) (n - (size_t) (end + 4 - buf)) < clen && n < 65535)
		{
			ssize_t		r = recv(fd, buf + n, 65535 - n, 0);

			if (r <= 0)
				break;
			n += (size_t) r;
			buf[n] = '\0';
		}
	}
	pthread_mutex_lock(&f->mu);
	if (f->served < MAXREC)
		f->rec[f->served] = strdup(buf);
	reply = f->script[f->served < f->nscript ? f->served : f->nscript - 1];
	f->served++;
	pthread_mutex_unlock(&f->mu);
	free(buf);
	if (strcmp(reply, HANG) == 0 && f->nhung < 8)
	{
		f->hung[f->nhung++] = fd;
		return;
	}
	{
		/* add Content-Length for the scripted body */
		const char *blank = strstr(reply, "\r\n\r\n");
		size_t		hl = blank ? (size_t) (blank - reply) : strlen(reply);
		size_t		bl = blank ? strlen(blank + 4) : 0;
		char	   *out = malloc(hl + bl + 64);
		int			m = snprintf(out, hl + bl + 64, "%.*s\r\nContent-Length: %zu\r\n\r\n%s",
								 (int) hl, reply, bl, blank ? blank + 4 : "");

		if (send(fd, out, (size_t) m, MSG_NOSIGNAL) < 0)
			perror("send");
		free(out);
	}
	close(fd);
}

static void *
fake_main(void *arg)
{
	fake	   *f = arg;

	while (!f->stop)
	{
		struct pollfd p = {f->lfd, POLLIN, 0};

		if (poll(&p, 1, 50) == 1)
		{
			int			fd = accept(f->lfd, NULL, NULL);

			if (fd >= 0)
				serve_one(f, fd);
		}
	}
	return NULL;
}

static void
fake_start(fake *f, const char *const *script, int n)
{
	struct sockaddr_in a;
	socklen_t	l = sizeof(a);

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->script = script;
	f->nscript = n;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(f->lfd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(f->lfd, 64) != 0 ||
		getsockname(f->lfd, (struct sockaddr *) &a, &l) != 0)
		perror("fake server");
	f->port = ntohs(a.sin_port);
	pthread_create(&f->th, NULL, fake_main, f);
}

static void
fake_stop(fake *f)
{
	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->lfd);
	for (int i = 0; i < f->nhung; i++)
		close(f->hung[i]);
	for (int i = 0; i < MAXREC; i++)
		free(f->rec[i]);
	pthread_mutex_destroy(&f->mu);
}

static s3s_store *
open_fake(fake *f, int retries, long timeout_ms)
{
	char		url[128];
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *st;

	snprintf(url, sizeof(url), "http://AKIDWIRE:WIRESECRET99@127.0.0.1:%d/bkt/pfx", f->port);
	s3s_config_init(&cfg);
	cfg.url = url;
	cfg.max_retries = retries;
	cfg.request_timeout_ms = timeout_ms;
	st = s3s_open(&cfg, &err);
	if (st == NULL)
		printf("# open: %s\n", err.message);
	else
	{
		/*
		 * A scripted server answers only what its script says, so it cannot
		 * be probed: declare that it keeps S3's conditions (quoted ETags).
		 */
		s3s_conditions s3 = {0};

		s3s_set_conditions(st, &s3);
	}
	return st;
}

/* Run one request against a fresh server with the given script. */
static void
run(fake *f, const char *const *script, int n, int retries, long timeout_ms, s3s_request *r)
{
	s3s_store  *st;

	fake_start(f, script, n);
	st = open_fake(f, retries, timeout_ms);
	if (st)
	{
		s3s_execute(st, r, 1);
		s3s_close(st);
	}
	if (r->err.code != S3S_OK)
		printf("#   %s\n", r->err.message);
}

static bool
has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static const char *const slowdown_then_ok[] = {
	"HTTP/1.1 503 Slow Down\r\nConnection: close\r\n\r\n"
	"<Error><Code>SlowDown</Code><Message>slow</Message></Error>",
	"HTTP/1.1 500 Internal\r\nConnection: close\r\n\r\n",
	"HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nx-amz-meta-Foo: Bar\r\n"
	"Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nok",
};

static const char *const redirect[] = {
	"HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: eu-central-1\r\n"
	"Connection: close\r\n\r\n"
	"<Error><Code>PermanentRedirect</Code><Message>Use the endpoint</Message></Error>",
};

static const char *const denied[] = {
	"HTTP/1.1 403 Forbidden\r\nx-amz-request-id: REQ123\r\nConnection: close\r\n\r\n"
	"<Error><Code>SignatureDoesNotMatch</Code><Message>bad sig.</Message>"
	"<AWSAccessKeyId>AKIDWIRE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 x</StringToSign>"
	"<SignatureProvided>deadbeef</SignatureProvided><RequestId>REQ123</RequestId></Error>",
};

static const char *const copy_inbody_error[] = {
	"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	"<Error><Code>InternalError</Code><Message>oops</Message></Error>",
	"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	"<CopyObjectResult><LastModified>2020-01-01T00:00:00.000Z</LastModified>"
	"<ETag>\"newetag\"</ETag></CopyObjectResult>",
};

static const char *const delete_partial[] = {
	"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	"<DeleteResult><Deleted><Key>pfx/a</Key></Deleted><Error><Key>pfx/b c</Key>"
	"<Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>",
};

static const char *const bad_list[] = {
	"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<ListBucketResult><Contents><K",
};

static const char *const hang[] = {HANG};

static const char *const ranged[] = {
	"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\n"
	"Connection: close\r\n\r\n56789",
};

static const char *const conflict_then_412[] = {
	"HTTP/1.1 409 Conflict\r\nConnection: close\r\n\r\n"
	"<Error><Code>ConcurrentModification</Code><Message></Message></Error>",
	"HTTP/1.1 412 Precondition Failed\r\nConnection: close\r\n\r\n"
	"<Error><Code>PreconditionFailed</Code><Message>no</Message></Error>",
};

static const char *const put_ok[] = {
	"HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nConnection: close\r\n\r\n",
};

/* The x-amz-date of a recorded request, as epoch seconds. */
static time_t
amz_date_of(const char *req)
{
	const char *d = req ? strcasestr(req, "\r\nx-amz-date: ") : NULL;
	struct tm	tm;

	if (d == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(d + 14, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

int
main(void)
{
	fake		f;
	s3s_request r;
	s3s_meta	meta;
	char		skewed[2][512];
	const char *skew_script[2];
	char		date[64];
	time_t		ahead = time(NULL) + 3600;
	struct tm	tm;

	/* retries on 503 SlowDown and a bodiless 500, re-signing each attempt */
	s3s_request_init(&r, S3S_OP_GET, "k");
	run(&f, slowdown_then_ok, 3, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_OK);
	CHECK_INTEQ(r.attempts, 3);
	CHECK(r.obj.body_len == 2 && memcmp(r.obj.body, "ok", 2) == 0);
	CHECK_STREQ(r.obj.etag, "e1");
	CHECK_STREQ(s3s_meta_get(&r.obj.meta, "foo"), "Bar");
	CHECK_INTEQ(r.obj.last_modified, 1445412480000LL);
	CHECK_STREQ(r.obj.content_type, "text/plain");
	CHECK(has(f.rec[0], "GET /bkt/pfx/k HTTP/1.1"));
	CHECK(has(f.rec[2], "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDWIRE/"));
	CHECK(has(f.rec[2], "\r\nx-amz-content-sha256: e3b0c442"));
	CHECK(!has(f.rec[2], "WIRESECRET99"));
	fake_stop(&f);
	s3s_request_reset(&r);

	/* without retries the first 5xx is final */
	s3s_request_init(&r, S3S_OP_GET, "k");
	run(&f, slowdown_then_ok, 3, 0, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_ERR_SERVER);
	CHECK_INTEQ(r.err.http_status, 503);
	CHECK_STREQ(r.err.s3_code, "SlowDown");
	CHECK_INTEQ(r.attempts, 1);
	fake_stop(&f);
	s3s_request_reset(&r);

	/*
	 * radosgw's 409 ConcurrentModification on a conditional PUT is retried
	 * like S3's ConditionalRequestConflict; the ETag goes out bare when the
	 * store is told so
	 */
	{
		s3s_conditions c = {.if_match_unquoted = true};
		s3s_store  *st;

		s3s_request_init(&r, S3S_OP_PUT, "k");
		r.body = (const unsigned char *) "x";
		r.body_len = 1;
		r.if_match = "e1";
		fake_start(&f, conflict_then_412, 2);
		st = open_fake(&f, 3, 5000);
		CHECK(st != NULL);
		if (st)
		{
			s3s_set_conditions(st, &c);
			s3s_execute(st, &r, 1);
			s3s_close(st);
		}
		CHECK_INTEQ(r.err.code, S3S_ERR_PRECONDITION);
		CHECK_INTEQ(r.attempts, 2);
		CHECK(has(f.rec[0], "\r\nIf-Match: e1\r\n"));
		fake_stop(&f);
		s3s_request_reset(&r);
	}

	/* redirects are not followed and name the bucket's region */
	s3s_request_init(&r, S3S_OP_HEAD, "k");
	run(&f, redirect, 1, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_ERR_REDIRECT);
	CHECK_INTEQ(r.attempts, 1);
	CHECK(has(r.err.message, "eu-central-1"));
	fake_stop(&f);
	s3s_request_reset(&r);

	/* access errors keep the request id but never the signature material */
	s3s_request_init(&r, S3S_OP_GET, "k");
	run(&f, denied, 1, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_ERR_ACCESS);
	CHECK_STREQ(r.err.request_id, "REQ123");
	CHECK_STREQ(r.err.s3_code, "SignatureDoesNotMatch");
	CHECK(has(r.err.message, "bad sig"));
	CHECK(!has(r.err.message, "deadbeef") && !has(r.err.message, "AWS4-HMAC") &&
		  !has(r.err.message, "WIRESECRET99"));
	fake_stop(&f);
	s3s_request_reset(&r);

	/* a skewed clock: the retry is signed with the server's time */
	gmtime_r(&ahead, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(skewed[0], sizeof(skewed[0]),
			 "HTTP/1.1 403 Forbidden\r\nDate: %s\r\nConnection: close\r\n\r\n"
			 "<Error><Code>RequestTimeTooSkewed</Code><Message>skewed</Message></Error>", date);
	snprintf(skewed[1], sizeof(skewed[1]),
			 "HTTP/1.1 200 OK\r\nDate: %s\r\nConnection: close\r\n\r\n", date);
	skew_script[0] = skewed[0];
	skew_script[1] = skewed[1];
	s3s_request_init(&r, S3S_OP_DELETE, "k");
	run(&f, skew_script, 2, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_OK);
	CHECK_INTEQ(r.attempts, 2);
	CHECK(has(f.rec[0], "DELETE /bkt/pfx/k HTTP/1.1"));
	CHECK(labs((long) (amz_date_of(f.rec[0]) - time(NULL))) < 120);
	CHECK(labs((long) (amz_date_of(f.rec[1]) - ahead)) < 120);
	fake_stop(&f);
	s3s_request_reset(&r);

	/* COPY: an error inside a 200 is retried; what the copy sends */
	s3s_meta_init(&meta);
	s3s_meta_add(&meta, "_v", "v1");
	s3s_request_init(&r, S3S_OP_COPY, "dst");
	r.copy_source = "resource=u/data/id=a b+c";
	r.if_match = "e1";
	r.meta = &meta;
	run(&f, copy_inbody_error, 2, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_OK);
	CHECK_INTEQ(r.attempts, 2);
	CHECK_STREQ(r.obj.etag, "newetag");
	CHECK(has(f.rec[1], "PUT /bkt/pfx/dst HTTP/1.1"));
	CHECK(has(f.rec[1], "\r\nx-amz-copy-source: bkt/pfx/resource=u/data/id=a%20b%2Bc\r\n"));
	CHECK(has(f.rec[1], "\r\nx-amz-copy-source-if-match: \"e1\"\r\n"));
	CHECK(has(f.rec[1], "\r\nx-amz-metadata-directive: REPLACE\r\n"));
	CHECK(has(f.rec[1], "\r\nx-amz-meta-_v: v1\r\n"));
	CHECK(has(f.rec[1], "SignedHeaders=host;x-amz-content-sha256;x-amz-copy-source;"
			  "x-amz-copy-source-if-match;x-amz-date;x-amz-meta-_v;x-amz-metadata-directive,"));
	fake_stop(&f);
	s3s_request_reset(&r);

	/* DELETE_MANY: document, Content-MD5, and a per-key failure */
	{
		const char *keys[] = {"a", "b c"};
		const char *body;
		const char *md5h;
		unsigned char md[16];
		unsigned int mdlen;
		char		b64[32];

		s3s_request_init(&r, S3S_OP_DELETE_MANY, NULL);
		r.keys = keys;
		r.nkeys = 2;
		run(&f, delete_partial, 1, 5, 5000, &r);
		CHECK_INTEQ(r.err.code, S3S_ERR_ACCESS);
		CHECK_STREQ(r.err.key, "b c");
		CHECK_STREQ(r.err.s3_code, "AccessDenied");
		CHECK_INTEQ(r.attempts, 1);
		CHECK(has(f.rec[0], "POST /bkt?delete= HTTP/1.1"));
		CHECK(has(f.rec[0], "<Object><Key>pfx/a</Key></Object><Object><Key>pfx/b c</Key></Object>"));
		body = f.rec[0] ? strstr(f.rec[0], "\r\n\r\n") : NULL;
		md5h = f.rec[0] ? strcasestr(f.rec[0], "\r\nContent-MD5: ") : NULL;
		CHECK(body != NULL && md5h != NULL);
		if (body && md5h)
		{
			body += 4;
			EVP_Digest(body, strlen(body), md, &mdlen, EVP_md5(), NULL);
			EVP_EncodeBlock((unsigned char *) b64, md, 16);
			CHECK(strncmp(md5h + 15, b64, strlen(b64)) == 0);
		}
		fake_stop(&f);
		s3s_request_reset(&r);
	}

	/* a truncated list document is a protocol error, not retried */
	s3s_request_init(&r, S3S_OP_LIST, NULL);
	r.prefix = "resource=u/data";
	r.max_keys = 7;
	run(&f, bad_list, 1, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_ERR_PROTOCOL);
	CHECK_INTEQ(r.attempts, 1);
	CHECK(has(f.rec[0], "GET /bkt?list-type=2&prefix=pfx%2Fresource%3Du%2Fdata&max-keys=7 HTTP/1.1"));
	fake_stop(&f);
	s3s_request_reset(&r);

	/* a server that never answers: timeouts, retried, then reported */
	s3s_request_init(&r, S3S_OP_GET, "k");
	run(&f, hang, 1, 1, 300, &r);
	CHECK_INTEQ(r.err.code, S3S_ERR_TIMEOUT);
	CHECK_INTEQ(r.attempts, 2);
	fake_stop(&f);
	s3s_request_reset(&r);

	/* ranged GET reports the object's full size */
	s3s_request_init(&r, S3S_OP_GET, "k");
	r.range_start = 5;
	run(&f, ranged, 1, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_OK);
	CHECK_INTEQ(r.obj.size, 10);
	CHECK(r.obj.body_len == 5 && memcmp(r.obj.body, "56789", 5) == 0);
	CHECK(has(f.rec[0], "\r\nRange: bytes=5-\r\n"));
	fake_stop(&f);
	s3s_request_reset(&r);

	/* PUT headers; a header injection attempt is refused before sending */
	s3s_request_init(&r, S3S_OP_PUT, "k");
	r.body = (const unsigned char *) "{}";
	r.body_len = 2;
	r.content_type = "application/json";
	r.if_none_match = true;
	r.meta = &meta;
	run(&f, put_ok, 1, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_OK);
	CHECK_STREQ(r.obj.etag, "abc");
	CHECK(has(f.rec[0], "\r\nIf-None-Match: *\r\n"));
	CHECK(has(f.rec[0], "\r\nContent-Type: application/json\r\n"));
	CHECK(has(f.rec[0], "\r\n\r\n{}"));
	CHECK(!has(f.rec[0], "Expect:"));
	fake_stop(&f);
	s3s_request_reset(&r);

	/* reserved characters and UTF-8 in keys are encoded once on the wire */
	s3s_request_init(&r, S3S_OP_DELETE, "id=a b+c%\xc3\xa9~");
	run(&f, put_ok, 1, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_OK);
	CHECK(has(f.rec[0], "DELETE /bkt/pfx/id%3Da%20b%2Bc%25%C3%A9~ HTTP/1.1"));
	fake_stop(&f);
	s3s_request_reset(&r);

	s3s_request_init(&r, S3S_OP_PUT, "k");
	r.meta = &meta;
	s3s_meta_add(&meta, "evil", "x\r\nX-Injected: 1");
	run(&f, put_ok, 1, 5, 5000, &r);
	CHECK_INTEQ(r.err.code, S3S_ERR_INVALID);
	CHECK_INTEQ(f.served, 0);
	fake_stop(&f);
	s3s_request_reset(&r);
	s3s_meta_free(&meta);

	return unit_done();
}
