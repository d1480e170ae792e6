/*
 * test_catalog.c
 *		s3db.json parsing, the attribute map, ICU order, the definition hash
 *		and hostile catalogs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "format/catalog.h"
#include "format/record.h"

/* JSON written with single quotes, for readability */
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
parse_j(const char *s, s3s_error *err)
{
	char	   *t = J(s);
	s3f_catalog *c = s3f_catalog_parse(t, strlen(t), err);

	free(t);
	return c;
}

static const char *
key_of(const s3f_resource *r, const char *path)
{
	const s3f_attr *a = s3f_resource_attr(r, path);

	return a ? a->key : "(no attr)";
}

static void
test_icu(void)
{
	const char *sorted[] = {"_x", "A", "a_b", "a.b", "a1", "ab", "alpha", "B", "beta_x", "Zed"};
	int			i,
				ok = 1;

	for (i = 0; i + 1 < 10; i++)
		if (s3f_icu_compare(sorted[i], sorted[i + 1]) >= 0)
		{
			printf("# not ordered: %s %s\n", sorted[i], sorted[i + 1]);
			ok = 0;
		}
	CHECK(ok);
	for (i = 0; i + 1 < 10; i++)
		if (s3f_icu_compare(sorted[i + 1], sorted[i]) <= 0)
			ok = 0;
	CHECK(ok);
	CHECK(s3f_icu_compare("a-b", "ab") < 0);
	CHECK(s3f_icu_compare("a", "A") < 0);
	CHECK(s3f_icu_compare("aB", "Ab") < 0);
	CHECK(s3f_icu_compare("region", "status") < 0);
	CHECK(s3f_icu_compare("same", "same") == 0);
	CHECK(s3f_icu_compare("", "a") < 0);
	CHECK(s3f_icu_compare("z", "\xc3\xa9") < 0);	/* non-ASCII after ASCII */
}

static void
test_hash(void)
{
	char	   *h;

	h = s3f_definition_hash("{\"name\":\"string\",\"age\":\"number\",\"active\":\"boolean\"}",
							"user-managed", NULL, false);
	CHECK_STREQ(h, "sha256:cc6c2f43ebd8465c3b359f90e1ae462cf429968ce135d5defd48f46c9755f6c4");
	free(h);
	/* defaults: behavior user-managed, partitions {} */
	h = s3f_definition_hash("{\"active\":\"boolean\",\"age\":\"number\",\"name\":\"string\"}",
							NULL, "{}", false);
	CHECK_STREQ(h, "sha256:cc6c2f43ebd8465c3b359f90e1ae462cf429968ce135d5defd48f46c9755f6c4");
	free(h);
	/* timestamps drop createdAt/updatedAt */
	h = s3f_definition_hash("{\"name\":\"string\",\"createdAt\":\"datetime|optional\",\"age\":\"number\","
							"\"updatedAt\":\"datetime|optional\",\"active\":\"boolean\"}",
							"user-managed", NULL, true);
	CHECK_STREQ(h, "sha256:cc6c2f43ebd8465c3b359f90e1ae462cf429968ce135d5defd48f46c9755f6c4");
	free(h);
	/* without timestamps they count */
	h = s3f_definition_hash("{\"name\":\"string\",\"createdAt\":\"datetime|optional\",\"age\":\"number\","
							"\"active\":\"boolean\"}", "user-managed", NULL, false);
	CHECK(h != NULL && strcmp(h, "sha256:cc6c2f43ebd8465c3b359f90e1ae462cf429968ce135d5defd48f46c9755f6c4") != 0);
	free(h);
	CHECK(s3f_definition_hash("{broken", NULL, NULL, false) == NULL);
	/* empty objects (no members to sort) hash as "{}" */
	h = s3f_definition_hash("{\"a\":{}}", NULL, "{}", false);
	CHECK_STREQ(h, "sha256:158dd2d2133f92970333fecb46844bca354c1e671ef728bdff15bd1481803184");
	free(h);
}

