/*
 * codec_util.h
 *		Helpers of the codec unit tests (test_codec.c, test_codec_more.c):
 *		classify a definition, decode or encode a value and render it, and
 *		the CHECK_DEC / CHECK_ENC_* checks built on them.
 */
#ifndef S3DB_TEST_CODEC_UTIL_H
#define S3DB_TEST_CODEC_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/codec.h"
#include "format/codec_int.h"
#include "unit.h"

static inline s3f_typeinfo
ty(const char *def)
{
	s3f_typeinfo t;

	s3f_type_classify(def, &t);
	return t;
}

/* decode and render as JSON (or an error marker) */
static inline char *
dec(const char *def, const char *stored)
{
	s3f_typeinfo t = ty(def);
	s3f_val		v;
	s3s_error	err;
	char	   *r;

	if (s3f_decode(&t, stored, strlen(stored), "secret", &v, &err) != S3S_OK)
		return strdup("ERR");
	r = s3f_val_to_json(&v);
	s3f_val_free(&v);
	return r;
}

#define CHECK_DEC(def, stored, want) do { char *g__ = dec(def, stored); \
	CHECK_STREQ(g__, want); free(g__); } while (0)

static inline char *
enc_val(const char *def, const s3f_val *v)
{
	s3f_typeinfo t = ty(def);
	char	   *out = NULL;
	s3s_error	err;

	if (s3f_encode(&t, v, "secret", &out, &err) != S3S_OK)
		return strdup("ERR");
	return out;
}

static inline char *
enc_num(const char *def, double d)
{
	s3f_val		v;
	char	   *r;

	s3f_val_set_num(&v, d, NULL);
	r = enc_val(def, &v);
	s3f_val_free(&v);
	return r;
}

static inline char *
enc_str(const char *def, const char *s)
{
	s3f_val		v;
	char	   *r;

	s3f_val_set_str(&v, S3F_STR, s, strlen(s));
	r = enc_val(def, &v);
	s3f_val_free(&v);
	return r;
}

static inline char *
enc_json(const char *def, const char *s)
{
	s3f_val		v;
	char	   *r;

	s3f_val_set_str(&v, S3F_JSON, s, strlen(s));
	r = enc_val(def, &v);
	s3f_val_free(&v);
	return r;
}

#define CHECK_ENC_NUM(def, d, want) do { char *g__ = enc_num(def, d); \
	CHECK_STREQ(g__, want); free(g__); } while (0)
#define CHECK_ENC_STR(def, s, want) do { char *g__ = enc_str(def, s); \
	CHECK_STREQ(g__, want); free(g__); } while (0)
#define CHECK_ENC_JSON(def, s, want) do { char *g__ = enc_json(def, s); \
	CHECK_STREQ(g__, want); free(g__); } while (0)

static inline void
check_js(double d, const char *want)
{
	char		buf[64];

	s3f_js_number_to_string(d, buf, sizeof(buf));
	CHECK_STREQ(buf, want);
}

static inline void
check_b62(double d, const char *want)
{
	char	   *s = s3f_base62(d);

	CHECK_STREQ(s, want);
	CHECK(s3f_unbase62(want, strlen(want)) == d || d != d || isinf(d) || (d > 0 && d < 1));
	free(s);
}


#endif
