/*
 * test_codec.c
 *		Value codecs of spec 6.1-6.4 and Appendix A: every example of the
 *		spec in both directions, type classification, random round trips
 *		and hostile inputs.
 */
#include <math.h>
#include <stdint.h>

#include "format/codec.h"
#include "format/codec_int.h"
#include "unit.h"

static s3f_typeinfo
ty(const char *def)
{
	s3f_typeinfo t;

	s3f_type_classify(def, &t);
	return t;
}

/* decode and render as JSON (or an error marker) */
static char *
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

static char *
enc_val(const char *def, const s3f_val *v)
{
	s3f_typeinfo t = ty(def);
	char	   *out = NULL;
	s3s_error	err;

	if (s3f_encode(&t, v, "secret", &out, &err) != S3S_OK)
		return strdup("ERR");
	return out;
}

static char *
enc_num(const char *def, double d)
{
	s3f_val		v;
	char	   *r;

	s3f_val_set_num(&v, d, NULL);
	r = enc_val(def, &v);
	s3f_val_free(&v);
	return r;
}

static char *
enc_str(const char *def, const char *s)
{
	s3f_val		v;
	char	   *r;

	s3f_val_set_str(&v, S3F_STR, s, strlen(s));
	r = enc_val(def, &v);
	s3f_val_free(&v);
	return r;
}

static char *
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

static void
check_js(double d, const char *want)
{
	char		buf[64];

	s3f_js_number_to_string(d, buf, sizeof(buf));
	CHECK_STREQ(buf, want);
}

static void
check_b62(double d, const char *want)
{
	char	   *s = s3f_base62(d);

	CHECK_STREQ(s, want);
	CHECK(s3f_unbase62(want, strlen(want)) == d || d != d || isinf(d) || (d > 0 && d < 1));
	free(s);
}

