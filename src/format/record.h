/*-------------------------------------------------------------------------
 *
 * record.h
 *		Objects to records (spec sections 4, 7, 8) and the object keys of
 *		a resource (spec section 2).
 *
 * Decoding follows the spec's recommended read algorithm (8.2): decode the
 * metadata values, merge a JSON body when there is one (metadata wins),
 * map short keys back to attribute paths with the registry (body-only
 * objects may carry their own _map, plugin attributes a _pluginmap), type-
 * decode every wanted field and assemble nested containers as JSON.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_RECORD_H
#define S3DB_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/catalog.h"
#include "format/value.h"
#include "store/store.h"

typedef struct s3f_record
{
	char	   *id;
	int			nvals;
	s3f_val    *vals;			/* parallel to resource->attrs; MISSING if absent */
	char	   *version;		/* _v, NULL if absent */
	bool		has_content;	/* _hascontent = true (binary body, spec 11) */
	char	   *content_type;	/* _mimetype decoded, or the object's type */
	int64_t		content_length;
	int			nextra;			/* unmapped keys not starting with '_' */
	char	  **extra_keys;
	char	  **extra_values;	/* decoded metadata strings */
} s3f_record;

extern void s3f_record_free(s3f_record *r);

/*
 * Decode an object into a record.  wanted[i] says whether attribute i must
 * be decoded (NULL = all); unwanted attributes stay S3F_MISSING and cost
 * nothing.  body may be NULL (HEAD only).  passphrase NULL = "secret".
 *
 * On a value that cannot be decoded the result is S3S_ERR_FORMAT and err
 * names the field (err->key = id, message = field, type and raw value).
 */
extern s3s_code s3f_record_decode(const s3f_resource *res, const char *id,
								  const s3s_meta *meta,
								  const unsigned char *body, size_t body_len,
								  const char *content_type,
								  const bool *wanted, const char *passphrase,
								  s3f_record *out, s3s_error *err);

/*
 * After a HEAD: must the body be fetched to produce every wanted attribute?
 * True when the object has a JSON body (or may, by its size and type) and
 * a wanted attribute is not in the metadata.
 */
extern bool s3f_record_needs_body(const s3f_resource *res, const s3s_meta *meta,
								  int64_t size, const char *content_type,
								  const bool *wanted);

/* Can any attribute live in the body under this resource's behavior? */
extern bool s3f_behavior_uses_body(s3f_behavior b);

/* ---- keys (spec 2) ---- */

/*
 * Ids, resource and partition names must not contain '/', '\\', '=' or '%'
 * (s3db.js rule); we also reject empty ids, NUL, "." and ".." and ids over
 * 1024 bytes so no id can escape a file:// root or address another key.
 */
extern bool s3f_valid_id(const char *id, s3s_error *err);

/* "resource=R/data/id=ID" (malloc'd) */
extern char *s3f_key_data(const char *resource, const char *id);
/* "resource=R/data" listing prefix, with a trailing "/" (malloc'd) */
extern char *s3f_prefix_data(const char *resource);
/* The id of a data or partition key: the last "id=" segment (malloc'd) */
extern char *s3f_key_id(const char *key);

#endif							/* S3DB_RECORD_H */
