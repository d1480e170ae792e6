/*-------------------------------------------------------------------------
 *
 * creds.h
 *		AWS credentials as the AWS SDKs find them, refreshed before they
 *		expire.
 *
 * A provider yields the credentials to sign the next request with.  Its
 * base identity is either static keys (a user mapping's, or a connection
 * string's) or, when the caller allows the server's own identity, the
 * first source of the SDKs' default chain that has credentials:
 *
 *	 1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *		AWS_SESSION_TOKEN;
 *	 2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN through
 *		STS AssumeRoleWithWebIdentity (EKS service accounts);
 *		(1 and 2 are skipped when a profile is named explicitly, as
 *		botocore does);
 *	 3. the shared credentials and config files (AWS_SHARED_CREDENTIALS_FILE,
 *		AWS_CONFIG_FILE, ~/.aws/...), profile from the option, AWS_PROFILE or
 *		"default": keys, role_arn with source_profile, or credential_process;
 *	 4. ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *		or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]);
 *	 5. EC2 instance metadata, IMDSv2 (session token, role name,
 *		credentials), unless AWS_EC2_METADATA_DISABLED=true.
 *
 * With role_arn, STS AssumeRole runs on top of the base identity.
 *
 * Temporary credentials are refreshed when less than five minutes of them
 * are left (what the Java and Go SDKs prefetch); a failed refresh keeps
 * the old credentials while more than a minute is left and tries again at
 * most every few seconds.  Providers with the same inputs are shared within
 * a process, so every store of a backend (and the background worker's)
 * refreshes one identity once.  The caller fetches credentials per request
 * (s3s_creds_get), so a long scan or commit crosses a refresh unharmed.
 *
 * Nothing here logs; error messages never contain a key, a secret, a
 * session token or a web identity token.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_CREDS_H
#define S3DB_CREDS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/s3err.h"

typedef struct s3s_credentials
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;	/* NULL for long-term keys */
	int64_t		expiration;		/* epoch seconds; 0 = does not expire */
	char		source[48];		/* "environment", "profile p", ... (no secret) */
} s3s_credentials;

typedef struct s3s_cred_options
{
	/* static base keys; when NULL, the chain (if use_chain) */
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;
	bool		use_chain;		/* the server's own identity may be used */
	const char *profile;		/* explicit profile name; NULL = AWS_PROFILE */

	/* STS AssumeRole on top of the base identity */
	const char *role_arn;
	const char *external_id;
	const char *role_session_name;	/* default "s3db_fdw-<pid>" */

	const char *region;			/* STS region; default AWS_REGION or us-east-1 */

	/* endpoint overrides (tests, private endpoints); NULL = SDK defaults */
	const char *sts_endpoint;	/* else AWS_ENDPOINT_URL_STS, else regional */
	const char *imds_endpoint;	/* else AWS_EC2_METADATA_SERVICE_ENDPOINT */
	const char *ecs_endpoint;	/* origin for a relative URI; else 169.254.170.2 */

	const char *ca_file;		/* for https endpoints */
	long		timeout_ms;		/* per credential request; default 5000 */
} s3s_cred_options;

typedef struct s3s_cred_provider s3s_cred_provider;

/*
 * A provider for these options (shared with other callers passing equal
 * options).  Does no I/O: the first s3s_creds_get() resolves the chain.
 */
extern s3s_cred_provider *s3s_creds_open(const s3s_cred_options *o, s3s_error *err);
extern void s3s_creds_close(s3s_cred_provider *p);

/*
 * Current credentials (a malloc'd copy in *out), refreshed first when they
 * expire within the refresh window.  On failure fills err (code
 * S3S_ERR_ACCESS when no source had credentials or STS refused) and
 * returns false.
 */
extern bool s3s_creds_get(s3s_cred_provider *p, s3s_credentials *out, s3s_error *err);
extern void s3s_credentials_free(s3s_credentials *c);

/* How many times the provider resolved its credentials (tests, stats). */
extern int	s3s_creds_refreshes(const s3s_cred_provider *p);

/* Seconds before expiry when credentials are refreshed. */
#define S3S_CREDS_REFRESH_WINDOW 300
/* A failed refresh keeps credentials that stay valid this long. */
#define S3S_CREDS_MIN_LIFETIME 60
/* Pause between failed or premature refresh attempts. */
#define S3S_CREDS_RETRY_PAUSE 2

#endif							/* S3DB_CREDS_H */