static void
test_primitives(void)
{
	char	   *s;
	double		d;
	char		txt[64];

	/* Appendix A */
	check_b62(0, "0");
	check_b62(30, "u");
	check_b62(42, "G");
	check_b62(61, "Z");
	check_b62(62, "10");
	check_b62(1000, "g8");
	check_b62(1234, "jU");
	check_b62(5598187, "null");
	check_b62(123456789012.0, "2aL26ws");
	check_b62(1e15, "4zXyLE1Gw");
	check_b62(9007199254740994.0, "FfGNdXsEa");
	check_b62(1700000000000.0, "tVCOKGI");
	check_b62(1705314030123.0, "u1qrSFZ");
	check_b62(19737, "58l");
	check_b62(-62, "-10");
	check_b62(NAN, "undefined");
	check_b62(INFINITY, "undefined");
	check_b62(0.5, "");
	CHECK(s3f_unbase62("", 0) == 0);
	CHECK(isnan(s3f_unbase62("a.b", 3)));
	CHECK(s3f_unbase62("6631951758436141", 0) == 0);
	s = s3f_base62(6631951758436141.0);
	CHECK_STREQ(s, "undefined");
	free(s);
	s = s3f_base36(35);
	CHECK_STREQ(s, "z");
	free(s);
	s = s3f_base36(36);
	CHECK_STREQ(s, "10");
	free(s);
	CHECK(s3f_unbase36("10", 2) == 36);
	CHECK(isnan(s3f_unbase36("A", 1)));

	/* JS Number.prototype.toString */
	check_js(0, "0");
	check_js(-0.0, "0");
	check_js(1, "1");
	check_js(-2.5, "-2.5");
	check_js(98.6, "98.6");
	check_js(0.1 + 0.2, "0.30000000000000004");
	check_js(1e21, "1e+21");
	check_js(1e20, "100000000000000000000");
	check_js(123456789012345680000.0, "123456789012345680000");
	check_js(1.5e-7, "1.5e-7");
	check_js(1e-7, "1e-7");
	check_js(0.000001, "0.000001");
	check_js(1.2345e-6, "0.0000012345");
	check_js(5e-324, "5e-324");
	check_js(1.7976931348623157e308, "1.7976931348623157e+308");
	check_js(NAN, "NaN");
	check_js(-INFINITY, "-Infinity");
	check_js(9007199254740993.0, "9007199254740992");
	check_js(2.5e21, "2.5e+21");
	check_js(-23.550520000000006, "-23.550520000000006");

	/* decimal62, spec 6.1 */
	{
		static const struct
		{
			double		x;
			const char *s;
		}			ex[] = {
			{42, "G"}, {61, "Z"}, {62, "10"}, {-7, "-7"}, {3.14, "3.14"}, {-2.5, "-2.5"},
			{98.6, "1A.6"}, {62.5, "10.5"}, {123456789.125, "8m0Kx.125"},
			{0.30000000000000004, "0.30000000000000004"}, {1e21, "jdt8BLTpPG02"},
			{1.5e-7, "1.5e-7"}, {1e-7, ""}, {-1e-7, "-"}
		};
		size_t		i;

		for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		{
			s = s3f_decimal62(ex[i].x);
			CHECK_STREQ(s, ex[i].s);
			free(s);
			if (ex[i].s[0] && strcmp(ex[i].s, "-") != 0)
			{
				CHECK(s3f_undecimal62(ex[i].s, strlen(ex[i].s), &d, txt, sizeof(txt)));
				CHECK(d == ex[i].x);
			}
		}
	}
	CHECK(s3f_undecimal62("-", 1, &d, txt, sizeof(txt)) && d == 0);
	CHECK_STREQ(txt, "0");
	CHECK(s3f_undecimal62("1A.6", 4, &d, txt, sizeof(txt)));
	CHECK_STREQ(txt, "98.6");
	CHECK(!s3f_undecimal62("1A.x", 4, &d, NULL, 0));
	CHECK(!s3f_undecimal62("1A.-5", 5, &d, NULL, 0));
	CHECK(!s3f_undecimal62("%", 1, &d, NULL, 0));
	/* our writer: 1e-7 as plain digits, read back exactly */
	s = s3f_decimal62_safe(1e-7);
	CHECK_STREQ(s, "0.0000001");
	CHECK(s3f_undecimal62(s, strlen(s), &d, txt, sizeof(txt)) && d == 1e-7);
	CHECK_STREQ(txt, "1e-7");
	free(s);
	s = s3f_decimal62_safe(-3e-10);
	CHECK_STREQ(s, "-0.0000000003");
	free(s);
	s = s3f_decimal62_safe(1.5e-7);
	CHECK_STREQ(s, "1.5e-7");
	free(s);
	s = s3f_decimal62_safe(1e300);
	CHECK(s3f_undecimal62(s, strlen(s), &d, NULL, 0) && d == 1e300);
	free(s);

	/* fixed62 */
	s = s3f_fixed62(12.345, 2);
	CHECK_STREQ(s, "^jV");
	free(s);
	s = s3f_fixed62(-3.5, 2);
	CHECK_STREQ(s, "^-5E");
	free(s);
	s = s3f_fixed62(3.14159, 4);
	CHECK_STREQ(s, "^8aI");
	free(s);
	s = s3f_fixed62(0.001, 2);
	CHECK_STREQ(s, "^0");
	free(s);
	/* Math.round: half toward +infinity */
	CHECK(s3f_js_round(2.5) == 3);
	CHECK(s3f_js_round(-2.5) == -2);
	CHECK(s3f_js_round(0.49999999999999994) == 0);
	s = s3f_fixed_text(1235, 2);
	CHECK_STREQ(s, "12.35");
	free(s);
	s = s3f_fixed_text(-5, 4);
	CHECK_STREQ(s, "-0.0005");
	free(s);
	s = s3f_fixed_text(1200, 2);
	CHECK_STREQ(s, "12");
	free(s);
}

