/*-------------------------------------------------------------------------
 *
 * test_creds.c
 *		Unit tests of the credential providers (src/store/creds*.c).
 *
 * Offline: the parsers of IMDS/ECS JSON and STS XML, timestamps, the
 * shared files.  Against test/creds/standin.py (started here on a loopback
 * port): which source of the chain wins, IMDSv2, ECS with its token, web
 * identity, AssumeRole with external id, a refused role, refresh inside
 * the window, keeping old credentials when a refresh fails.  When
 * S3DB_TEST_S3_URL and S3DB_TEST_S3_KEYS_FILE name the test S3 server and
 * the keys file its proxy reads, requests signed with expiring stand-in
 * credentials cross a refresh without a failure.
 *
 *-------------------------------------------------------------------------
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "store/creds_int.h"
#include "store/store.h"
#include "unit.h"

static char dir[256];
static char origin[64];
static pid_t standin = -1;

static void
write_file(const char *path, const char *text)
{
	FILE	   *f = fopen(path, "w");

	if (f)
	{
		fputs(text, f);
		fclose(f);
	}
}

static void
clear_env(void)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
		"AWS_ENDPOINT_URL_STS", "AWS_REGION", "AWS_DEFAULT_REGION", NULL
	};
	char		p[300];

	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	snprintf(p, sizeof(p), "%s/none-credentials", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
	snprintf(p, sizeof(p), "%s/none-config", dir);
	setenv("AWS_CONFIG_FILE", p, 1);
}

/* ---------------------------------------------------------------------
 * offline
 * ---------------------------------------------------------------------
 */
static void
parser_checks(void)
{
	int64_t		t = 0;
	s3s_credentials c;
	s3s_error	err;
	char		code[64], msg[256];
	const char *good = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"sek\","
		"\"Token\":\"tok\",\"Expiration\":\"2030-01-02T03:04:05Z\"}";
	const char *sts = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<AssumeRoleResult><Credentials><AccessKeyId>ASIAY</AccessKeyId>"
		"<SecretAccessKey>s2</SecretAccessKey><SessionToken>t2</SessionToken>"
		"<Expiration>2030-01-02T03:04:05.123Z</Expiration></Credentials></AssumeRoleResult>"
		"</AssumeRoleResponse>";
	const char *sts_err = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
		"<Message>not authorized</Message></Error></ErrorResponse>";

	CHECK(s3s_creds_parse_time("1970-01-01T00:01:00Z", &t) && t == 60);
	CHECK(s3s_creds_parse_time("2030-01-02T03:04:05.5Z", &t) && t == 1893553445);
	CHECK(s3s_creds_parse_time("2030-01-02T05:04:05+02:00", &t) && t == 1893553445);
	CHECK(!s3s_creds_parse_time("2030-01-02 03:04:05", &t));
	CHECK(!s3s_creds_parse_time("2030-01-02T03:04:05", &t));
	CHECK(!s3s_creds_parse_time("yesterday", &t));
	CHECK(!s3s_creds_parse_time("2030-01-02T03:04:05+01:0", &t));	/* truncated offset */
	CHECK(!s3s_creds_parse_time("2030-01-02T03:04:05+0100", &t));

	s3s_error_clear(&err);
	CHECK(s3s_creds_parse_json(good, strlen(good), &c, &err));
	CHECK_STREQ(c.access_key_id, "ASIAX");
	CHECK_STREQ(c.session_token, "tok");
	CHECK_INTEQ(c.expiration, 1893553445);
	s3s_credentials_free(&c);
	CHECK(!s3s_creds_parse_json("{\"Code\":\"Failure\"}", 18, &c, &err));
	CHECK_INTEQ(err.code, S3S_ERR_ACCESS);
	CHECK(!s3s_creds_parse_json("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"supersecret\","
								"\"Expiration\":\"soon\"}", 69, &c, &err));
	CHECK(strstr(err.message, "supersecret") == NULL);
	{
		const char *proc = "{\"Version\": 1, \"AccessKeyId\": \"AKIDP\", \"SecretAccessKey\": \"sp\"}";
		const char *v2 = "{\"Version\": 2, \"AccessKeyId\": \"AKIDP\", \"SecretAccessKey\": \"sp\"}";

		CHECK(s3s_creds_parse_process(proc, strlen(proc), &c, &err));
		CHECK_INTEQ(c.expiration, 0);	/* no Expiration: long-term keys */
		CHECK(c.session_token == NULL);
		s3s_credentials_free(&c);
		CHECK(!s3s_creds_parse_process(v2, strlen(v2), &c, &err));
	}
	CHECK(!s3s_creds_parse_json("[1]", 3, &c, &err));
	CHECK_INTEQ(err.code, S3S_ERR_PROTOCOL);

	CHECK(s3s_creds_parse_sts(sts, strlen(sts), &c, &err));
	CHECK_STREQ(c.access_key_id, "ASIAY");
	CHECK_STREQ(c.secret_access_key, "s2");
	CHECK_INTEQ(c.expiration, 1893553445);
	s3s_credentials_free(&c);
	CHECK(!s3s_creds_parse_sts("<x/>", 4, &c, &err));
	CHECK(!s3s_creds_parse_sts("not xml", 7, &c, &err));
	s3s_creds_parse_sts_error(sts_err, strlen(sts_err), code, sizeof(code), msg, sizeof(msg));
	CHECK_STREQ(code, "AccessDenied");
	CHECK_STREQ(msg, "not authorized");
}

