/*-------------------------------------------------------------------------
 *
 * test_connstr.c
 *		Connection strings to store locations (spec section 1), redaction
 *		and rejection of malformed or hostile input.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "store/connstr.h"

typedef struct expect
{
	const char *url;
	const char *scheme;
	const char *bucket;
	const char *prefix;
	const char *endpoint;
	bool		path_style;
	const char *access_key_id;
	const char *secret;
	const char *session_token;
	const char *region;
	const char *base_path;
} expect;

static const expect cases[] = {
	{"s3://AKIA123:secret%2Fwith%2Fslash@my-bucket", "s3", "my-bucket", "",
	 "https://s3.us-east-1.amazonaws.com", false, "AKIA123", "secret/with/slash", NULL, NULL, NULL},
	{"s3://AKIA123:secret@my-bucket/some/prefix", "s3", "my-bucket", "some/prefix",
	 "https://s3.us-east-1.amazonaws.com", false, "AKIA123", "secret", NULL, NULL, NULL},
	{"s3://K:S@my-bucket/some/prefix/?region=eu-west-1&sessionToken=TOK", "s3", "my-bucket",
	 "some/prefix/", "https://s3.eu-west-1.amazonaws.com", false, "K", "S", "TOK", "eu-west-1", NULL},
	{"s3://my-bucket", "s3", "my-bucket", "", "https://s3.us-east-1.amazonaws.com", false,
	 NULL, NULL, NULL, NULL, NULL},
	{"s3://K:S@bkt/p%20q?sessionToken=a%2Bb+c", "s3", "bkt", "p%20q",
	 "https://s3.us-east-1.amazonaws.com", false, "K", "S", "a+b c", NULL, NULL},
	{"http://minio:minio123@localhost:9000/bucket1", "http", "bucket1", "",
	 "http://localhost:9000", true, "minio", "minio123", NULL, NULL, NULL},
	{"http://minio:minio123@localhost:9000/bucket1/tenant/a", "http", "bucket1", "tenant/a",
	 "http://localhost:9000", true, "minio", "minio123", NULL, NULL, NULL},
	{"https://KEY:SECRET@abc.r2.cloudflarestorage.com/bkt", "https", "bkt", "",
	 "https://abc.r2.cloudflarestorage.com", true, "KEY", "SECRET", NULL, NULL, NULL},
	{"http://localhost:9000", "http", "s3db", "", "http://localhost:9000", true,
	 NULL, NULL, NULL, NULL, NULL},
	{"HTTP://U:P%40ss@LocalHost:80/my%2Db/x/y/#frag", "http", "my-b", "x/y/",
	 "http://localhost", true, "U", "P@ss", NULL, NULL, NULL},
	{"https://h:443/bkt", "https", "bkt", "", "https://h", true, NULL, NULL, NULL, NULL, NULL},
	{"memory://mybucket/path/to/db", "memory", "mybucket", "path/to/db", NULL, false,
	 NULL, NULL, NULL, NULL, NULL},
	{"s3://my.dotted.bucket-1/p", "s3", "my.dotted.bucket-1", "p", "https://s3.us-east-1.amazonaws.com",
	 false, NULL, NULL, NULL, NULL, NULL},
	{"s3://123/p", "s3", "123", "p", "https://s3.us-east-1.amazonaws.com", false,
	 NULL, NULL, NULL, NULL, NULL},
	{"memory://", "memory", "test-bucket", "", NULL, false, NULL, NULL, NULL, NULL, NULL},
	{"memory://b/a%20b/c", "memory", "b", "a b/c", NULL, false, NULL, NULL, NULL, NULL, NULL},
	{"file:///tmp/data/s3db", "file", "s3db", "", NULL, false, NULL, NULL, NULL, NULL, "/tmp/data/s3db"},
	{"file://localhost/var/x%20y", "file", "s3db", "", NULL, false, NULL, NULL, NULL, NULL, "/var/x y"},
	{"file://server/share", "file", "s3db", "", NULL, false, NULL, NULL, NULL, NULL, "//server/share"},
	{"  memory://b  ", "memory", "b", "", NULL, false, NULL, NULL, NULL, NULL, NULL},
	/* no bucket and no credentials: s3db.js's default bucket */
	{"s3:///p", "s3", "s3db", "p", "https://s3.us-east-1.amazonaws.com", false,
	 NULL, NULL, NULL, NULL, NULL},
	{"s3://b-1/p?region=US-East-2", "s3", "b-1", "p", "https://s3.US-East-2.amazonaws.com", false,
	 NULL, NULL, NULL, "US-East-2", NULL},
};