static void
test_classify(void)
{
	s3f_typeinfo t;

	CHECK_INTEQ(ty("string").type, S3F_T_STRING);
	CHECK_INTEQ(ty("email").type, S3F_T_STRING);
	CHECK_INTEQ(ty("string|maxlength:5").maxlength, 5);
	CHECK_INTEQ(ty("number").type, S3F_T_NUMBER);
	CHECK_INTEQ(ty("number|integer:true").type, S3F_T_INTEGER);
	CHECK_INTEQ(ty("number|integer").type, S3F_T_INTEGER);
	CHECK_INTEQ(ty("number|integer:false").type, S3F_T_INTEGER);
	CHECK_INTEQ(ty("boolean").type, S3F_T_BOOLEAN);
	CHECK_INTEQ(ty("bool").type, S3F_T_BOOLEAN);
	CHECK_INTEQ(ty("array|items:string").type, S3F_T_ARRAY_STRING);
	CHECK_INTEQ(ty("array|items:number").type, S3F_T_ARRAY_NUMBER);
	CHECK_INTEQ(ty("array|items:number|integer:true").type, S3F_T_ARRAY_INTEGER);
	CHECK_INTEQ(ty("array|items:number|length:256").type, S3F_T_EMBEDDING);
	CHECK_INTEQ(ty("array|items:number|length:255").type, S3F_T_ARRAY_NUMBER);
	CHECK_INTEQ(ty("array|items:number|length:300|integer:true").type, S3F_T_ARRAY_INTEGER);
	CHECK_INTEQ(ty("array").type, S3F_T_ARRAY_JSON);
	CHECK_INTEQ(ty("array|items:object").type, S3F_T_ARRAY_JSON);
	CHECK_INTEQ(ty("embedding").type, S3F_T_EMBEDDING);
	t = ty("embedding:384");
	CHECK_INTEQ(t.type, S3F_T_EMBEDDING);
	CHECK_INTEQ(t.length, 384);
	CHECK_INTEQ(ty("object").type, S3F_T_OBJECT);
	CHECK(ty("object|optional").optional);
	CHECK_INTEQ(ty("json").type, S3F_T_JSON);
	CHECK_INTEQ(ty("any").type, S3F_T_ANY);
	CHECK_INTEQ(ty("secret").type, S3F_T_SECRET);
	CHECK_INTEQ(ty("secretNumber").type, S3F_T_SECRET);
	CHECK_INTEQ(ty("secret|required").type, S3F_T_SECRET);
	CHECK(ty("secret|required").required);
	CHECK_INTEQ(ty("password:bcrypt").type, S3F_T_PASSWORD);
	CHECK_INTEQ(ty("ip4").type, S3F_T_IP4);
	CHECK_INTEQ(ty("ip6").type, S3F_T_IP6);
	CHECK_INTEQ(ty("buffer").type, S3F_T_BUFFER);
	t = ty("bits:12");
	CHECK_INTEQ(t.type, S3F_T_BITS);
	CHECK_INTEQ(t.length, 12);
	t = ty("money");
	CHECK(t.type == S3F_T_MONEY && t.precision == 2);
	t = ty("money:4");
	CHECK(t.type == S3F_T_MONEY && t.precision == 4);
	t = ty("crypto");
	CHECK(t.type == S3F_T_MONEY && t.precision == 8);
	t = ty("crypto:18");
	CHECK(t.type == S3F_T_MONEY && t.precision == 18);
	t = ty("decimal");
	CHECK(t.type == S3F_T_DECIMAL && t.precision == 2);
	t = ty("decimal:4");
	CHECK(t.type == S3F_T_DECIMAL && t.precision == 4);
	CHECK_INTEQ(ty("text").type, S3F_T_TEXT);
	t = ty("geo:lat");
	CHECK(t.type == S3F_T_GEO_LAT && t.precision == 6);
	t = ty("geo:lon:4");
	CHECK(t.type == S3F_T_GEO_LON && t.precision == 4);
	CHECK_INTEQ(ty("geo:point").type, S3F_T_GEO_POINT);
	CHECK_INTEQ(ty("uuid").type, S3F_T_UUID);
	CHECK_INTEQ(ty("uuid|optional").type, S3F_T_UUID);
	CHECK_INTEQ(ty("uuidv4").type, S3F_T_STRING);
	CHECK_INTEQ(ty("datetime").type, S3F_T_DATETIME);
	CHECK_INTEQ(ty("datetime|optional").type, S3F_T_DATETIME);
	CHECK_INTEQ(ty("dateonly").type, S3F_T_DATEONLY);
	CHECK_INTEQ(ty("timeonly").type, S3F_T_TIMEONLY);
	CHECK_INTEQ(ty("mac").type, S3F_T_MAC);
	CHECK_INTEQ(ty("machine").type, S3F_T_STRING);
	CHECK_INTEQ(ty("cidr").type, S3F_T_CIDR);
	CHECK_INTEQ(ty("semver").type, S3F_T_SEMVER);
	CHECK_INTEQ(ty("phone").type, S3F_T_PHONE);
	CHECK_INTEQ(ty("color").type, S3F_T_COLOR);
	CHECK_INTEQ(ty("duration").type, S3F_T_DURATION);
	CHECK_INTEQ(ty("ean").type, S3F_T_EAN);
	CHECK_INTEQ(ty("date").type, S3F_T_DATE);
	CHECK_INTEQ(ty("date|convert:true").type, S3F_T_DATE);
	CHECK_INTEQ(ty("cron").type, S3F_T_STRING);
	CHECK_INTEQ(ty("string|optional").type, S3F_T_STRING);
	CHECK(ty("string|optional").optional);
	CHECK(!ty("string").optional);
	t = ty("number|min:0|max:100");
	CHECK(t.has_min && t.min == 0 && t.has_max && t.max == 100);
	/* rule order: embedding before array, array before number */
	CHECK_INTEQ(ty("array|items:embedding").type, S3F_T_EMBEDDING);
	CHECK_INTEQ(ty("secret|number").type, S3F_T_SECRET);

	s3f_type_classify_object("{\"type\":\"number\",\"integer\":true}", &t);
	CHECK(t.type == S3F_T_FORM_SCALAR && t.form_scalar_kind == S3F_T_NUMBER);
	s3f_type_classify_object("{\"type\":\"boolean\",\"optional\":true}", &t);
	CHECK(t.type == S3F_T_FORM_SCALAR && t.form_scalar_kind == S3F_T_BOOLEAN && t.optional);
	s3f_type_classify_object("{\"type\":\"string\"}", &t);
	CHECK(t.type == S3F_T_FORM_SCALAR && t.form_scalar_kind == S3F_T_STRING);
	s3f_type_classify_object("{\"type\":\"array\",\"items\":\"string\"}", &t);
	CHECK_INTEQ(t.type, S3F_T_ARRAY_STRING);
	s3f_type_classify_object("{\"type\":\"array\",\"items\":\"number\",\"length\":300}", &t);
	CHECK_INTEQ(t.type, S3F_T_EMBEDDING);
	s3f_type_classify_object("{\"type\":\"array\",\"items\":\"number\"}", &t);
	CHECK_INTEQ(t.type, S3F_T_ARRAY_NUMBER);
	s3f_type_classify_object("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}", &t);
	CHECK_INTEQ(t.type, S3F_T_ARRAY_JSON);
	s3f_type_classify_object("not json", &t);
	CHECK_INTEQ(t.type, S3F_T_FORM_SCALAR);
	CHECK_STREQ(s3f_type_name(S3F_T_ARRAY_STRING), "array<string>");
	CHECK_STREQ(s3f_type_name(S3F_T__COUNT), "unknown");
}

