/*-------------------------------------------------------------------------
 *
 * fuzz_metaenc.c
 *		libFuzzer target: the client-layer metadata encoding (metaenc.c).
 *
 * s3f_meta_encode either refuses a value (NULL: it goes into the body) or
 * returns printable ASCII that s3f_meta_decode turns back into exactly the
 * input bytes; anything else would corrupt a record written by the FDW.
 * The input is also decoded as a stored value, and sanitized as a key.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"

#include "format/metaenc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = fuzz_strndup(data, size);
	char	   *enc,
			   *dec = NULL,
			   *key;
	size_t		declen = 0,
				i;
	s3f_meta_kind kind;

	enc = s3f_meta_encode(in, size);
	if (enc != NULL)
	{
		for (i = 0; enc[i]; i++)
			FUZZ_ASSERT((unsigned char) enc[i] >= 0x20 && (unsigned char) enc[i] <= 0x7E);
		kind = s3f_meta_decode(enc, &dec, &declen);
		FUZZ_ASSERT(kind == S3F_META_STRING);
		FUZZ_ASSERT(dec != NULL);
		FUZZ_ASSERT(declen == size);
		FUZZ_ASSERT(size == 0 || memcmp(dec, data, size) == 0);
		FUZZ_ASSERT(dec[declen] == '\0');
		free(dec);
		free(enc);
	}

	/* the input as a stored value (only its C-string part reaches the API) */
	dec = NULL;
	kind = s3f_meta_decode(in, &dec, &declen);
	if (kind == S3F_META_STRING)
	{
		FUZZ_ASSERT(dec != NULL && dec[declen] == '\0');
		free(dec);
	}
	else
		FUZZ_ASSERT(dec == NULL);

	key = s3f_meta_key(in);
	FUZZ_ASSERT(key != NULL);
	for (i = 0; key[i]; i++)
		FUZZ_ASSERT((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
					key[i] == '_' || key[i] == '-');
	free(key);
	free(in);
	return 0;
}
