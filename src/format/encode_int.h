/*-------------------------------------------------------------------------
 *
 * encode_int.h
 *		Internals shared by the write side of the format (validate.c,
 *		encode.c, partition.c, ids.c, sequence.c, catalog_write.c).
 *		Not for users of the format layer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_ENCODE_INT_H
#define S3DB_ENCODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/encode.h"

/*
 * Copy vals into out (parallel to res->attrs) and spread the JSON object
 * given for a nested container onto the container's leaves; a leaf given
 * explicitly wins.  A container keeps its own value only when it is an
 * empty object ("{}") or null.  No validation.
 */
extern s3s_code s3f_flatten_vals(const s3f_resource *res, const s3f_val *vals,
								 s3f_val *out, s3s_error *err);

/* Length of UTF-8 text in UTF-16 code units (JS String#length). */
extern size_t s3f_utf16_length(const char *s, size_t len);

/* Epoch milliseconds now (wall clock). */
extern int64_t s3f_now_ms(void);

/* "YYYY-MM-DDTHH:MM:SS.sssZ" of now into buf[32]. */
extern void s3f_now_iso(char *buf, size_t buflen);

/* Sleep for ms milliseconds. */
extern void s3f_sleep_ms(long ms);

#endif							/* S3DB_ENCODE_INT_H */
