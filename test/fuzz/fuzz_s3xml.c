/*-------------------------------------------------------------------------
 *
 * fuzz_s3xml.c
 *		libFuzzer target: the S3 XML replies (s3xml.c): error documents,
 *		ListObjectsV2, DeleteObjects and CopyObject results.
 *
 * Byte 0 picks the store's key prefix (none, or "tenant/db1"), which
 * decides how listed keys are turned into logical keys; the rest is the
 * reply.  The reply comes from the network, so it is as hostile as input
 * gets.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"

#include "store/s3xml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	s3s_store	st;
	s3xml_error xe;
	s3s_list	list;
	char		msg[256];
	char		key[128];
	char	   *doc,
			   *etag = NULL,
			   *uq;
	int64_t		lm = 0;
	size_t		len;
	int			i,
				n;

	if (size < 1)
		return 0;
	memset(&st, 0, sizeof(st));
	st.loc.prefix = (data[0] & 1) ? "tenant/db1" : "";
	len = size - 1;
	doc = fuzz_strndup(data + 1, len);

	memset(&xe, 0, sizeof(xe));
	if (s3xml_parse_error(doc, len, &xe))
	{
		FUZZ_ASSERT(memchr(xe.code, '\0', sizeof(xe.code)) != NULL);
		FUZZ_ASSERT(memchr(xe.message, '\0', sizeof(xe.message)) != NULL);
		FUZZ_ASSERT(memchr(xe.endpoint, '\0', sizeof(xe.endpoint)) != NULL);
	}

	memset(&list, 0, sizeof(list));
	msg[0] = '\0';
	if (s3xml_parse_list(&st, doc, len, &list, msg, sizeof(msg)))
	{
		for (i = 0; i < list.n; i++)
			FUZZ_ASSERT(list.entries[i].key != NULL);
		for (i = 0; i < list.nprefixes; i++)
			FUZZ_ASSERT(list.prefixes[i] != NULL);
	}
	else
		FUZZ_ASSERT(msg[0] != '\0');
	s3s_list_free(&list);

	n = s3xml_parse_delete(doc, len, &xe, key, sizeof(key));
	FUZZ_ASSERT(n >= -1);
	if (n > 0)
		FUZZ_ASSERT(memchr(key, '\0', sizeof(key)) != NULL);

	if (s3xml_parse_copy(doc, len, &etag, &lm))
		free(etag);

	(void) s3xml_iso8601_ms(doc);
	uq = s3xml_unquote(doc);
	free(uq);
	free(doc);
	return 0;
}
