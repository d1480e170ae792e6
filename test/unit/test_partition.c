/*
 * test_partition.c
 *		Partition reference keys and prefixes (spec 4.1, 9.2, 9.5), value
 *		texts after rules, unsafe values; random ids and incremental id
 *		configurations (spec 10.1, 10.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "format/catalog.h"
#include "format/encode.h"

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

static const s3f_partition *
part(const s3f_resource *r, const char *name)
{
	int			i;

	for (i = 0; i < r->nparts; i++)
		if (strcmp(r->parts[i].name, name) == 0)
			return &r->parts[i];
	return NULL;
}

static s3f_val *
slot(const s3f_resource *r, s3f_val *v, const char *path)
{
	const s3f_attr *a = s3f_resource_attr(r, path);

	s3f_val_free(&v[a - r->attrs]);
	return &v[a - r->attrs];
}

#define CHECK_KEY(expr, want) do { char *k_ = (expr); CHECK_STREQ(k_, want); free(k_); } while (0)

static void
test_worked_example(void)
{
	char	   *t = J("{'resources':{'users':{'versions':{'v1':{'attributes':{"
					  "'name':'string','age':'number|integer:true','active':'boolean',"
					  "'profile':{'city':'string','zip':'string|optional'},'tags':'array|items:string',"
					  "'score':'number|optional','created':'datetime|optional','st':'string|optional'},"
					  "'partitions':{'byCity':{'fields':{'profile.city':'string'}},"
					  "'byActiveAge':{'fields':{'age':'number','active':'boolean'}},"
					  "'byTags':{'fields':{'tags':'array'}},"
					  "'byScore':{'fields':{'score':'number'}},"
					  "'byDay':{'fields':{'created':'date|maxlength:10'}},"
					  "'byShort':{'fields':{'st':'string|maxlength:3'}},"
					  "'byMulti':{'fields':{'st':'string','name':'string','active':'boolean'}}"
					  "}}}}}}");
	s3s_error	err;
	s3f_catalog *c = s3f_catalog_parse(t, strlen(t), &err);
	const s3f_resource *r = s3f_catalog_find(c, "users");
	s3f_val    *v = calloc(r->nattrs, sizeof(s3f_val));
	const s3f_val *fv[3] = {NULL, NULL, NULL};
	int			i;

	s3f_val_set_str(slot(r, v, "name"), S3F_STR, "alice", 5);
	s3f_val_set_num(slot(r, v, "age"), 34, "34");
	{
		s3f_val    *b = slot(r, v, "active");

		b->kind = S3F_BOOL;
		b->b = true;
	}
	s3f_val_set_str(slot(r, v, "profile"), S3F_JSON, "{\"city\":\"Berlin\",\"zip\":\"10115\"}", 31);
	s3f_val_set_str(slot(r, v, "tags"), S3F_JSON, "[\"a\",\"b\"]", 9);

	CHECK_KEY(s3f_partition_key(r, part(r, "byCity"), v, "alice"),
			  "resource=users/partition=byCity/profile.city=Berlin/id=alice");
	CHECK_KEY(s3f_partition_key(r, part(r, "byActiveAge"), v, "alice"),
			  "resource=users/partition=byActiveAge/active=true/age=34/id=alice");
	CHECK_KEY(s3f_partition_key(r, part(r, "byTags"), v, "alice"),
			  "resource=users/partition=byTags/tags=a,b/id=alice");
	/* a missing field: no reference */
	CHECK(s3f_partition_key(r, part(r, "byScore"), v, "alice") == NULL);
	slot(r, v, "score")->kind = S3F_NULL;
	CHECK(s3f_partition_key(r, part(r, "byScore"), v, "alice") == NULL);
	s3f_val_set_num(slot(r, v, "score"), 1e21, NULL);
	CHECK_KEY(s3f_partition_key(r, part(r, "byScore"), v, "alice"),
			  "resource=users/partition=byScore/score=1e+21/id=alice");
	s3f_val_set_num(slot(r, v, "score"), 150.5, "150.5");
	CHECK_KEY(s3f_partition_key(r, part(r, "byScore"), v, "alice"),
			  "resource=users/partition=byScore/score=150.5/id=alice");
	/* date rules */
	s3f_val_set_str(slot(r, v, "created"), S3F_STR, "2024-03-05T22:10:00.000Z", 24);
	CHECK_KEY(s3f_partition_key(r, part(r, "byDay"), v, "alice"),
			  "resource=users/partition=byDay/created=2024-03-05/id=alice");
	/* maxlength on UTF-16 units */
	s3f_val_set_str(slot(r, v, "st"), S3F_STR, "éa😀z", strlen("éa😀z"));
	CHECK_KEY(s3f_partition_key(r, part(r, "byShort"), v, "alice"),
			  "resource=users/partition=byShort/st=éa\xEF\xBF\xBD/id=alice");
	/* field order is ICU: active, name, st */
	s3f_val_set_str(slot(r, v, "st"), S3F_STR, "on hold/x", 9);
	CHECK_KEY(s3f_partition_key(r, part(r, "byMulti"), v, "o3"),
			  "resource=users/partition=byMulti/active=true/name=alice/st=on hold/x/id=o3");
	/* "//" collapses as in a path join; "." and ".." segments are refused */
	s3f_val_set_str(slot(r, v, "st"), S3F_STR, "a//b/", 5);
	CHECK_KEY(s3f_partition_key(r, part(r, "byMulti"), v, "o3"),
			  "resource=users/partition=byMulti/active=true/name=alice/st=a/b/id=o3");
	s3f_val_set_str(slot(r, v, "st"), S3F_STR, "x/../y", 6);
	CHECK(s3f_partition_key(r, part(r, "byMulti"), v, "o3") == NULL);
	s3f_val_set_str(slot(r, v, "st"), S3F_STR, "x/.", 3);
	CHECK(s3f_partition_key(r, part(r, "byMulti"), v, "o3") == NULL);
	s3f_val_set_str(slot(r, v, "st"), S3F_STR, "a\0b", 3);
	CHECK(s3f_partition_key(r, part(r, "byMulti"), v, "o3") == NULL);
	s3f_val_set_str(slot(r, v, "st"), S3F_STR, "..x", 3);
	CHECK_KEY(s3f_partition_key(r, part(r, "byMulti"), v, "o3"),
			  "resource=users/partition=byMulti/active=true/name=alice/st=..x/id=o3");

	/* listing prefixes (spec 9.5): only the values given, no trailing slash */
	{
		const s3f_partition *p = part(r, "byMulti");
		s3f_val		a,
					s;

		memset(&a, 0, sizeof(a));
		a.kind = S3F_BOOL;
		s3f_val_set_str(&s, S3F_STR, "act", 3);
		CHECK_KEY(s3f_partition_prefix(r, p, NULL), "resource=users/partition=byMulti");
		CHECK_KEY(s3f_partition_prefix(r, p, fv), "resource=users/partition=byMulti");
		fv[0] = &a;
		CHECK_KEY(s3f_partition_prefix(r, p, fv), "resource=users/partition=byMulti/active=false");
		fv[2] = &s;
		CHECK_KEY(s3f_partition_prefix(r, p, fv),
				  "resource=users/partition=byMulti/active=false/st=act");
		s3f_val_free(&s);
		s3f_val_set_str(&s, S3F_STR, "x/..", 4);
		CHECK(s3f_partition_prefix(r, p, fv) == NULL);
		s3f_val_free(&s);
	}
	for (i = 0; i < r->nattrs; i++)
		s3f_val_free(&v[i]);
	free(v);
	s3f_catalog_free(c);
	free(t);
}

