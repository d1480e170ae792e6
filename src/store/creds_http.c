/*-------------------------------------------------------------------------
 *
 * creds_http.c
 *		The HTTP credential sources: EC2 instance metadata (IMDSv2), ECS /
 *		EKS container endpoints and STS, over libcurl.
 *
 * These are small synchronous exchanges with short timeouts: a process
 * asks at most once per refresh, and the metadata endpoints are local to
 * the host.  Replies are capped at 64 KiB.  Nothing here follows
 * redirects, the metadata and container endpoints are reached without any
 * proxy from the environment (STS honours one), and no credential or token
 * is ever copied into an error.
 *
 *-------------------------------------------------------------------------
 */
#include "store/creds_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "store/sigv4.h"

#define REPLY_LIMIT (64 * 1024)
#define IMDS_TOKEN_TTL "21600"

typedef struct reply
{
	char	   *data;
	size_t		len;
	bool		overflow;
} reply;

static size_t
on_write(char *data, size_t size, size_t nitems, void *ud)
{
	reply	   *r = ud;
	size_t		n = size * nitems;
	char	   *nd;

	if (r->len + n > REPLY_LIMIT)
	{
		r->overflow = true;
		return 0;
	}
	nd = realloc(r->data, r->len + n + 1);
	if (nd == NULL)
		return 0;
	r->data = nd;
	memcpy(r->data + r->len, data, n);
	r->len += n;
	r->data[r->len] = '\0';
	return n;
}

static void
reply_free(reply *r)
{
	if (r->data)
	{
		memset(r->data, 0, r->len);
		free(r->data);
	}
	memset(r, 0, sizeof(*r));
}

/*
 * One exchange.  Returns false with err filled on a transport failure;
 * otherwise *status is the HTTP status and rep holds the body.
 */
static bool
exchange(const char *what, const char *method, const char *url, struct curl_slist *headers,
		 const char *body, const s3s_http_opts *h, long *status, reply *rep,
		 s3s_error *err)
{
	CURL	   *e = curl_easy_init();
	CURLcode	cc;
	char		ebuf[CURL_ERROR_SIZE];
	long		timeout = h && h->timeout_ms > 0 ? h->timeout_ms : 5000;

	memset(rep, 0, sizeof(*rep));
	*status = 0;
	if (e == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, what, NULL, "could not create a transfer");
		return false;
	}
	ebuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout < 2000 ? timeout : 2000L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, rep);
	if (headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	if (h && h->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	/* the metadata endpoints are on the host itself: never via a proxy */
	if (strcmp(what, "STS") != 0)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (strcmp(method, "PUT") == 0)
	{
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	}
	else if (strcmp(method, "POST") == 0)
	{
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
	}
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(e);
	if (cc != CURLE_OK)
	{
		s3s_code code = cc == CURLE_OPERATION_TIMEDOUT ? S3S_ERR_TIMEOUT :
			(cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE) ?
			S3S_ERR_TLS : rep->overflow ? S3S_ERR_PROTOCOL : S3S_ERR_NETWORK;

		s3s_error_set(err, code, what, NULL, "%s",
					  rep->overflow ? "the reply is too large" :
					  ebuf[0] ? ebuf : curl_easy_strerror(cc));
		reply_free(rep);
		return false;
	}
	return true;
}

static struct curl_slist *
add(struct curl_slist *l, const char *name, const char *value, bool *nomem)
{
	char	   *line = malloc(strlen(name) + strlen(value) + 3);
	struct curl_slist *nl;

	if (line == NULL)
	{
		*nomem = true;
		return l;
	}
	sprintf(line, "%s: %s", name, value);
	nl = curl_slist_append(l, line);
	memset(line, 0, strlen(line));
	free(line);
	if (nl == NULL)
		*nomem = true;
	return nl ? nl : l;
}

static void
slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		memset(p->data, 0, strlen(p->data));
	curl_slist_free_all(l);
}

static char *
join(const char *a, const char *b)
{
	char	   *s = malloc(strlen(a) + strlen(b) + 1);

	if (s)
		sprintf(s, "%s%s", a, b);
	return s;
}

