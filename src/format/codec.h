/*-------------------------------------------------------------------------
 *
 * codec.h
 *		s3db.js value codecs (spec section 6): attribute definitions to
 *		types, stored strings to values and back.
 *
 * A stored string here is the "step 4" string of the spec: what sits in a
 * metadata value after the client-layer decoding of metaenc.h, or what sits
 * as a JSON string inside a record body.  Decoders accept every form s3db.js
 * 21.6.2 writes and decode it *correctly* where s3db.js itself reads it back
 * wrongly (spec 6.4): timeonly, strings that look like JSON, and so on.
 * Encoders write what s3db.js reads back correctly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_CODEC_H
#define S3DB_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/value.h"
#include "store/s3err.h"

typedef enum s3f_type
{
	S3F_T_STRING = 0,			/* string, email, url, any unknown word */
	S3F_T_NUMBER,				/* decimal62 */
	S3F_T_INTEGER,				/* base62 integer */
	S3F_T_BOOLEAN,
	S3F_T_ARRAY_STRING,			/* a|b with \ escapes */
	S3F_T_ARRAY_NUMBER,			/* decimal62 items joined by | */
	S3F_T_ARRAY_INTEGER,		/* base62 items joined by | */
	S3F_T_ARRAY_JSON,			/* JSON array text */
	S3F_T_EMBEDDING,			/* batch62 ^[..] (or |-joined fixed62) */
	S3F_T_OBJECT,				/* JSON object text */
	S3F_T_JSON,					/* JSON text, or a plain string */
	S3F_T_ANY,					/* String(v) */
	S3F_T_SECRET,				/* AES-256-GCM, base64 */
	S3F_T_PASSWORD,				/* one-way hash, kept as text */
	S3F_T_IP4,
	S3F_T_IP6,
	S3F_T_BUFFER,				/* base64 bytes */
	S3F_T_BITS,					/* base64 bitmap */
	S3F_T_MONEY,				/* $ + base62(round(v*10^p)), p = precision */
	S3F_T_DECIMAL,				/* fixed62 ^..., p = precision */
	S3F_T_TEXT,					/* z:/z85: compressed text, or plain */
	S3F_T_GEO_LAT,
	S3F_T_GEO_LON,
	S3F_T_GEO_POINT,
	S3F_T_UUID,
	S3F_T_DATETIME,
	S3F_T_DATEONLY,
	S3F_T_TIMEONLY,
	S3F_T_MAC,
	S3F_T_CIDR,
	S3F_T_SEMVER,
	S3F_T_PHONE,
	S3F_T_COLOR,
	S3F_T_DURATION,
	S3F_T_EAN,
	S3F_T_DATE,					/* fastest-validator date: JSON-quoted ISO text */
	S3F_T_NESTED,				/* container of sub-attributes (not a leaf) */
	S3F_T_FORM_SCALAR,			/* object-form {type:...} scalar: String(v) */
	S3F_T__COUNT
} s3f_type;

typedef struct s3f_typeinfo
{
	s3f_type	type;
	int			precision;		/* money/crypto/decimal/geo digits */
	int			length;			/* embedding:N, array length, bits:N */
	int			maxlength;		/* string maxlength, 0 = none */
	bool		optional;
	bool		required;		/* explicit required:true */
	bool		has_min;
	bool		has_max;
	double		min;
	double		max;
	int			form_scalar_kind; /* S3F_T_NUMBER/BOOLEAN/STRING for FORM_SCALAR */
} s3f_typeinfo;

/* Name of a type, for messages and EXPLAIN ("datetime", "array<string>"). */
extern const char *s3f_type_name(s3f_type t);

/*
 * Classify a string attribute definition such as "number|integer:true" or
 * "array|items:string" or "embedding:384" (spec 6.2 order of rules).
 */
extern void s3f_type_classify(const char *def, s3f_typeinfo *out);

/*
 * Classify an object-form definition {"type": "...", ...}; json_text is the
 * definition as JSON text.
 */
extern void s3f_type_classify_object(const char *json_text, s3f_typeinfo *out);

/*
 * Decode one stored string.  passphrase is used by secrets (NULL means the
 * s3db.js default "secret").  Returns S3S_OK, or S3S_ERR_FORMAT with err
 * saying why; *out is S3F_MISSING on error.  The stored strings "null" and
 * "undefined" are handled by the caller (metaenc), not here.
 */
extern s3s_code s3f_decode(const s3f_typeinfo *t, const char *stored, size_t len,
						   const char *passphrase, s3f_val *out, s3s_error *err);

/*
 * Decode a value that came from a record body as a non-string JSON value
 * (user-managed update bodies carry logical values with full names).
 * json_text is the member's JSON text.
 */
extern s3s_code s3f_decode_json_value(const s3f_typeinfo *t, const char *json_text,
									  const char *passphrase, s3f_val *out,
									  s3s_error *err);

/*
 * Encode a value into its stored string (malloc'd into *out).  The value
 * must already be of the logical kind the type expects (the FDW converts
 * Datums first).  Returns S3S_ERR_INVALID with a message for values the
 * type cannot hold.
 */
extern s3s_code s3f_encode(const s3f_typeinfo *t, const s3f_val *in,
						   const char *passphrase, char **out, s3s_error *err);

/* ---- primitives (exposed for tests and other modules) ---- */

/* base62/base36 of an integral double; NaN/inf -> "undefined". */
extern char *s3f_base62(double n);
extern char *s3f_base36(double n);
/* decode: "" -> 0; invalid -> NaN */
extern double s3f_unbase62(const char *s, size_t len);
extern double s3f_unbase36(const char *s, size_t len);

/* JavaScript Number.prototype.toString (shortest round trip). */
extern void s3f_js_number_to_string(double d, char *buf, size_t buflen);

/* decimal62 (number fields) */
extern char *s3f_decimal62(double x);
/* Decode; returns false on invalid input; exact decimal text in text_out. */
extern bool s3f_undecimal62(const char *s, size_t len, double *out,
							char *text_out, size_t text_len);

/* Standard base64 with padding (malloc'd, NUL-terminated). */
extern char *s3f_base64_encode(const unsigned char *data, size_t len);
/* Lenient decode (ignores invalid characters); malloc'd; *outlen set. */
extern unsigned char *s3f_base64_decode(const char *s, size_t len, size_t *outlen);

#endif							/* S3DB_CODEC_H */
