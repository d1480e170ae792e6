/*
 * test_codec_more.c
 *		Value codecs of spec 6.1-6.4 and Appendix A, second part: special
 *		types (ip, uuid, geo, dates and times...), secrets, JSON values,
 *		random round trips and hostile inputs.
 */
#include <math.h>
#include <stdint.h>

#include "format/codec.h"
#include "format/codec_int.h"
#include "codec_util.h"
#include "unit.h"

static void
test_special(void)
{
	CHECK_DEC("ip4", "wKgAAQ==", "\"192.168.0.1\"");
	CHECK_DEC("ip4", "CgAA/w==", "\"10.0.0.255\"");
	CHECK_DEC("ip4", "10.1.2.3", "\"10.1.2.3\"");
	/* not an address: s3db.js stores and reads such a string as it is */
	CHECK_DEC("ip4", "garbage!", "\"garbage!\"");
	CHECK_DEC("ip6", "fe80::1%eth0", "\"fe80::1%eth0\"");
	CHECK_ENC_STR("ip4", "192.168.0.1", "wKgAAQ==");
	CHECK_ENC_STR("ip4", "10.0.0.255", "CgAA/w==");
	CHECK_ENC_STR("ip4", "not-an-ip", "not-an-ip");
	CHECK_ENC_STR("ip6", "fe80::1%eth0", "fe80::1%eth0");
	/* raw strings s3db.js would read back as an address are refused */
	CHECK_ENC_STR("ip4", "300.0.0.1", "ERR");
	CHECK_ENC_STR("ip4", "AAAAAA==", "ERR");
	CHECK_DEC("ip6", "IAENuAAAAAAAAAAAAAAAAQ==", "\"2001:db8::1\"");
	CHECK_ENC_STR("ip6", "2001:db8::1", "IAENuAAAAAAAAAAAAAAAAQ==");
	CHECK_ENC_STR("ip6", "2001:0db8:0000:0000:0000:0000:0000:0001", "IAENuAAAAAAAAAAAAAAAAQ==");
	CHECK_DEC("ip6", "AAAAAAAAAAAAAAAAAAAAAA==", "\"::\"");
	CHECK_DEC("ip6", "AAEAAAABAAAAAAAAAAAAAQ==", "\"1:0:1::1\"");
	CHECK_DEC("ip6", "AAEAAAAAAAEAAAAAAAAAAQ==", "\"1:0:0:1::1\"");
	CHECK_DEC("ip6", "AAEAAAAAAAEAAAAAAAEAAQ==", "\"1::1:0:0:1:1\"");
	CHECK_DEC("ip6", "AAEAAgADAAQABQAGAAcACA==", "\"1:2:3:4:5:6:7:8\"");
	CHECK_DEC("ip6", "AAEAAgADAAQABQAGAAcAAA==", "\"1:2:3:4:5:6:7:0\"");

	CHECK_DEC("geo:lat", "~4uOxO", "-23.55052");
	CHECK_DEC("geo:lat", "~65D6U", "0");
	CHECK_DEC("geo:lat", "~cbgdO", "90");
	CHECK_ENC_NUM("geo:lat", -23.55052, "~4uOxO");
	CHECK_ENC_NUM("geo:lat", 0, "~65D6U");
	CHECK_ENC_NUM("geo:lat", 90, "~cbgdO");
	CHECK_ENC_NUM("geo:lat", 91, "ERR");
	CHECK_DEC("geo:lon", "~91ALG", "-46.633308");
	CHECK_DEC("geo:lon", "~omwrC", "180");
	CHECK_ENC_NUM("geo:lon", -46.633308, "~91ALG");
	CHECK_ENC_NUM("geo:lon", 180, "~omwrC");
	CHECK_DEC("geo:point", "~4v1GE~91JqU", "{\"latitude\":-23.5,\"longitude\":-46.6}");
	CHECK_DEC("geo:point", "~6LAze~dxb8s", "{\"latitude\":10,\"longitude\":20}");
	CHECK_DEC("geo:point", "~6LAze", "ERR");
	CHECK_ENC_JSON("geo:point", "{\"lat\":-23.5,\"lon\":-46.6}", "~4v1GE~91JqU");
	CHECK_ENC_JSON("geo:point", "{\"latitude\":-23.5,\"longitude\":-46.6}", "~4v1GE~91JqU");
	CHECK_ENC_JSON("geo:point", "[10,20]", "~6LAze~dxb8s");
	CHECK_ENC_JSON("geo:point", "{\"x\":1}", "ERR");

	CHECK_DEC("uuid", "1yzBHq49i4y833Iawe1yOjy8", "\"550e8400-e29b-41d4-a716-446655440000\"");
	CHECK_ENC_STR("uuid", "550e8400-e29b-41d4-a716-446655440000", "1yzBHq49i4y833Iawe1yOjy8");
	CHECK_ENC_STR("uuid", "550E8400-E29B-41D4-A716-446655440000", "1yzBHq49i4y833Iawe1yOjy8");
	CHECK_ENC_STR("uuid", "550e8400-e29b-41d4-a716-44665544000g", "ERR");
	CHECK_DEC("uuid", "550E8400-E29B-41D4-A716-446655440000", "\"550e8400-e29b-41d4-a716-446655440000\"");
	CHECK_DEC("uuid", "zzzzzzzzzzzzzzzzzzzzzzzz", "ERR");

	CHECK_DEC("datetime", "u1qrSFZ", "\"2024-01-15T10:20:30.123Z\"");
	CHECK_DEC("datetime", "u1nVFq8", "\"2024-01-15T00:00:00.000Z\"");
	CHECK_DEC("datetime", "tVCOKGI", "\"2023-11-14T22:13:20.000Z\"");
	CHECK_DEC("datetime", "2024-01-15T10:20:30.123Z", "\"2024-01-15T10:20:30.123Z\"");
	CHECK_DEC("datetime", "-1", "\"1969-12-31T23:59:59.999Z\"");
	CHECK_DEC("datetime", "xyz!", "ERR");
	CHECK_DEC("datetime", "ZZZZZZZZZZZZ", "ERR");
	CHECK_ENC_STR("datetime", "2024-01-15T10:20:30.123Z", "u1qrSFZ");
	CHECK_ENC_STR("datetime", "2024-01-15", "u1nVFq8");
	CHECK_ENC_STR("datetime", "2024-01-15T12:20:30.123+02:00", "u1qrSFZ");
	CHECK_ENC_STR("datetime", "2024-01-15 10:20:30.123456+00", "u1qrSFZ");
	CHECK_ENC_NUM("datetime", 1700000000000.0, "tVCOKGI");
	CHECK_ENC_STR("datetime", "2024-02-30", "ERR");
	CHECK_ENC_STR("datetime", "yesterday", "ERR");
	{
		char		buf[64];

		CHECK(s3f_format_iso_datetime(253402300800000.0, buf, sizeof(buf)));
		CHECK_STREQ(buf, "+010000-01-01T00:00:00.000Z");
		CHECK(s3f_format_iso_datetime(-62198755200000.0, buf, sizeof(buf)));
		CHECK_STREQ(buf, "-000001-01-01T00:00:00.000Z");
		CHECK(!s3f_format_iso_datetime(8.64e15 + 1, buf, sizeof(buf)));
	}
	CHECK_DEC("dateonly", "58l", "\"2024-01-15\"");
	CHECK_DEC("dateonly", "0", "\"1970-01-01\"");
	CHECK_DEC("dateonly", "-1", "\"1969-12-31\"");
	CHECK_ENC_STR("dateonly", "2024-01-15", "58l");
	CHECK_ENC_STR("dateonly", "1969-12-31", "-1");
	CHECK_DEC("timeonly", "3lHd6", "\"13:45:00.000\"");
	CHECK_DEC("timeonly", "3lP92", "\"13:45:30.500\"");
	CHECK_DEC("timeonly", "0", "\"00:00:00.000\"");
	CHECK_DEC("timeonly", "13:45:30.5", "\"13:45:30.500\"");
	CHECK_DEC("timeonly", "5QwAo", "ERR");	/* 86400000: not a time of day */
	CHECK_ENC_STR("timeonly", "13:45", "3lHd6");
	CHECK_ENC_STR("timeonly", "13:45:30.5", "3lP92");
	CHECK_ENC_STR("timeonly", "00:00:00.000", "0");
	CHECK_ENC_STR("timeonly", "25:00", "ERR");

	CHECK_DEC("mac", "001YGnXwa", "\"00:1a:2b:3c:4d:5e\"");
	CHECK_ENC_STR("mac", "00:1A:2B:3C:4D:5E", "001YGnXwa");
	CHECK_DEC("mac", "not-a-mac", "\"not-a-mac\"");
	CHECK_DEC("cidr", "3wK86Yo", "\"192.168.0.0/24\"");
	CHECK_ENC_STR("cidr", "192.168.0.0/24", "3wK86Yo");
	CHECK_ENC_STR("cidr", "2001:db8::/32", "2001:db8::/32");
	CHECK_DEC("cidr", "2001:db8::/32", "\"2001:db8::/32\"");
	CHECK_DEC("semver", "4cFl", "\"1.2.3\"");
	CHECK_ENC_STR("semver", "1.2.3", "4cFl");
	CHECK_ENC_STR("semver", "1.2.3-beta", "1.2.3-beta");
	CHECK_DEC("semver", "1.2.3-beta", "\"1.2.3-beta\"");
	CHECK_DEC("phone", "1z2A2tcB", "\"+5511987654321\"");
	CHECK_ENC_STR("phone", "+5511987654321", "1z2A2tcB");
	CHECK_DEC("color", "18gwM", "\"#ff8800\"");
	CHECK_DEC("color", "00001", "\"#000001\"");
	CHECK_ENC_STR("color", "#ff8800", "18gwM");
	CHECK_ENC_STR("color", "#000001", "00001");
	CHECK_ENC_STR("color", "#FF8800", "18gwM");
	CHECK_ENC_STR("color", "red", "red");
	CHECK_ENC_STR("color", "0000a", "ERR");
	CHECK_DEC("duration", "mEMM", "\"PT1H30M\"");
	CHECK_ENC_NUM("duration", 5400000, "mEMM");
	CHECK_ENC_STR("duration", "PT1H30M", "mEMM");
	CHECK_ENC_STR("duration", "1h30m", "mEMM");
	CHECK_ENC_STR("duration", "1h 30m", "mEMM");
	CHECK_ENC_STR("duration", "P", "ERR");
	CHECK_DEC("duration", "0", "\"PT0S\"");
	CHECK_DEC("duration", "PT1.5S", "\"PT1.500S\"");
	CHECK_DEC("duration", "P1DT2S", "\"P1DT2S\"");
	CHECK_DEC("duration", "fBK", "\"PT1M\"");
	CHECK_DEC("duration", "5Qx6E", "\"P1DT2S\"");
	CHECK_DEC("duration", "8", "\"PT0.008S\"");
	CHECK_DEC("ean", "12eVDq3bx", "\"7891234567895\"");
	CHECK_DEC("ean", "0PNFI", "\"12345670\"");
	CHECK_ENC_STR("ean", "7891234567895", "12eVDq3bx");
	CHECK_ENC_STR("ean", "12345670", "0PNFI");
	CHECK_ENC_STR("ean", "012345678905", "2dtvd3j");
	CHECK_DEC("ean", "2dtvd3j", "\"012345678905\"");
	CHECK_ENC_STR("ean", "123", "ERR");
}

