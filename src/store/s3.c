/*-------------------------------------------------------------------------
 *
 * s3.c
 *		The S3 backend: configuration, and running a batch of requests
 *		concurrently on one curl multi handle with retries.
 *
 * Each store owns one CURLM handle for its lifetime, so connections (and
 * TLS sessions) are reused across batches.  s3s_execute() keeps at most
 * max_inflight transfers running; a request that fails transiently waits
 * a capped, fully jittered exponential backoff (base 100 ms, cap 5 s) and
 * is re-signed for its next attempt.  The loop polls with a short timeout
 * and checks the cancel hook between polls (and curl's progress callback
 * checks it during transfers), so a query cancel stops everything
 * promptly; nothing here ever longjmps.
 *
 * Settings: cfg->region / endpoint / url_style override what the
 * connection string implies; cfg credentials (key, secret and token
 * together) override the URL's.  Without an access key requests are sent
 * unsigned (public buckets).
 *
 *-------------------------------------------------------------------------
 */
#include "store/s3int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000
#define POLL_MS 100

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
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

static void
conf_free(s3_conf *c)
{
	if (c == NULL)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	s3s_creds_close(c->creds);
	free(c->base_url);
	free(c->host);
	free(c->bucket);
	free(c->region);
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	free(c->ca_file);
	free(c);
}

/* Can the bucket be a DNS label prefix (virtual-hosted addressing)? */
static bool
dns_bucket(const char *b)
{
	size_t		n = strlen(b);

	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return false;
	for (; *b; b++)
		if (!(islower((unsigned char) *b) || isdigit((unsigned char) *b) || *b == '-'))
			return false;
	return true;
}

static bool
open_fail(s3_conf *c, s3s_error *err, s3s_code code, const char *msg)
{
	s3s_error_set(err, code, "open", NULL, "%s", msg);
	conf_free(c);
	return false;
}

