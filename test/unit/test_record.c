/*
 * test_record.c
 *		Objects to records (spec 4.1, 7, 8.2): metadata, every body shape,
 *		per-object maps, wanted attributes, nested containers, errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "format/catalog.h"
#include "format/record.h"

#define USERS_ATTRS \
	"'name':'string','email':'email','age':'number|integer:true','score':'number'," \
	"'active':'boolean','tags':'array|items:string'," \
	"'profile':{'city':'string','zip':'string|optional'},'bio':'string|optional'"

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

/* a catalog with the 4.1 attributes under every behavior, plus plugins */
static s3f_catalog *
load(void)
{
	char	   *t = J("{'resources':{"
					  "'over':{'versions':{'v1':{'attributes':{" USERS_ATTRS "},'behavior':'body-overflow'}}},"
					  "'only':{'versions':{'v1':{'attributes':{" USERS_ATTRS "},'behavior':'body-only'}}},"
					  "'user':{'versions':{'v1':{'attributes':{" USERS_ATTRS "}}}},"
					  "'trunc':{'versions':{'v1':{'attributes':{" USERS_ATTRS "},'behavior':'truncate-data'}}},"
					  "'enf':{'versions':{'v1':{'attributes':{" USERS_ATTRS "},'behavior':'enforce-limits'}}},"
					  "'plug':{'versions':{'v1':{'attributes':{'n':'string',"
					  "'_score':{'type':'number','__plugin__':'ScorePlugin'},"
					  "'_tag':'string'},'behavior':'body-overflow'}}}"
					  "}}");
	s3s_error	err;
	s3f_catalog *c = s3f_catalog_parse(t, strlen(t), &err);

	if (c == NULL)
		printf("# catalog: %s\n", err.message);
	free(t);
	return c;
}

static void
meta_of(s3s_meta *m, const char *const *kv)
{
	s3s_meta_init(m);
	for (; kv[0]; kv += 2)
		s3s_meta_add(m, kv[0], kv[1]);
}

static const s3f_val *
val(const s3f_resource *r, const s3f_record *rec, const char *path)
{
	const s3f_attr *a = s3f_resource_attr(r, path);

	return a ? &rec->vals[a - r->attrs] : NULL;
}

static int
is_str(const s3f_val *v, const char *s)
{
	int			ok = v && v->kind == S3F_STR && v->str && strcmp(v->str, s) == 0;

	if (!ok)
		printf("#   got kind %d '%s', want '%s'\n", v ? (int) v->kind : -1,
			   v && v->str ? v->str : "(null)", s);
	return ok;
}

static int
is_num(const s3f_val *v, double d)
{
	int			ok = v && v->kind == S3F_NUM && v->num == d;

	if (!ok)
		printf("#   got kind %d %g, want %g\n", v ? (int) v->kind : -1, v ? v->num : 0, d);
	return ok;
}

static int
is_json(const s3f_val *v, const char *s)
{
	int			ok = v && v->kind == S3F_JSON && v->str && strcmp(v->str, s) == 0;

	if (!ok)
		printf("#   got kind %d '%s', want '%s'\n", v ? (int) v->kind : -1,
			   v && v->str ? v->str : "(null)", s);
	return ok;
}

static int
is_kind(const s3f_val *v, s3f_kind k)
{
	return v && v->kind == k;
}

static s3s_code
decode(const s3f_resource *r, const char *id, const char *const *kv, const char *body,
	   const bool *wanted, s3f_record *rec, s3s_error *err)
{
	s3s_meta	m;
	s3s_code	rc;

	meta_of(&m, kv);
	rc = s3f_record_decode(r, id, &m, (const unsigned char *) body, body ? strlen(body) : 0,
						   body ? "application/json" : NULL, wanted, NULL, rec, err);
	s3s_meta_free(&m);
	return rc;
}