static void
test_secret(void)
{
	static const char hand[] =
		"AQEBAQEBAQEBAQEBAQEBAQICAgICAgICAgICAmnSOoyH/MsQuC/eNr8cc+ZSRlgAhtWhsyw=";
	unsigned char salt[16],
				iv[12];
	char	   *e,
			   *p;
	size_t		pl;
	s3s_error	err;
	s3f_typeinfo t = ty("secret");
	s3f_val		v,
				in;

	memset(salt, 1, sizeof(salt));
	memset(iv, 2, sizeof(iv));
	e = s3f_secret_encrypt_with("my-passphrase", "hand-made", 9, salt, iv);
	CHECK_STREQ(e, hand);
	free(e);
	CHECK(s3f_decode(&t, hand, strlen(hand), "my-passphrase", &v, &err) == S3S_OK);
	CHECK(v.kind == S3F_STR && strcmp(v.str, "hand-made") == 0);
	s3f_val_free(&v);
	CHECK(s3f_decode(&t, hand, strlen(hand), "wrong", &v, &err) == S3S_ERR_FORMAT);
	CHECK(v.kind == S3F_MISSING);
	CHECK(strstr(err.message, "decrypt") != NULL);
	CHECK(s3f_decode(&t, "short", 5, NULL, &v, &err) == S3S_ERR_FORMAT);

	/* random salt/iv round trip with the default passphrase; length 44+n */
	s3f_val_set_str(&in, S3F_STR, "psst", 4);
	CHECK(s3f_encode(&t, &in, NULL, &e, &err) == S3S_OK);
	CHECK_INTEQ(strlen(e), 64);
	CHECK(s3f_decode(&t, e, strlen(e), "secret", &v, &err) == S3S_OK);
	CHECK(v.kind == S3F_STR && strcmp(v.str, "psst") == 0);
	s3f_val_free(&v);
	free(e);
	s3f_val_free(&in);
	/* secretNumber 42 reads back as "42" */
	s3f_val_set_num(&in, 42, NULL);
	CHECK(s3f_encode(&t, &in, NULL, &e, &err) == S3S_OK);
	CHECK(s3f_decode(&t, e, strlen(e), NULL, &v, &err) == S3S_OK);
	CHECK(v.kind == S3F_STR && strcmp(v.str, "42") == 0);
	s3f_val_free(&v);
	free(e);
	s3f_val_free(&in);
	/* "null" and "undefined" plaintexts */
	e = s3f_secret_encrypt_with("secret", "null", 4, salt, iv);
	CHECK(s3f_decode(&t, e, strlen(e), NULL, &v, &err) == S3S_OK && v.kind == S3F_NULL);
	free(e);
	e = s3f_secret_encrypt_with("secret", "undefined", 9, salt, iv);
	CHECK(s3f_decode(&t, e, strlen(e), NULL, &v, &err) == S3S_OK && v.kind == S3F_MISSING);
	free(e);
	e = s3f_secret_encrypt_with("secret", "", 0, salt, iv);
	CHECK(s3f_secret_decrypt("secret", e, strlen(e), &p, &pl, &err) == S3S_OK && pl == 0);
	free(p);
	free(e);
}