static void
check_map(const char *json, const char *const *want, int nwant)
{
	char	  **paths = NULL;
	int			n = 0,
				i,
				ok;
	s3s_error	err;
	char	   *t = J(json);

	CHECK_INTEQ(s3f_compute_map(t, &paths, &n, &err), S3S_OK);
	free(t);
	ok = (n == nwant);
	for (i = 0; ok && i < n; i++)
		if (strcmp(paths[i], want[i]) != 0)
			ok = 0;
	if (!ok)
		for (i = 0; i < n; i++)
			printf("#   %d %s\n", i, paths[i]);
	CHECK(ok);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

static void
test_compute_map(void)
{
	static const char *const ex1[] = {"zeta", "alpha", "profile.name", "profile.age",
		"profile.address.city", "profile.address.zip", "tags", "meta", "secretNote", "profile"};
	static const char *const ex2[] = {"v.type", "v.optional", "v"};
	static const char *const ex3[] = {"2", "b", "a.1", "a.x", "a"};
	static const char *const ex4[] = {"p.q.r", "p.e", "p", "p.q"};
	static const char *const ex5[] = {"name", "_score.type", "_score.__plugin__"};
	char	  **paths;
	int			n;
	s3s_error	err;

	check_map("{'zeta':'string','alpha':'number','profile':{'name':'string','age':'number',"
			  "'address':{'city':'string','zip':'string'}},'tags':'array|items:string',"
			  "'meta':'object|optional','secretNote':'secret|optional'}", ex1, 10);
	check_map("{'v':{'type':'string','optional':true}}", ex2, 3);
	/* integer-like keys first, ascending, at every level */
	check_map("{'b':'string','2':'number','a':{'x':'string','1':'string'}}", ex3, 5);
	/* $$ paths skipped; empty objects are leaves; $$type object recurses */
	check_map("{'p':{'$$type':'object','q':{'r':'string'},'e':{}}}", ex4, 4);
	/* plugin attributes leave the map, their inner leaves do not */
	check_map("{'name':'string','_score':{'type':'number','__plugin__':'ScorePlugin'}}", ex5, 3);
	CHECK_INTEQ(s3f_compute_map("[1,2]", &paths, &n, &err), S3S_ERR_FORMAT);
	CHECK_INTEQ(s3f_compute_map("{", &paths, &n, &err), S3S_ERR_FORMAT);
}

static void
test_example(void)
{
	size_t		len;
	char	   *text = unit_read_file("data/catalog/example.json", &len);
	s3s_error	err;
	s3f_catalog *c;
	const s3f_resource *u,
			   *a;
	const s3f_attr *at;
	int			i;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	c = s3f_catalog_parse(text, len, &err);
	CHECK(c != NULL);
	if (c == NULL)
	{
		printf("# %s\n", err.message);
		free(text);
		return;
	}
	CHECK_STREQ(c->version, "1");
	CHECK_STREQ(c->s3db_version, "21.6.2");
	CHECK_INTEQ(c->nres, 2);	/* "broken" has no attributes */
	CHECK_STREQ(c->res[0].name, "accounts");
	CHECK_STREQ(c->res[1].name, "users");
	CHECK(s3f_catalog_find(c, "broken") == NULL);
	CHECK(s3f_catalog_find(c, "nope") == NULL);

	u = s3f_catalog_find(c, "users");
	CHECK(u != NULL);
	if (u == NULL)
		goto out;
	CHECK_STREQ(u->current_version, "v1");
	CHECK_INTEQ(u->behavior, S3F_B_BODY_OVERFLOW);
	CHECK_STREQ(s3f_behavior_name(u->behavior), "body-overflow");
	CHECK(!u->timestamps);
	CHECK(u->paranoid);
	CHECK_INTEQ(u->id_size, 22);
	CHECK_STREQ(u->id_generator, "default");
	CHECK_INTEQ(u->nattrs, 10);
	CHECK_STREQ(u->attrs[0].path, "name");
	CHECK_STREQ(u->attrs[6].path, "profile.city");
	CHECK_STREQ(u->attrs[8].path, "bio");
	CHECK_STREQ(u->attrs[9].path, "profile");
	CHECK_INTEQ(u->attrs[9].ti.type, S3F_T_NESTED);
	CHECK_INTEQ(u->attrs[6].depth, 1);
	CHECK_STREQ(u->attrs[2].def, "number|integer:true");
	CHECK_INTEQ(u->attrs[2].ti.type, S3F_T_INTEGER);
	CHECK_INTEQ(u->attrs[5].ti.type, S3F_T_ARRAY_STRING);
	CHECK_STREQ(key_of(u, "name"), "0");
	CHECK_STREQ(key_of(u, "bio"), "8");
	CHECK_STREQ(key_of(u, "profile.zip"), "7");
	CHECK_STREQ(key_of(u, "profile"), "9");
	at = s3f_resource_attr_by_key(u, "6");
	CHECK(at != NULL && strcmp(at->path, "profile.city") == 0);
	CHECK(s3f_resource_attr_by_key(u, "a") == NULL);
	CHECK_INTEQ(u->nburned, 1);
	CHECK(u->nburned == 1 && strcmp(u->burned[0].key, "a") == 0 &&
		  strcmp(u->burned[0].attribute, "city") == 0);
	CHECK_INTEQ(u->next_index, 11);
	CHECK_STREQ(u->hash, "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	CHECK_INTEQ(u->nparts, 2);
	CHECK_STREQ(u->parts[0].name, "byCity");
	CHECK_STREQ(u->parts[1].name, "byActiveAge");
	CHECK_INTEQ(u->parts[1].nfields, 2);
	CHECK_STREQ(u->parts[1].fields[0], "active");
	CHECK_STREQ(u->parts[1].rules[0], "boolean");
	CHECK_STREQ(u->parts[1].fields[1], "age");
	CHECK_STREQ(u->parts[1].rules[1], "number");
	CHECK_INTEQ(u->nversions, 1);
	CHECK(u->attributes_json != NULL && strstr(u->attributes_json, "\"profile\":{") != NULL);

	a = s3f_catalog_find(c, "accounts");
	CHECK(a != NULL);
	if (a == NULL)
		goto out;
	CHECK_STREQ(a->current_version, "v2");
	CHECK_INTEQ(a->nversions, 2);
	CHECK_INTEQ(a->behavior, S3F_B_BODY_ONLY);
	CHECK(a->timestamps);
	CHECK(!a->paranoid);
	CHECK_INTEQ(a->id_size, 10);	/* numeric idGenerator */
	CHECK_INTEQ(a->nattrs, 3);
	CHECK_STREQ(key_of(a, "title"), "0");
	CHECK_STREQ(key_of(a, "count"), "1");
	at = s3f_resource_attr(a, "_score");
	CHECK(at != NULL && at->plugin && at->def_is_object);
	CHECK_STREQ(key_of(a, "_score"), "pnhj");
	CHECK_INTEQ(a->next_index, 5);	/* _score.type, _score.__plugin__, ... took 2..4 */
	CHECK_INTEQ(a->nparts, 0);
	CHECK(a->hash != NULL && strncmp(a->hash, "sha256:", 7) == 0 && strlen(a->hash) == 71);
	for (i = 0; i < a->nattrs; i++)
		CHECK(a->attrs[i].key != NULL);
out:
	s3f_catalog_free(c);
	free(text);
}

static void
test_no_registry(void)
{
	s3s_error	err;
	s3f_catalog *c;
	const s3f_resource *r;

	/* the 4.1 resource without a registry: keys computed as s3db.js does */
	c = parse_j("{'resources':{'users':{'versions':{'v1':{'attributes':{'name':'string','email':'email',"
				"'age':'number|integer:true','score':'number','active':'boolean','tags':'array|items:string',"
				"'profile':{'city':'string','zip':'string|optional'},'bio':'string|optional'}}}}}}", &err);
	CHECK(c != NULL);
	r = c ? s3f_catalog_find(c, "users") : NULL;
	CHECK(r != NULL);
	if (r)
	{
		CHECK_STREQ(r->current_version, "v1");	/* healed */
		CHECK_INTEQ(r->behavior, S3F_B_USER_MANAGED);
		CHECK_STREQ(key_of(r, "profile.zip"), "7");
		CHECK_STREQ(key_of(r, "bio"), "8");
		CHECK_STREQ(key_of(r, "profile"), "9");
		CHECK_INTEQ(r->next_index, 10);
	}
	s3f_catalog_free(c);

	/* registry lacking a path: it gets the next index, burned ones never reused */
	c = parse_j("{'resources':{'r':{'versions':{'v1':{'attributes':{'a':'string','b':'string',"
				"'v':{'type':'string','optional':true}}}},"
				"'schemaRegistry':{'nextIndex':2,'mapping':{'a':0},'burned':[{'index':5,'attribute':'x'}]}}}}",
				&err);
	CHECK(c != NULL);
	r = c ? s3f_catalog_find(c, "r") : NULL;
	if (r)
	{
		CHECK_STREQ(key_of(r, "a"), "0");
		CHECK_STREQ(key_of(r, "b"), "6");
		/* v.type 7, v.optional 8, v 9: the value of v is under 9 */
		CHECK_STREQ(key_of(r, "v"), "9");
		CHECK_INTEQ(r->nattrs, 3);
		CHECK(r->attrs[2].def_is_object);
		CHECK_INTEQ(r->next_index, 10);
	}
	else
		CHECK(0);
	s3f_catalog_free(c);

	/* plugin keys: registry reuse and collision counter */
	c = parse_j("{'resources':{'r':{'versions':{'v1':{'attributes':{'n':'string',"
				"'_score':{'type':'number','__plugin__':'ScorePlugin'},"
				"'_flag':{'type':'boolean','__plugin__':'FlagPlugin'}}}},"
				"'pluginSchemaRegistry':{'ScorePlugin':{'mapping':{'_old':'pnhj'}},"
				"'FlagPlugin':{'mapping':{'_flag':'pzzz'}}}}}}", &err);
	r = c ? s3f_catalog_find(c, "r") : NULL;
	CHECK(r != NULL);
	if (r)
	{
		CHECK_STREQ(key_of(r, "_score"), "pnhj1");
		CHECK_STREQ(key_of(r, "_flag"), "pzzz");
		CHECK(s3f_resource_attr(r, "_flag")->plugin);
	}
	s3f_catalog_free(c);

	/* currentVersion that does not exist: the first version present */
	c = parse_j("{'resources':{'r':{'currentVersion':'v9','versions':{'v3':{'attributes':{'x':'string'},"
				"'partitions':{'p':{'fields':{'x':'string|maxlength:3'}}}}}}}}", &err);
	r = c ? s3f_catalog_find(c, "r") : NULL;
	CHECK(r != NULL && strcmp(r->current_version, "v3") == 0);
	/* no resource-level partitions: the version's */
	CHECK(r != NULL && r->nparts == 1 && strcmp(r->parts[0].rules[0], "string|maxlength:3") == 0);
	s3f_catalog_free(c);
}

static void
expect_fail(const char *what, const char *text, size_t len, const char *needle)
{
	s3s_error	err;
	s3f_catalog *c;

	memset(&err, 0, sizeof(err));
	c = s3f_catalog_parse(text, len, &err);
	unit_report(c == NULL && err.code == S3S_ERR_FORMAT &&
				(needle == NULL || strstr(err.message, needle) != NULL),
				__FILE__, __LINE__, what);
	if (c != NULL || err.code != S3S_ERR_FORMAT)
		printf("#   code %d message '%s'\n", err.code, err.message);
	else if (needle && !strstr(err.message, needle))
		printf("#   message '%s'\n", err.message);
	s3f_catalog_free(c);
}

static void
expect_fail_j(const char *what, const char *json, const char *needle)
{
	char	   *t = J(json);

	expect_fail(what, t, strlen(t), needle);
	free(t);
}

static void
test_hostile(void)
{
	s3s_error	err;
	s3f_catalog *c;
	size_t		len,
				i;
	char	   *text,
			   *deep;
	int			crashes = 0;

	expect_fail("empty", "", 0, "not valid json");
	expect_fail("truncated", "{\"resources\":{\"a\":", 18, "not valid json");
	expect_fail("trailing garbage", "{} x", 4, "trailing");
	expect_fail("array root", "[]", 2, "not a json object");
	expect_fail("number root", "12", 2, "not a json object");
	expect_fail("NUL inside", "{\"a\":\0}", 7, NULL);
	expect_fail_j("resources array", "{'resources':[]}", "resources");
	expect_fail_j("bad index", "{'resources':{'r':{'versions':{'v1':{'attributes':{'a':'string'}}},"
				  "'schemaRegistry':{'mapping':{'a':-1}}}}}", "resource \"r\"");
	expect_fail_j("huge index", "{'resources':{'r':{'versions':{'v1':{'attributes':{'a':'string'}}},"
				  "'schemaRegistry':{'mapping':{'a':1e300}}}}}", "schemaRegistry");
	expect_fail_j("string index", "{'resources':{'r':{'versions':{'v1':{'attributes':{'a':'string'}}},"
				  "'schemaRegistry':{'mapping':{'a':'0'}}}}}", "schemaRegistry");
	expect_fail_j("unknown behavior", "{'resources':{'r':{'versions':{'v1':{'attributes':{'a':'string'},"
				  "'behavior':'sideways'}}}}}", "unknown behavior");
	expect_fail_j("bad legacy map", "{'resources':{'r':{'versions':{'v1':{'attributes':{'a':'string'},"
				  "'map':{'a':'A!'}}}}}}", "non-base36");
	expect_fail_j("currentVersion number", "{'resources':{'r':{'currentVersion':3,'versions':{}}}}",
				  "currentVersion");

	/* healed, not refused */
	c = parse_j("{'version':1,'resources':{'a':5,'b':{'versions':[]},'c':{'versions':{'v1':{'attributes':'x'}}},"
				"'d':{'versions':{'v1':{'attributes':{'x':'string'},'idSize':1e300,'idGenerator':-4,"
				"'timestamps':'yes','partitions':{'p':5,'q':{'fields':[]},'r':{'fields':{'x':7}}}}}}}}", &err);
	CHECK(c != NULL);
	if (c)
	{
		CHECK_STREQ(c->version, "1");
		CHECK_INTEQ(c->nres, 1);
		CHECK_INTEQ(c->res[0].id_size, 22);
		CHECK(c->res[0].timestamps);
		CHECK_INTEQ(c->res[0].nparts, 1);
		CHECK(c->res[0].nparts == 1 && strcmp(c->res[0].parts[0].rules[0], "7") == 0);
	}
	s3f_catalog_free(c);
	c = parse_j("{}", &err);
	CHECK(c != NULL && c->nres == 0);
	s3f_catalog_free(c);

	/* deep nesting: refused by the parser, or walked without trouble */
	deep = malloc(200000 + 1);
	for (i = 0; i < 100000; i++)
		deep[i] = '[';
	for (; i < 200000; i++)
		deep[i] = ']';
	deep[200000] = '\0';
	expect_fail("deep arrays", deep, 200000, NULL);
	free(deep);
	{
		char		buf[4096] = "{\"resources\":{\"r\":{\"versions\":{\"v1\":{\"attributes\":";
		int			d;

		for (d = 0; d < 25; d++)
			strcat(buf, "{\"a\":");
		strcat(buf, "\"string\"");
		for (d = 0; d < 25; d++)
			strcat(buf, "}");
		strcat(buf, "}}}}}");
		c = s3f_catalog_parse(buf, strlen(buf), &err);
		CHECK(c != NULL && c->nres == 1 && c->res[0].nattrs == 25);
		if (c && c->nres == 1)
			CHECK_INTEQ(c->res[0].attrs[0].depth, 24);
		s3f_catalog_free(c);
	}

	/* every prefix and a byte-flipped copy of the example: no crash, no leak */
	text = unit_read_file("data/catalog/example.json", &len);
	if (text)
	{
		for (i = 0; i < len; i += 7)
		{
			c = s3f_catalog_parse(text, i, &err);
			if (c == NULL && err.code != S3S_ERR_FORMAT)
				crashes++;
			s3f_catalog_free(c);
		}
		srand(42);
		for (i = 0; i < 300; i++)
		{
			char	   *m = malloc(len);
			int			k;

			memcpy(m, text, len);
			for (k = 0; k < 3; k++)
				m[rand() % len] = (char) (rand() % 256);
			c = s3f_catalog_parse(m, len, &err);
			if (c == NULL && err.code != S3S_ERR_FORMAT)
				crashes++;
			s3f_catalog_free(c);
			free(m);
		}
		free(text);
	}
	CHECK_INTEQ(crashes, 0);
}

static void
test_keys(void)
{
	s3s_error	err;
	char	   *s;

	CHECK(s3f_valid_id("alice", &err));
	CHECK(s3f_valid_id("with space é", &err));
	CHECK(!s3f_valid_id("", &err));
	CHECK(!s3f_valid_id("a/b", &err));
	CHECK(!s3f_valid_id("a=b", &err) && err.code == S3S_ERR_INVALID);
	CHECK(!s3f_valid_id("a%2F", &err));
	CHECK(!s3f_valid_id("a\\b", &err));
	CHECK(!s3f_valid_id("..", &err));
	CHECK(!s3f_valid_id(".", &err));
	{
		char		big[1100];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK(!s3f_valid_id(big, &err));
		big[1024] = '\0';
		CHECK(s3f_valid_id(big, &err));
	}
	s = s3f_key_data("users", "alice");
	CHECK_STREQ(s, "resource=users/data/id=alice");
	free(s);
	s = s3f_prefix_data("users");
	CHECK_STREQ(s, "resource=users/data/");
	free(s);
	s = s3f_key_id("resource=users/data/id=alice");
	CHECK_STREQ(s, "alice");
	free(s);
	s = s3f_key_id("resource=users/partition=p/status=on hold/id=x/id=o3");
	CHECK_STREQ(s, "o3");
	free(s);
	s = s3f_key_id("resource=users/partition=byId/id=v/id=real");
	CHECK_STREQ(s, "real");
	free(s);
	CHECK(s3f_key_id("resource=users/data/") == NULL);
	s = s3f_key_id("id=");
	CHECK_STREQ(s, "");
	free(s);
}

int
main(void)
{
	test_icu();
	test_hash();
	test_compute_map();
	test_example();
	test_no_registry();
	test_hostile();
	test_keys();
	return unit_done();
}