static void
test_value_text(void)
{
	s3f_val		v;

	memset(&v, 0, sizeof(v));
	CHECK(s3f_partition_value_text(NULL, &v) == NULL);
	s3f_val_set_num(&v, 10, NULL);
	CHECK_KEY(s3f_partition_value_text("number", &v), "10");
	s3f_val_free(&v);
	s3f_val_set_num(&v, 1.5e-7, NULL);
	CHECK_KEY(s3f_partition_value_text("number", &v), "1.5e-7");
	s3f_val_free(&v);
	s3f_val_set_str(&v, S3F_STR, "2024-03-05T22:10:00-03:00", 25);
	CHECK_KEY(s3f_partition_value_text("date", &v), "2024-03-06");
	CHECK_KEY(s3f_partition_value_text("string", &v), "2024-03-05T22:10:00-03:00");
	s3f_val_free(&v);
	s3f_val_set_str(&v, S3F_STR, "2024-01-15", 10);
	CHECK_KEY(s3f_partition_value_text("date|maxlength:10", &v), "2024-01-15");
	s3f_val_free(&v);
	s3f_val_set_str(&v, S3F_STR, "not a date", 10);
	CHECK_KEY(s3f_partition_value_text("date", &v), "not a date");
	CHECK_KEY(s3f_partition_value_text("string|maxlength:3", &v), "not");
	s3f_val_free(&v);
	s3f_val_set_str(&v, S3F_JSON, "{\"a\":1}", 7);
	CHECK_KEY(s3f_partition_value_text("object", &v), "[object Object]");
	s3f_val_free(&v);
	s3f_val_set_str(&v, S3F_JSON, "[1,null,\"x\",[2,3]]", 18);
	CHECK_KEY(s3f_partition_value_text("array", &v), "1,,x,2,3");
	s3f_val_free(&v);
}

