/*-------------------------------------------------------------------------
 *
 * fuzz_connstr.c
 *		libFuzzer target: connection strings (s3s_parse_location and the
 *		redaction used in messages).
 *
 * The input is the connection string.  A string that parses must give a
 * location with every field set that the header promises, and redaction
 * must always return a string.  The bucket of an S3 location (it becomes
 * part of a host name) is always a valid S3 bucket name, so it can never
 * carry a host, port or path.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"

#include "store/connstr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *url = fuzz_strndup(data, size);
	s3s_location loc;
	s3s_error	err;
	char	   *red;

	memset(&loc, 0, sizeof(loc));
	s3s_error_clear(&err);
	if (s3s_parse_location(url, &loc, &err))
	{
		FUZZ_ASSERT(loc.scheme != NULL);
		FUZZ_ASSERT(loc.prefix != NULL && loc.bucket != NULL);
		FUZZ_ASSERT(strcmp(loc.scheme, "file") != 0 || loc.base_path != NULL);
		FUZZ_ASSERT(loc.path_style == (strncmp(loc.scheme, "http", 4) == 0));
		if (strcmp(loc.scheme, "s3") == 0 || strncmp(loc.scheme, "http", 4) == 0)
		{
			FUZZ_ASSERT(s3s_bucket_name_problem(loc.bucket) == NULL);
			FUZZ_ASSERT(strpbrk(loc.bucket, ":/#@?[]%\\ ") == NULL);
		}
	}
	else
		FUZZ_ASSERT(err.code != S3S_OK && err.message[0] != '\0');
	s3s_location_free(&loc);

	red = s3s_url_redact(url);
	FUZZ_ASSERT(red != NULL);
	(void) s3s_url_has_credentials(url);
	(void) s3s_url_has_credentials(red);
	free(red);
	free(url);
	return 0;
}
