/*-------------------------------------------------------------------------
 *
 * connstr.h
 *		s3db.js connection strings (spec section 1) to a store location.
 *
 *	s3://KEY:SECRET@bucket/prefix?sessionToken=..   virtual-hosted AWS
 *	http(s)://KEY:SECRET@host:port/bucket/prefix     path style (MinIO)
 *	file:///abs/dir  file://localhost/dir            FileSystemClient layout
 *	memory://bucket/prefix                           process-private store
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_CONNSTR_H
#define S3DB_CONNSTR_H

#include <stdbool.h>

#include "store/s3err.h"

typedef struct s3s_location
{
	char	   *scheme;			/* "s3", "http", "https", "file", "memory" */
	char	   *bucket;			/* percent-decoded; "s3db" default */
	char	   *prefix;			/* key prefix, "" if none, no leading '/' */
	char	   *endpoint;		/* "https://s3.us-east-1.amazonaws.com", origin */
	bool		path_style;
	char	   *region;			/* from ?region= if given, else NULL */
	char	   *access_key_id;	/* from userinfo (decoded), else NULL */
	char	   *secret_access_key;
	char	   *session_token;	/* from ?sessionToken= */
	char	   *base_path;		/* file:// directory (decoded) */
} s3s_location;

/*
 * Parse a connection string.  Returns false with err (S3S_ERR_INVALID) on
 * malformed input; the message never repeats the userinfo part.
 */
extern bool s3s_parse_location(const char *url, s3s_location *out, s3s_error *err);
extern void s3s_location_free(s3s_location *loc);

/*
 * NULL if b is a valid S3 bucket name (3-63 characters, lower-case letters,
 * digits, dots, hyphens, not an IP address, ...), else why it is not.
 */
extern const char *s3s_bucket_name_problem(const char *b);

/*
 * NULL if r is a valid region (1-63 letters, digits and hyphens: it
 * becomes a label of the AWS host name and part of the SigV4 scope), else
 * why it is not.
 */
extern const char *s3s_region_problem(const char *r);

/* Does the string carry credentials in its userinfo? */
extern bool s3s_url_has_credentials(const char *url);

/* Copy of url with any userinfo replaced by "***" (malloc'd), for messages. */
extern char *s3s_url_redact(const char *url);

#endif							/* S3DB_CONNSTR_H */
