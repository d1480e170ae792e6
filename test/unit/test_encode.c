/*
 * test_encode.c
 *		Records to objects (spec 4.1, 6, 7, 11): the worked example, every
 *		behavior, every type round-tripped through s3f_record_decode, the
 *		metadata budget boundary, values that cannot live in metadata,
 *		validation and normalisation, binary content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "format/catalog.h"
#include "format/encode.h"
#include "format/record.h"

#define USERS_ATTRS \
	"'name':'string','email':'email','age':'number|integer:true','score':'number'," \
	"'active':'boolean','tags':'array|items:string'," \
	"'profile':{'city':'string','zip':'string|optional'},'bio':'string|optional'"

#define TYPES_ATTRS \
	"'s':'string|optional','n':'number|optional','i':'number|integer:true|optional'," \
	"'b':'boolean|optional','as':'array|items:string|optional'," \
	"'an':'array|items:number|optional','ai':'array|items:number|integer:true|optional'," \
	"'emb':'embedding:3|optional','aj':'array|optional','o':'object|optional'," \
	"'j':'json|optional','sec':'secret|optional','ip4':'ip4|optional','ip6':'ip6|optional'," \
	"'m':'money|optional','d':'decimal:2|optional','lat':'geo:lat|optional'," \
	"'lon':'geo:lon|optional','pt':'geo:point|optional','u':'uuid|optional'," \
	"'dt':'datetime|optional','do':'dateonly|optional','to':'timeonly|optional'," \
	"'mac':'mac|optional','cidr':'cidr|optional','sv':'semver|optional'," \
	"'ph':'phone|optional','col':'color|optional','dur':'duration|optional'," \
	"'ean':'ean|optional','buf':'buffer|optional','any':'any|optional'," \
	"'nest':{'x':'string|optional','y':'number|optional'}"

static char *
J(const char *s)
{
	char	   *d = strdup(s),
			   *p;

	for (p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static s3f_catalog *
load(void)
{
	char	   *t = J("{'resources':{"
					  "'over':{'versions':{'v1':{'attributes':{" USERS_ATTRS "},'behavior':'body-overflow'}}},"
					  "'user':{'versions':{'v1':{'attributes':{" USERS_ATTRS "}}}},"
					  "'t_user':{'versions':{'v1':{'attributes':{" TYPES_ATTRS "}}}},"
					  "'t_over':{'versions':{'v1':{'attributes':{" TYPES_ATTRS "},'behavior':'body-overflow'}}},"
					  "'t_only':{'versions':{'v1':{'attributes':{" TYPES_ATTRS "},'behavior':'body-only'}}},"
					  "'t_trunc':{'versions':{'v1':{'attributes':{" TYPES_ATTRS "},'behavior':'truncate-data'}}},"
					  "'t_enf':{'versions':{'v1':{'attributes':{" TYPES_ATTRS "},'behavior':'enforce-limits'}}},"
					  "'one_over':{'versions':{'v1':{'attributes':{'s':'string'},'behavior':'body-overflow'}}},"
					  "'one_user':{'versions':{'v1':{'attributes':{'s':'string'}}}},"
					  "'one_enf':{'versions':{'v1':{'attributes':{'s':'string'},'behavior':'enforce-limits'}}},"
					  "'two_trunc':{'versions':{'v1':{'attributes':{'a':'string','b':'string'},'behavior':'truncate-data'}}},"
					  "'rules':{'versions':{'v1':{'attributes':{'n':'number|min:1|max:10|optional',"
					  "'p':'number|positive:true|optional','k':'number|integer:true|optional',"
					  "'s':'string|min:2|max:4|optional','e':'string|enum:red,green|optional',"
					  "'mail':'email|optional','web':'url|optional','id':'uuid|optional',"
					  "'arr':'array|items:string|min:1|max:2|optional','mac':'mac|optional',"
					  "'col':'color|optional','dec':'decimal:2|optional','ip':'ip4|optional',"
					  "'req':'string','deep':{'r':'string','o':'string|optional'},"
					  "'of':{'type':'number','min':5,'optional':true}}}}},"
					  "'plug':{'versions':{'v1':{'attributes':{'n':'string',"
					  "'_score':{'type':'number','__plugin__':'ScorePlugin'}},'behavior':'body-overflow'}}}"
					  "}}");
	s3s_error	err;
	s3f_catalog *c = s3f_catalog_parse(t, strlen(t), &err);

	if (c == NULL)
		printf("# catalog: %s\n", err.message);
	free(t);
	return c;
}

/* ---- values ---- */

