/*-------------------------------------------------------------------------
 *
 * s3err.h
 *		Error values shared by the object-store core and the format layer.
 *
 * An s3s_error is a plain struct that lives in the caller's memory (no
 * allocation, so it can be filled even when memory is short).  It names the
 * operation, the key, the HTTP status, the S3 error code and request id, and
 * a human-readable message.  It must never contain a credential, a signature
 * or an Authorization header: producers format messages from the request
 * line and the server's error document only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_S3ERR_H
#define S3DB_S3ERR_H

typedef enum s3s_code
{
	S3S_OK = 0,
	S3S_ERR_NOT_FOUND,			/* 404 / NoSuchKey / missing file */
	S3S_ERR_PRECONDITION,		/* 412: If-None-Match / If-Match failed */
	S3S_ERR_ACCESS,				/* 401/403, permission denied */
	S3S_ERR_REDIRECT,			/* 301/307: wrong region or endpoint */
	S3S_ERR_CLIENT,				/* other 4xx */
	S3S_ERR_SERVER,				/* 5xx after retries */
	S3S_ERR_NETWORK,			/* connect/reset/DNS after retries */
	S3S_ERR_TLS,				/* the peer's certificate or name did not
								 * verify (never retried) */
	S3S_ERR_TIMEOUT,			/* timed out after retries */
	S3S_ERR_CANCELLED,			/* cancel hook fired */
	S3S_ERR_PROTOCOL,			/* unparsable reply */
	S3S_ERR_IO,					/* local file system error */
	S3S_ERR_INVALID,			/* bad argument, key or configuration */
	S3S_ERR_FORMAT,				/* malformed stored data (format layer) */
	S3S_ERR_NOMEM,
	S3S_ERR_CONSTRAINT,			/* a value breaks a rule of the attribute
								 * definition; s3_code says which:
								 * "not_null" (required) or "check" */
	S3S_ERR_UNSAFE				/* a conditional write to a store that does
								 * not honour the condition (probe.h);
								 * s3_code: "conditions" or "metadata" */
} s3s_code;

typedef struct s3s_error
{
	s3s_code	code;
	int			http_status;	/* 0 when not HTTP */
	char		op[16];			/* "GET", "PUT", "LIST", "parse", ... */
	char		key[256];		/* logical key (truncated) */
	char		s3_code[64];	/* e.g. "NoSuchKey", "SlowDown" */
	char		request_id[96];
	char		message[512];	/* lower-case, no trailing period */
} s3s_error;

/* Reset to "no error". */
extern void s3s_error_clear(s3s_error *e);

/* Fill an error; fmt is printf-style and becomes e->message. */
extern void s3s_error_set(s3s_error *e, s3s_code code, const char *op,
						  const char *key, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));

/* Short stable name of a code ("not found", "precondition failed", ...). */
extern const char *s3s_code_name(s3s_code code);

#endif							/* S3DB_S3ERR_H */
