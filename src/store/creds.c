/*-------------------------------------------------------------------------
 *
 * creds.c
 *		Credential providers: the SDKs' default chain, role assumption on
 *		top, a per-process cache and refresh before expiry (see creds.h).
 *
 * A provider is found by a digest of its options, so every store of a
 * process that uses the same identity shares it (and its refreshes).  One
 * mutex guards the list and every provider: refreshes are rare and short,
 * and a backend is single-threaded anyway.
 *
 * A source that is configured but fails (a web identity token STS rejects,
 * an unreachable container endpoint, a named profile that does not exist)
 * ends the search with its error instead of silently falling through to
 * the next source: finding the instance's identity instead of the
 * configured one would be a surprise worse than an error.
 *
 *-------------------------------------------------------------------------
 */
#include "store/creds_int.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "store/connstr.h"
#include "store/sigv4.h"

#define DEFAULT_IMDS "http://169.254.169.254"
#define DEFAULT_ECS "http://169.254.170.2"
#define TOKEN_FILE_LIMIT (64 * 1024)

struct s3s_cred_provider
{
	s3s_cred_provider *next;
	int			refs;
	char		digest[65];

	/* options (owned copies) */
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;
	bool		use_chain;
	char	   *profile;
	char	   *role_arn;
	char	   *external_id;
	char	   *role_session_name;
	char	   *region;
	char	   *sts_endpoint;
	char	   *imds_endpoint;
	char	   *ecs_endpoint;
	char	   *ca_file;
	long		timeout_ms;

	/* state */
	bool		have;
	s3s_credentials cur;
	int64_t		next_attempt;	/* epoch s: no refresh attempt before */
	int			refreshes;
	s3s_error	last_err;		/* why the last attempt failed (no secret) */
	bool		failed;			/* ... and nothing usable was left */
};

static pthread_mutex_t providers_lock = PTHREAD_MUTEX_INITIALIZER;
static s3s_cred_provider *providers = NULL;

/* ---------------------------------------------------------------------
 * small helpers
 * ---------------------------------------------------------------------
 */
char *
s3s_creds_dup(const char *s, bool *nomem)
{
	char	   *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*nomem = true;
	return d;
}

static void
wipe_free(char *s)
{
	if (s)
	{
		memset(s, 0, strlen(s));
		free(s);
	}
}

void
s3s_credentials_free(s3s_credentials *c)
{
	if (c == NULL)
		return;
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

static bool
creds_copy(s3s_credentials *dst, const s3s_credentials *src)
{
	bool		nomem = false;

	memset(dst, 0, sizeof(*dst));
	dst->access_key_id = s3s_creds_dup(src->access_key_id, &nomem);
	dst->secret_access_key = s3s_creds_dup(src->secret_access_key, &nomem);
	dst->session_token = s3s_creds_dup(src->session_token, &nomem);
	dst->expiration = src->expiration;
	memcpy(dst->source, src->source, sizeof(dst->source));
	if (nomem)
		s3s_credentials_free(dst);
	return !nomem;
}

bool
s3s_creds_parse_time(const char *s, int64_t *out)
{
	struct tm	tm;
	int			n = 0;
	const char *p;
	long		off = 0;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL ||
		sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return false;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char) *p); p++)
			;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-')
	{
		/* exactly "+HH:MM": check every byte before stepping over them */
		if (!isdigit((unsigned char) p[1]) || !isdigit((unsigned char) p[2]) || p[3] != ':' ||
			!isdigit((unsigned char) p[4]) || !isdigit((unsigned char) p[5]))
			return false;
		off = (((p[1] - '0') * 10 + (p[2] - '0')) * 3600L +
			   ((p[4] - '0') * 10 + (p[5] - '0')) * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	}
	else
		return false;
	if (*p != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t) timegm(&tm) - off;
	return true;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return (v && v[0]) ? v : NULL;
}

/* a small file's contents, trailing whitespace removed (malloc'd) */
static char *
read_small_file(const char *path, const char *what, s3s_error *err)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf;
	size_t		n;

	if (f == NULL)
	{
		s3s_error_set(err, S3S_ERR_IO, "credentials", NULL, "could not read the %s file: %s",
					  what, strerror(errno));
		return NULL;
	}
	buf = malloc(TOKEN_FILE_LIMIT + 1);
	if (buf == NULL)
	{
		fclose(f);
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, TOKEN_FILE_LIMIT, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char) buf[n - 1]))
		buf[--n] = '\0';
	if (n == 0)
	{
		free(buf);
		s3s_error_set(err, S3S_ERR_ACCESS, "credentials", NULL, "the %s file is empty", what);
		return NULL;
	}
	return buf;
}

