/*-------------------------------------------------------------------------
 *
 * test_sigv4.c
 *		SigV4 signer against the published AWS test vectors and the S3
 *		worked examples.
 *
 * Usage: test_sigv4 [DATADIR]  (default "data/sigv4", relative to
 * test/unit).  DATADIR holds aws-sig-v4-test-suite/ (one directory per case
 * with .req/.creq/.sts/.authz) and aws-signing-test-suite/v4/ (request.txt,
 * context.json and header-*.txt).  Path-normalising cases are skipped:
 * S3 never normalises paths.
 *
 * The two suites disagree on folded header lines: the older one treats a
 * continuation line as another value of the same header (joined with ','),
 * the newer one as part of the value (whitespace collapsed).  The request
 * parser below follows each suite's reading; the signer is the same.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "unit.h"
#include "store/sigv4.h"

#define MAXH 32
#define MAXQ 32

typedef struct parsed_req
{
	char	   *method;
	char	   *path;
	int			nq;
	s3s_sigv4_kv q[MAXQ];
	int			nh;
	s3s_sigv4_kv h[MAXH];
	char	   *body;
	size_t		body_len;
	char	   *owned[4 * MAXH + 4 * MAXQ];
	int			nowned;
} parsed_req;

static char *
own(parsed_req *r, char *s)
{
	if (r->nowned < (int) (sizeof(r->owned) / sizeof(r->owned[0])))
		r->owned[r->nowned++] = s;
	return s;
}

static void
req_free(parsed_req *r)
{
	for (int i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	memset(r, 0, sizeof(*r));
}

/* An expected-output file without its final line break. */
static char *
read_expected(const char *path)
{
	char	   *s = unit_read_file(path, NULL);
	size_t		n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static char *
ndup(const char *s, size_t n)
{
	char	   *d = malloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

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

static char *
pct_decode(const char *s, size_t n)
{
	char	   *d = malloc(n + 1);
	size_t		o = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '%' && i + 2 < n &&
			hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0)
		{
			d[o++] = (char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		else
			d[o++] = s[i];
	}
	d[o] = '\0';
	return d;
}

/*
 * Parse a raw request: request line, headers, blank line, body.  With
 * fold_as_value, a continuation line extends the previous header's value;
 * otherwise it becomes another value of the same header.
 */
static bool
parse_req(const char *text, bool fold_as_value, parsed_req *r)
{
	const char *p = text;
	const char *eol = strchr(p, '\n');
	const char *sp1,
			   *sp2,
			   *qm;

	memset(r, 0, sizeof(*r));
	if (eol == NULL)
		eol = p + strlen(p);
	sp1 = memchr(p, ' ', (size_t) (eol - p));
	if (sp1 == NULL)
		return false;
	/* the target may contain spaces: the protocol is after the last one */
	sp2 = eol;
	while (sp2 > sp1 && *sp2 != ' ')
		sp2--;
	if (sp2 == sp1)
		return false;
	r->method = own(r, ndup(p, (size_t) (sp1 - p)));
	qm = memchr(sp1 + 1, '?', (size_t) (sp2 - sp1 - 1));
	r->path = own(r, ndup(sp1 + 1, (size_t) ((qm ? qm : sp2) - sp1 - 1)));
	if (qm)
	{
		const char *q = qm + 1;

		while (q < sp2 && r->nq < MAXQ)
		{
			const char *amp = memchr(q, '&', (size_t) (sp2 - q));
			const char *end = amp ? amp : sp2;
			const char *eq = memchr(q, '=', (size_t) (end - q));

			r->q[r->nq].name = own(r, pct_decode(q, (size_t) ((eq ? eq : end) - q)));
			r->q[r->nq].value = own(r, eq ? pct_decode(eq + 1, (size_t) (end - eq - 1)) : strdup(""));
			r->nq++;
			q = end + 1;
		}
	}
	p = *eol ? eol + 1 : eol;
	while (*p)
	{
		const char *le = strchr(p, '\n');
		size_t		n;

		if (le == NULL)
			le = p + strlen(p);
		n = (size_t) (le - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
		{
			p = *le ? le + 1 : le;
			r->body = own(r, ndup(p, strlen(p)));
			r->body_len = strlen(p);
			return true;
		}
		if ((p[0] == ' ' || p[0] == '\t') && r->nh > 0)
		{
			char	   *line = ndup(p, n);

			if (fold_as_value)
			{
				const char *prev = r->h[r->nh - 1].value;
				char	   *joined = malloc(strlen(prev) + n + 2);

				sprintf(joined, "%s\n%s", prev, line);
				free(line);
				r->h[r->nh - 1].value = own(r, joined);
			}
			else if (r->nh < MAXH)
			{
				r->h[r->nh].name = r->h[r->nh - 1].name;
				r->h[r->nh].value = own(r, line);
				r->nh++;
			}
			else
				free(line);
		}
		else
		{
			const char *colon = memchr(p, ':', n);

			if (colon == NULL || r->nh >= MAXH)
				return false;
			r->h[r->nh].name = own(r, ndup(p, (size_t) (colon - p)));
			r->h[r->nh].value = own(r, ndup(colon + 1, n - (size_t) (colon - p) - 1));
			r->nh++;
		}
		p = *le ? le + 1 : le;
	}
	r->body = own(r, strdup(""));
	return true;
}

static const char *
header_value(const parsed_req *r, const char *name)
{
	for (int i = 0; i < r->nh; i++)
		if (strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value;
	return NULL;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
check_one(const char *label, const s3s_sigv4_input *in, const char *creq,
		  const char *sts, const char *authz)
{
	s3s_sigv4_output out;
	bool		ok = s3s_sigv4_sign(in, &out);

	printf("# case %s\n", label);
	CHECK(ok);
	CHECK(creq != NULL && sts != NULL && authz != NULL);
	CHECK_STREQ(out.canonical_request, creq);
	CHECK_STREQ(out.string_to_sign, sts);
	CHECK_STREQ(out.authorization, authz);
	s3s_sigv4_output_free(&out);
}

/* The 2015 suite: a case is a directory D holding D.req and friends. */
static int
run_suite2015(const char *dir, const char *name)
{
	char		path[1024];
	char	   *req;
	int			ncases = 0;

	snprintf(path, sizeof(path), "%s/%s.req", dir, name);
	req = unit_read_file(path, NULL);
	if (req != NULL)
	{
		parsed_req r;
		char	   *creq,
				   *sts,
				   *authz;
		char		hash[65];
		s3s_sigv4_input in = {0};

		CHECK(parse_req(req, false, &r));
		s3s_sha256_hex(r.body, r.body_len, hash);
		in.method = r.method;
		in.path = r.path;
		in.query = r.q;
		in.nquery = r.nq;
		in.headers = r.h;
		in.nheaders = r.nh;
		in.payload_hash = hash;
		in.access_key_id = "AKIDEXAMPLE";
		in.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
		in.region = "us-east-1";
		in.service = "service";
		in.amz_date = header_value(&r, "X-Amz-Date");
		snprintf(path, sizeof(path), "%s/%s.creq", dir, name);
		creq = read_expected(path);
		snprintf(path, sizeof(path), "%s/%s.sts", dir, name);
		sts = read_expected(path);
		snprintf(path, sizeof(path), "%s/%s.authz", dir, name);
		authz = read_expected(path);
		check_one(name, &in, creq, sts, authz);
		free(creq);
		free(sts);
		free(authz);
		req_free(&r);
		free(req);
		return 1;
	}

	/* not a case: descend (except into path normalisation cases) */
	{
		DIR		   *d = opendir(dir);
		struct dirent *de;
		char	  **names = NULL;
		int			n = 0;

		if (d == NULL)
			return 0;
		while ((de = readdir(d)) != NULL)
		{
			if (de->d_name[0] == '.' || strcmp(de->d_name, "normalize-path") == 0)
				continue;
			names = realloc(names, sizeof(char *) * (size_t) (n + 1));
			names[n++] = strdup(de->d_name);
		}
		closedir(d);
		for (int i = 0; i < n; i++)
		{
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if (is_dir(path))
				ncases += run_suite2015(path, names[i]);
			free(names[i]);
		}
		free(names);
	}
	return ncases;
}

static const char *
json_str(json_object *o, const char *k1, const char *k2)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 != NULL && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_get_string(v);
}

static bool
ctx_bool(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

/* The newer suite, header signing only. */
static int
run_suite_v4(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	int			ncases = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
	{
		char		path[1536];
		char	   *req,
				   *ctx_text,
				   *creq,
				   *sts,
				   *sreq,
				   *authz = NULL;
		json_object *ctx;
		parsed_req r;
		s3s_sigv4_input in = {0};
		char		hash[65];
		char		date[17];
		const char *ts;
		const char *token;
		size_t		len = strlen(de->d_name);

		if (de->d_name[0] == '.' ||
			(len > 11 && strcmp(de->d_name + len - 11, "-normalized") == 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s/request.txt", dir, de->d_name);
		req = unit_read_file(path, NULL);
		if (req == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s/context.json", dir, de->d_name);
		ctx_text = unit_read_file(path, NULL);
		ctx = ctx_text ? json_tokener_parse(ctx_text) : NULL;
		CHECK(ctx != NULL);
		CHECK(parse_req(req, true, &r));
		if (ctx == NULL)
		{
			req_free(&r);
			free(req);
			free(ctx_text);
			continue;
		}

		/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
		ts = json_str(ctx, "timestamp", NULL);
		if (ts && strlen(ts) == 20)
			snprintf(date, sizeof(date), "%.4s%.2s%.2sT%.2s%.2s%.2sZ",
					 ts, ts + 5, ts + 8, ts + 11, ts + 14, ts + 17);
		else
			date[0] = '\0';
		s3s_sha256_hex(r.body, r.body_len, hash);
		r.h[r.nh].name = "X-Amz-Date";
		r.h[r.nh++].value = date;
		token = json_str(ctx, "credentials", "token");
		if (token && !ctx_bool(ctx, "omit_session_token"))
		{
			r.h[r.nh].name = "X-Amz-Security-Token";
			r.h[r.nh++].value = token;
		}
		if (ctx_bool(ctx, "sign_body"))
		{
			r.h[r.nh].name = "X-Amz-Content-Sha256";
			r.h[r.nh++].value = hash;
		}
		in.method = r.method;
		in.path = r.path;
		in.query = r.q;
		in.nquery = r.nq;
		in.headers = r.h;
		in.nheaders = r.nh;
		in.payload_hash = hash;
		in.access_key_id = json_str(ctx, "credentials", "access_key_id");
		in.secret_access_key = json_str(ctx, "credentials", "secret_access_key");
		in.region = json_str(ctx, "region", NULL);
		in.service = json_str(ctx, "service", NULL);
		in.amz_date = date;

		snprintf(path, sizeof(path), "%s/%s/header-canonical-request.txt", dir, de->d_name);
		creq = read_expected(path);
		snprintf(path, sizeof(path), "%s/%s/header-string-to-sign.txt", dir, de->d_name);
		sts = read_expected(path);
		snprintf(path, sizeof(path), "%s/%s/header-signed-request.txt", dir, de->d_name);
		sreq = unit_read_file(path, NULL);
		if (sreq)
		{
			char	   *a = strstr(sreq, "\nAuthorization:");

			if (a)
			{
				a += strlen("\nAuthorization:");
				while (*a == ' ')
					a++;
				authz = ndup(a, strcspn(a, "\r\n"));
			}
		}
		check_one(de->d_name, &in, creq, sts, authz);
		ncases++;
		free(creq);
		free(sts);
		free(sreq);
		free(authz);
		json_object_put(ctx);
		free(ctx_text);
		req_free(&r);
		free(req);
	}
	closedir(d);
	return ncases;
}

/* The S3 worked examples (AWS example credentials, bucket examplebucket). */
static void
s3_examples(void)
{
	s3s_sigv4_input in = {0};
	s3s_sigv4_output out;
	s3s_sigv4_kv h1[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"Range", "bytes=0-9"},
		{"x-amz-content-sha256", S3S_EMPTY_SHA256},
		{"x-amz-date", "20130524T000000Z"},
	};
	s3s_sigv4_kv h2[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-content-sha256", S3S_EMPTY_SHA256},
		{"x-amz-date", "20130524T000000Z"},
	};
	s3s_sigv4_kv q2[] = {{"prefix", "J"}, {"max-keys", "2"}};

	in.method = "GET";
	in.path = "/test.txt";
	in.headers = h1;
	in.nheaders = 4;
	in.payload_hash = S3S_EMPTY_SHA256;
	in.access_key_id = "AKIAIOSFODNN7EXAMPLE";
	in.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	in.region = "us-east-1";
	in.service = "s3";
	in.amz_date = "20130524T000000Z";
	CHECK(s3s_sigv4_sign(&in, &out));
	CHECK_STREQ(out.canonical_request,
				"GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
				"x-amz-content-sha256:" S3S_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
				"host;range;x-amz-content-sha256;x-amz-date\n" S3S_EMPTY_SHA256);
	CHECK_STREQ(out.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	CHECK_STREQ(out.authorization,
				"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
				"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
				"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	s3s_sigv4_output_free(&out);

	in.path = "/";
	in.headers = h2;
	in.nheaders = 3;
	in.query = q2;
	in.nquery = 2;
	CHECK(s3s_sigv4_sign(&in, &out));
	CHECK(out.canonical_request && strstr(out.canonical_request, "\n/\nmax-keys=2&prefix=J\n") != NULL);
	CHECK_STREQ(out.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	s3s_sigv4_output_free(&out);
}

/* Keys with reserved characters are encoded exactly once. */
static void
encoding_checks(void)
{
	char	   *e;
	s3s_sigv4_input in = {0};
	s3s_sigv4_output out;
	s3s_sigv4_kv h[] = {{"host", "b.s3.amazonaws.com"}, {"x-amz-date", "20130524T000000Z"}};
	s3s_sigv4_kv q[] = {{"delete", NULL}, {"b", "x/y z"}, {"a", "2"}, {"a", "10"}};

	e = s3s_uri_encode("/p/resource=u/data/id=a b+c%d/\xc3\xa9", 32, true);
	CHECK_STREQ(e, "/p/resource%3Du/data/id%3Da%20b%2Bc%25d/%C3%A9");
	free(e);
	e = s3s_uri_encode("a/b", 3, false);
	CHECK_STREQ(e, "a%2Fb");
	free(e);
	e = s3s_uri_encode("-._~AZaz09", 10, false);
	CHECK_STREQ(e, "-._~AZaz09");
	free(e);

	in.method = "PUT";
	in.path = "/bucket/id=a b+c%";
	in.query = q;
	in.nquery = 4;
	in.headers = h;
	in.nheaders = 2;
	in.payload_hash = S3S_EMPTY_SHA256;
	in.access_key_id = "AK";
	in.secret_access_key = "SK";
	in.region = "us-east-1";
	in.service = "s3";
	in.amz_date = "20130524T000000Z";
	CHECK(s3s_sigv4_sign(&in, &out));
	CHECK(out.canonical_request &&
		  strncmp(out.canonical_request, "PUT\n/bucket/id%3Da%20b%2Bc%25\na=10&a=2&b=x%2Fy%20z&delete=\n", 56) == 0);
	CHECK(out.authorization && strstr(out.authorization, "SK") == NULL);
	s3s_sigv4_output_free(&out);

	in.amz_date = "2013";
	CHECK(!s3s_sigv4_sign(&in, &out));
	CHECK(out.authorization == NULL);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "data/sigv4";
	char		path[1024];
	int			n;
	char		d[17];

	snprintf(path, sizeof(path), "%s/aws-sig-v4-test-suite", dir);
	n = run_suite2015(path, "aws-sig-v4-test-suite");
	CHECK_INTEQ(n, 24);

	snprintf(path, sizeof(path), "%s/aws-signing-test-suite/v4", dir);
	n = run_suite_v4(path);
	CHECK_INTEQ(n, 31);

	s3_examples();
	encoding_checks();

	s3s_sigv4_amz_date(1369353600, d);
	CHECK_STREQ(d, "20130524T000000Z");
	return unit_done();
}
