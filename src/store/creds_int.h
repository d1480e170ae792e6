/*-------------------------------------------------------------------------
 *
 * creds_int.h
 *		Internals of the credential providers: the chain and cache
 *		(creds.c), the shared files (creds_file.c), the HTTP sources
 *		(creds_http.c), and the parsers of their replies: JSON from IMDS
 *		and ECS (creds_json.c, json-c) and XML from STS (creds_xml.c,
 *		libxml2).
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_CREDS_INT_H
#define S3DB_CREDS_INT_H

#include "store/creds.h"

/* creds_json.c: an IMDS / ECS credential document */
extern bool s3s_creds_parse_json(const char *body, size_t len, s3s_credentials *out,
								 s3s_error *err);

/* creds_json.c: what a credential_process prints */
extern bool s3s_creds_parse_process(const char *body, size_t len, s3s_credentials *out,
									s3s_error *err);

/* creds_process.c: run a profile's credential_process (sh -c) */
extern bool s3s_creds_process(const char *command, long timeout_ms, s3s_credentials *out,
							  s3s_error *err);

/* creds_xml.c: an STS AssumeRole[WithWebIdentity] reply (status 200) */
extern bool s3s_creds_parse_sts(const char *body, size_t len, s3s_credentials *out,
								s3s_error *err);
/* the Code and Message of an STS error document, "" when absent */
extern void s3s_creds_parse_sts_error(const char *body, size_t len,
									  char *code, size_t codelen,
									  char *msg, size_t msglen);

/* creds.c: "2026-12-07T02:00:00Z" (fraction and offset allowed) to epoch */
extern bool s3s_creds_parse_time(const char *s, int64_t *out);
/* strdup of NULL is NULL; sets *nomem when a non-NULL copy fails */
extern char *s3s_creds_dup(const char *s, bool *nomem);

/* creds_file.c: a profile from the shared files */
typedef struct s3s_profile
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;
	char	   *role_arn;
	char	   *source_profile;
	char	   *external_id;
	char	   *role_session_name;
	char	   *region;
	char	   *credential_process;
	bool		found;			/* the profile exists in either file */
} s3s_profile;

extern bool s3s_profile_load(const char *name, s3s_profile *out, s3s_error *err);
extern void s3s_profile_free(s3s_profile *p);

/* creds_http.c */
typedef struct s3s_http_opts
{
	const char *ca_file;
	long		timeout_ms;
} s3s_http_opts;

/* IMDSv2 at origin (e.g. "http://169.254.169.254") */
extern bool s3s_creds_imds(const char *origin, const s3s_http_opts *h,
						   s3s_credentials *out, s3s_error *err);
/* an ECS/EKS container endpoint (full URL), optional authorization value */
extern bool s3s_creds_container(const char *url, const char *authorization,
								const s3s_http_opts *h, s3s_credentials *out,
								s3s_error *err);

/* STS; base NULL = AssumeRoleWithWebIdentity with web_token */
typedef struct s3s_sts_call
{
	const char *endpoint;		/* origin, "https://sts.us-east-1.amazonaws.com" */
	const char *region;
	const char *role_arn;
	const char *session_name;
	const char *external_id;	/* AssumeRole only; may be NULL */
	const s3s_credentials *base;	/* AssumeRole signs with these */
	const char *web_token;		/* AssumeRoleWithWebIdentity */
} s3s_sts_call;

extern bool s3s_creds_sts(const s3s_sts_call *call, const s3s_http_opts *h,
						  s3s_credentials *out, s3s_error *err);

#endif							/* S3DB_CREDS_INT_H */
