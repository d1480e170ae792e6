/*
 * test_codec.c
 *		Value codecs of spec 6.1-6.4 and Appendix A, first part: the
 *		primitives (JavaScript number text, base62/base36, fixed point),
 *		type classification, scalars and arrays, every example of the spec
 *		in both directions.  Special types, secrets, JSON values, random
 *		round trips and hostile inputs are in test_codec_more.c.
 */
#include <math.h>
#include <stdint.h>

#include "format/codec.h"
#include "format/codec_int.h"
#include "codec_util.h"
#include "unit.h"

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

int
main(void)
{
	test_primitives();
	test_classify();
	test_scalars();
	test_arrays();
	return unit_done();
}
