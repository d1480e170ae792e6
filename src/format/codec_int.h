/*-------------------------------------------------------------------------
 *
 * codec_int.h
 *		Internal helpers shared by the value codec files of src/format
 *		(base62.c, textenc.c, codec.c, codec_special.c, codec_time.c,
 *		secret.c, metaenc.c).  Not part of the public format interface.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_CODEC_INT_H
#define S3DB_CODEC_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "format/codec.h"

/* ---- growable byte buffer (textenc.c) ---- */
typedef struct s3f_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;			/* an allocation failed; contents unusable */
} s3f_buf;

extern void s3f_buf_put(s3f_buf *b, const char *s, size_t n);
extern void s3f_buf_putc(s3f_buf *b, char c);
extern void s3f_buf_puts(s3f_buf *b, const char *s);
/* Hand over the NUL-terminated contents (NULL after an allocation failure). */
extern char *s3f_buf_finish(s3f_buf *b, size_t *len);

extern char *s3f_strndup(const char *s, size_t n);

/* ---- UTF-8 (textenc.c) ---- */
extern bool s3f_utf8_valid(const char *s, size_t len);
/* Copy replacing ill-formed sequences by U+FFFD (as Node's Buffer.toString). */
extern char *s3f_utf8_sanitize(const char *s, size_t len, size_t *outlen);
/* Next code point (strict); returns bytes consumed, 0 on an ill-formed one. */
extern int	s3f_utf8_next(const unsigned char *s, size_t len, unsigned int *cp);

/* ---- JSON text helpers (textenc.c); json-c does the parsing ---- */
/* Whole text is one strict JSON value? */
extern bool s3f_json_valid(const char *s, size_t len);
/* Remove insignificant white space of a valid JSON text (malloc'd). */
extern char *s3f_json_minify(const char *s, size_t len);
/* Append a JSON string literal as JSON.stringify writes it. */
extern void s3f_json_quote(s3f_buf *b, const char *s, size_t len);

/* ---- base85 and raw deflate (textenc.c) ---- */
extern unsigned char *s3f_base85_decode(const char *s, size_t len, size_t *outlen);
extern char *s3f_base85_encode(const unsigned char *data, size_t len);
extern unsigned char *s3f_raw_inflate(const unsigned char *in, size_t len, size_t *outlen);
extern unsigned char *s3f_raw_deflate(const unsigned char *in, size_t len, size_t *outlen);

/* ---- numbers (base62.c) ---- */
extern double s3f_js_round(double x);	/* Math.round: half toward +inf */
extern double s3f_pow10(int p);			/* exact for 0..22 */
/* JS Number(text) restricted to decimal literals; false if not one. */
extern bool s3f_parse_number(const char *s, size_t len, double *out);
/* Exact decimal text of scaled / 10^p, scaled integral (malloc'd). */
extern char *s3f_fixed_text(double scaled, int p);
/* fixed62 (spec 6.1): "^" [-] base62(|round(x*10^p)|), "^0" for zero */
extern char *s3f_fixed62(double x, int p);
/* Decode "^[-]digits" to the scaled integer; false when invalid. */
extern bool s3f_unfixed62(const char *s, size_t len, double *scaled);
/* decimal62 as a C writer emits it: plain digits instead of 1e-7 forms. */
extern char *s3f_decimal62_safe(double x);
/* true when s is nothing but base62 digits (at least one) */
extern bool s3f_is_base62(const char *s, size_t len);

/* ---- errors (codec.c) ---- */
/* "invalid <what> value "<raw>"" with the raw value truncated and cleaned. */
extern s3s_code s3f_value_error(s3s_error *err, s3s_code code, const char *what,
								const char *raw, size_t len);

/* ---- special formats (codec_special.c, codec_time.c) ---- */
extern s3s_code s3f_special_decode(const s3f_typeinfo *t, const char *s, size_t len,
								   s3f_val *out, s3s_error *err);
extern s3s_code s3f_special_encode(const s3f_typeinfo *t, const s3f_val *in,
								   char **out, s3s_error *err);
extern s3s_code s3f_time_decode(const s3f_typeinfo *t, const char *s, size_t len,
								s3f_val *out, s3s_error *err);
extern s3s_code s3f_time_encode(const s3f_typeinfo *t, const s3f_val *in,
								char **out, s3s_error *err);
/* Parse an ISO-8601 date/date-time to epoch milliseconds (UTC when no zone). */
extern bool s3f_parse_iso_datetime(const char *s, size_t len, double *ms);
/* "YYYY-MM-DDTHH:MM:SS.sssZ" of epoch ms (JS toISOString); false if out of range */
extern bool s3f_format_iso_datetime(double ms, char *buf, size_t buflen);

/* ---- arrays (codec_array.c), logical JSON values (codec_json.c) ---- */
extern s3s_code s3f_array_decode(const s3f_typeinfo *t, const char *s, size_t len,
								 s3f_val *out, s3s_error *err);
extern s3s_code s3f_array_encode(const s3f_typeinfo *t, const s3f_val *in,
								 char **out, s3s_error *err);
extern s3s_code s3f_json_value_decode(const s3f_typeinfo *t, const char *json_text,
									  const char *passphrase, s3f_val *out,
									  s3s_error *err);
/* The number an input denotes (numbers, numeric strings, booleans). */
extern bool s3f_input_number(const s3f_val *in, double *d);
/* {"latitude":..,"longitude":..} as an S3F_JSON value */
extern s3s_code s3f_geo_point_value(double lat, double lon, s3f_val *out, s3s_error *err);

/* ---- secrets (secret.c) ---- */
/* s3db.js would read a raw ip4/ip6 string as an address of want bytes. */
extern bool s3f_ip_raw_misread(const char *s, size_t len, size_t want);

extern s3s_code s3f_secret_decrypt(const char *passphrase, const char *stored, size_t len,
								   char **plain, size_t *plainlen, s3s_error *err);
/* Encrypt with random salt and IV. */
extern s3s_code s3f_secret_encrypt(const char *passphrase, const char *plain, size_t len,
								   char **out, s3s_error *err);
/* Encrypt with the given salt (16 bytes) and IV (12 bytes); for tests. */
extern char *s3f_secret_encrypt_with(const char *passphrase, const char *plain, size_t len,
									 const unsigned char *salt, const unsigned char *iv);

#endif							/* S3DB_CODEC_INT_H */