static s3f_val *
vals_new(const s3f_resource *r)
{
	return calloc(r->nattrs, sizeof(s3f_val));
}

static void
vals_free(const s3f_resource *r, s3f_val *v)
{
	int			i;

	for (i = 0; i < r->nattrs; i++)
		s3f_val_free(&v[i]);
	free(v);
}

static s3f_val *
slot(const s3f_resource *r, s3f_val *v, const char *path)
{
	const s3f_attr *a = s3f_resource_attr(r, path);

	if (a == NULL)
	{
		printf("# no attribute %s\n", path);
		exit(2);
	}
	s3f_val_free(&v[a - r->attrs]);
	return &v[a - r->attrs];
}

static void
set_str(const s3f_resource *r, s3f_val *v, const char *path, const char *s)
{
	s3f_val_set_str(slot(r, v, path), S3F_STR, s, strlen(s));
}

static void
set_json(const s3f_resource *r, s3f_val *v, const char *path, const char *s)
{
	char	   *t = J(s);

	s3f_val_set_str(slot(r, v, path), S3F_JSON, t, strlen(t));
	free(t);
}

static void
set_num(const s3f_resource *r, s3f_val *v, const char *path, double d, const char *txt)
{
	s3f_val_set_num(slot(r, v, path), d, txt);
}

static void
set_bool(const s3f_resource *r, s3f_val *v, const char *path, bool b)
{
	s3f_val    *s = slot(r, v, path);

	s->kind = S3F_BOOL;
	s->b = b;
}

static void
set_bytes(const s3f_resource *r, s3f_val *v, const char *path, const char *b, size_t n)
{
	s3f_val_set_str(slot(r, v, path), S3F_BYTES, b, n);
}

static const char *
meta(const s3f_object_out *o, const char *k)
{
	return s3s_meta_get(&o->meta, k);
}

/* decode what we encoded */
static s3s_code
roundtrip(const s3f_resource *r, const s3f_object_out *o, s3f_record *rec)
{
	s3s_error	err;
	s3s_code	rc = s3f_record_decode(r, "x", &o->meta, (const unsigned char *) o->body,
									   o->body_len, o->content_type, NULL, NULL, rec, &err);

	if (rc != S3S_OK)
		printf("# decode: %s\n", err.message);
	return rc;
}

static char *
json_of(const s3f_resource *r, const s3f_record *rec, const char *path)
{
	const s3f_attr *a = s3f_resource_attr(r, path);

	return s3f_val_to_json(&rec->vals[a - r->attrs]);
}

#define CHECK_FIELD(r, rec, path, want) do { \
	char *j_ = json_of(r, rec, path); CHECK_STREQ(j_, want); free(j_); } while (0)

/* ---- tests ---- */

static void
test_worked_example(const s3f_catalog *c)
{
	const s3f_resource *r = s3f_catalog_find(c, "over");
	s3f_val    *v = vals_new(r);
	s3f_object_out o;
	s3s_error	err;
	s3f_record	rec;
	char	   *bio;

	set_str(r, v, "name", "Alice Müller");
	set_str(r, v, "email", "alice@example.com");
	set_num(r, v, "age", 34, "34");
	set_num(r, v, "score", 98.6, "98.6");
	set_bool(r, v, "active", true);
	set_json(r, v, "tags", "['admin','ops|dev']");
	set_json(r, v, "profile", "{'city':'Berlin','zip':'10115'}");
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
	CHECK_STREQ(meta(&o, "0"), "u:Alice%20M%C3%BCller");
	CHECK_STREQ(meta(&o, "1"), "alice@example.com");
	CHECK_STREQ(meta(&o, "2"), "y");
	CHECK_STREQ(meta(&o, "3"), "1A.6");
	CHECK_STREQ(meta(&o, "4"), "1");
	CHECK_STREQ(meta(&o, "5"), "admin|ops\\|dev");
	CHECK_STREQ(meta(&o, "6"), "Berlin");
	CHECK_STREQ(meta(&o, "7"), "10115");
	CHECK_STREQ(meta(&o, "_v"), "v1");
	CHECK_INTEQ(o.meta.n, 9);
	CHECK(o.body == NULL && o.content_type == NULL);
	CHECK_INTEQ(roundtrip(r, &o, &rec), S3S_OK);
	CHECK_FIELD(r, &rec, "profile", "{\"city\":\"Berlin\",\"zip\":\"10115\"}");
	CHECK_FIELD(r, &rec, "tags", "[\"admin\",\"ops|dev\"]");
	s3f_record_free(&rec);
	s3f_object_out_free(&o);

	/* bob: bio of 2100 x goes to the body */
	set_str(r, v, "name", "Bob");
	set_str(r, v, "email", "bob@example.com");
	set_num(r, v, "age", 7, "7");
	set_num(r, v, "score", -1, "-1");
	set_bool(r, v, "active", false);
	set_json(r, v, "tags", "[]");
	set_json(r, v, "profile", "{'city':'Rio'}");
	bio = malloc(2101);
	memset(bio, 'x', 2100);
	bio[2100] = '\0';
	set_str(r, v, "bio", bio);
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
	CHECK_STREQ(meta(&o, "0"), "Bob");
	CHECK_STREQ(meta(&o, "2"), "7");
	CHECK_STREQ(meta(&o, "3"), "-1");
	CHECK_STREQ(meta(&o, "5"), "");
	CHECK_STREQ(meta(&o, "_overflow"), "true");
	CHECK(meta(&o, "8") == NULL && meta(&o, "7") == NULL);
	CHECK_STREQ(o.content_type, "application/json");
	CHECK_INTEQ(o.body_len, 2108);
	CHECK(o.body && strncmp(o.body, "{\"8\":\"xxx", 9) == 0);
	CHECK_INTEQ(roundtrip(r, &o, &rec), S3S_OK);
	{
		const s3f_val *b = &rec.vals[s3f_resource_attr(r, "bio") - r->attrs];

		CHECK(b->kind == S3F_STR && b->len == 2100);
	}
	s3f_record_free(&rec);
	s3f_object_out_free(&o);
	free(bio);
	vals_free(r, v);
}

