/*-------------------------------------------------------------------------
 *
 * metaenc.h
 *		The client-layer string encoding of metadata values (spec 6.5) and
 *		metadata key sanitization (spec 6.6).
 *
 * Every metadata value s3db.js stores passes through this layer: "u:" +
 * percent-encoding, "b:" + base64, "d:" + dictionary codes, "z:"/"z85:" +
 * raw deflate, or raw ASCII.  Record bodies never do.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_METAENC_H
#define S3DB_METAENC_H

#include <stdbool.h>
#include <stddef.h>

typedef enum s3f_meta_kind
{
	S3F_META_STRING,			/* decoded text in *out */
	S3F_META_NULL,				/* the literal "null" */
	S3F_META_UNDEFINED			/* the literal "undefined" */
} s3f_meta_kind;

/*
 * Decode a stored metadata value.  *out is malloc'd (NUL-terminated, *outlen
 * bytes, may contain NUL for u:%00) for S3F_META_STRING, NULL otherwise.
 * Undecodable payloads come back unchanged, as s3db.js does.
 */
extern s3f_meta_kind s3f_meta_decode(const char *in, char **out, size_t *outlen);

/*
 * Encode a UTF-8 value for metadata (malloc'd).  Returns NULL if the value
 * cannot be represented in metadata so that s3db.js reads it back exactly
 * (the texts "null" and "undefined", invalid UTF-8); the caller then puts
 * the field into the body.
 */
extern char *s3f_meta_encode(const char *in, size_t len);

/* Sanitize a metadata key: [^A-Za-z0-9_-] -> '_', lower-case (malloc'd). */
extern char *s3f_meta_key(const char *name);

/* Exact dictionary lookups (Appendix B); NULL when none. */
extern const char *s3f_dict_code(const char *value);
extern const char *s3f_dict_value(char code);

#endif							/* S3DB_METAENC_H */