static void
profile_checks(void)
{
	char		cred[300], conf[300];
	s3s_profile p;
	s3s_error	err;

	char		procs[2048];
	char		path[300];

	snprintf(cred, sizeof(cred), "%s/credentials", dir);
	snprintf(conf, sizeof(conf), "%s/config", dir);
	/* credential_process helpers: good, slow, failing, garbage */
	snprintf(path, sizeof(path), "%s/proc-ok.sh", dir);
	write_file(path, "printf '%s' '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
			   "\"SecretAccessKey\": \"procsecret\", \"SessionToken\": \"proctoken\", "
			   "\"Expiration\": \"2099-01-01T00:00:00Z\"}'\n");
	snprintf(path, sizeof(path), "%s/proc-slow.sh", dir);
	write_file(path, "sleep 30\n");
	snprintf(path, sizeof(path), "%s/proc-fail.sh", dir);
	write_file(path, "echo oops >&2; exit 3\n");
	snprintf(path, sizeof(path), "%s/proc-bad.sh", dir);
	write_file(path, "echo '{\"Version\": 1, \"SecretAccessKey\": \"leaky-secret\"'\n");
	snprintf(procs, sizeof(procs),
			 "[profile proc]\ncredential_process = sh %s/proc-ok.sh\n"
			 "[profile procslow]\ncredential_process = sh %s/proc-slow.sh\n"
			 "[profile procfail]\ncredential_process = sh %s/proc-fail.sh\n"
			 "[profile procbad]\ncredential_process = sh %s/proc-bad.sh\n",
			 dir, dir, dir, dir);
	write_file(cred,
			   "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
			   "aws_secret_access_key=secretdefault\n\n"
			   "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = secretprod\n"
			   "aws_session_token = tokprod\n"
			   "[basekeys]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret-key\n");
	write_file(conf,
			   "[default]\nregion = eu-west-1\naws_access_key_id = AKIDFROMCONFIG\n"
			   "[profile prod]\nregion = us-west-2\ns3 =\n  max_concurrent_requests = 4\n"
			   "[profile cfgonly]\naws_access_key_id = AKIDCFG\naws_secret_access_key = secretcfg\n"
			   "[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = prod\n"
			   "[profile viarole]\nrole_arn = arn:aws:iam::1:role/viaprofile\n"
			   "source_profile = basekeys\nexternal_id = ext-42\n"
			   "[prod]\naws_access_key_id = NOTAPROFILESECTION\n");
	{
		FILE	   *f = fopen(conf, "a");

		if (f)
		{
			fputs(procs, f);
			fclose(f);
		}
	}
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_CONFIG_FILE", conf, 1);

	CHECK(s3s_profile_load("default", &p, &err));
	CHECK(p.found);
	CHECK_STREQ(p.access_key_id, "AKIDDEFAULT");	/* credentials file wins */
	CHECK_STREQ(p.region, "eu-west-1");
	s3s_profile_free(&p);
	CHECK(s3s_profile_load("prod", &p, &err));
	CHECK_STREQ(p.access_key_id, "AKIDPROD");
	CHECK_STREQ(p.session_token, "tokprod");
	CHECK_STREQ(p.region, "us-west-2");
	s3s_profile_free(&p);
	CHECK(s3s_profile_load("cfgonly", &p, &err));
	CHECK_STREQ(p.access_key_id, "AKIDCFG");
	s3s_profile_free(&p);
	CHECK(s3s_profile_load("role", &p, &err));
	CHECK_STREQ(p.role_arn, "arn:aws:iam::1:role/r");
	CHECK_STREQ(p.source_profile, "prod");
	CHECK(p.access_key_id == NULL);
	s3s_profile_free(&p);
	CHECK(s3s_profile_load("missing", &p, &err));
	CHECK(!p.found);
	s3s_profile_free(&p);
}