static void
check_case(const expect *e)
{
	s3s_location loc;
	s3s_error	err;
	bool		ok = s3s_parse_location(e->url, &loc, &err);

	printf("# %s\n", e->url);
	CHECK(ok);
	if (!ok)
	{
		printf("#   error: %s\n", err.message);
		return;
	}
	CHECK_STREQ(loc.scheme, e->scheme);
	CHECK_STREQ(loc.bucket, e->bucket);
	CHECK_STREQ(loc.prefix, e->prefix);
	CHECK_STREQ(loc.endpoint, e->endpoint);
	CHECK_INTEQ(loc.path_style, e->path_style);
	CHECK_STREQ(loc.access_key_id, e->access_key_id);
	CHECK_STREQ(loc.secret_access_key, e->secret);
	CHECK_STREQ(loc.session_token, e->session_token);
	CHECK_STREQ(loc.region, e->region);
	CHECK_STREQ(loc.base_path, e->base_path);
	s3s_location_free(&loc);
	CHECK(loc.bucket == NULL && loc.scheme == NULL);
}

static void
check_bad(const char *url, const char *must_not_contain)
{
	s3s_location loc;
	s3s_error	err;
	bool		ok = s3s_parse_location(url, &loc, &err);

	CHECK(!ok);
	CHECK_INTEQ(err.code, S3S_ERR_INVALID);
	CHECK(err.message[0] != '\0');
	if (must_not_contain)
		CHECK(strstr(err.message, must_not_contain) == NULL);
	CHECK(loc.bucket == NULL && loc.access_key_id == NULL);
}