static void
test_worked_example(const s3f_catalog *c)
{
	const s3f_resource *r = s3f_catalog_find(c, "over");
	static const char *const alice[] = {
		"0", "u:Alice%20M%C3%BCller", "1", "alice@example.com", "2", "y", "3", "1A.6",
		"4", "1", "5", "admin|ops\\|dev", "6", "Berlin", "7", "10115", "_v", "v1", NULL};
	static const char *const bob[] = {
		"0", "Bob", "1", "bob@example.com", "2", "7", "3", "-1", "4", "0", "5", "",
		"6", "Rio", "_v", "v1", "_overflow", "true", NULL};
	s3f_record rec;
	s3s_error	err;
	const s3f_val *v;
	char	   *body;

	CHECK_INTEQ(decode(r, "alice", alice, NULL, NULL, &rec, &err), S3S_OK);
	CHECK_STREQ(rec.id, "alice");
	CHECK_STREQ(rec.version, "v1");
	CHECK(is_str(val(r, &rec, "name"), "Alice Müller"));
	CHECK(is_str(val(r, &rec, "email"), "alice@example.com"));
	CHECK(is_num(val(r, &rec, "age"), 34));
	CHECK(is_num(val(r, &rec, "score"), 98.6));
	v = val(r, &rec, "active");
	CHECK(v && v->kind == S3F_BOOL && v->b);
	v = val(r, &rec, "tags");
	CHECK(v && v->kind == S3F_ARRAY && v->nitems == 2 &&
		  is_str(&v->items[0], "admin") && is_str(&v->items[1], "ops|dev"));
	CHECK(is_str(val(r, &rec, "profile.city"), "Berlin"));
	CHECK(is_str(val(r, &rec, "profile.zip"), "10115"));
	CHECK(is_kind(val(r, &rec, "bio"), S3F_MISSING));
	CHECK(is_json(val(r, &rec, "profile"), "{\"city\":\"Berlin\",\"zip\":\"10115\"}"));
	CHECK_INTEQ(rec.nextra, 0);
	s3f_record_free(&rec);

	/* bob: bio in the body (stored string, no metadata string layer) */
	body = malloc(2100 + 16);
	strcpy(body, "{\"8\":\"");
	memset(body + 6, 'x', 2100);
	strcpy(body + 2106, "\"}");
	CHECK_INTEQ(decode(r, "bob", bob, body, NULL, &rec, &err), S3S_OK);
	v = val(r, &rec, "bio");
	CHECK(v && v->kind == S3F_STR && v->len == 2100 && v->str[0] == 'x' && v->str[2099] == 'x');
	CHECK(is_num(val(r, &rec, "age"), 7));
	CHECK(is_num(val(r, &rec, "score"), -1));
	v = val(r, &rec, "active");
	CHECK(v && v->kind == S3F_BOOL && !v->b);
	v = val(r, &rec, "tags");
	CHECK(v && v->kind == S3F_ARRAY && v->nitems == 0);
	CHECK(is_kind(val(r, &rec, "profile.zip"), S3F_MISSING));
	CHECK(is_json(val(r, &rec, "profile"), "{\"city\":\"Rio\"}"));
	s3f_record_free(&rec);
	free(body);
}