/* ---------------------------------------------------------------------
 * against the stand-in
 * ---------------------------------------------------------------------
 */
static bool
start_standin(const char *keys_file)
{
	char		portfile[300], port[32] = "";
	char		tokfile[300];

	snprintf(portfile, sizeof(portfile), "%s/standin.port", dir);
	snprintf(tokfile, sizeof(tokfile), "%s/web-token", dir);
	write_file(tokfile, "eyJ.web.identity\n");
	standin = fork();
	if (standin == 0)
	{
		/* never outlive a crashed test */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp("python3", "python3", "../creds/standin.py", "--keys-file", keys_file,
			   "--port-file", portfile, "--refuse-role", "arn:aws:iam::1:role/forbidden",
			   "--external-id", "ext-42", "--ecs-token", "ecs-secret-token",
			   "--web-token-file", tokfile, "--base-key", "AKIDBASE:base-secret-key",
			   (char *) NULL);
		_exit(127);
	}
	for (int i = 0; i < 150; i++)
	{
		FILE	   *f = fopen(portfile, "r");

		if (f)
		{
			if (fgets(port, sizeof(port), f) == NULL)
				port[0] = '\0';
			fclose(f);
			if (port[0])
				break;
		}
		usleep(100000);
	}
	if (port[0] == '\0')
		return false;
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%d", atoi(port));
	return true;
}

static void
stop_standin(void)
{
	if (standin > 0)
	{
		kill(standin, SIGTERM);
		waitpid(standin, NULL, 0);
		standin = -1;
	}
}

static size_t
discard(char *d, size_t size, size_t n, void *ud)
{
	return size * n;
}

static void
standin_config(const char *json)
{
	CURL	   *e = curl_easy_init();
	char		url[128];

	snprintf(url, sizeof(url), "%s/__config", origin);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_perform(e);
	curl_easy_cleanup(e);
}

typedef struct grow
{
	char		buf[512];
	size_t		len;
} grow;

static size_t
keep(char *d, size_t size, size_t n, void *ud)
{
	grow	   *g = ud;
	size_t		k = size * n;

	if (g->len + k >= sizeof(g->buf))
		return 0;
	memcpy(g->buf + g->len, d, k);
	g->len += k;
	g->buf[g->len] = '\0';
	return k;
}

/* a counter of the stand-in's /__stats, -1 if unreadable */
static int
standin_stat(const char *name)
{
	CURL	   *e = curl_easy_init();
	char		url[128], pat[64];
	grow		g = {{0}, 0};
	const char *at;
	int			v = -1;

	snprintf(url, sizeof(url), "%s/__stats", origin);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &g);
	if (curl_easy_perform(e) == CURLE_OK)
	{
		snprintf(pat, sizeof(pat), "\"%s\": ", name);
		if ((at = strstr(g.buf, pat)) != NULL)
			v = atoi(at + strlen(pat));
	}
	curl_easy_cleanup(e);
	return v;
}

static void
base_options(s3s_cred_options *o)
{
	memset(o, 0, sizeof(*o));
	o->use_chain = true;
	o->imds_endpoint = origin;
	o->sts_endpoint = origin;
	o->ecs_endpoint = origin;
	o->timeout_ms = 5000;
}