/* an origin without trailing slashes (malloc'd) */
static char *
origin_of(const char *url)
{
	char	   *s = strdup(url);
	size_t		n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static bool
nomem_fail(s3s_error *err, const char *what)
{
	s3s_error_set(err, S3S_ERR_NOMEM, what, NULL, "out of memory");
	return false;
}

/*
 * The request both metadata services share: one exchange that must answer
 * 200 with a body.  Otherwise err says "refused (HTTP status N)", with the
 * status also in err->http_status so a caller can word a particular one
 * better; nothing of the reply goes into the message.
 */
static bool
fetch_ok(const char *what, const char *method, const char *url, struct curl_slist *hdr,
		 const s3s_http_opts *h, const char *refused, reply *rep, s3s_error *err)
{
	long		status;

	if (!exchange(what, method, url, hdr, NULL, h, &status, rep, err))
		return false;
	if (status == 200 && rep->len > 0)
		return true;
	s3s_error_set(err, S3S_ERR_ACCESS, what, NULL, "%s (HTTP status %ld%s)", refused, status,
				  status == 200 ? ", empty reply" : "");
	err->http_status = (int) status;
	reply_free(rep);
	return false;
}

/* GET the JSON credential document of IMDS or a container endpoint */
static bool
fetch_credentials(const char *what, const char *url, struct curl_slist *hdr,
				  const s3s_http_opts *h, const char *refused, const char *source,
				  s3s_credentials *out, s3s_error *err)
{
	reply		rep;
	bool		ok;

	if (!fetch_ok(what, "GET", url, hdr, h, refused, &rep, err))
		return false;
	ok = s3s_creds_parse_json(rep.data, rep.len, out, err);
	reply_free(&rep);
	if (ok)
		snprintf(out->source, sizeof(out->source), "%s", source);
	return ok;
}

bool
s3s_creds_imds(const char *origin_url, const s3s_http_opts *h, s3s_credentials *out,
			   s3s_error *err)
{
	char	   *origin = origin_of(origin_url);
	char	   *url = NULL;
	char	   *role = NULL;
	struct curl_slist *hdr = NULL;
	bool		nomem = false;
	bool		ok = false;
	reply		rep;

	memset(out, 0, sizeof(*out));
	if (origin == NULL)
		return nomem_fail(err, "IMDS");

	/* 1. a session token (IMDSv2) */
	url = join(origin, "/latest/api/token");
	hdr = add(hdr, "X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL, &nomem);
	if (url == NULL || nomem)
	{
		nomem_fail(err, "IMDS");
		goto done;
	}
	if (!fetch_ok("IMDS", "PUT", url, hdr, h, "instance metadata refused a session token",
				  &rep, err))
		goto done;
	slist_wipe_free(hdr);
	hdr = add(NULL, "X-aws-ec2-metadata-token", rep.data, &nomem);
	reply_free(&rep);
	free(url);

	/* 2. the role attached to the instance */
	url = join(origin, "/latest/meta-data/iam/security-credentials/");
	if (url == NULL || nomem)
	{
		nomem_fail(err, "IMDS");
		goto done;
	}
	if (!fetch_ok("IMDS", "GET", url, hdr, h, "instance metadata did not name a role",
				  &rep, err))
	{
		if (err->http_status == 404)
		{
			s3s_error_set(err, S3S_ERR_ACCESS, "IMDS", NULL,
						  "no IAM role is attached to this instance");
			err->http_status = 404;
		}
		goto done;
	}
	rep.data[strcspn(rep.data, "\r\n")] = '\0';
	if (rep.data[0] == '\0' || strpbrk(rep.data, "/?#% ") != NULL)
	{
		s3s_error_set(err, S3S_ERR_PROTOCOL, "IMDS", NULL, "instance metadata named an invalid role");
		reply_free(&rep);
		goto done;
	}
	role = strdup(rep.data);
	reply_free(&rep);
	free(url);

	/* 3. the role's credentials */
	url = role ? join(origin, "/latest/meta-data/iam/security-credentials/") : NULL;
	if (url)
	{
		char	   *full = join(url, role);

		free(url);
		url = full;
	}
	if (url == NULL)
	{
		nomem_fail(err, "IMDS");
		goto done;
	}
	ok = fetch_credentials("IMDS", url, hdr, h, "instance metadata did not return credentials",
						   "instance metadata", out, err);
done:
	slist_wipe_free(hdr);
	free(url);
	free(role);
	free(origin);
	return ok;
}

bool
s3s_creds_container(const char *url, const char *authorization, const s3s_http_opts *h,
					s3s_credentials *out, s3s_error *err)
{
	struct curl_slist *hdr = NULL;
	bool		nomem = false;
	bool		ok;

	memset(out, 0, sizeof(*out));
	if (authorization && authorization[0])
	{
		if (strpbrk(authorization, "\r\n") != NULL)
		{
			s3s_error_set(err, S3S_ERR_INVALID, "container", NULL,
						  "the container authorization token contains a line break");
			return false;
		}
		hdr = add(hdr, "Authorization", authorization, &nomem);
	}
	if (nomem)
	{
		slist_wipe_free(hdr);
		return nomem_fail(err, "container");
	}
	ok = fetch_credentials("container", url, hdr, h,
						   "the container credential endpoint refused", "container", out, err);
	slist_wipe_free(hdr);
	return ok;
}

/* append "&name=value" with value form-encoded */
static bool
form_add(char **body, const char *name, const char *value)
{
	char	   *enc = curl_easy_escape(NULL, value, 0);
	char	   *nb;

	if (enc == NULL)
		return false;
	nb = malloc(strlen(*body) + strlen(name) + strlen(enc) + 3);
	if (nb)
	{
		sprintf(nb, "%s%s%s=%s", *body, (*body)[0] ? "&" : "", name, enc);
		memset(*body, 0, strlen(*body));
		free(*body);
		*body = nb;
	}
	memset(enc, 0, strlen(enc));
	curl_free(enc);
	return nb != NULL;
}

bool
s3s_creds_sts(const s3s_sts_call *call, const s3s_http_opts *h, s3s_credentials *out,
			  s3s_error *err)
{
	bool		web = call->base == NULL;
	char	   *origin = origin_of(call->endpoint);
	char	   *url = NULL;
	char	   *body = strdup("");
	struct curl_slist *hdr = NULL;
	bool		nomem = false;
	bool		ok = false;
	long		status;
	reply		rep;

	memset(out, 0, sizeof(*out));
	if (origin == NULL || body == NULL)
		goto oom;
	if (!form_add(&body, "Action", web ? "AssumeRoleWithWebIdentity" : "AssumeRole") ||
		!form_add(&body, "Version", "2011-06-15") ||
		!form_add(&body, "RoleArn", call->role_arn) ||
		!form_add(&body, "RoleSessionName", call->session_name) ||
		!form_add(&body, "DurationSeconds", "3600") ||
		(call->external_id && !web && !form_add(&body, "ExternalId", call->external_id)) ||
		(web && !form_add(&body, "WebIdentityToken", call->web_token ? call->web_token : "")))
		goto oom;
	url = join(origin, "/");
	if (url == NULL)
		goto oom;
	hdr = add(hdr, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8", &nomem);
	hdr = add(hdr, "Accept", "application/xml", &nomem);
	if (!web)
	{
		/* SigV4 for service "sts" with the base identity */
		const char *scheme_end = strstr(origin, "://");
		const char *host = scheme_end ? scheme_end + 3 : origin;
		char		amz_date[17];
		char		hash[65];
		s3s_sigv4_kv sh[5];
		int			nsh = 0;
		s3s_sigv4_input in = {0};
		s3s_sigv4_output so;

		s3s_sigv4_amz_date(time(NULL), amz_date);
		s3s_sha256_hex(body, strlen(body), hash);
		sh[nsh++] = (s3s_sigv4_kv) {"content-type", "application/x-www-form-urlencoded; charset=utf-8"};
		sh[nsh++] = (s3s_sigv4_kv) {"host", host};
		sh[nsh++] = (s3s_sigv4_kv) {"x-amz-content-sha256", hash};
		sh[nsh++] = (s3s_sigv4_kv) {"x-amz-date", amz_date};
		if (call->base->session_token)
			sh[nsh++] = (s3s_sigv4_kv) {"x-amz-security-token", call->base->session_token};
		in.method = "POST";
		in.path = "/";
		in.headers = sh;
		in.nheaders = nsh;
		in.payload_hash = hash;
		in.access_key_id = call->base->access_key_id;
		in.secret_access_key = call->base->secret_access_key;
		in.region = call->region;
		in.service = "sts";
		in.amz_date = amz_date;
		if (!s3s_sigv4_sign(&in, &so))
			goto oom;
		hdr = add(hdr, "x-amz-content-sha256", hash, &nomem);
		hdr = add(hdr, "x-amz-date", amz_date, &nomem);
		if (call->base->session_token)
			hdr = add(hdr, "x-amz-security-token", call->base->session_token, &nomem);
		hdr = add(hdr, "Authorization", so.authorization, &nomem);
		s3s_sigv4_output_free(&so);
	}
	if (nomem)
		goto oom;
	if (!exchange("STS", "POST", url, hdr, body, h, &status, &rep, err))
		goto done;
	if (status != 200)
	{
		char		code[64];
		char		msg[256];

		s3s_creds_parse_sts_error(rep.data ? rep.data : "", rep.len, code, sizeof(code),
								  msg, sizeof(msg));
		s3s_error_set(err, status == 403 || status == 400 || status == 401 ?
					  S3S_ERR_ACCESS : status >= 500 ? S3S_ERR_SERVER : S3S_ERR_CLIENT,
					  "STS", NULL, "STS refused to assume role \"%s\": %s%s%s",
					  call->role_arn, code[0] ? code : "HTTP error",
					  msg[0] ? ": " : "", msg);
		err->http_status = (int) status;
		snprintf(err->s3_code, sizeof(err->s3_code), "%s", code);
		reply_free(&rep);
		goto done;
	}
	ok = s3s_creds_parse_sts(rep.data ? rep.data : "", rep.len, out, err);
	reply_free(&rep);
	if (ok)
		snprintf(out->source, sizeof(out->source), "%s",
				 web ? "web identity" : "assumed role");
	goto done;
oom:
	nomem_fail(err, "STS");
done:
	slist_wipe_free(hdr);
	if (body)
	{
		memset(body, 0, strlen(body));
		free(body);
	}
	free(url);
	free(origin);
	return ok;
}