/* ---------------------------------------------------------------------
 * sources
 * ---------------------------------------------------------------------
 */
static const char *
sts_region(const s3s_cred_provider *p)
{
	if (p->region)
		return p->region;
	if (env("AWS_REGION"))
		return env("AWS_REGION");
	if (env("AWS_DEFAULT_REGION"))
		return env("AWS_DEFAULT_REGION");
	return "us-east-1";
}

static bool
assume(const s3s_cred_provider *p, const s3s_credentials *base, const char *role_arn,
	   const char *external_id, const char *session_name, const char *web_token,
	   s3s_credentials *out, s3s_error *err)
{
	s3s_http_opts h = {p->ca_file, p->timeout_ms};
	s3s_sts_call call;
	char		endpoint[256];
	char		def_session[64];
	const char *region = sts_region(p);

	/* from a profile or AWS_REGION: it goes into the host name and the scope */
	if (s3s_region_problem(region) != NULL)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "STS", NULL,
					  "the region for STS is not a region name: %s", s3s_region_problem(region));
		return false;
	}
	if (p->sts_endpoint)
		snprintf(endpoint, sizeof(endpoint), "%s", p->sts_endpoint);
	else if (env("AWS_ENDPOINT_URL_STS"))
		snprintf(endpoint, sizeof(endpoint), "%s", env("AWS_ENDPOINT_URL_STS"));
	else
		snprintf(endpoint, sizeof(endpoint), "https://sts.%s.amazonaws.com", region);
	snprintf(def_session, sizeof(def_session), "s3db_fdw-%lld", (long long) time(NULL));

	memset(&call, 0, sizeof(call));
	call.endpoint = endpoint;
	call.region = region;
	call.role_arn = role_arn;
	call.session_name = session_name ? session_name : def_session;
	call.external_id = external_id;
	call.base = base;
	call.web_token = web_token;
	return s3s_creds_sts(&call, &h, out, err);
}