/* every type under every behavior: encode, decode, compare */
static void
fill_types(const s3f_resource *r, s3f_val *v)
{
	set_str(r, v, "s", "  héllo wörld  ");
	set_num(r, v, "n", 98.6, "98.6");
	set_num(r, v, "i", -62, "-62");
	set_bool(r, v, "b", true);
	set_json(r, v, "as", "['a|b','c\\\\d','']");
	set_json(r, v, "an", "[1,2.5,-3]");
	set_json(r, v, "ai", "[1,62,-5]");
	set_json(r, v, "emb", "[0.1,-0.2,0.3]");
	set_json(r, v, "aj", "[1,'a',{'b':2}]");
	set_json(r, v, "o", "{'a':1,'b':'x'}");
	set_json(r, v, "j", "{'k':[1,2]}");
	set_str(r, v, "sec", "psst");
	set_str(r, v, "ip4", "192.168.0.1");
	set_str(r, v, "ip6", "2001:db8::1");
	set_num(r, v, "m", 19.99, "19.99");
	set_num(r, v, "d", 12.345, "12.345");
	set_num(r, v, "lat", -23.5, "-23.5");
	set_num(r, v, "lon", 46.25, "46.25");
	set_json(r, v, "pt", "{'latitude':10,'longitude':20}");
	set_str(r, v, "u", "550e8400-e29b-41d4-a716-446655440000");
	set_str(r, v, "dt", "2024-01-15T10:20:30.123Z");
	set_str(r, v, "do", "2024-01-15");
	set_str(r, v, "to", "13:45:30.500");
	set_str(r, v, "mac", "AA:BB:CC:DD:EE:FF");
	set_str(r, v, "cidr", "192.168.0.0/24");
	set_str(r, v, "sv", "1.2.3");
	set_str(r, v, "ph", "+5511987654321");
	set_str(r, v, "col", "#FF8800");
	set_str(r, v, "dur", "PT1H30M");
	set_str(r, v, "ean", "7891234567895");
	set_bytes(r, v, "buf", "\x01\x02\x00\xff", 4);
	set_str(r, v, "any", "anything");
	set_json(r, v, "nest", "{'x':'in','y':5}");
}