static void
test_scalars(void)
{
	/* strings stay strings, even when they look like JSON */
	CHECK_DEC("string", "hello", "\"hello\"");
	CHECK_DEC("string", "[1,2]", "\"[1,2]\"");
	CHECK_DEC("string", "{\"a\":1}", "\"{\\\"a\\\":1}\"");
	CHECK_DEC("string", "bad\xff", "\"bad\xef\xbf\xbd\"");
	CHECK_ENC_STR("string", "hello", "hello");
	CHECK_ENC_NUM("string", 5, "5");
	CHECK_DEC("any", "5", "\"5\"");
	CHECK_DEC("any", "true", "\"true\"");

	/* number */
	CHECK_DEC("number", "1A.6", "98.6");
	CHECK_DEC("number", "G", "42");
	CHECK_DEC("number", "-2.5", "-2.5");
	CHECK_DEC("number", "8m0Kx.125", "123456789.125");
	CHECK_DEC("number", "jdt8BLTpPG02", "1e+21");
	CHECK_DEC("number", "1.5e-7", "1.5e-7");
	CHECK_DEC("number", "0.0000001", "1e-7");
	CHECK_DEC("number", "-", "0");
	CHECK_DEC("number", "", "null");
	CHECK_DEC("number", "1f", "77");
	CHECK_DEC("number", "1A.6.7", "ERR");
	CHECK_DEC("number", "??", "ERR");
	CHECK_ENC_NUM("number", 98.6, "1A.6");
	CHECK_ENC_NUM("number", 42, "G");
	CHECK_ENC_NUM("number", -7, "-7");
	CHECK_ENC_NUM("number", 3.14, "3.14");
	CHECK_ENC_NUM("number", 62.5, "10.5");
	CHECK_ENC_NUM("number", 123456789.125, "8m0Kx.125");
	CHECK_ENC_NUM("number", 1e21, "jdt8BLTpPG02");
	CHECK_ENC_NUM("number", 1.5e-7, "1.5e-7");
	CHECK_ENC_NUM("number", 1e-7, "0.0000001");
	CHECK_ENC_NUM("number", -1, "-1");
	CHECK_ENC_STR("number", "77", "1f");
	CHECK_ENC_STR("number", "abc", "ERR");
	CHECK_ENC_NUM("number", NAN, "ERR");

	/* integer */
	CHECK_DEC("number|integer:true", "0", "0");
	CHECK_DEC("number|integer:true", "Z", "61");
	CHECK_DEC("number|integer:true", "10", "62");
	CHECK_DEC("number|integer:true", "-10", "-62");
	CHECK_DEC("number|integer:true", "4zXyLE1Gw", "1000000000000000");
	CHECK_DEC("number|integer:true", "FfGNdXsEa", "9007199254740994");
	CHECK_DEC("number|integer:true", "y", "34");
	CHECK_DEC("number|integer:true", "1.5", "ERR");
	CHECK_ENC_NUM("number|integer:true", 0, "0");
	CHECK_ENC_NUM("number|integer:true", 61, "Z");
	CHECK_ENC_NUM("number|integer:true", 62, "10");
	CHECK_ENC_NUM("number|integer:true", -62, "-10");
	CHECK_ENC_NUM("number|integer:true", 1e15, "4zXyLE1Gw");
	CHECK_ENC_NUM("number|integer:true", 34, "y");
	CHECK_ENC_NUM("number|integer:true", 2.5, "ERR");

	/* boolean */
	CHECK_DEC("boolean", "1", "true");
	CHECK_DEC("boolean", "0", "false");
	CHECK_DEC("boolean", "true", "true");
	CHECK_DEC("boolean", "yes", "true");
	CHECK_DEC("boolean", "y", "true");
	CHECK_DEC("boolean", "no", "false");
	CHECK_DEC("boolean", "", "false");
	{
		s3f_val		b = {.kind = S3F_BOOL, .b = true};
		char	   *s = enc_val("boolean", &b);

		CHECK_STREQ(s, "1");
		free(s);
		b.b = false;
		s = enc_val("boolean", &b);
		CHECK_STREQ(s, "0");
		free(s);
	}

	/* money / decimal */
	CHECK_DEC("money", "$wf", "19.99");
	CHECK_DEC("money", "$0", "0");
	CHECK_DEC("money", "$8m0Kx", "1234567.89");
	CHECK_DEC("money:4", "$3d7", "1.2345");
	CHECK_DEC("crypto", "$3d7", "0.00012345");
	CHECK_DEC("money", "$-5", "-0.05");
	CHECK_DEC("money", "$??", "ERR");
	CHECK_DEC("money", "12.5", "12.5");
	CHECK_ENC_NUM("money", 19.99, "$wf");
	CHECK_ENC_NUM("money", 0, "$0");
	CHECK_ENC_NUM("money", 1234567.89, "$8m0Kx");
	CHECK_ENC_NUM("money:4", 1.2345, "$3d7");
	CHECK_ENC_NUM("crypto", 0.00012345, "$3d7");
	CHECK_DEC("decimal", "^jV", "12.35");
	CHECK_DEC("decimal", "^-5E", "-3.5");
	CHECK_DEC("decimal:4", "^8aI", "3.1416");
	CHECK_DEC("decimal", "^0", "0");
	CHECK_DEC("decimal", "^", "ERR");
	CHECK_ENC_NUM("decimal", 12.345, "^jV");
	CHECK_ENC_NUM("decimal", -3.5, "^-5E");
	CHECK_ENC_NUM("decimal:4", 3.14159, "^8aI");
	CHECK_ENC_NUM("decimal", 0, "^0");

	/* json / object / array */
	CHECK_DEC("json", "{\"a\":1}", "{\"a\":1}");
	CHECK_DEC("json", "already-string", "\"already-string\"");
	CHECK_DEC("json", "", "\"\"");
	CHECK_DEC("object", "{\"a\":1,\"b\":\"x\"}", "{\"a\":1,\"b\":\"x\"}");
	CHECK_DEC("object", "{}", "{}");
	CHECK_DEC("object", "{bad", "ERR");
	CHECK_DEC("array", "[1,\"a\",{\"b\":2}]", "[1,\"a\",{\"b\":2}]");
	CHECK_ENC_JSON("object", "{\"a\": 1, \"b\": \"x y\"}", "{\"a\":1,\"b\":\"x y\"}");
	CHECK_ENC_JSON("array", "[1, \"a\", {\"b\": 2}]", "[1,\"a\",{\"b\":2}]");
	CHECK_ENC_JSON("object", "{nope", "ERR");
	CHECK_ENC_STR("json", "already-string", "already-string");

	/* date: the JSON quotes come off */
	CHECK_DEC("date", "\"2024-01-15T10:20:30.000Z\"", "\"2024-01-15T10:20:30.000Z\"");
	CHECK_DEC("date", "2024-01-15", "\"2024-01-15\"");
	CHECK_ENC_STR("date", "2024-01-15T10:20:30.000Z", "\"2024-01-15T10:20:30.000Z\"");

	/* buffer */
	CHECK_DEC("buffer", "AQID", "\"AQID\"");
	{
		s3f_typeinfo t = ty("bits:16");
		s3f_val		v;
		s3s_error	err;

		CHECK(s3f_decode(&t, "/wA=", 4, NULL, &v, &err) == S3S_OK);
		CHECK(v.kind == S3F_BYTES && v.len == 2 && (unsigned char) v.str[0] == 0xFF && v.str[1] == 0);
		s3f_val_free(&v);
	}

	/* object-form scalars: String(v) */
	{
		s3f_typeinfo t;
		s3f_val		v;
		s3s_error	err;

		s3f_type_classify_object("{\"type\":\"number\",\"integer\":true}", &t);
		CHECK(s3f_decode(&t, "7", 1, NULL, &v, &err) == S3S_OK && v.kind == S3F_NUM && v.num == 7);
		s3f_val_free(&v);
		s3f_val_set_num(&v, 7, NULL);
		{
			char	   *o = NULL;

			CHECK(s3f_encode(&t, &v, NULL, &o, &err) == S3S_OK);
			CHECK_STREQ(o, "7");
			free(o);
		}
		s3f_val_free(&v);
		s3f_type_classify_object("{\"type\":\"boolean\"}", &t);
		CHECK(s3f_decode(&t, "false", 5, NULL, &v, &err) == S3S_OK && v.kind == S3F_BOOL && !v.b);
		s3f_val_free(&v);
		CHECK(s3f_decode(&t, "maybe", 5, NULL, &v, &err) == S3S_OK && v.kind == S3F_STR);
		s3f_val_free(&v);
	}

	/* text: z: payloads are inflated, plain text passes */
	CHECK_DEC("text", "plain words", "\"plain words\"");
	{
		char		big[300];
		char	   *e,
				   *d;

		memset(big, 'a', 299);
		big[299] = '\0';
		e = enc_str("text", big);
		CHECK(strncmp(e, "z:", 2) == 0 && strlen(e) < 100);
		d = dec("text", e);
		CHECK(d && strlen(d) == 301 && d[1] == 'a');
		free(e);
		free(d);
		e = enc_str("text", "z:looks-compressed");
		d = dec("text", e);
		CHECK_STREQ(d, "\"z:looks-compressed\"");
		free(e);
		free(d);
		CHECK_DEC("text", "z:notbase64deflate", "\"z:notbase64deflate\"");
	}
	/* nulls are written by the caller, not here */
	{
		s3f_val		n = {.kind = S3F_NULL};
		char	   *s = enc_val("string", &n);

		CHECK_STREQ(s, "ERR");
		free(s);
	}
}

