/*
 * test_catalog_write.c
 *		Creating and redefining resources in s3db.json (spec 3.2-3.4, 5.1):
 *		document shape, hash, versions, registry growth and burned indices,
 *		preservation of what we do not own, and the update on memory://,
 *		file:// and (with S3DB_TEST_S3_URL) S3 under the metadata lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "format/catalog.h"
#include "format/encode.h"
#include "store/store_int.h"

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

static char *
put(const char *cat, const char *name, const char *attrs, const char *behavior,
	const char *parts, bool ts, s3s_code want)
{
	char	   *a = J(attrs),
			   *p = parts ? J(parts) : NULL,
			   *out = NULL;
	s3s_error	err;
	s3s_code	rc = s3f_catalog_put_resource(cat, cat ? strlen(cat) : 0, name, a, behavior,
											  p, ts, 0, &out, &err);

	if (rc != want)
		printf("# put_resource: %d %s\n", rc, err.message);
	CHECK_INTEQ(rc, want);
	free(a);
	free(p);
	return out;
}

static const char *
key_of(const s3f_resource *r, const char *path)
{
	const s3f_attr *a = s3f_resource_attr(r, path);

	return a ? a->key : NULL;
}

static int
count(const char *hay, const char *needle)
{
	int			n = 0;

	while ((hay = strstr(hay, needle)) != NULL)
	{
		n++;
		hay++;
	}
	return n;
}

static void
test_evolution(void)
{
	s3s_error	err;
	s3f_catalog *c;
	const s3f_resource *r;
	char	   *t1,
			   *t2,
			   *t3,
			   *t4,
			   *t5;

	/* a new resource in a blank catalog; spec 3.3's hash */
	t1 = put(NULL, "users", "{'name':'string','age':'number','active':'boolean'}", NULL, NULL,
			 false, S3S_OK);
	{
		static const char head[] = "{\n  \"version\": \"1\",\n  \"s3dbVersion\": \"21.6.2\",\n"
			"  \"lastUpdated\": \"20";

		CHECK(t1 && strncmp(t1, head, strlen(head)) == 0);
	}
	CHECK(t1 && t1[strlen(t1) - 1] == '}');
	CHECK(strstr(t1, "\"resources\": {\n    \"users\": {\n      \"currentVersion\": \"v1\",\n"
				 "      \"partitions\": {},\n      \"createdBy\": \"user\",\n"
				 "      \"versions\": {\n        \"v1\": {\n          \"hash\": "
				 "\"sha256:cc6c2f43ebd8465c3b359f90e1ae462cf429968ce135d5defd48f46c9755f6c4\",\n"
				 "          \"attributes\": {\n            \"name\": \"string\",") != NULL);
	CHECK(strstr(t1, "\"behavior\": \"user-managed\",\n          \"timestamps\": false,\n"
				 "          \"partitions\": {},\n          \"paranoid\": true,\n"
				 "          \"allNestedObjectsOptional\": true,\n          \"autoDecrypt\": true,\n"
				 "          \"cache\": false,\n          \"hooks\": {},\n          \"idSize\": 22,\n"
				 "          \"idGenerator\": \"default\",\n          \"createdAt\": \"20") != NULL);
	CHECK(strstr(t1, "\"schemaRegistry\": {\n        \"nextIndex\": 3,\n        \"mapping\": {\n"
				 "          \"name\": 0,\n          \"age\": 1,\n          \"active\": 2\n        },\n"
				 "        \"burned\": []\n      },\n      \"pluginSchemaRegistry\": {}\n") != NULL);
	c = s3f_catalog_parse(t1, strlen(t1), &err);
	CHECK(c != NULL);
	r = c ? s3f_catalog_find(c, "users") : NULL;
	CHECK(r && strcmp(r->current_version, "v1") == 0 && r->nversions == 1);
	CHECK_STREQ(r ? r->hash : NULL,
				"sha256:cc6c2f43ebd8465c3b359f90e1ae462cf429968ce135d5defd48f46c9755f6c4");
	s3f_catalog_free(c);

	/* same definition: no new version */
	t2 = put(t1, "users", "{'name':'string','age':'number','active':'boolean'}", "user-managed",
			 NULL, false, S3S_OK);
	CHECK(t2 && strstr(t2, "\"v2\"") == NULL);

	/* add an attribute: v2, registry extended */
	t3 = put(t2, "users", "{'name':'string','age':'number','active':'boolean','email':'email'}",
			 "body-overflow", NULL, false, S3S_OK);
	c = s3f_catalog_parse(t3, strlen(t3), &err);
	r = c ? s3f_catalog_find(c, "users") : NULL;
	CHECK(r && strcmp(r->current_version, "v2") == 0 && r->nversions == 2);
	CHECK(r && r->behavior == S3F_B_BODY_OVERFLOW);
	CHECK_STREQ(key_of(r, "email"), "3");
	CHECK_STREQ(key_of(r, "age"), "1");
	CHECK_INTEQ(r ? r->next_index : -1, 4);
	s3f_catalog_free(c);
	CHECK(count(t3, "\"hash\"") == 2);	/* v1 kept */

	/* remove one: burned */
	t4 = put(t3, "users", "{'name':'string','active':'boolean','email':'email'}",
			 "body-overflow", NULL, false, S3S_OK);
	CHECK(strstr(t4, "\"burned\": [\n          {\n            \"index\": 1,\n"
				 "            \"attribute\": \"age\",\n            \"burnedAt\": \"20") != NULL);
	CHECK(strstr(t4, "\"reason\": \"removed\"") != NULL);
	c = s3f_catalog_parse(t4, strlen(t4), &err);
	r = c ? s3f_catalog_find(c, "users") : NULL;
	CHECK(r && strcmp(r->current_version, "v3") == 0);
	CHECK(r && r->nburned == 1 && strcmp(r->burned[0].key, "1") == 0);
	CHECK(key_of(r, "age") == NULL);
	s3f_catalog_free(c);

	/* re-add it: a new index, never the burned one */
	t5 = put(t4, "users", "{'name':'string','active':'boolean','email':'email','age':'number'}",
			 "body-overflow", NULL, false, S3S_OK);
	c = s3f_catalog_parse(t5, strlen(t5), &err);
	r = c ? s3f_catalog_find(c, "users") : NULL;
	CHECK(r && strcmp(r->current_version, "v4") == 0 && r->nversions == 4);
	CHECK_STREQ(key_of(r, "age"), "4");
	CHECK_STREQ(key_of(r, "name"), "0");
	CHECK_INTEQ(r ? r->next_index : -1, 5);
	s3f_catalog_free(c);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
	free(t5);
}