static void
check_types(const s3f_resource *r, const s3f_record *rec)
{
	CHECK_FIELD(r, rec, "s", "\"héllo wörld\"");
	CHECK_FIELD(r, rec, "n", "98.6");
	CHECK_FIELD(r, rec, "i", "-62");
	CHECK_FIELD(r, rec, "b", "true");
	CHECK_FIELD(r, rec, "as", "[\"a|b\",\"c\\\\d\",\"\"]");
	CHECK_FIELD(r, rec, "an", "[1,2.5,-3]");
	CHECK_FIELD(r, rec, "ai", "[1,62,-5]");
	CHECK_FIELD(r, rec, "emb", "[0.1,-0.2,0.3]");
	CHECK_FIELD(r, rec, "aj", "[1,\"a\",{\"b\":2}]");
	CHECK_FIELD(r, rec, "o", "{\"a\":1,\"b\":\"x\"}");
	CHECK_FIELD(r, rec, "j", "{\"k\":[1,2]}");
	CHECK_FIELD(r, rec, "sec", "\"psst\"");
	CHECK_FIELD(r, rec, "ip4", "\"192.168.0.1\"");
	CHECK_FIELD(r, rec, "ip6", "\"2001:db8::1\"");
	CHECK_FIELD(r, rec, "m", "19.99");
	CHECK_FIELD(r, rec, "d", "12.35");
	CHECK_FIELD(r, rec, "lat", "-23.5");
	CHECK_FIELD(r, rec, "lon", "46.25");
	CHECK_FIELD(r, rec, "pt", "{\"latitude\":10,\"longitude\":20}");
	CHECK_FIELD(r, rec, "u", "\"550e8400-e29b-41d4-a716-446655440000\"");
	CHECK_FIELD(r, rec, "dt", "\"2024-01-15T10:20:30.123Z\"");
	CHECK_FIELD(r, rec, "do", "\"2024-01-15\"");
	CHECK_FIELD(r, rec, "to", "\"13:45:30.500\"");
	CHECK_FIELD(r, rec, "mac", "\"aa:bb:cc:dd:ee:ff\"");
	CHECK_FIELD(r, rec, "cidr", "\"192.168.0.0/24\"");
	CHECK_FIELD(r, rec, "sv", "\"1.2.3\"");
	CHECK_FIELD(r, rec, "ph", "\"+5511987654321\"");
	CHECK_FIELD(r, rec, "col", "\"#ff8800\"");
	CHECK_FIELD(r, rec, "dur", "\"PT1H30M\"");
	CHECK_FIELD(r, rec, "ean", "\"7891234567895\"");
	CHECK_FIELD(r, rec, "buf", "\"AQIA/w==\"");
	CHECK_FIELD(r, rec, "any", "\"anything\"");
	CHECK_FIELD(r, rec, "nest.x", "\"in\"");
	CHECK_FIELD(r, rec, "nest.y", "5");
	CHECK_FIELD(r, rec, "nest", "{\"x\":\"in\",\"y\":5}");
}

static void
test_types(const s3f_catalog *c)
{
	static const char *const names[] = {"t_user", "t_over", "t_only", "t_trunc", "t_enf"};
	int			k;

	for (k = 0; k < 5; k++)
	{
		const s3f_resource *r = s3f_catalog_find(c, names[k]);
		s3f_val    *v = vals_new(r);
		s3f_object_out o;
		s3s_error	err;
		s3f_record	rec;

		printf("# behavior %s\n", s3f_behavior_name(r->behavior));
		fill_types(r, v);
		CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
		if (r->behavior == S3F_B_BODY_ONLY)
		{
			CHECK(o.body != NULL && strstr(o.body, "\"_v\":\"v1\"") != NULL);
			CHECK(meta(&o, "_map") != NULL && strstr(meta(&o, "_map"), "\"s\":\"0\"") != NULL);
			CHECK_INTEQ(o.meta.n, 2);
		}
		else
			CHECK(o.body == NULL);
		CHECK_INTEQ(roundtrip(r, &o, &rec), S3S_OK);
		check_types(r, &rec);
		s3f_record_free(&rec);
		s3f_object_out_free(&o);
		vals_free(r, v);
	}
}