static bool
from_environment(s3s_credentials *out)
{
	const char *akid = env("AWS_ACCESS_KEY_ID");
	const char *secret = env("AWS_SECRET_ACCESS_KEY");
	bool		nomem = false;

	if (akid == NULL || secret == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	out->access_key_id = s3s_creds_dup(akid, &nomem);
	out->secret_access_key = s3s_creds_dup(secret, &nomem);
	out->session_token = s3s_creds_dup(env("AWS_SESSION_TOKEN"), &nomem);
	snprintf(out->source, sizeof(out->source), "environment");
	if (nomem)
		s3s_credentials_free(out);
	return !nomem;
}

static bool
from_web_identity(const s3s_cred_provider *p, s3s_credentials *out, s3s_error *err)
{
	char	   *token = read_small_file(env("AWS_WEB_IDENTITY_TOKEN_FILE"),
										"web identity token", err);
	bool		ok;

	if (token == NULL)
		return false;
	ok = assume(p, NULL, env("AWS_ROLE_ARN"), NULL, env("AWS_ROLE_SESSION_NAME"), token,
				out, err);
	wipe_free(token);
	return ok;
}

/* 1 found, 0 the profile has no credentials, -1 error */
static int
from_profile(const s3s_cred_provider *p, const char *name, s3s_credentials *out,
			 s3s_error *err)
{
	s3s_profile prof;
	bool		nomem = false;
	int			rc = 0;

	if (!s3s_profile_load(name, &prof, err))
		return -1;
	memset(out, 0, sizeof(*out));
	if (prof.role_arn && prof.source_profile)
	{
		/* one level of source_profile: its static keys sign AssumeRole */
		s3s_profile src;

		if (!s3s_profile_load(prof.source_profile, &src, err))
			rc = -1;
		else if (src.access_key_id == NULL || src.secret_access_key == NULL)
		{
			s3s_error_set(err, S3S_ERR_ACCESS, "credentials", NULL,
						  "source_profile \"%.64s\" of profile \"%.64s\" has no keys",
						  prof.source_profile, name);
			rc = -1;
		}
		else
		{
			s3s_credentials base = {0};

			base.access_key_id = src.access_key_id;
			base.secret_access_key = src.secret_access_key;
			base.session_token = src.session_token;
			rc = assume(p, &base, prof.role_arn, prof.external_id, prof.role_session_name,
						NULL, out, err) ? 1 : -1;
		}
		s3s_profile_free(&src);
	}
	else if (prof.access_key_id && prof.secret_access_key)
	{
		out->access_key_id = s3s_creds_dup(prof.access_key_id, &nomem);
		out->secret_access_key = s3s_creds_dup(prof.secret_access_key, &nomem);
		out->session_token = s3s_creds_dup(prof.session_token, &nomem);
		snprintf(out->source, sizeof(out->source), "profile %.36s", name);
		rc = nomem ? -1 : 1;
		if (nomem)
		{
			s3s_credentials_free(out);
			s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
		}
	}
	else if (prof.credential_process)
	{
		rc = s3s_creds_process(prof.credential_process, p->timeout_ms, out, err) ? 1 : -1;
		if (rc == 1)
			snprintf(out->source, sizeof(out->source), "process of profile %.24s", name);
	}
	else if (p->profile != NULL)
	{
		/* a profile named on purpose must deliver */
		s3s_error_set(err, S3S_ERR_ACCESS, "credentials", NULL,
					  prof.found ? "profile \"%.64s\" of the shared AWS files has no credentials" :
					  "profile \"%.64s\" is not in the shared AWS credentials or config file",
					  name);
		rc = -1;
	}
	s3s_profile_free(&prof);
	return rc;
}

/* May a full container URI be used over plain http? (as the SDKs decide) */
static bool
container_host_ok(const char *url)
{
	static const char *const allowed[] = {
		"127.", "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", NULL
	};
	const char *host;
	size_t		hl;

	if (strncasecmp(url, "https://", 8) == 0)
		return true;
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	host = url + 7;
	hl = strcspn(host, ":/?#");
	if (host[0] == '[')
		hl = strcspn(host, "]") + 1;
	for (int i = 0; allowed[i]; i++)
	{
		size_t		al = strlen(allowed[i]);

		if (allowed[i][al - 1] == '.' ? strncmp(host, allowed[i], al) == 0 && hl > al :
			(hl == al && strncasecmp(host, allowed[i], al) == 0))
			return true;
	}
	return false;
}

static bool
from_container(const s3s_cred_provider *p, s3s_credentials *out, s3s_error *err)
{
	s3s_http_opts h = {p->ca_file, p->timeout_ms};
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	char	   *token = NULL;
	char	   *url;
	bool		ok;

	if (rel)
	{
		const char *origin = p->ecs_endpoint ? p->ecs_endpoint : DEFAULT_ECS;

		url = malloc(strlen(origin) + strlen(rel) + 2);
		if (url)
			sprintf(url, "%s%s%s", origin, rel[0] == '/' ? "" : "/", rel);
	}
	else
	{
		if (!container_host_ok(full))
		{
			s3s_error_set(err, S3S_ERR_INVALID, "container", NULL,
						  "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https or a loopback or container host");
			return false;
		}
		url = strdup(full);
	}
	if (url == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "container", NULL, "out of memory");
		return false;
	}
	if (token_file)
	{
		token = read_small_file(token_file, "container authorization token", err);
		if (token == NULL)
		{
			free(url);
			return false;
		}
	}
	ok = s3s_creds_container(url, token ? token : env("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
							 &h, out, err);
	wipe_free(token);
	free(url);
	return ok;
}

static bool
from_chain(const s3s_cred_provider *p, s3s_credentials *out, s3s_error *err)
{
	const char *profile = p->profile ? p->profile :
		env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
	const char *disabled = env("AWS_EC2_METADATA_DISABLED");
	s3s_http_opts h = {p->ca_file, p->timeout_ms};
	s3s_error	imds_err;
	int			rc;

	/*
	 * An explicitly named profile takes the environment out, the keys and
	 * the web identity variables alike (botocore's disable_env_vars).
	 */
	if (p->profile == NULL && from_environment(out))
		return true;
	if (p->profile == NULL && env("AWS_WEB_IDENTITY_TOKEN_FILE") && env("AWS_ROLE_ARN"))
		return from_web_identity(p, out, err);
	rc = from_profile(p, profile, out, err);
	if (rc != 0)
		return rc > 0;
	if (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
		return from_container(p, out, err);
	if (disabled && strcasecmp(disabled, "true") == 0)
	{
		s3s_error_set(err, S3S_ERR_ACCESS, "credentials", NULL,
					  "no AWS credentials found: none in the environment, no web identity, "
					  "no profile \"%.64s\", no container endpoint, and instance metadata is disabled",
					  profile);
		return false;
	}
	s3s_error_clear(&imds_err);
	if (s3s_creds_imds(p->imds_endpoint ? p->imds_endpoint :
					   env("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?
					   env("AWS_EC2_METADATA_SERVICE_ENDPOINT") : DEFAULT_IMDS,
					   &h, out, &imds_err))
		return true;
	s3s_error_set(err, imds_err.code == S3S_ERR_NOMEM ? S3S_ERR_NOMEM : S3S_ERR_ACCESS,
				  "credentials", NULL,
				  "no AWS credentials found: none in the environment, no web identity, "
				  "no profile \"%.64s\", no container endpoint, and instance metadata failed: %s",
				  profile, imds_err.message);
	return false;
}

/* Resolve base identity and role: the credentials to use from now on. */
static bool
resolve(const s3s_cred_provider *p, s3s_credentials *out, s3s_error *err)
{
	s3s_credentials base;
	bool		ok;

	memset(&base, 0, sizeof(base));
	if (p->access_key_id)
	{
		bool		nomem = false;

		base.access_key_id = s3s_creds_dup(p->access_key_id, &nomem);
		base.secret_access_key = s3s_creds_dup(p->secret_access_key ? p->secret_access_key : "",
											   &nomem);
		base.session_token = s3s_creds_dup(p->session_token, &nomem);
		snprintf(base.source, sizeof(base.source), "static keys");
		if (nomem)
		{
			s3s_credentials_free(&base);
			s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
			return false;
		}
	}
	else if (p->use_chain)
	{
		if (!from_chain(p, &base, err))
			return false;
	}
	else
	{
		s3s_error_set(err, S3S_ERR_ACCESS, "credentials", NULL,
					  "no credentials, and the server's own identity may not be used");
		return false;
	}
	if (p->role_arn == NULL)
	{
		*out = base;
		return true;
	}
	ok = assume(p, &base, p->role_arn, p->external_id, p->role_session_name, NULL, out, err);
	s3s_credentials_free(&base);
	return ok;
}

/* ---------------------------------------------------------------------
 * providers
 * ---------------------------------------------------------------------
 */
static void
digest_add(char **buf, size_t *len, const char *s)
{
	size_t		n = s ? strlen(s) + 1 : 1;
	char	   *nb = *buf ? realloc(*buf, *len + n + 1) : malloc(n + 1);

	if (nb == NULL)
	{
		if (*buf)
			memset(*buf, 0, *len);
		free(*buf);
		*buf = NULL;
		*len = SIZE_MAX;
		return;
	}
	*buf = nb;
	/* NULL and "" differ: 0x01 marks NULL, every field ends with 0x00 */
	if (s)
		memcpy(nb + *len, s, n);
	else
		nb[*len] = 0x01;
	*len += n;
}

static bool
options_digest(const s3s_cred_options *o, char out[65])
{
	char	   *buf = NULL;
	size_t		len = 0;
	char		timeout[32];
	const char *fields[15];
	int			nf = 0;

	snprintf(timeout, sizeof(timeout), "%ld", o->timeout_ms);
	fields[nf++] = o->access_key_id;
	fields[nf++] = o->secret_access_key;
	fields[nf++] = o->session_token;
	fields[nf++] = o->use_chain ? "chain" : "no chain";
	fields[nf++] = o->profile;
	fields[nf++] = o->role_arn;
	fields[nf++] = o->external_id;
	fields[nf++] = o->role_session_name;
	fields[nf++] = o->region;
	fields[nf++] = o->sts_endpoint;
	fields[nf++] = o->imds_endpoint;
	fields[nf++] = o->ecs_endpoint;
	fields[nf++] = o->ca_file;
	fields[nf++] = timeout;
	for (int i = 0; i < nf && len != SIZE_MAX; i++)
		digest_add(&buf, &len, fields[i]);
	if (buf == NULL)
		return false;
	s3s_sha256_hex(buf, len, out);
	memset(buf, 0, len);
	free(buf);
	return true;
}

static void
provider_free(s3s_cred_provider *p)
{
	free(p->access_key_id);
	wipe_free(p->secret_access_key);
	wipe_free(p->session_token);
	free(p->profile);
	free(p->role_arn);
	free(p->external_id);
	free(p->role_session_name);
	free(p->region);
	free(p->sts_endpoint);
	free(p->imds_endpoint);
	free(p->ecs_endpoint);
	free(p->ca_file);
	s3s_credentials_free(&p->cur);
	free(p);
}

s3s_cred_provider *
s3s_creds_open(const s3s_cred_options *o, s3s_error *err)
{
	char		digest[65];
	s3s_cred_provider *p;
	bool		nomem = false;
	const char *akid = (o->access_key_id && o->access_key_id[0]) ? o->access_key_id : NULL;

	if (!options_digest(o, digest))
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
		return NULL;
	}
	pthread_mutex_lock(&providers_lock);
	for (p = providers; p; p = p->next)
		if (strcmp(p->digest, digest) == 0)
		{
			p->refs++;
			pthread_mutex_unlock(&providers_lock);
			return p;
		}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
	{
		pthread_mutex_unlock(&providers_lock);
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
		return NULL;
	}
	memcpy(p->digest, digest, sizeof(digest));
	p->access_key_id = s3s_creds_dup(akid, &nomem);
	if (akid)
	{
		p->secret_access_key = s3s_creds_dup(o->secret_access_key, &nomem);
		p->session_token = (o->session_token && o->session_token[0]) ?
			s3s_creds_dup(o->session_token, &nomem) : NULL;
	}
	p->use_chain = o->use_chain;
	p->profile = s3s_creds_dup(o->profile, &nomem);
	p->role_arn = s3s_creds_dup(o->role_arn, &nomem);
	p->external_id = s3s_creds_dup(o->external_id, &nomem);
	p->role_session_name = s3s_creds_dup(o->role_session_name, &nomem);
	p->region = s3s_creds_dup(o->region, &nomem);
	p->sts_endpoint = s3s_creds_dup(o->sts_endpoint, &nomem);
	p->imds_endpoint = s3s_creds_dup(o->imds_endpoint, &nomem);
	p->ecs_endpoint = s3s_creds_dup(o->ecs_endpoint, &nomem);
	p->ca_file = s3s_creds_dup(o->ca_file, &nomem);
	p->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	if (nomem || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		pthread_mutex_unlock(&providers_lock);
		provider_free(p);
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
		return NULL;
	}
	p->refs = 1;
	p->next = providers;
	providers = p;
	pthread_mutex_unlock(&providers_lock);
	return p;
}

void
s3s_creds_close(s3s_cred_provider *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&providers_lock);
	if (--p->refs == 0)
	{
		for (s3s_cred_provider **pp = &providers; *pp; pp = &(*pp)->next)
			if (*pp == p)
			{
				*pp = p->next;
				break;
			}
		provider_free(p);
		curl_global_cleanup();
	}
	pthread_mutex_unlock(&providers_lock);
}

int
s3s_creds_refreshes(const s3s_cred_provider *p)
{
	return p->refreshes;
}

static bool
usable(const s3s_cred_provider *p, int64_t now, int64_t margin)
{
	return p->have && (p->cur.expiration == 0 || p->cur.expiration - now > margin);
}

bool
s3s_creds_get(s3s_cred_provider *p, s3s_credentials *out, s3s_error *err)
{
	int64_t		now = (int64_t) time(NULL);
	bool		ok;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&providers_lock);

	/*
	 * A failure is remembered for the retry pause: the other requests of a
	 * batch fail at once instead of each waiting for an unreachable
	 * metadata endpoint or asking STS again.
	 */
	if (p->failed && now < p->next_attempt && !usable(p, now, S3S_CREDS_MIN_LIFETIME))
	{
		if (err)
			*err = p->last_err;
		pthread_mutex_unlock(&providers_lock);
		return false;
	}
	if (!usable(p, now, S3S_CREDS_REFRESH_WINDOW) &&
		!(now < p->next_attempt && usable(p, now, S3S_CREDS_MIN_LIFETIME)))
	{
		s3s_credentials fresh;
		s3s_error	rerr;

		s3s_error_clear(&rerr);
		p->next_attempt = now + S3S_CREDS_RETRY_PAUSE;
		p->failed = false;
		if (resolve(p, &fresh, &rerr))
		{
			s3s_credentials_free(&p->cur);
			p->cur = fresh;
			p->have = true;
			p->refreshes++;
		}
		else if (!usable(p, now, S3S_CREDS_MIN_LIFETIME))
		{
			/* nothing left to sign with */
			p->failed = true;
			p->last_err = rerr;
			pthread_mutex_unlock(&providers_lock);
			if (err)
				*err = rerr;
			return false;
		}
	}
	ok = creds_copy(out, &p->cur);
	pthread_mutex_unlock(&providers_lock);
	if (!ok)
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
	return ok;
}