static void
test_arrays(void)
{
	CHECK_DEC("array|items:string", "a|b", "[\"a\",\"b\"]");
	CHECK_DEC("array|items:string", "x\\|y|back\\\\slash", "[\"x|y\",\"back\\\\slash\"]");
	CHECK_DEC("array|items:string", "|", "[\"\",\"\"]");
	CHECK_DEC("array|items:string", "", "[]");
	CHECK_DEC("array|items:string", "admin|ops\\|dev", "[\"admin\",\"ops|dev\"]");
	CHECK_DEC("array|items:string", "trailing\\", "[\"trailing\\\\\"]");
	CHECK_ENC_JSON("array|items:string", "[\"a\",\"b\"]", "a|b");
	CHECK_ENC_JSON("array|items:string", "[\"x|y\",\"back\\\\slash\"]", "x\\|y|back\\\\slash");
	CHECK_ENC_JSON("array|items:string", "[\"\",\"\"]", "|");
	CHECK_ENC_JSON("array|items:string", "[]", "");
	CHECK_ENC_JSON("array|items:string", "[\"admin\",\"ops|dev\"]", "admin|ops\\|dev");
	CHECK_ENC_JSON("array|items:string", "[1, true]", "1|true");

	CHECK_DEC("array|items:number", "1|2.5|-3", "[1,2.5,-3]");
	CHECK_DEC("array|items:number", "1||2", "[1,null,2]");
	CHECK_DEC("array|items:number", "", "[]");
	CHECK_DEC("array|items:number", "1|%", "ERR");
	CHECK_ENC_JSON("array|items:number", "[1,2.5,-3]", "1|2.5|-3");
	CHECK_ENC_JSON("array|items:number", "[1,null,2]", "1||2");
	CHECK_ENC_JSON("array|items:number", "[\"x\"]", "ERR");
	CHECK_DEC("array|items:number|integer:true", "1|10|-5", "[1,62,-5]");
	CHECK_ENC_JSON("array|items:number|integer:true", "[1,62,-5]", "1|10|-5");
	CHECK_ENC_JSON("array|items:number|integer:true", "[1.5]", "ERR");

	CHECK_DEC("embedding", "^[q0U,-Q1O,1g2I]", "[0.1,-0.2,0.3]");
	CHECK_DEC("embedding:3", "^[0,4c92,-4c92]", "[0,1,-1]");
	CHECK_DEC("embedding", "^[]", "[]");
	CHECK_DEC("embedding", "", "[]");
	CHECK_DEC("embedding", "^[q0U,,1]", "[0.1,null,0.000001]");
	CHECK_DEC("embedding", "^q0U|^-Q1O", "[0.1,-0.2]");
	CHECK_DEC("embedding", "^[q0U", "ERR");
	CHECK_DEC("embedding", "^[q0U,??]", "ERR");
	CHECK_ENC_JSON("embedding", "[0.1,-0.2,0.3]", "^[q0U,-Q1O,1g2I]");
	CHECK_ENC_JSON("embedding", "[0,1,-1]", "^[0,4c92,-4c92]");
	CHECK_ENC_JSON("embedding", "[]", "^[]");
	CHECK_ENC_JSON("array|items:number|length:256", "[0.1]", "^[q0U]");
	{
		/* 256 values -> ^[0,3wU7,3Oy5,AI8,... (the spec's prefix) */
		s3f_val		a = {.kind = S3F_ARRAY};
		double		xs[] = {0, 0.912345, 0.876543, 0.041234};
		int			i;
		char	   *s;

		a.nitems = 256;
		a.items = calloc(256, sizeof(s3f_val));
		for (i = 0; i < 256; i++)
			s3f_val_set_num(&a.items[i], xs[i % 4], NULL);
		s = enc_val("array|items:number|length:256", &a);
		CHECK(s != NULL && strncmp(s, "^[0,", 4) == 0);
		free(s);
		s3f_val_free(&a);
	}
}

static void
test_special(void)
{
	CHECK_DEC("ip4", "wKgAAQ==", "\"192.168.0.1\"");
	CHECK_DEC("ip4", "CgAA/w==", "\"10.0.0.255\"");
	CHECK_DEC("ip4", "10.1.2.3", "\"10.1.2.3\"");
	CHECK_DEC("ip4", "garbage!", "ERR");
	CHECK_ENC_STR("ip4", "192.168.0.1", "wKgAAQ==");
	CHECK_ENC_STR("ip4", "10.0.0.255", "CgAA/w==");
	CHECK_ENC_STR("ip4", "300.0.0.1", "ERR");
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
	test_primitives();
	test_classify();
	test_scalars();
	test_arrays();
	test_special();
	test_secret();
	test_json_values();
	test_roundtrips();
	test_hostile();
	return unit_done();
}