/* our accounting: key + encoded value bytes, _v included, against 2047 */
static void
test_boundary(const s3f_catalog *c)
{
	const s3f_resource *over = s3f_catalog_find(c, "one_over"),
			   *user = s3f_catalog_find(c, "one_user"),
			   *enf = s3f_catalog_find(c, "one_enf");
	char	   *big = malloc(4000);
	s3f_val    *v = vals_new(over);
	s3f_object_out o;
	s3s_error	err;
	s3f_record	rec;
	s3f_write_opts opts = {0};

	/* "s" -> key "0": 1 + N + "_v" 2 + "v1" 2 <= 2047 -> N <= 2042 */
	memset(big, 'a', 2042);
	big[2042] = '\0';
	set_str(over, v, "s", big);
	CHECK_INTEQ(s3f_record_encode(over, v, NULL, &o, &err), S3S_OK);
	CHECK(meta(&o, "0") != NULL && o.body == NULL);
	s3f_object_out_free(&o);
	CHECK_INTEQ(s3f_record_encode(user, v, NULL, &o, &err), S3S_OK);
	CHECK(meta(&o, "0") != NULL && o.body == NULL);
	s3f_object_out_free(&o);
	CHECK_INTEQ(s3f_record_encode(enf, v, NULL, &o, &err), S3S_OK);
	s3f_object_out_free(&o);

	memset(big, 'a', 2043);
	big[2043] = '\0';
	set_str(over, v, "s", big);
	CHECK_INTEQ(s3f_record_encode(over, v, NULL, &o, &err), S3S_OK);
	CHECK(meta(&o, "0") == NULL && o.body != NULL);
	CHECK_STREQ(meta(&o, "_overflow"), "true");
	CHECK_INTEQ(roundtrip(over, &o, &rec), S3S_OK);
	CHECK(rec.vals[0].kind == S3F_STR && rec.vals[0].len == 2043);
	s3f_record_free(&rec);
	s3f_object_out_free(&o);

	/* user-managed: the whole record, _v included, to the body */
	CHECK_INTEQ(s3f_record_encode(user, v, NULL, &o, &err), S3S_OK);
	CHECK_INTEQ(o.meta.n, 1);
	CHECK_STREQ(meta(&o, "_v"), "v1");
	CHECK(o.body && strstr(o.body, "\"_v\":\"v1\"") && strncmp(o.body, "{\"0\":\"aaa", 9) == 0);
	CHECK_STREQ(o.content_type, "application/json");
	CHECK_INTEQ(roundtrip(user, &o, &rec), S3S_OK);
	CHECK(rec.vals[0].kind == S3F_STR && rec.vals[0].len == 2043);
	s3f_record_free(&rec);
	s3f_object_out_free(&o);

	CHECK_INTEQ(s3f_record_encode(enf, v, NULL, &o, &err), S3S_ERR_CONSTRAINT);
	CHECK_STREQ(err.s3_code, "check");
	CHECK(strstr(err.message, "2048") && strstr(err.message, "2047"));

	/* a custom limit */
	opts.metadata_limit = 100;
	CHECK_INTEQ(s3f_record_encode(enf, v, &opts, &o, &err), S3S_ERR_CONSTRAINT);
	CHECK(strstr(err.message, "limit of 100 bytes") != NULL);

	/* non-ASCII: counted as sent (u:/b: encoded), not as UTF-8 bytes */
	{
		char	   *e = malloc(2 * 700 + 1);
		int			i;

		for (i = 0; i < 700; i++)
			memcpy(e + 2 * i, "é", 2);
		e[1400] = '\0';
		set_str(over, v, "s", e);	/* 1400 UTF-8 bytes, b: form ~1870 -> fits */
		CHECK_INTEQ(s3f_record_encode(over, v, NULL, &o, &err), S3S_OK);
		CHECK(meta(&o, "0") != NULL && strncmp(meta(&o, "0"), "b:", 2) == 0);
		s3f_object_out_free(&o);
		for (i = 0; i < 700; i++)
			memcpy(e + 2 * i, "é", 2);
		e = realloc(e, 2 * 800 + 1);
		for (i = 0; i < 800; i++)
			memcpy(e + 2 * i, "é", 2);
		e[1600] = '\0';
		set_str(over, v, "s", e);	/* 1600 bytes, s3db.js would keep it; base64 2136 */
		CHECK_INTEQ(s3f_record_encode(over, v, NULL, &o, &err), S3S_OK);
		CHECK(meta(&o, "0") == NULL && o.body != NULL);
		CHECK_INTEQ(roundtrip(over, &o, &rec), S3S_OK);
		CHECK(rec.vals[0].kind == S3F_STR && strcmp(rec.vals[0].str, e) == 0);
		s3f_record_free(&rec);
		s3f_object_out_free(&o);
		free(e);
	}
	vals_free(over, v);
	free(big);
}

