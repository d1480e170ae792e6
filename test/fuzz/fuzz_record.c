/*-------------------------------------------------------------------------
 *
 * fuzz_record.c
 *		libFuzzer target: the record decoder (record.c) over a fixed
 *		catalog, with hostile metadata and bodies.
 *
 * Input framing:
 *	byte 0		bits 0-2: resource (behavior), modulo 5
 *				bit 3: the object has a body (else HEAD only, body NULL)
 *				bits 4-5: content type (json, octet-stream, none, json+charset)
 *				bit 6: also decode with a partial "wanted" mask
 *	byte 1		number of metadata pairs, modulo 41
 *	then		NUL-terminated strings: the id, then key, value pairs
 *				(missing strings are empty)
 *	the rest	the body
 *
 * The catalog has one resource per behavior, each with the same attributes:
 * every type of codec.h except secret (a secret costs a PBKDF2 derivation;
 * fuzz_decode covers it), nested containers, an object-form scalar and a
 * plugin attribute.  Short keys are computed (no schemaRegistry) except for
 * the user-managed resource, whose registry burns one index.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"

#include "format/catalog.h"
#include "format/record.h"
#include "store/store.h"

#define ATTRS \
	"\"s\":\"string\",\"n\":\"number\",\"i\":\"number|integer:true\"," \
	"\"b\":\"boolean\",\"as\":\"array|items:string\",\"an\":\"array|items:number\"," \
	"\"ai\":\"array|items:number|integer:true\",\"e\":\"embedding:4\"," \
	"\"o\":\"object|optional\",\"j\":\"json\",\"ip\":\"ip4\",\"ip6\":\"ip6\"," \
	"\"buf\":\"buffer\",\"bits\":\"bits:16\",\"m\":\"money\",\"cr\":\"crypto\"," \
	"\"dec\":\"decimal:4\",\"lat\":\"geo:lat\",\"lon\":\"geo:lon\",\"pt\":\"geo:point\"," \
	"\"u\":\"uuid\",\"dt\":\"datetime\",\"d\":\"dateonly\",\"t\":\"timeonly\"," \
	"\"mac\":\"mac\",\"cidr\":\"cidr\",\"sv\":\"semver\",\"ph\":\"phone\"," \
	"\"col\":\"color\",\"dur\":\"duration\",\"ean\":\"ean\",\"txt\":\"text\"," \
	"\"date\":\"date\",\"any\":\"any\",\"pw\":\"password\",\"sm\":\"string|maxlength:3\"," \
	"\"of\":{\"type\":\"number\",\"optional\":true}," \
	"\"nest\":{\"city\":\"string\",\"zip\":\"string|optional\",\"deep\":{\"x\":\"number\",\"y\":\"boolean\"}}," \
	"\"_score\":{\"type\":\"number\",\"__plugin__\":\"ScorePlugin\"}"

#define RES(name, behavior, extra) \
	"\"" name "\":{\"currentVersion\":\"v1\",\"partitions\":{}," \
	"\"versions\":{\"v1\":{\"attributes\":{" ATTRS "},\"behavior\":\"" behavior "\"," \
	"\"timestamps\":true,\"partitions\":{}}}" extra "}"

static const char catalog_text[] =
	"{\"version\":\"1\",\"s3dbVersion\":\"21.6.2\",\"resources\":{"
	RES("r0", "user-managed",
		",\"schemaRegistry\":{\"nextIndex\":50,\"mapping\":{\"s\":0,\"n\":1,\"i\":2,\"nest\":40},"
		"\"burned\":[{\"index\":3,\"attribute\":\"gone\"}]}") ","
	RES("r1", "body-overflow", "") ","
	RES("r2", "body-only", "") ","
	RES("r3", "truncate-data", "") ","
	RES("r4", "enforce-limits", "")
	"}}";

static s3f_catalog *catalog;

static const char *const content_types[] = {
	"application/json", "application/octet-stream", NULL,
	"application/json; charset=utf-8"
};

/* Next NUL-terminated string of the input, or "" once it is used up. */
static const char *
next_string(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul;
	const char *s;

	if (*p >= end)
		return "";
	nul = memchr(*p, '\0', (size_t) (end - *p));
	if (nul == NULL)
	{
		/* unterminated: the caller copies it; treat as the last string */
		return NULL;
	}
	s = (const char *) *p;
	*p = nul + 1;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p,
			   *end = data + size;
	const s3f_resource *res;
	const char *ctype;
	const char *id;
	char	   *tail = NULL;
	s3s_meta	meta;
	s3f_record rec;
	s3s_error	err;
	unsigned char *body = NULL;
	size_t		body_len = 0;
	bool		has_body;
	bool	   *wanted;
	int			npairs,
				i;

	if (catalog == NULL)
	{
		catalog = s3f_catalog_parse(catalog_text, strlen(catalog_text), &err);
		if (catalog == NULL || catalog->nres != 5)
		{
			fprintf(stderr, "fixed catalog does not parse: %s\n", catalog ? "count" : err.message);
			abort();
		}
	}
	if (size < 2)
		return 0;
	res = &catalog->res[(data[0] & 7) % 5];
	has_body = (data[0] & 8) != 0;
	ctype = content_types[(data[0] >> 4) & 3];
	npairs = data[1] % 41;
	p = data + 2;

	s3s_meta_init(&meta);
	id = next_string(&p, end);
	if (id == NULL)
	{
		tail = fuzz_strndup(p, (size_t) (end - p));
		id = tail;
		p = end;
	}
	for (i = 0; i < npairs; i++)
	{
		const char *k = next_string(&p, end);
		char	   *kcopy = NULL;
		const char *v;
		char	   *vcopy = NULL;

		if (k == NULL)
		{
			k = kcopy = fuzz_strndup(p, (size_t) (end - p));
			p = end;
		}
		v = next_string(&p, end);
		if (v == NULL)
		{
			v = vcopy = fuzz_strndup(p, (size_t) (end - p));
			p = end;
		}
		if (s3s_meta_add(&meta, k, v) != 0)
			abort();
		free(kcopy);
		free(vcopy);
	}
	if (has_body)
	{
		body_len = (size_t) (end - p);
		/* an exact-size copy so that a read past the body is caught */
		body = malloc(body_len ? body_len : 1);
		if (body == NULL)
			abort();
		if (body_len)
			memcpy(body, p, body_len);
	}

	memset(&rec, 0, sizeof(rec));
	s3s_error_clear(&err);
	if (s3f_record_decode(res, id, &meta, body, body_len, ctype, NULL, "secret",
						  &rec, &err) == S3S_OK)
	{
		FUZZ_ASSERT(rec.nvals == res->nattrs);
		for (i = 0; i < rec.nvals; i++)
		{
			char	   *json = s3f_val_to_json(&rec.vals[i]);

			FUZZ_ASSERT(json != NULL);
			free(json);
		}
	}
	else
		FUZZ_ASSERT(err.code != S3S_OK);
	s3f_record_free(&rec);

	(void) s3f_record_needs_body(res, &meta, (int64_t) body_len, ctype, NULL);

	wanted = calloc((size_t) res->nattrs + 1, sizeof(bool));
	if (wanted == NULL)
		abort();
	for (i = 0; i < res->nattrs; i++)
		wanted[i] = ((fuzz_hash(data, 2) >> (i % 32)) & 1) != 0;
	(void) s3f_record_needs_body(res, &meta, (int64_t) body_len, ctype, wanted);
	if (data[0] & 0x40)
	{
		memset(&rec, 0, sizeof(rec));
		s3s_error_clear(&err);
		(void) s3f_record_decode(res, id, &meta, body, body_len, ctype, wanted, NULL,
								 &rec, &err);
		s3f_record_free(&rec);
	}
	free(wanted);
	free(body);
	free(tail);
	s3s_meta_free(&meta);
	return 0;
}