static void
test_bodies(const s3f_catalog *c)
{
	const s3f_resource *over = s3f_catalog_find(c, "over"),
			   *only = s3f_catalog_find(c, "only"),
			   *user = s3f_catalog_find(c, "user"),
			   *trunc = s3f_catalog_find(c, "trunc"),
			   *enf = s3f_catalog_find(c, "enf");
	s3f_record rec;
	s3s_error	err;
	const s3f_val *v;

	/* body-overflow body without the _overflow flag; logical JSON number */
	{
		static const char *const m[] = {"0", "Hand", "_v", "v1", NULL};

		CHECK_INTEQ(decode(over, "h1", m, "{\"1\":\"z@x.io\",\"3\":-1.25,\"4\":\"0\",\"5\":\"\"}",
						   NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(over, &rec, "name"), "Hand"));
		CHECK(is_str(val(over, &rec, "email"), "z@x.io"));
		CHECK(is_num(val(over, &rec, "score"), -1.25));
		v = val(over, &rec, "active");
		CHECK(v && v->kind == S3F_BOOL && !v->b);
		s3f_record_free(&rec);
	}
	/* metadata beats the body; body values are not metadata-decoded */
	{
		static const char *const m[] = {"0", "FromMeta", "_v", "v1", NULL};

		CHECK_INTEQ(decode(over, "h2", m, "{\"0\":\"FromBodyShort\",\"1\":\"u:abc\",\"8\":\"null\"}",
						   NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(over, &rec, "name"), "FromMeta"));
		CHECK(is_str(val(over, &rec, "email"), "u:abc"));
		CHECK(is_str(val(over, &rec, "bio"), "null"));
		s3f_record_free(&rec);
	}
	/* null and undefined in metadata; extras and junk */
	{
		static const char *const m[] = {"0", "null", "8", "undefined", "_v", "v1",
			"metadata_updatedat", "u:x%20y", "a", "Rio", "_contentlength", "12", "id", "h3",
			"_definitionhash", "sha256:1", NULL};

		CHECK_INTEQ(decode(over, "h3", m, NULL, NULL, &rec, &err), S3S_OK);
		CHECK(is_kind(val(over, &rec, "name"), S3F_NULL));
		CHECK(is_kind(val(over, &rec, "bio"), S3F_MISSING));
		CHECK_INTEQ(rec.nextra, 2);
		if (rec.nextra == 2)
		{
			CHECK_STREQ(rec.extra_keys[0], "metadata_updatedat");
			CHECK_STREQ(rec.extra_values[0], "x y");
			CHECK_STREQ(rec.extra_keys[1], "a");
		}
		CHECK(!rec.has_content);
		s3f_record_free(&rec);
	}
	/* body-only: short keys, _v member skipped; the object's own _map wins */
	{
		static const char *const m[] = {"_v", "v1", "_map",
			"{\"name\":\"5\",\"email\":\"1\",\"tags\":\"0\"}", NULL};
		static const char *const m2[] = {"_v", "v1", NULL};

		CHECK_INTEQ(decode(only, "b1", m, "{\"5\":\"Renamed\",\"1\":\"e@x\",\"0\":\"p|q\",\"_v\":\"v1\"}",
						   NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(only, &rec, "name"), "Renamed"));
		CHECK(is_str(val(only, &rec, "email"), "e@x"));
		v = val(only, &rec, "tags");
		CHECK(v && v->kind == S3F_ARRAY && v->nitems == 2);
		s3f_record_free(&rec);
		CHECK_INTEQ(decode(only, "b2", m2, "{\"0\":\"Hello\",\"2\":\"5\",\"_v\":\"v1\"}",
						   NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(only, &rec, "name"), "Hello"));
		CHECK(is_num(val(only, &rec, "age"), 5));
		s3f_record_free(&rec);
	}
	/* user-managed: insert overflow (short keys) and update body (full names) */
	{
		static const char *const m[] = {"_v", "v1", NULL};
		static const char *const m2[] = {"_v", "v1", "0", "Meta", NULL};

		CHECK_INTEQ(decode(user, "u1", m, "{\"0\":\"Short\",\"2\":\"G\",\"_v\":\"v1\"}",
						   NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(user, &rec, "name"), "Short"));
		CHECK(is_num(val(user, &rec, "age"), 42));
		s3f_record_free(&rec);
		CHECK_INTEQ(decode(user, "u2", m, "{\"name\":\"Raw\",\"age\":42,\"active\":true,"
						   "\"tags\":[\"x\",\"y\"],\"profile\":{\"city\":\"Oslo\"},"
						   "\"_contentLength\":2470,\"_lastModified\":{}}",
						   NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(user, &rec, "name"), "Raw"));
		CHECK(is_num(val(user, &rec, "age"), 42));
		v = val(user, &rec, "active");
		CHECK(v && v->kind == S3F_BOOL && v->b);
		v = val(user, &rec, "tags");
		CHECK(v && v->kind == S3F_ARRAY && v->nitems == 2 && is_str(&v->items[1], "y"));
		CHECK(is_str(val(user, &rec, "profile.city"), "Oslo"));
		CHECK(is_json(val(user, &rec, "profile"), "{\"city\":\"Oslo\"}"));
		s3f_record_free(&rec);
		/* metadata still wins over the full-name body */
		CHECK_INTEQ(decode(user, "u3", m2, "{\"name\":\"Body\"}", NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(user, &rec, "name"), "Meta"));
		s3f_record_free(&rec);
	}
	/* truncate-data and enforce-limits ignore the body */
	{
		static const char *const m[] = {"0", "short", "1", "", "_v", "v1", "_truncated", "true", NULL};

		CHECK_INTEQ(decode(trunc, "t1", m, "{\"0\":\"X\",\"8\":\"Y\"}", NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(trunc, &rec, "name"), "short"));
		CHECK(is_str(val(trunc, &rec, "email"), ""));
		CHECK(is_kind(val(trunc, &rec, "bio"), S3F_MISSING));
		s3f_record_free(&rec);
		CHECK_INTEQ(decode(enf, "e1", m, "{\"0\":\"X\",\"8\":\"Y\"}", NULL, &rec, &err), S3S_OK);
		CHECK(is_kind(val(enf, &rec, "bio"), S3F_MISSING));
		s3f_record_free(&rec);
	}
	/* binary content: the body is not fields */
	{
		static const char *const m[] = {"0", "C", "_v", "v1", "_hascontent", "true",
			"_mimetype", "text/plain", "_contentlength", "10", NULL};
		s3s_meta	mm;

		meta_of(&mm, m);
		CHECK_INTEQ(s3f_record_decode(over, "c1", &mm, (const unsigned char *) "{\"8\":\"Y\"}", 9,
									  "text/plain", NULL, NULL, &rec, &err), S3S_OK);
		CHECK(rec.has_content);
		CHECK_STREQ(rec.content_type, "text/plain");
		CHECK_INTEQ(rec.content_length, 10);
		CHECK(is_kind(val(over, &rec, "bio"), S3F_MISSING));
		s3f_record_free(&rec);
		/* non-JSON body without flags */
		CHECK_INTEQ(s3f_record_decode(over, "c2", &mm, (const unsigned char *) "\x89PNG\0\1", 6,
									  "image/png", NULL, NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(over, &rec, "name"), "C"));
		s3f_record_free(&rec);
		s3s_meta_free(&mm);
	}
}