static void
test_json_values(void)
{
	static const struct
	{
		const char *def;
		const char *json;
		const char *want;
	}			ex[] = {
		{"number|integer:true", "42", "42"},
		{"number", "98.6", "98.6"},
		{"number", "\"1A.6\"", "98.6"},
		{"number", "\"77\"", "77"},
		{"number", "1e21", "1e+21"},
		{"number", "12345678901234567890123", "1.2345678901234568e+22"},
		{"boolean", "true", "true"},
		{"boolean", "false", "false"},
		{"boolean", "1", "true"},
		{"array|items:string", "[\"x\",\"y\"]", "[\"x\",\"y\"]"},
		{"array|items:string", "[1,\"a\"]", "[\"1\",\"a\"]"},
		{"array|items:number", "[1,2.5,null]", "[1,2.5,null]"},
		{"embedding", "[0.1,-0.2]", "[0.1,-0.2]"},
		{"object", "{\"city\": \"Rio\"}", "{\"city\":\"Rio\"}"},
		{"json", "[1, 2]", "[1,2]"},
		{"datetime", "\"2024-01-15T10:20:30.123Z\"", "\"2024-01-15T10:20:30.123Z\""},
		{"datetime", "\"2024-01-15T12:20:30.123+02:00\"", "\"2024-01-15T10:20:30.123Z\""},
		{"datetime", "\"u1qrSFZ\"", "\"2024-01-15T10:20:30.123Z\""},
		{"datetime", "1705314030123", "\"2024-01-15T10:20:30.123Z\""},
		{"dateonly", "\"2024-01-15\"", "\"2024-01-15\""},
		{"timeonly", "\"13:45:30.5\"", "\"13:45:30.500\""},
		{"uuid", "\"550E8400-E29B-41D4-A716-446655440000\"", "\"550e8400-e29b-41d4-a716-446655440000\""},
		{"money", "19.99", "19.99"},
		{"money", "\"19.99\"", "19.99"},
		{"geo:point", "{\"lat\":10,\"lon\":20}", "{\"latitude\":10,\"longitude\":20}"},
		{"geo:point", "[10,20]", "{\"latitude\":10,\"longitude\":20}"},
		{"ip4", "\"10.0.0.1\"", "\"10.0.0.1\""},
		{"duration", "5400000", "\"PT1H30M\""},
		{"string", "\"Raw\"", "\"Raw\""},
		{"string", "42", "\"42\""},
		{"string", "null", "null"},
		{"any", "true", "\"true\""},
		{"number", "[1]", "ERR"},
		{"number", "{oops", "ERR"},
		{"uuid", "{\"a\":1}", "ERR"},
	};
	size_t		i;

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
	{
		s3f_typeinfo t = ty(ex[i].def);
		s3f_val		v;
		s3s_error	err;
		char	   *g;

		if (s3f_decode_json_value(&t, ex[i].json, NULL, &v, &err) != S3S_OK)
			g = strdup("ERR");
		else
			g = s3f_val_to_json(&v);
		CHECK_STREQ(g, ex[i].want);
		free(g);
		s3f_val_free(&v);
	}
}