static void
test_preserve_and_options(void)
{
	char	   *orig = J("{'version':'1','s3dbVersion':'21.2.10','lastUpdated':'x','custom':[1,2.5,{}],"
						 "'resources':{'other':{'currentVersion':'v1','weird':{'k':null},"
						 "'versions':{'v1':{'attributes':{'a':'string','b':{'c':'number'}},"
						 "'hash':'sha256:abc','extra':true}}},"
						 "'legacy':{'currentVersion':'v1','versions':{'v1':{'attributes':"
						 "{'x':'string','y':'number'},'hash':'sha256:old'}}}}}");
	char	   *t;
	s3s_error	err;
	s3f_catalog *c;
	const s3f_resource *r;

	t = put(orig, "mine", "{'s':'string'}", "body-only",
			"{'byS':{'fields':{'s':'string|maxlength:2'}}}", true, S3S_OK);
	CHECK(strstr(t, "\"custom\": [\n    1,\n    2.5,\n    {}\n  ]") != NULL);
	CHECK(strstr(t, "\"weird\": {\n        \"k\": null\n      }") != NULL);
	CHECK(strstr(t, "\"extra\": true") != NULL);
	CHECK(strstr(t, "\"s3dbVersion\": \"21.6.2\"") != NULL);
	CHECK(strstr(t, "\"createdAt\": \"datetime|optional\"") != NULL);
	CHECK(strstr(t, "\"byCreatedDate\": {\n") != NULL);
	c = s3f_catalog_parse(t, strlen(t), &err);
	r = c ? s3f_catalog_find(c, "mine") : NULL;
	CHECK(r && r->timestamps && r->behavior == S3F_B_BODY_ONLY && r->nparts == 3);
	CHECK_STREQ(key_of(r, "createdAt"), "1");
	r = c ? s3f_catalog_find(c, "other") : NULL;
	CHECK(r && strcmp(r->hash, "sha256:abc") == 0 && r->nattrs == 3);
	s3f_catalog_free(c);
	free(t);

	/* a resource without a registry: seeded from its current version */
	t = put(orig, "legacy", "{'y':'number','z':'string'}", NULL, NULL, false, S3S_OK);
	c = s3f_catalog_parse(t, strlen(t), &err);
	r = c ? s3f_catalog_find(c, "legacy") : NULL;
	CHECK(r && strcmp(r->current_version, "v2") == 0);
	CHECK_STREQ(key_of(r, "y"), "1");
	CHECK_STREQ(key_of(r, "z"), "2");
	CHECK(r && r->nburned == 1 && strcmp(r->burned[0].attribute, "x") == 0);
	s3f_catalog_free(c);
	free(t);

	CHECK(put(orig, "bad", "{'a':'string'}", "sideways", NULL, false, S3S_ERR_INVALID) == NULL);
	CHECK(put(orig, "a/b", "{'a':'string'}", NULL, NULL, false, S3S_ERR_INVALID) == NULL);
	CHECK(put(orig, "e", "{}", NULL, NULL, false, S3S_ERR_INVALID) == NULL);
	CHECK(put("{nope", "e", "{'a':'string'}", NULL, NULL, false, S3S_ERR_FORMAT) == NULL);
	free(orig);
}