static void
test_plugins(const s3f_catalog *c)
{
	const s3f_resource *r = s3f_catalog_find(c, "plug");
	s3f_record rec;
	s3s_error	err;
	const s3f_attr *a = s3f_resource_attr(r, "_score");

	CHECK(a != NULL && a->plugin && strcmp(a->key, "pnhj") == 0);
	{
		static const char *const m[] = {"0", "n1", "pnhj", "7", "_v", "v1", NULL};

		CHECK_INTEQ(decode(r, "p1", m, NULL, NULL, &rec, &err), S3S_OK);
		CHECK(!is_kind(val(r, &rec, "_score"), S3F_MISSING));
		s3f_record_free(&rec);
	}
	/* the object's _pluginmap: a string-defined plugin attribute under a p-key */
	{
		static const char *const m[] = {"0", "n1", "_v", "v1", "pabc", "hello",
			"_pluginmap", "{\"_tag\":\"pabc\"}", NULL};

		CHECK_INTEQ(decode(r, "p2", m, "{\"pxyz\":\"7\"}", NULL, &rec, &err), S3S_OK);
		CHECK(is_str(val(r, &rec, "_tag"), "hello"));
		CHECK_INTEQ(rec.nextra, 0);
		s3f_record_free(&rec);
	}
}

static void
test_wanted(const s3f_catalog *c)
{
	const s3f_resource *r = s3f_catalog_find(c, "over");
	static const char *const alice[] = {
		"0", "Alice", "2", "y", "6", "Berlin", "9", "{}", "_v", "v1", NULL};
	static const char *const empty[] = {"0", "E", "9", "{}", "_v", "v1", NULL};
	static const char *const bad[] = {"0", "Alice", "2", "!!", "_v", "v1", NULL};
	bool	   *w = calloc(r->nattrs, sizeof(bool));
	s3f_record rec;
	s3s_error	err;
	s3s_meta	m;
	const s3f_attr *age = s3f_resource_attr(r, "age"),
			   *prof = s3f_resource_attr(r, "profile");

	w[age - r->attrs] = true;
	CHECK_INTEQ(decode(r, "alice", alice, NULL, w, &rec, &err), S3S_OK);
	CHECK(is_num(val(r, &rec, "age"), 34));
	CHECK(is_kind(val(r, &rec, "name"), S3F_MISSING));
	CHECK(is_kind(val(r, &rec, "profile"), S3F_MISSING));
	s3f_record_free(&rec);

	/* a wanted container is assembled; its members stay out */
	w[age - r->attrs] = false;
	w[prof - r->attrs] = true;
	CHECK_INTEQ(decode(r, "alice", alice, NULL, w, &rec, &err), S3S_OK);
	CHECK(is_json(val(r, &rec, "profile"), "{\"city\":\"Berlin\"}"));
	CHECK(is_kind(val(r, &rec, "profile.city"), S3F_MISSING));
	s3f_record_free(&rec);
	CHECK_INTEQ(decode(r, "e", empty, NULL, w, &rec, &err), S3S_OK);
	CHECK(is_json(val(r, &rec, "profile"), "{}"));
	s3f_record_free(&rec);

	/* an unwanted bad value costs nothing; a wanted one is an error */
	CHECK_INTEQ(decode(r, "alice", bad, NULL, w, &rec, &err), S3S_OK);
	s3f_record_free(&rec);
	CHECK_INTEQ(decode(r, "alice", bad, NULL, NULL, &rec, &err), S3S_ERR_FORMAT);
	CHECK_STREQ(err.key, "alice");
	CHECK(strstr(err.message, "field \"age\" (number|integer:true): ") == err.message);
	printf("# %s\n", err.message);
	CHECK(rec.vals == NULL && rec.id == NULL);

	/* needs_body */
	meta_of(&m, alice);
	CHECK(!s3f_record_needs_body(r, &m, 0, NULL, NULL));
	CHECK(s3f_record_needs_body(r, &m, 100, "application/json", NULL));
	CHECK(!s3f_record_needs_body(r, &m, 100, "application/json", w));	/* profile: "{}" own key */
	w[prof - r->attrs] = false;
	w[age - r->attrs] = true;
	CHECK(!s3f_record_needs_body(r, &m, 100, "application/json", w));
	w[s3f_resource_attr(r, "bio") - r->attrs] = true;
	CHECK(s3f_record_needs_body(r, &m, 100, NULL, w));
	CHECK(!s3f_record_needs_body(r, &m, 100, "image/png", w));
	CHECK(!s3f_record_needs_body(s3f_catalog_find(c, "trunc"), &m, 100, "application/json", w));
	CHECK(!s3f_record_needs_body(s3f_catalog_find(c, "enf"), &m, 100, "application/json", NULL));
	CHECK(s3f_record_needs_body(s3f_catalog_find(c, "only"), &m, 100, NULL, w));
	s3s_meta_add(&m, "_hascontent", "true");
	CHECK(!s3f_record_needs_body(r, &m, 100, "application/json", w));
	s3s_meta_free(&m);
	CHECK(s3f_behavior_uses_body(S3F_B_USER_MANAGED));
	CHECK(!s3f_behavior_uses_body(S3F_B_TRUNCATE_DATA));
	free(w);
}

