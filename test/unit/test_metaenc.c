/*
 * test_metaenc.c
 *		Client-layer encoding of metadata values (spec 6.5, Appendices B
 *		and C) and key sanitization (spec 6.6).
 */
#include <stdint.h>

#include "format/codec_int.h"
#include "format/metaenc.h"
#include "unit.h"

static void
check_enc(const char *in, size_t len, const char *want)
{
	char	   *e = s3f_meta_encode(in, len);
	char	   *d = NULL;
	size_t		dl = 0;

	CHECK_STREQ(e, want);
	if (e)
	{
		/* and back */
		CHECK(s3f_meta_decode(e, &d, &dl) == S3F_META_STRING && dl == len &&
			  memcmp(d, in, len) == 0);
		free(d);
	}
	free(e);
}

#define ENC(s, want) check_enc(s, strlen(s), want)

static void
check_dec(const char *in, const char *want)
{
	char	   *d = NULL;
	size_t		dl = 0;

	CHECK(s3f_meta_decode(in, &d, &dl) == S3F_META_STRING);
	CHECK_STREQ(d, want);
	CHECK(d == NULL || dl == strlen(want));
	free(d);
}

static void
test_encode(void)
{
	ENC("café", "u:caf%C3%A9");
	ENC("naïve façade résumé", "u:na%C3%AFve%20fa%C3%A7ade%20r%C3%A9sum%C3%A9");
	ENC("ção", "b:w6fDo28=");
	ENC("éé", "b:w6nDqQ==");
	ENC("日本語テキスト", "b:5pel5pys6Kqe44OG44Kt44K544OI");
	ENC("ab日本", "b:YWLml6XmnKw=");
	ENC("emoji 😀 ok", "u:emoji%20%F0%9F%98%80%20ok");
	ENC("line1\nline2", "u:line1%0Aline2");
	ENC("\x7f", "b:fw==");
	check_enc("ab\0cd", 5, "u:ab%00cd");
	ENC("d:abc", "b:ZDphYmM=");
	ENC("z85:x", "b:ejg1Ong=");
	ENC("u:x", "b:dTp4");
	ENC("b:", "b:Yjo=");
	ENC("z:", "b:ejo=");
	ENC("100%", "100%");
	ENC("a|b", "a|b");
	ENC("{\"a\":1}", "{\"a\":1}");
	ENC("", "");
	ENC("Alice Müller", "u:Alice%20M%C3%BCller");
	ENC("José", "u:Jos%C3%A9");
	ENC("-_.!~*'() ", "-_.!~*'() ");
	ENC("é-_.!~*'()", "u:%C3%A9-_.!~*'()");

	/* dictionary */
	ENC("completed", "d:c");
	ENC("failed", "d:f");
	ENC("application/json", "d:j");
	ENC("application/octet-stream", "d:o");
	ENC("text/plain", "d:T");
	ENC("image/png", "d:P");
	ENC("font/woff", "d:w");
	ENC("font/woff2", "font/woff2");	/* d:f would read back as "failed" */
	ENC("https://example.com/x", "d:@hexample.com/x");
	ENC("http://localhost:3000/a", "d:@L3000/a");
	ENC("http://localhost/a", "d:@l/a");
	ENC("/api/v1/users", "d:@1users");
	ENC("https://api.example.com/v", "d:@Av");
	ENC("https://api.other.com/", "d:@Hother.com/");
	ENC("/v1/x", "/v1/x");
	ENC("/api/", "d:@a");
	ENC("/api/x", "d:@ax");
	/* a non-ASCII remainder is not put raw into a header */
	ENC("https://exämple.com", "u:https%3A%2F%2Fex%C3%A4mple.com");

	/* not representable */
	CHECK(s3f_meta_encode("null", 4) == NULL);
	CHECK(s3f_meta_encode("undefined", 9) == NULL);
	CHECK(s3f_meta_encode("bad\xff", 4) == NULL);
	CHECK(s3f_meta_encode("\xed\xa0\x80", 3) == NULL);	/* lone surrogate */
	CHECK(s3f_meta_encode("\xc0\xaf", 2) == NULL);	/* overlong */
	CHECK(s3f_meta_encode(NULL, 0) == NULL);
	{
		char	   *e = s3f_meta_encode("nullx", 5);

		CHECK_STREQ(e, "nullx");
		free(e);
	}
}