/* "null" / "undefined" texts cannot live in metadata */
static void
test_null_text(const s3f_catalog *c)
{
	static const char *const names[] = {"t_user", "t_over", "t_only"};
	int			k;

	for (k = 0; k < 3; k++)
	{
		const s3f_resource *r = s3f_catalog_find(c, names[k]);
		s3f_val    *v = vals_new(r);
		s3f_object_out o;
		s3s_error	err;
		s3f_record	rec;

		set_str(r, v, "s", "null");
		set_str(r, v, "any", "undefined");
		set_num(r, v, "n", 1.5, "1.5");
		set_num(r, v, "i", 5598187, "5598187");	/* base62 "null" */
		CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
		CHECK(o.body && strstr(o.body, "\"null\""));
		if (r->behavior != S3F_B_BODY_ONLY)
		{
			CHECK_STREQ(meta(&o, "_overflow"), "true");
			CHECK(meta(&o, "1") != NULL);	/* n stays in metadata */
		}
		CHECK_INTEQ(roundtrip(r, &o, &rec), S3S_OK);
		CHECK_FIELD(r, &rec, "s", "\"null\"");
		CHECK_FIELD(r, &rec, "any", "\"undefined\"");
		CHECK_FIELD(r, &rec, "n", "1.5");
		CHECK_FIELD(r, &rec, "i", "5598187");
		s3f_record_free(&rec);
		s3f_object_out_free(&o);
		vals_free(r, v);
	}
	{
		const s3f_resource *r = s3f_catalog_find(c, "t_trunc");
		s3f_val    *v = vals_new(r);
		s3f_object_out o;
		s3s_error	err;

		set_str(r, v, "s", "null");
		CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_ERR_CONSTRAINT);
		CHECK(strstr(err.message, "\"s\"") != NULL);
		vals_free(r, v);
	}
	/* explicit SQL NULL: the null literal, read back as null */
	{
		const s3f_resource *r = s3f_catalog_find(c, "t_over");
		s3f_val    *v = vals_new(r);
		s3f_object_out o;
		s3s_error	err;
		s3f_record	rec;

		slot(r, v, "s")->kind = S3F_NULL;
		CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
		CHECK_STREQ(meta(&o, "0"), "null");
		CHECK_INTEQ(roundtrip(r, &o, &rec), S3S_OK);
		CHECK(rec.vals[0].kind == S3F_NULL);
		CHECK(rec.vals[1].kind == S3F_MISSING);
		s3f_record_free(&rec);
		s3f_object_out_free(&o);
		vals_free(r, v);
	}
}

static void
test_truncate(const s3f_catalog *c)
{
	const s3f_resource *r = s3f_catalog_find(c, "two_trunc");
	s3f_val    *v = vals_new(r);
	s3f_object_out o;
	s3s_error	err;
	s3f_record	rec;
	char	   *big = malloc(3001);
	size_t		i;

	set_str(r, v, "a", "short");
	memset(big, 'L', 3000);
	big[3000] = '\0';
	set_str(r, v, "b", big);
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
	CHECK(o.truncated);
	CHECK_STREQ(meta(&o, "_truncated"), "true");
	CHECK_STREQ(meta(&o, "0"), "short");
	/* 2047 - _v(4) - _truncated(14) - "0"+short(6) - key "1"(1) = 2022 */
	CHECK(meta(&o, "1") != NULL && strlen(meta(&o, "1")) == 2022);
	{
		size_t		total = 0;

		for (i = 0; i < (size_t) o.meta.n; i++)
			total += strlen(o.meta.keys[i]) + strlen(o.meta.values[i]);
		CHECK_INTEQ(total, 2047);
	}
	CHECK(o.body == NULL);
	s3f_object_out_free(&o);

	/* cut at a UTF-8 boundary, encoded size counted */
	for (i = 0; i + 2 <= 3000; i += 2)
		memcpy(big + i, "ü", 2);
	big[3000] = '\0';
	set_str(r, v, "b", big);
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
	CHECK(meta(&o, "1") != NULL && strlen(meta(&o, "1")) <= 2022);
	CHECK_INTEQ(roundtrip(r, &o, &rec), S3S_OK);
	CHECK(rec.vals[1].kind == S3F_STR && rec.vals[1].len > 1000 &&
		  rec.vals[1].len % 2 == 0 && strncmp(rec.vals[1].str, big, rec.vals[1].len) == 0);
	s3f_record_free(&rec);
	s3f_object_out_free(&o);

	/* two big fields: the smaller is cut, the other dropped */
	memset(big, 'A', 3000);
	set_str(r, v, "a", big);
	big[2999] = '\0';
	memset(big, 'B', 2999);
	set_str(r, v, "b", big);
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
	CHECK(meta(&o, "1") != NULL && meta(&o, "1")[0] == 'B');
	CHECK(meta(&o, "0") == NULL);
	s3f_object_out_free(&o);
	vals_free(r, v);
	free(big);
}

static void
expect_check(const s3f_resource *r, s3f_val *v, const char *code, const char *needle)
{
	s3f_object_out o;
	s3s_error	err;
	s3s_code	rc = s3f_record_encode(r, v, NULL, &o, &err);

	CHECK_INTEQ(rc, S3S_ERR_CONSTRAINT);
	CHECK_STREQ(err.s3_code, code);
	CHECK(strstr(err.message, needle) != NULL);
	if (strstr(err.message, needle) == NULL)
		printf("#   message: %s\n", err.message);
	if (rc == S3S_OK)
		s3f_object_out_free(&o);
}

