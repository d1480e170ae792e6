/*-------------------------------------------------------------------------
 *
 * encode.h
 *		Records to objects (spec sections 6, 7, 9, 10): the write side of
 *		the s3db.js format.
 *
 * What we write is what s3db.js 21.6.2 reads back exactly, which is not
 * always what it would have written itself (spec 6.4 and 14): values whose
 * metadata form s3db.js would misread go to the JSON body, and the
 * metadata budget counts the bytes actually sent (encoded keys and values)
 * so a record never exceeds S3's 2 KB user-metadata limit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_ENCODE_H
#define S3DB_ENCODE_H

#include <stdbool.h>
#include <stddef.h>

#include "format/catalog.h"
#include "format/value.h"
#include "store/store.h"

typedef struct s3f_write_opts
{
	int			metadata_limit; /* bytes; 0 = 2047 */
	const char *passphrase;		/* secrets; NULL = "secret" */
} s3f_write_opts;

/* An object ready to PUT. */
typedef struct s3f_object_out
{
	s3s_meta	meta;			/* sanitized keys, client-encoded values, _v */
	char	   *body;			/* NULL when the object has no body */
	size_t		body_len;
	char	   *content_type;	/* NULL when none is to be sent */
	bool		truncated;		/* truncate-data cut something */
} s3f_object_out;

extern void s3f_object_out_free(s3f_object_out *o);

/*
 * Encode a record.  vals is parallel to res->attrs (S3F_MISSING = absent).
 * A value given for a nested container (S3F_JSON object text) is flattened
 * onto its leaves; a leaf value given explicitly wins over the container's.
 *
 * Validation follows the attribute definitions: a missing required field
 * fails with S3S_ERR_CONSTRAINT and s3_code "not_null"; min/max, length,
 * integer, enum and format rules with S3S_ERR_CONSTRAINT and "check"; the
 * message names the field.  Values are normalised as s3db.js normalises
 * them (strings trimmed, and so on).
 *
 * Placement by behavior (spec 7): user-managed puts the whole record in the
 * body when it does not fit; body-overflow moves the largest fields to the
 * body; body-only writes _map and a full body; truncate-data cuts; enforce-
 * limits fails with S3S_ERR_CONSTRAINT ("check") when the record does not
 * fit.
 */
extern s3s_code s3f_record_encode(const s3f_resource *res, const s3f_val *vals,
								  const s3f_write_opts *opts,
								  s3f_object_out *out, s3s_error *err);

/*
 * Validate and normalise a record without encoding it: out (caller's array
 * of res->nattrs zeroed values) receives owned copies, with nested container
 * values flattened onto their leaves (a container keeps its own value only
 * when it is an empty object or null), strings trimmed, and so on.  This is
 * what s3f_record_encode stores; partition keys should be computed from it.
 * Free with s3f_vals_free.
 */
extern s3s_code s3f_record_normalize(const s3f_resource *res, const s3f_val *vals,
									 s3f_val *out, s3s_error *err);
extern void s3f_vals_free(s3f_val *vals, int n);

/*
 * Binary content (spec 11): an object whose body is the bytes and whose
 * metadata is every field plus _hascontent, _mimetype, _contentlength.
 */
extern s3s_code s3f_record_encode_content(const s3f_resource *res, const s3f_val *vals,
										  const unsigned char *content, size_t len,
										  const char *mime, const s3f_write_opts *opts,
										  s3f_object_out *out, s3s_error *err);

/* ---- partitions (spec 9) ---- */

/*
 * The reference key resource=R/partition=P/f=v/.../id=ID of a record, or
 * NULL when a field of the partition is null or missing (no reference).
 * vals as for s3f_record_encode (logical values).
 */
extern char *s3f_partition_key(const s3f_resource *res, const s3f_partition *p,
							   const s3f_val *vals, const char *id);

/*
 * The listing prefix for a partition given the logical values of its
 * fields (NULL entries = not given), per spec 9.5; the value text is
 * transformed by the field's rule (maxlength, date) and JS String().
 */
extern char *s3f_partition_prefix(const s3f_resource *res, const s3f_partition *p,
								  const s3f_val *const *field_vals);

/* JS String() of a logical value for partition keys (malloc'd). */
extern char *s3f_partition_value_text(const char *rule, const s3f_val *v);

/* ---- ids (spec 10) ---- */

/* A random id of size chars from s3db.js's nanoid alphabet (malloc'd). */
extern char *s3f_random_id(int size);

typedef struct s3f_incremental
{
	double		start;
	double		increment;
	char	   *prefix;			/* malloc'd, "" if none */
	int			padding;
	bool		fast;
	int			batch_size;
} s3f_incremental;

/* Parse "incremental", "incremental:1000", "incremental:ORD-0001", "incremental:fast". */
extern bool s3f_incremental_parse(const char *spec, s3f_incremental *out, s3s_error *err);
extern void s3f_incremental_free(s3f_incremental *c);
extern char *s3f_incremental_format(const s3f_incremental *c, double value);

/*
 * Allocate the next id(s) of an incremental resource on the store with
 * s3db.js's lock + value protocol (spec 10.4): PUT .../sequence=id/lock
 * with If-None-Match, read and advance .../sequence=id/value, release the
 * lock.  Allocates n consecutive values (n > 1 for fast mode or batches)
 * and returns the first in *first.  Waits up to 5 s for a held lock;
 * removes an expired or unparsable one.
 */
extern s3s_code s3f_sequence_next(s3s_store *st, const char *resource,
								  const s3f_incremental *c, int n,
								  double *first, s3s_error *err);

/* ---- catalog changes (spec 3.4, 5.1) ---- */

/*
 * Add or redefine a resource in a catalog text (NULL = a blank catalog):
 * attributes_json/partitions_json are JSON objects as s3db.js takes them,
 * behavior NULL = user-managed.  Keeps every existing version, adds v(N+1)
 * when the definition hash changed, extends schemaRegistry without ever
 * reusing an index (removed attributes are burned).  *out is the new
 * s3db.json text (2-space indented like s3db.js).
 */
extern s3s_code s3f_catalog_put_resource(const char *catalog_text, size_t len,
										 const char *name, const char *attributes_json,
										 const char *behavior, const char *partitions_json,
										 bool timestamps, int id_size,
										 char **out, s3s_error *err);

/*
 * Rewrite s3db.json on a store under s3db.js's metadata lock (spec 3.4;
 * the lock is taken only on S3 backends, as s3db.js does): lock, GET,
 * apply the change with s3f_catalog_put_resource, PUT, unlock.
 */
extern s3s_code s3f_catalog_update(s3s_store *st, const char *name,
								   const char *attributes_json, const char *behavior,
								   const char *partitions_json, bool timestamps,
								   int id_size, s3s_error *err);

#endif							/* S3DB_ENCODE_H */