int
main(void)
{
	s3s_location loc;
	s3s_error	err;
	char	   *r;
	char		cwd[4096];
	char		want[4200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);

	/* file://./dir resolves against the working directory */
	CHECK(s3s_parse_location("file://./relative/dir", &loc, &err));
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(want, sizeof(want), "%s/./relative/dir", cwd);
	CHECK_STREQ(loc.base_path, want);
	s3s_location_free(&loc);

	/* malformed and hostile input */
	check_bad("", NULL);
	check_bad("no-scheme-here", NULL);
	check_bad("ftp://u:topsecret@host/x", "topsecret");
	check_bad("http://u:topsecret@/bucket", "topsecret");
	check_bad("s3://K:S@b/x?region=us-east-1.evil.com%2F", NULL);
	check_bad("s3://K:S%0d%0aX-Evil:1@b", NULL);
	check_bad("memory://b/a%00b", NULL);
	check_bad("s3://K:S@b/a\nb", NULL);
	check_bad("file://", NULL);
	check_bad("s3://AKIA:se/cret@bucket", "se");
	check_bad("http://AKIA:se/cret@host/b", "cret");
	check_bad("http://h:99999/b", NULL);

	/* credentials where nothing would use them, never quoted */
	check_bad("file://KEY:TOPSECRET@/dir", "TOPSECRET");
	check_bad("file://KEY:TOPSECRET@localhost/dir", "TOPSECRET");
	check_bad("file://KEYONLY@/dir", "KEYONLY");
	check_bad("file://@/dir", NULL);
	check_bad("file:///dir?sessionToken=TOPSECRET", "TOPSECRET");
	check_bad("memory://KEY:TOPSECRET@bucket/p", "TOPSECRET");
	check_bad("memory://KEY:TOPSECRET@/p", "TOPSECRET");
	check_bad("memory://bucket/p?sessionToken=TOPSECRET", "TOPSECRET");
	CHECK(!s3s_parse_location("file://K:S@/dir", &loc, &err));
	CHECK_STREQ(err.message, "a file:// connection string takes no credentials");

	/* s3db.js refuses keys without a bucket too (no fallback to "s3db") */
	check_bad("s3://KEY:TOPSECRET@", "TOPSECRET");
	check_bad("s3://KEY:TOPSECRET@/prefix", "TOPSECRET");
	check_bad("s3://KEY:TOPSECRET@?region=eu-west-1", "TOPSECRET");
	check_bad("s3://@/prefix", NULL);
	CHECK(!s3s_parse_location("s3://K:S@/p", &loc, &err));
	CHECK(strstr(err.message, "names its bucket") != NULL);

	/* a region is one host label and part of the signed scope */
	check_bad("s3://b-1/p?region=", NULL);
	check_bad("s3://b-1/p?region=eu+west+1", NULL);
	check_bad("s3://b-1/p?region=eu%20west-1", NULL);
	check_bad("s3://b-1/p?region=eu-west-1%2Fx", NULL);
	check_bad("s3://b-1/p?region=eu-west-1%0D%0AHost:x", NULL);
	check_bad("s3://b-1/p?region=eu_west_1", NULL);
	check_bad("s3://b-1/p?region=evil.com%23", NULL);
	CHECK(s3s_region_problem("eu-west-1") == NULL);
	CHECK(s3s_region_problem("us-gov-west-1") == NULL);
	CHECK(s3s_region_problem("garage") == NULL);
	CHECK(s3s_region_problem("US-EAST") == NULL);
	CHECK(s3s_region_problem("a") == NULL);
	CHECK(s3s_region_problem("") != NULL);
	CHECK(s3s_region_problem("eu west 1") != NULL);
	CHECK(s3s_region_problem("eu-west-1/") != NULL);
	CHECK(s3s_region_problem("eu-west-1\r\n") != NULL);
	CHECK(s3s_region_problem("eu-west-1\n") != NULL);
	CHECK(s3s_region_problem("x.evil.com") != NULL);
	CHECK(s3s_region_problem("x:9") != NULL);
	CHECK(s3s_region_problem("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == NULL);
	CHECK(s3s_region_problem("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") != NULL);
	CHECK(!s3s_parse_location(NULL, &loc, &err));

	/*
	 * Bucket names follow S3's rules before any URL is built: a decoded
	 * bucket never carries a host, port or path into the host name.
	 */
	check_bad("s3://127.0.0.1%3A55872%23/p", NULL);
	check_bad("s3://127.0.0.1/p", NULL);
	check_bad("s3://10.0.0.1/p", NULL);
	check_bad("s3://127.1/p", NULL);
	check_bad("s3://bucket:55872/p", NULL);
	check_bad("s3://evil.com%2Fx/p", NULL);
	check_bad("s3://a%40b/p", NULL);
	check_bad("s3://ab/p", NULL);
	check_bad("s3://Bucket/p", NULL);
	check_bad("s3://my_bucket/p", NULL);
	check_bad("s3://-bucket/p", NULL);
	check_bad("s3://bucket-/p", NULL);
	check_bad("s3://my..bucket/p", NULL);
	check_bad("s3://xn--bucket/p", NULL);
	check_bad("s3://bucket-s3alias/p", NULL);
	check_bad("s3://%5B%3A%3A1%5D/p", NULL);
	check_bad("s3://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/p", NULL);
	check_bad("http://localhost:9000/Bad_Bucket/p", NULL);
	check_bad("http://localhost:9000/127.0.0.1/p", NULL);
	check_bad("https://h/a%2Fb/p", NULL);
	CHECK(s3s_bucket_name_problem("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == NULL);
	CHECK(s3s_bucket_name_problem("s3db-test") == NULL);
	CHECK(s3s_bucket_name_problem("a.b.c") == NULL);
	CHECK(s3s_bucket_name_problem("1.2.3.4") != NULL);

	/* odd escapes are kept as they are */
	CHECK(s3s_parse_location("memory://b/100%/%zz%4", &loc, &err));
	CHECK_STREQ(loc.prefix, "100%/%zz%4");
	s3s_location_free(&loc);

	/* credentials detection and redaction */
	CHECK(s3s_url_has_credentials("s3://K:S@b"));
	CHECK(s3s_url_has_credentials("http://user@h/b"));
	CHECK(!s3s_url_has_credentials("s3://b/p"));
	CHECK(!s3s_url_has_credentials("http://h/b?x=a@b"));
	CHECK(!s3s_url_has_credentials("memory://"));
	r = s3s_url_redact("s3://AKIA:se/cret@bucket/p?sessionToken=T0K&region=x");
	CHECK_STREQ(r, "s3://***@bucket/p?sessionToken=***&region=x");
	free(r);
	r = s3s_url_redact("http://a@h:9/b?sessionToken=");
	CHECK_STREQ(r, "http://***@h:9/b?sessionToken=***");
	free(r);
	r = s3s_url_redact("memory://b/p");
	CHECK_STREQ(r, "memory://b/p");
	free(r);
	r = s3s_url_redact("not a url");
	CHECK_STREQ(r, "not a url");
	free(r);

	return unit_done();
}
