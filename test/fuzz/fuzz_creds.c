/*-------------------------------------------------------------------------
 *
 * fuzz_creds.c
 *		libFuzzer target: the replies of the credential endpoints
 *		(creds_json.c, creds_xml.c) and their timestamps.
 *
 * Byte 0 picks the parser: an IMDS / ECS JSON document, an STS reply, an
 * STS error document, an Expiration timestamp, or what a credential_process
 * prints.  Whatever they accept
 * must be a whole credential (key and secret), and an error never carries
 * the secret it may have seen.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"

#include "store/creds_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	s3s_credentials c;
	s3s_error	err;
	char	   *doc;
	size_t		len;
	int64_t		t;
	char		code[64], msg[256];

	if (size < 1)
		return 0;
	len = size - 1;
	doc = fuzz_strndup(data + 1, len);
	s3s_error_clear(&err);
	switch (data[0] % 5)
	{
		case 0:
			if (s3s_creds_parse_json(doc, len, &c, &err))
			{
				FUZZ_ASSERT(c.access_key_id && c.access_key_id[0]);
				FUZZ_ASSERT(c.secret_access_key && c.secret_access_key[0]);
				FUZZ_ASSERT(strstr(err.message, c.secret_access_key) == NULL);
				s3s_credentials_free(&c);
			}
			else
				FUZZ_ASSERT(err.code != S3S_OK);
			break;
		case 1:
			if (s3s_creds_parse_sts(doc, len, &c, &err))
			{
				FUZZ_ASSERT(c.access_key_id && c.secret_access_key && c.session_token);
				s3s_credentials_free(&c);
			}
			else
				FUZZ_ASSERT(err.code != S3S_OK);
			break;
		case 2:
			s3s_creds_parse_sts_error(doc, len, code, sizeof(code), msg, sizeof(msg));
			FUZZ_ASSERT(memchr(code, '\0', sizeof(code)) != NULL);
			FUZZ_ASSERT(memchr(msg, '\0', sizeof(msg)) != NULL);
			for (const char *p = msg; *p; p++)
				FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f);
			break;
		case 3:
			(void) s3s_creds_parse_time(doc, &t);
			break;
		default:
			if (s3s_creds_parse_process(doc, len, &c, &err))
			{
				FUZZ_ASSERT(c.access_key_id && c.secret_access_key);
				s3s_credentials_free(&c);
			}
			break;
	}
	free(doc);
	return 0;
}