static void
test_validation(const s3f_catalog *c)
{
	const s3f_resource *r = s3f_catalog_find(c, "rules");
	s3f_val    *v = vals_new(r);
	s3f_object_out o;
	s3s_error	err;
	s3f_record	rec;

	expect_check(r, v, "not_null", "field \"req\" is required");
	set_str(r, v, "req", "ok");
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);	/* deep is optional */
	s3f_object_out_free(&o);
	set_json(r, v, "deep", "{'o':'x'}");
	expect_check(r, v, "not_null", "field \"deep.r\" is required");
	set_str(r, v, "deep.r", "given");
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);	/* leaf wins */
	s3f_object_out_free(&o);
	slot(r, v, "deep.r")->kind = S3F_MISSING;
	slot(r, v, "deep");

	set_num(r, v, "n", 0, "0");
	expect_check(r, v, "check", "\"n\" must be at least 1");
	set_num(r, v, "n", 11, "11");
	expect_check(r, v, "check", "at most 10");
	set_num(r, v, "n", 5, "5");
	set_num(r, v, "p", -1, "-1");
	expect_check(r, v, "check", "\"p\" must be positive");
	slot(r, v, "p");
	set_num(r, v, "k", 1.5, "1.5");
	expect_check(r, v, "check", "\"k\" must be an integer");
	slot(r, v, "k");
	set_str(r, v, "s", "abcde");
	expect_check(r, v, "check", "\"s\" must be at most 4 characters");
	set_str(r, v, "s", "  é  ");
	expect_check(r, v, "check", "at least 2 characters");	/* trimmed first */
	set_str(r, v, "s", "ab");
	set_str(r, v, "e", "blue");
	expect_check(r, v, "check", "one of red,green");
	set_str(r, v, "e", "green");
	set_str(r, v, "mail", "not-an-email");
	expect_check(r, v, "check", "\"mail\" must be a valid e-mail");
	set_str(r, v, "mail", " a@b.io ");
	set_str(r, v, "web", "ftp://x.y");
	expect_check(r, v, "check", "\"web\" must be a valid url");
	set_str(r, v, "web", "https://example.com/a?b=1");
	set_str(r, v, "id", "550e8400-e29b-41d4-c716-446655440000");
	expect_check(r, v, "check", "\"id\" must be a valid uuid");
	set_str(r, v, "id", "550e8400-e29b-41d4-a716-446655440000");
	set_json(r, v, "arr", "[]");
	expect_check(r, v, "check", "at least 1 items");
	set_json(r, v, "arr", "['a','b','c']");
	expect_check(r, v, "check", "at most 2 items");
	set_json(r, v, "arr", "['a']");
	set_str(r, v, "ip", "300.1.1.1");
	expect_check(r, v, "check", "\"ip\" must be a valid ipv4");
	set_str(r, v, "ip", "10.0.0.1");
	set_num(r, v, "of", 4, "4");
	expect_check(r, v, "check", "\"of\" must be at least 5");
	set_num(r, v, "of", 6, "6");
	set_str(r, v, "mac", "AA:BB:CC:DD:EE:0F");
	set_str(r, v, "col", "#ABCDEF");
	set_num(r, v, "dec", 1.006, "1.006");
	set_num(r, v, "n", -0.0, "-0");
	set_num(r, v, "n", 3, "3");
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
	if (o.meta.n == 0)
		printf("# %s\n", err.message);
	CHECK_INTEQ(roundtrip(r, &o, &rec), S3S_OK);
	CHECK_FIELD(r, &rec, "mail", "\"a@b.io\"");
	CHECK_FIELD(r, &rec, "mac", "\"aa:bb:cc:dd:ee:0f\"");
	CHECK_FIELD(r, &rec, "col", "\"#abcdef\"");
	CHECK_FIELD(r, &rec, "dec", "1.01");
	s3f_record_free(&rec);
	s3f_object_out_free(&o);

	/* normalize exposes the same values; -0 becomes 0 */
	{
		s3f_val    *nv = vals_new(r);

		set_num(r, v, "n", -0.0, "-0");
		set_num(r, v, "p", -0.0, "-0");
		CHECK_INTEQ(s3f_record_normalize(r, v, nv, &err), S3S_ERR_CONSTRAINT);	/* n >= 1 */
		slot(r, v, "n");
		slot(r, v, "p");
		set_num(r, v, "k", -0.0, "-0");
		CHECK_INTEQ(s3f_record_normalize(r, v, nv, &err), S3S_OK);
		{
			char	   *j = s3f_val_to_json(&nv[s3f_resource_attr(r, "k") - r->attrs]);

			CHECK_STREQ(j, "0");
			free(j);
		}
		s3f_vals_free(nv, r->nattrs);
		free(nv);
	}
	vals_free(r, v);
}