static void
test_hostile_bodies(const s3f_catalog *c)
{
	const s3f_resource *r = s3f_catalog_find(c, "user");
	static const char *const m[] = {"_v", "v1", "_pluginmap", "{bad", "_map", "[1]", NULL};
	const char *bodies[] = {
		"{", "{\"0\":", "[1,2]", "{\"0\":{\"a\":[1,{\"b\":null}]}}", "{\"profile\":{\"city\":{\"x\":1}}}",
		"{\"profile\":5}", "{\"profile\":{}}", "null", "{\"0\":null,\"name\":\"late\"}",
		"{\"profile\":{\"nope\":1,\"city\":null}}", "   {\"2\":true}  ", "{\"2\":\"zz!\"}"
	};
	int			i,
				bad = 0;
	s3f_record rec;
	s3s_error	err;

	for (i = 0; i < (int) (sizeof(bodies) / sizeof(bodies[0])); i++)
	{
		s3s_code	rc = decode(r, "x", m, bodies[i], NULL, &rec, &err);

		if (rc != S3S_OK && rc != S3S_ERR_FORMAT)
			bad++;
		if (i == 8 && rc == S3S_OK)
			CHECK(is_kind(val(r, &rec, "name"), S3F_NULL));
		if (i == 9 && rc == S3S_OK)
			CHECK(is_kind(val(r, &rec, "profile.city"), S3F_NULL) &&
				  is_json(val(r, &rec, "profile"), "{\"city\":null}"));
		s3f_record_free(&rec);
	}
	CHECK_INTEQ(bad, 0);
}

int
main(void)
{
	s3f_catalog *c = load();

	CHECK(c != NULL && c->nres == 6);
	if (c == NULL)
		return unit_done();
	test_worked_example(c);
	test_bodies(c);
	test_plugins(c);
	test_wanted(c);
	test_hostile_bodies(c);
	s3f_catalog_free(c);
	return unit_done();
}
