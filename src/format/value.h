/*-------------------------------------------------------------------------
 *
 * value.h
 *		Decoded attribute values of s3db.js records.
 *
 * The codecs turn a stored string into an s3f_val and back.  An s3f_val is
 * a small tagged tree (scalars, arrays, JSON text, bytes) that the FDW maps
 * onto a column type.  Canonical text forms are used where SQL has a
 * matching input syntax:
 *
 *	datetime	S3F_STR "2024-01-15T10:20:30.123Z"
 *	dateonly	S3F_STR "2024-01-15"
 *	timeonly	S3F_STR "13:45:30.500"
 *	uuid/ip4/ip6/mac/cidr/...	S3F_STR in their usual text form
 *	money/decimal/number		S3F_NUM with an exact decimal text in str
 *	geo:point	S3F_JSON {"latitude":..,"longitude":..}
 *	embedding	S3F_ARRAY of S3F_NUM
 *	object/json	S3F_JSON (JSON text)
 *	buffer/bits	S3F_BYTES
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_VALUE_H
#define S3DB_VALUE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum s3f_kind
{
	S3F_MISSING = 0,			/* field absent from the record */
	S3F_NULL,					/* explicit null */
	S3F_BOOL,
	S3F_NUM,					/* num holds the double, str the exact text */
	S3F_STR,					/* UTF-8 text in str (len bytes) */
	S3F_JSON,					/* JSON text in str */
	S3F_ARRAY,					/* items[0..nitems) */
	S3F_BYTES					/* raw bytes in str (len bytes) */
} s3f_kind;

typedef struct s3f_val
{
	s3f_kind	kind;
	bool		b;
	double		num;
	char	   *str;			/* malloc'd, NUL-terminated */
	size_t		len;
	int			nitems;
	struct s3f_val *items;		/* malloc'd array */
} s3f_val;

extern void s3f_val_free(s3f_val *v);	/* frees contents, not v itself */
extern void s3f_val_set_str(s3f_val *v, s3f_kind kind, const char *s, size_t len);
extern void s3f_val_set_num(s3f_val *v, double d, const char *text);
extern int	s3f_val_copy(s3f_val *dst, const s3f_val *src);

/*
 * Render a value as JSON text (malloc'd).  Strings are escaped, numbers use
 * their exact text, JSON is inserted as is, bytes become base64 strings.
 */
extern char *s3f_val_to_json(const s3f_val *v);

#endif							/* S3DB_VALUE_H */