static void
test_plugin_and_content(const s3f_catalog *c)
{
	const s3f_resource *r = s3f_catalog_find(c, "plug");
	const s3f_resource *u = s3f_catalog_find(c, "user");
	s3f_val    *v = vals_new(r);
	s3f_object_out o;
	s3s_error	err;
	s3f_record	rec;

	set_str(r, v, "n", "x");
	set_num(r, v, "_score", 7, "7");
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
	CHECK_STREQ(meta(&o, "_pluginmap"), "{\"_score\":\"pnhj\"}");
	CHECK_STREQ(meta(&o, "pnhj"), "7");
	s3f_object_out_free(&o);
	vals_free(r, v);

	v = vals_new(u);
	set_str(u, v, "name", "Cid");
	set_str(u, v, "email", "c@d.ef");
	set_num(u, v, "age", 1, "1");
	set_num(u, v, "score", 2, "2");
	set_bool(u, v, "active", true);
	set_json(u, v, "tags", "[]");
	set_json(u, v, "profile", "{'city':'Oslo'}");
	CHECK_INTEQ(s3f_record_encode_content(u, v, (const unsigned char *) "hello", 5,
										  "text/plain", NULL, &o, &err), S3S_OK);
	CHECK_STREQ(meta(&o, "_hascontent"), "true");
	CHECK_STREQ(meta(&o, "_mimetype"), "d:T");
	CHECK_STREQ(meta(&o, "_contentlength"), "5");
	CHECK_STREQ(meta(&o, "0"), "Cid");
	CHECK_STREQ(o.content_type, "text/plain");
	CHECK(o.body_len == 5 && memcmp(o.body, "hello", 5) == 0);
	CHECK_INTEQ(roundtrip(u, &o, &rec), S3S_OK);
	CHECK(rec.has_content);
	CHECK_STREQ(rec.content_type, "text/plain");
	CHECK_FIELD(u, &rec, "profile.city", "\"Oslo\"");
	s3f_record_free(&rec);
	s3f_object_out_free(&o);
	CHECK_INTEQ(s3f_record_encode_content(u, v, NULL, 0, NULL, NULL, &o, &err), S3S_OK);
	CHECK_STREQ(o.content_type, "application/octet-stream");
	CHECK_STREQ(meta(&o, "_mimetype"), "d:o");
	s3f_object_out_free(&o);
	/* empty nested object is stored as {} under the container's key */
	set_json(u, v, "profile", "{}");
	slot(u, v, "profile.city");
	CHECK_INTEQ(s3f_record_encode(u, v, NULL, &o, &err), S3S_ERR_CONSTRAINT);	/* city required */
	vals_free(u, v);
}

static void
test_empty_container(void)
{
	char	   *t = J("{'resources':{'e':{'versions':{'v1':{'attributes':{'a':'string',"
					  "'p':{'q':'string|optional'}}}}}}}");
	s3s_error	err;
	s3f_catalog *c = s3f_catalog_parse(t, strlen(t), &err);
	const s3f_resource *r = s3f_catalog_find(c, "e");
	s3f_val    *v = vals_new(r);
	s3f_object_out o;
	s3f_record	rec;

	set_str(r, v, "a", "x");
	set_json(r, v, "p", "{}");
	CHECK_INTEQ(s3f_record_encode(r, v, NULL, &o, &err), S3S_OK);
	CHECK_STREQ(meta(&o, "2"), "{}");
	CHECK_INTEQ(roundtrip(r, &o, &rec), S3S_OK);
	CHECK_FIELD(r, &rec, "p", "{}");
	s3f_record_free(&rec);
	s3f_object_out_free(&o);
	vals_free(r, v);
	s3f_catalog_free(c);
	free(t);
}

int
main(void)
{
	s3f_catalog *c = load();

	CHECK(c != NULL);
	if (c == NULL)
		return unit_done();
	test_worked_example(c);
	test_types(c);
	test_boundary(c);
	test_null_text(c);
	test_truncate(c);
	test_validation(c);
	test_plugin_and_content(c);
	test_empty_container();
	s3f_catalog_free(c);
	return unit_done();
}