static void
test_store(const char *url)
{
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *st;
	s3s_object	o;
	s3f_catalog *c;
	const s3f_resource *r;
	char	   *a1 = J("{'name':'string'}"),
			   *a2 = J("{'name':'string','n':'number'}");

	s3s_config_init(&cfg);
	cfg.url = url;
	st = s3s_open(&cfg, &err);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	printf("# store %s\n", s3s_store_describe(st));
	CHECK_INTEQ(s3f_catalog_update(st, "people", a1, NULL, NULL, false, 10, &err), S3S_OK);
	CHECK_INTEQ(s3f_catalog_update(st, "pets", a1, "body-overflow", NULL, false, 0, &err), S3S_OK);
	CHECK_INTEQ(s3f_catalog_update(st, "people", a2, NULL, NULL, false, 10, &err), S3S_OK);
	memset(&o, 0, sizeof(o));
	CHECK_INTEQ(s3s_get(st, "s3db.json", &o, &err), S3S_OK);
	CHECK_STREQ(o.content_type, "application/json");
	c = s3f_catalog_parse((const char *) o.body, o.body_len, &err);
	r = c ? s3f_catalog_find(c, "people") : NULL;
	CHECK(r && strcmp(r->current_version, "v2") == 0 && r->id_size == 10);
	CHECK_STREQ(key_of(r, "n"), "1");
	CHECK(c && s3f_catalog_find(c, "pets") != NULL);
	s3f_catalog_free(c);
	s3s_object_free(&o);
	/* the metadata lock is gone */
	memset(&o, 0, sizeof(o));
	CHECK_INTEQ(s3s_head(st, "plugin=s3db-core/locks/namespace=metadata/s3db-metadata.json",
						 &o, &err), S3S_ERR_NOT_FOUND);
	s3s_object_free(&o);
	s3s_close(st);
	free(a1);
	free(a2);
}

int
main(void)
{
	char		dir[] = "/tmp/s3db_cat_XXXXXX";
	const char *s3url = getenv("S3DB_TEST_S3_URL");

	test_evolution();
	test_preserve_and_options();
	test_store("memory://catalog/t");
	s3s_memory_reset_all();
	if (mkdtemp(dir) != NULL)
	{
		char		url[300],
					cmd[400];

		snprintf(url, sizeof(url), "file://%s", dir);
		test_store(url);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	if (s3url && s3url[0])
	{
		char		url[600];
		unsigned char rnd[4];

		/* a fresh key prefix, so the test never touches a real catalog */
		s3s_random_bytes(rnd, sizeof(rnd));
		snprintf(url, sizeof(url), "%s%scat%02x%02x%02x%02x", s3url,
				 s3url[strlen(s3url) - 1] == '/' ? "" : "/", rnd[0], rnd[1], rnd[2], rnd[3]);
		test_store(url);
	}
	else
		printf("# S3DB_TEST_S3_URL not set: S3 catalog tests skipped\n");
	return unit_done();
}