/* deterministic xorshift */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
rnd_double(void)
{
	switch (rnd() % 5)
	{
		case 0:
			return (double) (int64_t) (rnd() % 2000001) - 1000000;
		case 1:
			return ((double) (rnd() % 100000000) / 1000.0) * ((rnd() & 1) ? 1 : -1);
		case 2:
			{
				uint64_t	bits = rnd();
				double		d;

				memcpy(&d, &bits, sizeof(d));
				return isfinite(d) ? d : 1.0;
			}
		case 3:
			return ldexp((double) (rnd() % 1000000), -(int) (rnd() % 80));
		default:
			return (double) (rnd() % 10) * pow(10, (int) (rnd() % 40) - 20);
	}
}

static void
test_roundtrips(void)
{
	int			i,
				bad_js = 0,
				bad_num = 0,
				bad_int = 0,
				bad_money = 0,
				bad_dt = 0,
				bad_str = 0;

	for (i = 0; i < 5000; i++)
	{
		double		d = rnd_double(),
					back;
		char		buf[64];
		char	   *s;
		s3f_typeinfo t;
		s3f_val		v,
					in;
		s3s_error	err;

		/* JS rendering parses back to the same double */
		s3f_js_number_to_string(d, buf, sizeof(buf));
		if (strtod(buf, NULL) != d)
			bad_js++;

		/* number field */
		t = ty("number");
		s3f_val_set_num(&in, d, NULL);
		if (s3f_encode(&t, &in, NULL, &s, &err) != S3S_OK)
			bad_num++;
		else
		{
			if (s3f_decode(&t, s, strlen(s), NULL, &v, &err) != S3S_OK || v.num != d ||
				strcmp(v.str, buf) != 0)
				bad_num++;
			s3f_val_free(&v);
			free(s);
		}
		s3f_val_free(&in);

		/* integers below 2^53 */
		back = (double) (int64_t) (rnd() % 9007199254740992ull) * ((rnd() & 1) ? 1 : -1);
		t = ty("number|integer:true");
		s3f_val_set_num(&in, back, NULL);
		if (s3f_encode(&t, &in, NULL, &s, &err) != S3S_OK)
			bad_int++;
		else
		{
			if (s3f_decode(&t, s, strlen(s), NULL, &v, &err) != S3S_OK || v.num != back)
				bad_int++;
			s3f_val_free(&v);
			free(s);
		}
		s3f_val_free(&in);

		/* money: cents survive */
		back = (double) (int64_t) (rnd() % 100000000) / 100.0;
		t = ty("money");
		s3f_val_set_num(&in, back, NULL);
		if (s3f_encode(&t, &in, NULL, &s, &err) != S3S_OK)
			bad_money++;
		else
		{
			s3f_js_number_to_string(back, buf, sizeof(buf));
			if (s3f_decode(&t, s, strlen(s), NULL, &v, &err) != S3S_OK || strcmp(v.str, buf) != 0)
				bad_money++;
			s3f_val_free(&v);
			free(s);
		}
		s3f_val_free(&in);

		/* datetime over the JS range */
		back = (double) (int64_t) (rnd() % 17280000000000000ull) - 8.64e15;
		t = ty("datetime");
		if (s3f_format_iso_datetime(back, buf, sizeof(buf)))
		{
			s3f_val_set_str(&in, S3F_STR, buf, strlen(buf));
			if (s3f_encode(&t, &in, NULL, &s, &err) != S3S_OK)
				bad_dt++;
			else
			{
				if (s3f_decode(&t, s, strlen(s), NULL, &v, &err) != S3S_OK || strcmp(v.str, buf) != 0)
					bad_dt++;
				s3f_val_free(&v);
				free(s);
			}
			s3f_val_free(&in);
		}

		/* string arrays with separators and escapes */
		{
			static const char alpha[] = "ab|\\ x";
			s3f_val		a = {.kind = S3F_ARRAY};
			int			k,
						n = (int) (rnd() % 4) + 1;
			char	   *j1,
					   *j2;

			t = ty("array|items:string");
			a.nitems = n;
			a.items = calloc((size_t) n, sizeof(s3f_val));
			for (k = 0; k < n; k++)
			{
				char		item[8];
				int			m = (int) (rnd() % 6) + 1,
							q;

				for (q = 0; q < m; q++)
					item[q] = alpha[rnd() % 6];
				s3f_val_set_str(&a.items[k], S3F_STR, item, (size_t) m);
			}
			if (s3f_encode(&t, &a, NULL, &s, &err) != S3S_OK)
				bad_str++;
			else
			{
				if (s3f_decode(&t, s, strlen(s), NULL, &v, &err) != S3S_OK)
					bad_str++;
				else
				{
					j1 = s3f_val_to_json(&a);
					j2 = s3f_val_to_json(&v);
					if (strcmp(j1, j2) != 0)
						bad_str++;
					free(j1);
					free(j2);
				}
				s3f_val_free(&v);
				free(s);
			}
			s3f_val_free(&a);
		}
	}
	CHECK_INTEQ(bad_js, 0);
	CHECK_INTEQ(bad_num, 0);
	CHECK_INTEQ(bad_int, 0);
	CHECK_INTEQ(bad_money, 0);
	CHECK_INTEQ(bad_dt, 0);
	CHECK_INTEQ(bad_str, 0);
}

