/*-------------------------------------------------------------------------
 *
 * fuzz_decode.c
 *		libFuzzer target: the value codecs (codec*.c, base62.c, secret.c,
 *		textenc.c, metaenc.c decode side, value.c).
 *
 * The first input byte picks an attribute definition from the table below
 * (every type of codec.h, plus a few modifiers); the rest is a stored
 * string.  It is decoded as a metadata string, as a JSON body member, and
 * after the client-layer decoding of metaenc.c; every decoded value is
 * rendered as JSON and encoded again.
 *
 * Secrets cost a PBKDF2 derivation with 100000 iterations as soon as the
 * base64 payload is long enough to hold salt, iv and tag (44 bytes, i.e.
 * 59 base64 characters or more).  Shorter secrets are always decoded;
 * longer ones (up to 200 bytes) only for one input in 64, chosen by a hash
 * of the input so that runs stay reproducible.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"

#include "format/codec.h"
#include "format/metaenc.h"

static const char *const defs[] = {
	"string", "number", "number|integer:true", "boolean",
	"array|items:string", "array|items:number", "embedding:8", "object",
	"json", "secret", "ip4", "ip6", "buffer", "bits:16", "money", "crypto",
	"decimal:4", "geo:lat", "geo:lon", "geo:point", "uuid", "datetime",
	"dateonly", "timeonly", "mac", "cidr", "semver", "phone", "color",
	"duration", "ean", "text", "date", "any",
	/* modifiers and variants */
	"string|maxlength:4", "array|items:number|integer:true", "array|items:json",
	"array|items:string|length:2", "embedding:1", "number|min:0|max:10",
	"password", "email", "url", "geo:lat:2", "money:8", "bits:3",
	"number|optional", "decimal"
};
#define NDEFS ((int) (sizeof(defs) / sizeof(defs[0])))

static s3f_typeinfo types[NDEFS];
static bool classified;

/* May a secret of this stored length be decoded (see the header)? */
static bool
secret_ok(size_t len, uint32_t h)
{
	return len < 59 || (len <= 200 && (h & 63) == 0);
}

static void
use_value(const s3f_typeinfo *t, const s3f_val *v)
{
	char	   *json = s3f_val_to_json(v);
	char	   *enc = NULL;
	s3s_error	err;

	FUZZ_ASSERT(json != NULL);
	free(json);
	/* encoding a secret derives a key too: skip it, encode.c is not fuzzed here */
	if (t->type == S3F_T_SECRET)
		return;
	s3s_error_clear(&err);
	if (s3f_encode(t, v, "secret", &enc, &err) == S3S_OK)
		FUZZ_ASSERT(enc != NULL);
	free(enc);
}

static void
decode_one(const s3f_typeinfo *t, const char *s, size_t len)
{
	s3f_val		v;
	s3s_error	err;

	memset(&v, 0, sizeof(v));
	s3s_error_clear(&err);
	if (s3f_decode(t, s, len, "secret", &v, &err) == S3S_OK)
		use_value(t, &v);
	else
		FUZZ_ASSERT(v.kind == S3F_MISSING && err.code != S3S_OK);
	s3f_val_free(&v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const s3f_typeinfo *t;
	uint32_t	h;
	char	   *rest,
			   *meta = NULL;
	size_t		len,
				metalen = 0;
	bool		is_secret;
	s3f_val		v;
	s3s_error	err;
	int			i;

	if (!classified)
	{
		for (i = 0; i < NDEFS; i++)
			s3f_type_classify(defs[i], &types[i]);
		classified = true;
	}
	if (size < 1)
		return 0;
	t = &types[data[0] % NDEFS];
	is_secret = (t->type == S3F_T_SECRET);
	h = fuzz_hash(data, size);
	len = size - 1;
	rest = fuzz_strndup(data + 1, len);

	/* the stored string as it sits in metadata (after metaenc) or a body */
	if (!is_secret || secret_ok(len, h))
		decode_one(t, rest, len);

	/* a non-string JSON member of a body */
	if (!is_secret || secret_ok(len, h))
	{
		memset(&v, 0, sizeof(v));
		s3s_error_clear(&err);
		if (s3f_decode_json_value(t, rest, "secret", &v, &err) == S3S_OK)
			use_value(t, &v);
		s3f_val_free(&v);
	}

	/* the raw metadata value: client-layer decoding first */
	if (s3f_meta_decode(rest, &meta, &metalen) == S3F_META_STRING)
	{
		FUZZ_ASSERT(meta != NULL);
		if (!is_secret || secret_ok(metalen, h))
			decode_one(t, meta, metalen);
		free(meta);
	}
	free(rest);
	return 0;
}