static void
test_decode(void)
{
	char	   *d = (char *) 1;
	size_t		dl = 99;

	CHECK(s3f_meta_decode("null", &d, &dl) == S3F_META_NULL && d == NULL && dl == 0);
	CHECK(s3f_meta_decode("undefined", &d, &dl) == S3F_META_UNDEFINED && d == NULL);
	check_dec("null ", "null ");
	check_dec("d:c", "completed");
	check_dec("d:f", "failed");
	check_dec("d:w", "font/woff");
	check_dec("d:j", "application/json");
	check_dec("d:T", "text/plain");
	check_dec("d:@hexample.com/x", "https://example.com/x");
	check_dec("d:@L3000/a", "http://localhost:3000/a");
	check_dec("d:@1users", "/api/v1/users");
	check_dec("d:@v", "/v1/");
	check_dec("d:@hexämple.com", "https://exämple.com");
	check_dec("d:?", "d:?");
	check_dec("d:@?x", "d:@?x");
	check_dec("d:", "d:");
	check_dec("d:cc", "d:cc");
	check_dec("u:caf%C3%A9", "café");
	check_dec("u:Alice%20M%C3%BCller", "Alice Müller");
	check_dec("u:a%2Fb%3F", "a/b?");
	check_dec("u:%C3%28", "u:%C3%28");	/* invalid UTF-8: unchanged */
	check_dec("u:%E0%A4%A", "u:%E0%A4%A");
	check_dec("u:%zz", "u:%zz");
	check_dec("u:%", "u:%");
	check_dec("u:%ED%A0%80", "u:%ED%A0%80");	/* surrogate */
	check_dec("u:%C3", "u:%C3");
	check_dec("u:", "u:");
	check_dec("u:plain", "plain");
	CHECK(s3f_meta_decode("u:ab%00cd", &d, &dl) == S3F_META_STRING && dl == 5 &&
		  memcmp(d, "ab\0cd", 5) == 0);
	free(d);
	check_dec("b:w6fDo28=", "ção");
	check_dec("b:w6f*Do28", "ção");	/* lenient */
	check_dec("b:w6f\nDo2 8=", "ção");
	check_dec("b:/w==", "\xef\xbf\xbd");	/* 0xFF -> U+FFFD */
	check_dec("b:4oI=", "\xef\xbf\xbd");	/* truncated sequence */
	check_dec("b:", "b:");
	check_dec("b:!!!", "");
	check_dec("z:", "z:");
	check_dec("z85:", "z85:");
	check_dec("z:!!!!", "z:!!!!");
	check_dec("z85:xx", "z85:xx");
	check_dec("plain", "plain");
	check_dec("", "");
	CHECK(s3f_meta_decode(NULL, &d, &dl) == S3F_META_STRING && dl == 0);
	free(d);

	/* compressed payloads */
	{
		const char *text = "compressed text, compressed text, compressed text, ünïcode";
		size_t		zl,
					n;
		unsigned char *z = s3f_raw_deflate((const unsigned char *) text, strlen(text), &zl);
		char	   *b = s3f_base64_encode(z, zl);
		char	   *e = s3f_base85_encode(z, zl);
		char		buf[512];

		snprintf(buf, sizeof(buf), "z:%s", b);
		check_dec(buf, text);
		snprintf(buf, sizeof(buf), "z85:%s", e);
		check_dec(buf, text);
		/* truncated deflate stream: unchanged */
		n = strlen(b);
		b[n / 2] = '\0';
		snprintf(buf, sizeof(buf), "z:%s", b);
		check_dec(buf, buf);
		free(z);
		free(b);
		free(e);
	}
}