/* the source the chain picks with options o (and the current environment) */
static char *
source_of(const s3s_cred_options *o, s3s_error *err)
{
	s3s_cred_provider *p = s3s_creds_open(o, err);
	s3s_credentials c;
	char	   *src = NULL;

	if (p == NULL)
		return strdup("open failed");
	if (s3s_creds_get(p, &c, err))
	{
		src = strdup(c.source);
		s3s_credentials_free(&c);
	}
	s3s_creds_close(p);
	return src ? src : strdup("error");
}

#define CHECK_SOURCE(opts, want) do { \
	s3s_error e_; char *s_; s3s_error_clear(&e_); s_ = source_of(opts, &e_); \
	CHECK_STREQ(s_, want); if (strcmp(s_, want) != 0) printf("#   error: %s\n", e_.message); \
	free(s_); } while (0)

static void
chain_checks(void)
{
	s3s_cred_options o;
	s3s_error	err;
	char		path[300], url[300];
	char	   *s;

	clear_env();
	base_options(&o);

	/* nothing else configured: instance metadata */
	CHECK_SOURCE(&o, "instance metadata");

	/* a container endpoint comes before IMDS */
	snprintf(url, sizeof(url), "%s/ecs/v2/credentials", origin);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-secret-token", 1);
	CHECK_SOURCE(&o, "container");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-token-value", 1);
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK(strstr(err.message, "wrong-token-value") == NULL);
	CHECK(strstr(err.message, "container credential endpoint refused (HTTP status 403)") != NULL);
	free(s);
	/* instance metadata that refuses the token: the status, not the reply */
	{
		s3s_http_opts h = {NULL, 5000};
		s3s_credentials c;

		snprintf(url, sizeof(url), "%s/elsewhere", origin);
		s3s_error_clear(&err);
		CHECK(!s3s_creds_imds(url, &h, &c, &err));
		CHECK_STREQ(err.message, "instance metadata refused a session token (HTTP status 404)");
		CHECK_INTEQ(err.http_status, 404);
	}
	snprintf(path, sizeof(path), "%s/ecs-token", dir);
	write_file(path, "ecs-secret-token\n");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
	CHECK_SOURCE(&o, "container");	/* the file wins over the variable */
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/v2/credentials/abc", 1);
	CHECK_SOURCE(&o, "container");
	/* plain http only to loopback and the container hosts */
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
	CHECK_SOURCE(&o, "error");

	/* profiles come before the container */
	snprintf(path, sizeof(path), "%s/credentials", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	snprintf(path, sizeof(path), "%s/config", dir);
	setenv("AWS_CONFIG_FILE", path, 1);
	CHECK_SOURCE(&o, "profile default");
	setenv("AWS_PROFILE", "prod", 1);
	CHECK_SOURCE(&o, "profile prod");
	unsetenv("AWS_PROFILE");

	/* web identity before profiles */
	snprintf(path, sizeof(path), "%s/web-token", dir);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/irsa", 1);
	CHECK_SOURCE(&o, "web identity");

	/* the environment first */
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
	CHECK_SOURCE(&o, "environment");

	/* ... unless a profile is named: botocore drops the environment then */
	o.profile = "prod";
	CHECK_SOURCE(&o, "profile prod");
	/* a profile's role_arn with source_profile: AssumeRole with its keys */
	o.profile = "viarole";
	CHECK_SOURCE(&o, "assumed role");
	/* credential_process: its document, its exit status, its time limit */
	o.profile = "proc";
	CHECK_SOURCE(&o, "process of profile proc");
	o.profile = "procfail";
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK(strstr(err.message, "exit status 3") != NULL);
	free(s);
	o.profile = "procbad";
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK(strstr(err.message, "leaky-secret") == NULL);
	free(s);
	{
		time_t		t0 = time(NULL);

		o.profile = "procslow";
		o.timeout_ms = 1000;
		s = source_of(&o, &err);
		CHECK_STREQ(s, "error");
		CHECK_INTEQ(err.code, S3S_ERR_TIMEOUT);
		CHECK(time(NULL) - t0 < 10);
		free(s);
		o.timeout_ms = 5000;
	}
	o.profile = "nosuch";
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK(strstr(err.message, "nosuch") != NULL);
	free(s);
	o.profile = NULL;

	/* a web identity token STS rejects is an error, not a fall-through */
	clear_env();
	snprintf(path, sizeof(path), "%s/bad-web-token", dir);
	write_file(path, "forged.token.value\n");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/irsa", 1);
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK(strstr(err.message, "InvalidIdentityToken") != NULL);
	CHECK(strstr(err.message, "forged") == NULL);
	free(s);

	/* no source at all */
	clear_env();
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK_INTEQ(err.code, S3S_ERR_ACCESS);
	CHECK(strstr(err.message, "no AWS credentials found") != NULL);
	free(s);
	clear_env();

	/* without the grant there is no chain */
	o.use_chain = false;
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK(strstr(err.message, "may not be used") != NULL);
	free(s);
	o.use_chain = true;
}

static void
role_checks(void)
{
	s3s_cred_options o;
	s3s_error	err;
	char	   *s;

	clear_env();
	base_options(&o);
	o.role_arn = "arn:aws:iam::1:role/reader";
	o.external_id = "ext-42";
	CHECK_SOURCE(&o, "assumed role");	/* on top of IMDS credentials */
	o.external_id = "ext-wrong";
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK(strstr(err.message, "AccessDenied") != NULL);
	free(s);

	/* static keys as the base */
	o.use_chain = false;
	o.external_id = "ext-42";
	o.access_key_id = "AKIDBASE";
	o.secret_access_key = "base-secret-key";
	o.role_session_name = "unit-session";
	CHECK_SOURCE(&o, "assumed role");

	/* a region that is not one never reaches the STS host name or scope */
	o.region = "eu-west-1\r\nX-Evil: 1";
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK(strstr(err.message, "the region for STS is not a region name") != NULL);
	free(s);
	o.region = "eu-west-1.evil.example";
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	free(s);
	o.region = "eu-west-1";
	CHECK_SOURCE(&o, "assumed role");
	o.region = NULL;

	/* a refused role: a clear error, no credential in it */
	o.role_arn = "arn:aws:iam::1:role/forbidden";
	s = source_of(&o, &err);
	CHECK_STREQ(s, "error");
	CHECK_INTEQ(err.code, S3S_ERR_ACCESS);
	CHECK(strstr(err.message, "AccessDenied") != NULL);
	CHECK(strstr(err.message, "arn:aws:iam::1:role/forbidden") != NULL);
	CHECK(strstr(err.message, "base-secret-key") == NULL);
	CHECK(strstr(err.message, "AKIDBASE") == NULL);
	printf("# refused: %s\n", err.message);
	free(s);

	/* a failure is remembered briefly: a batch does not ask STS per request */
	{
		s3s_cred_provider *p = s3s_creds_open(&o, &err);
		s3s_credentials c;
		int			refused = standin_stat("refused");

		CHECK(p != NULL);
		CHECK(!s3s_creds_get(p, &c, &err));
		CHECK(!s3s_creds_get(p, &c, &err));
		CHECK(!s3s_creds_get(p, &c, &err));
		CHECK(strstr(err.message, "AccessDenied") != NULL);
		CHECK_INTEQ(standin_stat("refused"), refused + 1);
		sleep(S3S_CREDS_RETRY_PAUSE + 1);
		CHECK(!s3s_creds_get(p, &c, &err));
		CHECK_INTEQ(standin_stat("refused"), refused + 2);
		s3s_creds_close(p);
	}
}

static void
refresh_checks(void)
{
	s3s_cred_options o;
	s3s_cred_provider *p, *p2;
	s3s_credentials a, b, c;
	s3s_error	err;

	clear_env();
	base_options(&o);
	o.role_session_name = "refresh";	/* a provider of its own */
	p = s3s_creds_open(&o, &err);
	p2 = s3s_creds_open(&o, &err);
	CHECK(p != NULL && p == p2);	/* shared within the process */
	s3s_creds_close(p2);

	/* long-lived: no refresh */
	CHECK(s3s_creds_get(p, &a, &err));
	CHECK(s3s_creds_get(p, &b, &err));
	CHECK_STREQ(a.access_key_id, b.access_key_id);
	CHECK_INTEQ(s3s_creds_refreshes(p), 1);
	CHECK(a.expiration > time(NULL) + 3000);
	s3s_credentials_free(&a);
	s3s_credentials_free(&b);
	s3s_creds_close(p);

	/* expiring two seconds into the window: refreshed after that */
	standin_config("{\"lifetime\": 302}");
	o.role_session_name = "refresh2";
	p = s3s_creds_open(&o, &err);
	CHECK(s3s_creds_get(p, &a, &err));
	CHECK(s3s_creds_get(p, &b, &err));
	CHECK_STREQ(a.access_key_id, b.access_key_id);
	sleep(4);
	CHECK(s3s_creds_get(p, &c, &err));
	CHECK(strcmp(a.access_key_id, c.access_key_id) != 0);
	CHECK_INTEQ(s3s_creds_refreshes(p), 2);
	s3s_credentials_free(&a);
	s3s_credentials_free(&b);

	/* a failed refresh keeps credentials that are still good for minutes */
	stop_standin();
	sleep(3);
	CHECK(s3s_creds_get(p, &a, &err));
	CHECK_STREQ(a.access_key_id, c.access_key_id);
	CHECK_INTEQ(s3s_creds_refreshes(p), 2);
	s3s_credentials_free(&a);
	s3s_credentials_free(&c);
	s3s_creds_close(p);
}

/* Requests through the signature-checking proxy with expiring keys. */
static void
live_checks(const char *url)
{
	s3s_cred_options o;
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *st;
	char		key[64];
	char	   *bare;
	const char *at = strchr(url, '@');
	int			failures = 0;
	time_t		until;

	/* the bucket URL without the proxy's static keys */
	bare = malloc(strlen(url) + 1);
	sprintf(bare, "http://%s", at ? at + 1 : url + 7);

	clear_env();
	base_options(&o);
	o.role_session_name = "live";
	s3s_config_init(&cfg);
	cfg.url = bare;
	cfg.creds = &o;
	cfg.max_retries = 0;
	cfg.max_inflight = 1;

	/* keys die at the proxy six seconds after issue; refreshed after two */
	standin_config("{\"lifetime\": 302, \"valid\": 6}");
	st = s3s_open(&cfg, &err);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	snprintf(key, sizeof(key), "unit-creds/%ld", (long) getpid());
	until = time(NULL) + 12;
	for (int i = 0; time(NULL) < until; i++)
	{
		s3s_request r;
		char		body[32];

		snprintf(body, sizeof(body), "%d", i);
		s3s_request_init(&r, i % 2 ? S3S_OP_GET : S3S_OP_PUT, key);
		r.body = (const unsigned char *) body;
		r.body_len = strlen(body);
		s3s_execute(st, &r, 1);
		if (r.err.code != S3S_OK)
		{
			if (failures++ == 0)
				printf("# request %d failed: %s\n", i, r.err.message);
		}
		s3s_request_reset(&r);
		usleep(200000);
	}
	CHECK_INTEQ(failures, 0);
	s3s_close(st);
	standin_config("{\"lifetime\": 3600, \"valid\": 0}");
	free(bare);
}

int
main(void)
{
	const char *url = getenv("S3DB_TEST_S3_URL");
	const char *proxy_keys = getenv("S3DB_TEST_S3_KEYS_FILE");
	char		keys[300];

	snprintf(dir, sizeof(dir), "/tmp/s3db_creds_unit.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	clear_env();
	parser_checks();
	profile_checks();

	snprintf(keys, sizeof(keys), "%s/keys", dir);
	if (!start_standin(proxy_keys && proxy_keys[0] ? proxy_keys : keys))
	{
		CHECK(!"the credential stand-in did not start");
		return unit_done();
	}
	chain_checks();
	role_checks();
	if (url && url[0] && proxy_keys && proxy_keys[0])
		live_checks(url);
	else
		printf("ok %d # skip live S3 checks: S3DB_TEST_S3_URL or S3DB_TEST_S3_KEYS_FILE is not set\n",
			   ++unit_count);
	refresh_checks();			/* stops the stand-in */
	stop_standin();
	{
		char		cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	curl_global_cleanup();
	return unit_done();
}
