/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *		AWS Signature Version 4 (header signing) for S3 requests.
 *
 * The signer is a pure function of its inputs: it never reads the clock or
 * the environment, so the unit tests can compare the canonical request, the
 * string to sign and the Authorization value with published vectors.
 *
 * Conventions:
 *  - path is the *raw* (not yet encoded) request path, starting with '/'.
 *    Every byte except RFC 3986 unreserved characters and the '/' between
 *    segments is percent-encoded exactly once (upper-case hex).  S3 paths
 *    are never normalised: "//", "." and ".." segments are kept as they are.
 *    The transport builds the URL it sends with s3s_uri_encode() on the same
 *    raw path, so what is signed is byte-for-byte what goes on the wire.
 *  - query holds raw names and values (a NULL value means "name=" with an
 *    empty value); they are encoded ('/' included) and sorted by encoded
 *    name, then encoded value.
 *  - headers are exactly the headers to sign, as sent.  Names are
 *    lower-cased, values trimmed with inner whitespace runs collapsed to one
 *    space; repeated names are joined with ',' in the order given.  The
 *    caller includes host, x-amz-date, x-amz-content-sha256 and, with
 *    temporary credentials, x-amz-security-token.
 *  - payload_hash is the lower-case hex SHA-256 of the body (it is also the
 *    value of x-amz-content-sha256 for S3).
 *
 * The outputs contain the signature but never the secret key.  Callers must
 * still keep the Authorization value out of error messages and logs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_SIGV4_H
#define S3DB_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct s3s_sigv4_kv
{
	const char *name;
	const char *value;
} s3s_sigv4_kv;

typedef struct s3s_sigv4_input
{
	const char *method;			/* "GET", "PUT", ... */
	const char *path;			/* raw path, see above */
	const s3s_sigv4_kv *query;
	int			nquery;
	const s3s_sigv4_kv *headers;
	int			nheaders;
	const char *payload_hash;	/* 64 lower-case hex digits */
	const char *access_key_id;
	const char *secret_access_key;
	const char *region;			/* "us-east-1" */
	const char *service;		/* "s3" */
	const char *amz_date;		/* "YYYYMMDDTHHMMSSZ" */
} s3s_sigv4_input;

typedef struct s3s_sigv4_output
{
	char	   *canonical_request;
	char	   *string_to_sign;
	char	   *signed_headers;	/* "host;x-amz-content-sha256;x-amz-date" */
	char	   *signature;		/* 64 hex digits */
	char	   *authorization;	/* value of the Authorization header */
} s3s_sigv4_output;

/*
 * Sign a request.  Returns false (and leaves out zeroed) on a missing input
 * or when memory runs out.  Release the outputs with s3s_sigv4_output_free.
 */
extern bool s3s_sigv4_sign(const s3s_sigv4_input *in, s3s_sigv4_output *out);
extern void s3s_sigv4_output_free(s3s_sigv4_output *out);

/*
 * Percent-encode len bytes of s per SigV4 (unreserved kept, the rest %XX in
 * upper case).  With keep_slash, '/' is kept (paths); otherwise encoded
 * (query names and values).  Returns a malloc'd string or NULL.
 */
extern char *s3s_uri_encode(const char *s, size_t len, bool keep_slash);

/* Lower-case hex SHA-256 of data into out[65]. */
extern void s3s_sha256_hex(const void *data, size_t len, char out[65]);

/* Format t (UTC) as "YYYYMMDDTHHMMSSZ" into out[17]. */
extern void s3s_sigv4_amz_date(time_t t, char out[17]);

/* The hash of an empty payload, for requests without a body. */
#define S3S_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#endif							/* S3DB_SIGV4_H */