/* every decoder on junk: no crash, a value or a clean error */
static void
test_hostile(void)
{
	static const char *defs[] = {
		"string", "number", "number|integer:true", "boolean", "array|items:string",
		"array|items:number", "array|items:number|integer:true", "array", "embedding",
		"object", "json", "any", "secret", "password", "ip4", "ip6", "buffer", "bits:8",
		"money", "decimal", "text", "geo:lat", "geo:lon", "geo:point", "uuid", "datetime",
		"dateonly", "timeonly", "mac", "cidr", "semver", "phone", "color", "duration",
		"ean", "date"
	};
	static const char *junk[] = {
		"", "-", "^", "^[", "^[,", "~", "~~", "$", "z:", "z85:", "z:!!!!", "\xff\xfe\x80",
		"%", "\"", "[", "{", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "::::", "....",
		"9999-99-99", "P1Y", "-0", "^[-]", "|||\\", "1e999", "0.1.2", "+", "#"
	};
	size_t		i,
				j;
	int			errs_ok = 1,
				crashes = 0;
	char		big[5000];

	for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
	{
		s3f_typeinfo t = ty(defs[i]);

		for (j = 0; j < sizeof(junk) / sizeof(junk[0]); j++)
		{
			s3f_val		v;
			s3s_error	err;
			s3s_code	rc;

			memset(&err, 0, sizeof(err));
			rc = s3f_decode(&t, junk[j], strlen(junk[j]), NULL, &v, &err);
			if (rc != S3S_OK && (v.kind != S3F_MISSING || err.message[0] == '\0'))
				errs_ok = 0;
			s3f_val_free(&v);
		}
		/* random bytes */
		for (j = 0; j < 200; j++)
		{
			s3f_val		v;
			s3s_error	err;
			size_t		n = rnd() % 64,
						k;

			for (k = 0; k < n; k++)
				big[k] = (char) (rnd() & 0xFF);
			if (s3f_decode(&t, big, n, NULL, &v, &err) == S3S_OK && v.kind == S3F_MISSING &&
				t.type != S3F_T_SECRET)
				crashes++;
			s3f_val_free(&v);
		}
	}
	CHECK(errs_ok);
	CHECK_INTEQ(crashes, 0);
	{
		s3f_typeinfo t = ty("datetime");
		s3f_val		v;
		s3s_error	err;

		memset(big, 'x', sizeof(big));
		CHECK(s3f_decode(&t, big, sizeof(big), NULL, &v, &err) == S3S_ERR_FORMAT);
		CHECK(strlen(err.message) < 120);
		CHECK(strncmp(err.message, "invalid datetime value \"xxxx", 28) == 0);
		CHECK(s3f_decode(&t, "xyz!", 4, NULL, &v, &err) == S3S_ERR_FORMAT);
		CHECK_STREQ(err.message, "invalid datetime value \"xyz!\"");
	}
}

int
main(void)
{
	test_special();
	test_secret();
	test_json_values();
	test_roundtrips();
	test_hostile();
	return unit_done();
}