static void
test_ids(void)
{
	static const char alphabet[] = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";
	char	   *a = s3f_random_id(22),
			   *b = s3f_random_id(22),
			   *e = s3f_random_id(8);
	s3f_incremental c;
	s3s_error	err;

	CHECK(a && strlen(a) == 22 && strspn(a, alphabet) == 22);
	CHECK(b && strcmp(a, b) != 0);
	CHECK(e && strlen(e) == 8);
	CHECK(s3f_random_id(0) == NULL);
	free(a);
	free(b);
	free(e);

	CHECK(s3f_incremental_parse("incremental", &c, &err));
	CHECK(c.start == 1 && c.increment == 1 && !c.fast && c.padding == 0);
	CHECK_KEY(s3f_incremental_format(&c, 3), "3");
	s3f_incremental_free(&c);
	CHECK(s3f_incremental_parse("incremental:1000", &c, &err));
	CHECK(c.start == 1000);
	CHECK_KEY(s3f_incremental_format(&c, 1001), "1001");
	s3f_incremental_free(&c);
	CHECK(s3f_incremental_parse("incremental:ORD-0001", &c, &err));
	CHECK(c.start == 1 && c.padding == 4);
	CHECK_STREQ(c.prefix, "ORD-");
	CHECK_KEY(s3f_incremental_format(&c, 2), "ORD-0002");
	CHECK_KEY(s3f_incremental_format(&c, 12345), "ORD-12345");
	s3f_incremental_free(&c);
	CHECK(s3f_incremental_parse("incremental:fast", &c, &err));
	CHECK(c.fast && c.batch_size == 100 && c.start == 1);
	s3f_incremental_free(&c);
	CHECK(s3f_incremental_parse("incremental:fast:500", &c, &err));
	CHECK(c.fast && c.start == 500);
	s3f_incremental_free(&c);
	CHECK(s3f_incremental_parse("{\"type\":\"incremental\",\"start\":5,\"increment\":5,"
								"\"prefix\":\"X\",\"padding\":3}", &c, &err));
	CHECK(c.start == 5 && c.increment == 5 && c.padding == 3 && !c.fast);
	CHECK_KEY(s3f_incremental_format(&c, 5), "X005");
	CHECK_KEY(s3f_incremental_format(&c, 15), "X015");
	s3f_incremental_free(&c);
	CHECK(s3f_incremental_parse("{\"type\":\"incremental\",\"mode\":\"fast\",\"batchSize\":10}", &c, &err));
	CHECK(c.fast && c.batch_size == 10);
	s3f_incremental_free(&c);
	CHECK(!s3f_incremental_parse("incremental:0100", &c, &err));
	CHECK_INTEQ(err.code, S3S_ERR_INVALID);
	CHECK(!s3f_incremental_parse("incremental:a-b-1", &c, &err));
	CHECK(!s3f_incremental_parse("uuid", &c, &err));
	CHECK(!s3f_incremental_parse("{\"type\":\"random\"}", &c, &err));
}

int
main(void)
{
	test_worked_example();
	test_value_text();
	test_ids();
	return unit_done();
}