static void
test_base85(void)
{
	uint64_t	r = 88172645463325252ull;
	int			i,
				bad = 0;
	unsigned char data[64];
	char	   *e;
	unsigned char *d;
	size_t		n;

	/* Appendix C: 4 bytes -> 5 digits, r bytes -> r+1 digits */
	e = s3f_base85_encode((const unsigned char *) "\0\0\0\0", 4);
	CHECK_STREQ(e, "!!!!!");
	free(e);
	e = s3f_base85_encode((const unsigned char *) "\xff\xff\xff\xff", 4);
	CHECK_STREQ(e, "w:Y/!");
	free(e);
	/* only the first 85 characters are digits the encoder emits */
	e = s3f_base85_encode((const unsigned char *) "\x84\x2c\x39\x5c", 4);
	CHECK(strchr(e, 'z') == NULL && strchr(e, '~') == NULL);
	free(e);
	e = s3f_base85_encode((const unsigned char *) "a", 1);
	CHECK_INTEQ(strlen(e), 2);
	d = s3f_base85_decode(e, 2, &n);
	CHECK(d && n == 1 && d[0] == 'a');
	free(d);
	free(e);
	/* as s3db.js: a lone digit is no byte, groups wrap modulo 2^32 */
	d = s3f_base85_decode("!", 1, &n);
	CHECK(d != NULL && n == 0);
	free(d);
	d = s3f_base85_decode("~~~~~", 5, &n);
	CHECK(d != NULL && n == 4);
	free(d);
	d = s3f_base85_decode("\"\"\"\"\"", 5, &n);	/* not in the alphabet: 0 */
	CHECK(d != NULL && n == 4 && d[0] == 0 && d[3] == 0);
	free(d);
	CHECK(s3f_base85_decode("ab\xc3\xa9" "c", 5, &n) == NULL);
	for (i = 0; i < 500; i++)
	{
		size_t		len = (size_t) (i % 23),
					k;

		for (k = 0; k < len; k++)
		{
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			data[k] = (unsigned char) r;
		}
		e = s3f_base85_encode(data, len);
		d = s3f_base85_decode(e, strlen(e), &n);
		if (d == NULL || n != len || memcmp(d, data, len) != 0)
			bad++;
		free(d);
		free(e);
		e = s3f_base64_encode(data, len);
		d = s3f_base64_decode(e, strlen(e), &n);
		if (d == NULL || n != len || memcmp(d, data, len) != 0)
			bad++;
		free(d);
		free(e);
	}
	CHECK_INTEQ(bad, 0);
}

static void
test_roundtrip(void)
{
	/* random strings from a mixed alphabet round trip through the layer */
	static const char *const pieces[] = {
		"a", "Z", " ", "%", "|", "é", "ç", "日", "😀", "\n", "\t", "\x7f", "d:", "u:", "b:",
		"z:", "z85:", "https://", "/api/", "\"", "\\", "~", "null", "+"
	};
	uint64_t	r = 0x1234567ull;
	int			i,
				bad = 0,
				nonascii = 0;

	for (i = 0; i < 3000; i++)
	{
		char		buf[256];
		size_t		len = 0;
		int			k,
					n;
		char	   *e,
				   *d = NULL;
		size_t		dl;
		s3f_meta_kind kind;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		n = (int) (r % 12);
		for (k = 0; k < n; k++)
		{
			const char *p;

			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			p = pieces[r % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(buf + len, p, strlen(p));
			len += strlen(p);
		}
		buf[len] = '\0';
		e = s3f_meta_encode(buf, len);
		if (e == NULL)
		{
			if (!(strcmp(buf, "null") == 0))
				bad++;
			continue;
		}
		for (k = 0; e[k]; k++)
			if ((unsigned char) e[k] < 0x20 || (unsigned char) e[k] > 0x7e)
				nonascii++;
		kind = s3f_meta_decode(e, &d, &dl);
		if (kind != S3F_META_STRING || dl != len || memcmp(d, buf, len) != 0)
			bad++;
		free(d);
		free(e);
	}
	CHECK_INTEQ(bad, 0);
	CHECK_INTEQ(nonascii, 0);
}

static void
test_keys(void)
{
	static const struct
	{
		const char *in;
		const char *want;
	}			ex[] = {
		{"$overflow", "_overflow"}, {"$truncated", "_truncated"}, {"_pluginMap", "_pluginmap"},
		{"_contentLength", "_contentlength"}, {"metadata.updatedAt", "metadata_updatedat"},
		{"0", "0"}, {"pnhj", "pnhj"}, {"_v", "_v"}, {"_map", "_map"}, {"a-b_C", "a-b_c"},
		{"é", "_"}, {"😀", "__"}, {"a b", "a_b"}, {"\xff", "_"}, {"", ""},
	};
	size_t		i;

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
	{
		char	   *k = s3f_meta_key(ex[i].in);

		CHECK_STREQ(k, ex[i].want);
		free(k);
	}
	CHECK_STREQ(s3f_dict_code("completed"), "c");
	CHECK_STREQ(s3f_dict_code("font/woff2"), "f");
	CHECK_STREQ(s3f_dict_code("application/ld+json"), "J");
	CHECK(s3f_dict_code("nope") == NULL);
	CHECK(s3f_dict_code(NULL) == NULL);
	CHECK_STREQ(s3f_dict_value('f'), "failed");
	CHECK_STREQ(s3f_dict_value('m'), "terminated");
	CHECK_STREQ(s3f_dict_value('u'), "application/x-www-form-urlencoded");
	CHECK(s3f_dict_value('#') == NULL);
}

int
main(void)
{
	test_encode();
	test_decode();
	test_base85();
	test_roundtrip();
	test_keys();
	return unit_done();
}