static bool
s3_open(s3s_store *st, const s3s_config *cfg, s3s_error *err)
{
	const s3s_location *loc = &st->loc;
	s3_conf    *c = calloc(1, sizeof(s3_conf));
	const char *endpoint = cfg->endpoint;
	char		def_ep[128];
	const char *rest;
	size_t		hostlen;
	bool		https;

	if (c == NULL)
		return open_fail(c, err, S3S_ERR_NOMEM, "out of memory");

	c->region = strdup(cfg->region && cfg->region[0] ? cfg->region :
					   loc->region ? loc->region : "us-east-1");
	c->bucket = strdup(loc->bucket ? loc->bucket : "s3db");
	if (c->region == NULL || c->bucket == NULL)
		return open_fail(c, err, S3S_ERR_NOMEM, "out of memory");
	/* the region option was checked by the FDW; a caller of the store may not have */
	if (s3s_region_problem(c->region) != NULL)
		return open_fail(c, err, S3S_ERR_INVALID, "invalid region");
	/* checked when parsing too; the host name must never come from it */
	if (s3s_bucket_name_problem(c->bucket) != NULL)
		return open_fail(c, err, S3S_ERR_INVALID, "invalid bucket name");

	if (cfg->access_key_id && cfg->access_key_id[0])
	{
		c->access_key_id = strdup(cfg->access_key_id);
		c->secret_access_key = dup_or_null(cfg->secret_access_key);
		c->session_token = dup_or_null(cfg->session_token);
	}
	else if (loc->access_key_id && loc->access_key_id[0])
	{
		c->access_key_id = strdup(loc->access_key_id);
		c->secret_access_key = dup_or_null(loc->secret_access_key);
		c->session_token = dup_or_null(cfg->session_token ? cfg->session_token : loc->session_token);
	}
	if (c->session_token && c->session_token[0] == '\0')
	{
		free(c->session_token);
		c->session_token = NULL;
	}
	if (c->session_token && strpbrk(c->session_token, "\r\n") != NULL)
		return open_fail(c, err, S3S_ERR_INVALID, "invalid session token");

	/*
	 * A provider when the keys are not all there is to it: the server's
	 * identity instead of missing keys, or a role assumed on top of either.
	 */
	if (cfg->creds &&
		(c->access_key_id ? cfg->creds->role_arn != NULL : cfg->creds->use_chain))
	{
		s3s_cred_options co = *cfg->creds;

		co.access_key_id = c->access_key_id;
		co.secret_access_key = c->secret_access_key;
		co.session_token = c->session_token;
		c->creds = s3s_creds_open(&co, err);
		if (c->creds == NULL)
		{
			conf_free(c);
			return false;
		}
	}

	/* endpoint: the option, else the one implied by the URL and region */
	if (endpoint == NULL || endpoint[0] == '\0')
	{
		if (strcmp(loc->scheme, "s3") == 0 || loc->endpoint == NULL)
		{
			snprintf(def_ep, sizeof(def_ep), "https://s3.%s.amazonaws.com", c->region);
			endpoint = def_ep;
		}
		else
			endpoint = loc->endpoint;
	}
	if (strncasecmp(endpoint, "https://", 8) == 0)
	{
		https = true;
		rest = endpoint + 8;
	}
	else if (strncasecmp(endpoint, "http://", 7) == 0)
	{
		https = false;
		rest = endpoint + 7;
	}
	else
		return open_fail(c, err, S3S_ERR_INVALID, "endpoint must start with http:// or https://");
	hostlen = strcspn(rest, "/?#");
	if (hostlen == 0 || memchr(rest, '@', hostlen) != NULL ||
		strspn(rest + hostlen, "/") != strlen(rest + hostlen))
		return open_fail(c, err, S3S_ERR_INVALID,
						 "endpoint must be scheme://host[:port] without credentials or path");
	for (size_t i = 0; i < hostlen; i++)
		if ((unsigned char) rest[i] <= 0x20 || rest[i] == '\\')
			return open_fail(c, err, S3S_ERR_INVALID, "invalid endpoint host");

	/* addressing style */
	if (cfg->url_style && strcmp(cfg->url_style, "path") == 0)
		c->path_style = true;
	else if (cfg->url_style && strcmp(cfg->url_style, "virtual") == 0)
		c->path_style = false;
	else if (cfg->url_style && cfg->url_style[0] && strcmp(cfg->url_style, "auto") != 0)
		return open_fail(c, err, S3S_ERR_INVALID, "url style must be \"path\" or \"virtual\"");
	else
		c->path_style = !(strcmp(loc->scheme, "s3") == 0 &&
						  (cfg->endpoint == NULL || cfg->endpoint[0] == '\0') &&
						  dns_bucket(c->bucket));
	if (!c->path_style && !dns_bucket(c->bucket) && strchr(c->bucket, '.') == NULL)
		return open_fail(c, err, S3S_ERR_INVALID,
						 "bucket name cannot be used with virtual-hosted addressing");

	c->host = malloc(strlen(c->bucket) + hostlen + 2);
	c->base_url = malloc(strlen(c->bucket) + hostlen + 16);
	if (c->host == NULL || c->base_url == NULL)
		return open_fail(c, err, S3S_ERR_NOMEM, "out of memory");
	if (c->path_style)
		snprintf(c->host, hostlen + 1, "%s", rest);
	else
		sprintf(c->host, "%s.%.*s", c->bucket, (int) hostlen, rest);
	for (char *h = c->host; *h; h++)
		*h = (char) tolower((unsigned char) *h);
	sprintf(c->base_url, "%s://%s", https ? "https" : "http", c->host);

	c->ca_file = dup_or_null(cfg->ca_file);
	c->insecure = cfg->insecure_skip_verify;
	c->max_inflight = cfg->max_inflight > 0 ? cfg->max_inflight : 48;
	c->max_retries = cfg->max_retries >= 0 ? cfg->max_retries : 5;
	c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
	c->request_timeout_ms = cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : 60000;
	c->low_speed_time_s = cfg->low_speed_time_s > 0 ? cfg->low_speed_time_s : 30;
	if ((cfg->access_key_id && cfg->access_key_id[0] && c->access_key_id == NULL) ||
		(cfg->ca_file && c->ca_file == NULL))
		return open_fail(c, err, S3S_ERR_NOMEM, "out of memory");

	/* reference-counted and thread-safe in the libcurl versions we use */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return open_fail(c, err, S3S_ERR_NETWORK, "could not initialise libcurl");
	xmlInitParser();
	c->multi = curl_multi_init();
	if (c->multi == NULL)
	{
		curl_global_cleanup();
		return open_fail(c, err, S3S_ERR_NOMEM, "could not create a curl multi handle");
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long) c->max_inflight);
	st->impl = c;
	return true;
}

static void
s3_close(s3s_store *st)
{
	conf_free(st->impl);
	st->impl = NULL;
	curl_global_cleanup();
}

