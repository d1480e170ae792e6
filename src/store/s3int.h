/*-------------------------------------------------------------------------
 *
 * s3int.h
 *		Internals of the S3 backend shared by s3.c (store state, the
 *		transfer loop, retries) and s3req.c (building, signing and reading
 *		one HTTP exchange).
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_S3INT_H
#define S3DB_S3INT_H

#include <curl/curl.h>
#include <time.h>

#include "store/creds.h"
#include "store/store_int.h"

/* Backend state, st->impl. */
typedef struct s3_conf
{
	CURLM	   *multi;			/* one per store: connection reuse */
	char	   *base_url;		/* "https://b.s3.us-east-1.amazonaws.com" or "http://h:9000" */
	char	   *host;			/* Host header, signed */
	char	   *bucket;
	bool		path_style;
	char	   *region;
	char	   *access_key_id;	/* NULL: anonymous, requests are not signed */
	char	   *secret_access_key;
	char	   *session_token;
	s3s_cred_provider *creds;	/* refreshing credentials; NULL = the keys above */
	char	   *ca_file;
	bool		insecure;
	int			max_inflight;
	int			max_retries;
	long		connect_timeout_ms;
	long		request_timeout_ms;
	long		low_speed_time_s;
	long		clock_offset_s; /* server time minus local time, when skewed */
} s3_conf;

/* One request in flight (or waiting to be retried). */
typedef struct s3_xfer
{
	s3s_store  *st;
	s3s_request *req;
	CURL	   *easy;			/* NULL when not in flight */
	struct curl_slist *headers;
	char	   *url;
	char		method[8];

	/* request body */
	const unsigned char *up;
	size_t		up_len;
	size_t		up_off;
	char	   *up_owned;		/* DeleteObjects document */

	/* response */
	long		status;
	char	   *body;
	size_t		body_len;
	size_t		body_cap;
	size_t		body_limit;
	bool		body_overflow;
	bool		hdr_nomem;
	s3s_meta	meta;
	char	   *etag;
	char	   *content_type;
	char	   *request_id;
	char	   *bucket_region;
	int64_t		content_length; /* -1 if absent */
	int64_t		range_total;	/* from Content-Range, -1 if absent */
	int64_t		last_modified_ms;
	time_t		server_date;	/* 0 if absent */
	char		curl_error[CURL_ERROR_SIZE];	/* libcurl's own words (CURLOPT_ERRORBUFFER) */

	/* scheduling */
	bool		done;
	int64_t		ready_at_ms;	/* monotonic; when a retry may start */
} s3_xfer;

/* s3req.c */

/*
 * Build, sign and configure the next attempt of x (a new easy handle).
 * On a local failure (bad input, out of memory) fills x->req->err and
 * returns false: such a request is not retried.
 */
extern bool s3r_prepare(s3_xfer *x);

/*
 * Read the outcome of a finished attempt into x->req (outputs or err).
 * Returns true when the failure is transient and the request may be sent
 * again.
 */
extern bool s3r_complete(s3_xfer *x, CURLcode cc);

/* Free what one attempt allocated (easy handle, headers, reply). */
extern void s3r_release(s3_xfer *x);

/* s3resp.c: curl callbacks collecting the reply's headers and body */
extern size_t s3r_on_header(char *buf, size_t size, size_t nitems, void *ud);
extern size_t s3r_on_write(char *data, size_t size, size_t nitems, void *ud);

#endif							/* S3DB_S3INT_H */
