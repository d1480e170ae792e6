/*-------------------------------------------------------------------------
 *
 * s3xml.h
 *		The XML documents of the S3 API, read and written with libxml2.
 *
 * Replies are untrusted: parsing never loads external entities or DTDs,
 * never substitutes entities, caps the input size, and copies only the
 * elements named here (an error reply's StringToSign, CanonicalRequest or
 * SignatureProvided elements are never looked at).  Element names are
 * matched by local name, so the S3 namespace may be present or not.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_S3XML_H
#define S3DB_S3XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_int.h"

/* Replies larger than this are refused rather than parsed. */
#define S3XML_MAX_DOC (64 * 1024 * 1024)

/* The interesting parts of an <Error> document. */
typedef struct s3xml_error
{
	char		code[64];
	char		message[256];
	char		request_id[96];
	char		region[64];		/* <Region>, if any */
	char		endpoint[128];	/* <Endpoint>, for redirects */
	int64_t		server_time_ms; /* <ServerTime>, 0 if absent */
} s3xml_error;

/* Parse an error reply; false if it is not an <Error> document. */
extern bool s3xml_parse_error(const char *doc, size_t len, s3xml_error *out);

/*
 * Parse a ListObjectsV2 reply into out (keys and common prefixes turned
 * into logical keys; entries outside the store's prefix are skipped).
 * Returns false with a message in errmsg on an unparsable reply.
 */
extern bool s3xml_parse_list(const s3s_store *st, const char *doc, size_t len,
							 s3s_list *out, char *errmsg, size_t errlen);

/*
 * Parse a DeleteObjects reply.  Returns the number of <Error> entries (the
 * first one's key, code and message are copied out), or -1 if the reply is
 * unparsable.
 */
extern int	s3xml_parse_delete(const char *doc, size_t len, s3xml_error *first,
							   char *key, size_t keylen);

/* Parse a CopyObjectResult (ETag without quotes, LastModified). */
extern bool s3xml_parse_copy(const char *doc, size_t len, char **etag,
							 int64_t *last_modified_ms);

/* The <Delete> request document for full keys (malloc'd, length in *len). */
extern char *s3xml_delete_body(const char *const *full_keys, int n, size_t *len);

/* "2009-10-12T17:50:30.000Z" to epoch ms; 0 if unparsable. */
extern int64_t s3xml_iso8601_ms(const char *s);

/* Strip one pair of surrounding double quotes (malloc'd copy). */
extern char *s3xml_unquote(const char *s);

#endif							/* S3DB_S3XML_H */