/* Full jitter: a uniform delay in [0, min(cap, base * 2^(attempt-1))]. */
static int64_t
backoff_ms(int attempt)
{
	int64_t		ceiling = BACKOFF_BASE_MS;
	uint32_t	rnd;

	for (int i = 1; i < attempt && ceiling < BACKOFF_CAP_MS; i++)
		ceiling *= 2;
	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	s3s_random_bytes((unsigned char *) &rnd, sizeof(rnd));
	return (int64_t) (rnd % (uint32_t) (ceiling + 1));
}

static void
finish(s3_xfer *x, int *nactive)
{
	if (x->easy)
		(*nactive)--;
	s3r_release(x);
	x->done = true;
}

static void
s3_execute(s3s_store *st, s3s_request *reqs, int n)
{
	s3_conf    *c = st->impl;
	s3_xfer    *xs = calloc((size_t) n, sizeof(s3_xfer));
	int			nactive = 0;
	int			ndone = 0;

	if (xs == NULL)
	{
		for (int i = 0; i < n; i++)
			s3s_error_set(&reqs[i].err, S3S_ERR_NOMEM, s3s_op_name(reqs[i].op),
						  reqs[i].key, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++)
	{
		xs[i].st = st;
		xs[i].req = &reqs[i];
		xs[i].content_length = -1;
		xs[i].range_total = -1;
	}

	/* the window may have been changed since the last batch */
	if (c->max_inflight != st->max_inflight)
	{
		c->max_inflight = st->max_inflight;
		curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long) c->max_inflight);
	}
	while (ndone < n)
	{
		int64_t		now;
		int64_t		wait = POLL_MS;
		int			running;
		int			left;
		CURLMsg    *msg;

		if (s3s_cancelled(st))
		{
			for (int i = 0; i < n; i++)
			{
				if (xs[i].done)
					continue;
				finish(&xs[i], &nactive);
				s3s_error_set(&reqs[i].err, S3S_ERR_CANCELLED, s3s_op_name(reqs[i].op),
							  reqs[i].key, "request cancelled");
				ndone++;
			}
			break;
		}

		/* start new requests and due retries while the window has room */
		now = now_ms();
		for (int i = 0; i < n && nactive < c->max_inflight; i++)
		{
			s3_xfer    *x = &xs[i];

			if (x->done || x->easy != NULL)
				continue;
			if (x->ready_at_ms > now)
			{
				if (x->ready_at_ms - now < wait)
					wait = x->ready_at_ms - now;
				continue;
			}
			if (x->req->op == S3S_OP_DELETE_MANY && x->req->nkeys == 0)
			{
				x->done = true;
				ndone++;
				continue;
			}
			s3s_error_clear(&x->req->err);
			x->req->attempts++;
			if (!s3r_prepare(x))
			{
				s3r_release(x);
				x->done = true;
				ndone++;
				continue;
			}
			if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
			{
				curl_easy_cleanup(x->easy);
				x->easy = NULL;
				s3r_release(x);
				s3s_error_set(&x->req->err, S3S_ERR_NOMEM, s3s_op_name(x->req->op),
							  x->req->key, "could not start a transfer");
				x->done = true;
				ndone++;
				continue;
			}
			nactive++;
		}
		if (ndone >= n)
			break;

		curl_multi_perform(c->multi, &running);
		while ((msg = curl_multi_info_read(c->multi, &left)) != NULL)
		{
			s3_xfer    *x = NULL;
			bool		retry;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
			if (x == NULL)
				continue;
			retry = s3r_complete(x, msg->data.result);
			if (retry && x->req->attempts <= c->max_retries && s3s_cancelled(st))
			{
				/*
				 * the retry was stopped by the cancel, not by this
				 * attempt's error: fail as the requests still waiting do
				 */
				finish(x, &nactive);
				s3s_error_set(&x->req->err, S3S_ERR_CANCELLED, s3s_op_name(x->req->op),
							  x->req->key, "request cancelled");
				ndone++;
				continue;
			}
			if (retry && x->req->attempts <= c->max_retries)
			{
				/* keep the error until the next attempt replaces it */
				s3r_release(x);
				nactive--;
				x->ready_at_ms = now_ms() + backoff_ms(x->req->attempts);
				if (x->ready_at_ms - now_ms() < wait)
					wait = x->ready_at_ms - now_ms();
				if (wait < 0)
					wait = 0;
				continue;
			}
			finish(x, &nactive);
			ndone++;
		}
		if (ndone >= n)
			break;
		if (nactive > 0 || wait > 0)
			curl_multi_poll(c->multi, NULL, 0, (int) (wait > 0 ? wait : 1), NULL);
	}
	free(xs);
}

const s3s_backend s3s_backend_s3 = {
	"s3",
	s3_open,
	s3_close,
	s3_execute
};
