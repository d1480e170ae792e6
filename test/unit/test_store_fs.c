/*-------------------------------------------------------------------------
 *
 * test_store_fs.c
 *		Tests of what only the file:// backend has: the layout s3db.js's
 *		FileSystemClient writes and reads (sidecars), hostile keys, locking
 *		across processes, and listing pages over a directory that changes
 *		between them.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store_util.h"
#include "unit.h"

static void
spit(const char *path, const char *data)
{
	FILE	   *f = fopen(path, "wb");

	if (f == NULL)
		return;
	fputs(data, f);
	fclose(f);
}

static const char *
json_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : NULL;
}

static void
test_fs_layout(const char *dir)
{
	char		url[600],
				path[800];
	s3s_store  *st;
	s3s_meta	m;
	s3s_object	o;
	s3s_error	err;
	char	   *text;
	size_t		len;
	struct json_object *doc,
			   *md,
			   *v;
	char		md5[33];
	const char *body = "{\"1\":\"long value\"}";

	snprintf(url, sizeof(url), "file://%s/base", dir);
	st = open_store(url);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	CHECK_INTEQ(s3s_store_kind(st), S3S_KIND_FILE);

	/* reading a store whose directory does not exist yet */
	CHECK_INTEQ(s3s_head(st, "s3db.json", &o, &err), S3S_ERR_NOT_FOUND);
	{
		char	   *l;

		root[0] = '\0';
		l = list_all(st, "", NULL, 0, NULL);
		CHECK_STREQ(l, "");
		free(l);
	}

	s3s_meta_init(&m);
	s3s_meta_add(&m, "0", "u:Alice%20M%C3%BCller");
	s3s_meta_add(&m, "_V", "v1");
	CHECK_INTEQ(put_full(st, "resource=users/data/id=alice", body, strlen(body), &m,
						 "application/json", false, NULL, NULL), S3S_OK);
	s3s_meta_free(&m);

	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=alice", dir);
	text = unit_read_file(path, &len);
	CHECK(text != NULL && strcmp(text, body) == 0);
	free(text);
	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=alice.meta.json", dir);
	text = unit_read_file(path, &len);
	CHECK(text != NULL);
	doc = text ? json_tokener_parse(text) : NULL;
	CHECK(doc != NULL && json_object_is_type(doc, json_type_object));
	if (doc != NULL)
	{
		s3s_md5_hex((const unsigned char *) body, strlen(body), md5);
		CHECK(json_object_object_get_ex(doc, "metadata", &md));
		CHECK_STREQ(json_str(md, "0"), "u:Alice%20M%C3%BCller");
		CHECK_STREQ(json_str(md, "_v"), "v1");	/* keys are lower-cased like S3 */
		CHECK_STREQ(json_str(doc, "etag"), md5);
		CHECK_STREQ(json_str(doc, "contentType"), "application/json");
		CHECK(json_object_object_get_ex(doc, "size", &v) && json_object_get_int64(v) == (int64_t) strlen(body));
		CHECK(json_object_object_get_ex(doc, "contentLength", &v) && json_object_get_int64(v) == (int64_t) strlen(body));
		CHECK(json_object_object_get_ex(doc, "compressed", &v) && json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v));
		CHECK(json_object_object_get_ex(doc, "expiresAt", &v) && v == NULL);
		CHECK(json_str(doc, "lastModified") != NULL && strlen(json_str(doc, "lastModified")) == 24 &&
			  json_str(doc, "lastModified")[23] == 'Z');
		/* pretty-printed with two-space indentation, as s3db.js writes it */
		CHECK(strncmp(text, "{\n  \"metadata\"", 14) == 0);
		json_object_put(doc);
	}
	free(text);

	/* a sidecar exactly as s3db.js's FileSystemClient writes it */
	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=bob", dir);
	spit(path, "hi");
	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=bob.meta.json", dir);
	spit(path,
		 "{\n"
		 "  \"metadata\": {\n"
		 "    \"0\": \"u:Bob%20M%C3%BCller\",\n"
		 "    \"1\": \"bob@example.com\",\n"
		 "    \"_v\": \"v1\"\n"
		 "  },\n"
		 "  \"contentType\": \"application/octet-stream\",\n"
		 "  \"etag\": \"c1a5298f939e87e8f962a5edfc206918\",\n"
		 "  \"lastModified\": \"2026-11-25T17:59:39.509Z\",\n"
		 "  \"size\": 2,\n"
		 "  \"contentLength\": 2,\n"
		 "  \"compressed\": false,\n"
		 "  \"expiresAt\": null,\n"
		 "  \"body\": {\n"
		 "    \"type\": \"Buffer\",\n"
		 "    \"data\": [\n"
		 "      104,\n"
		 "      105\n"
		 "    ]\n"
		 "  }\n"
		 "}");
	CHECK_INTEQ(s3s_get(st, "resource=users/data/id=bob", &o, &err), S3S_OK);
	CHECK(o.body != NULL && strcmp((char *) o.body, "hi") == 0);
	CHECK_STREQ(o.etag, "c1a5298f939e87e8f962a5edfc206918");
	CHECK_STREQ(s3s_meta_get(&o.meta, "0"), "u:Bob%20M%C3%BCller");
	CHECK_STREQ(s3s_meta_get(&o.meta, "_v"), "v1");
	CHECK_INTEQ(o.meta.n, 3);
	CHECK_INTEQ(o.last_modified, 1795629579509LL);
	CHECK_INTEQ(o.size, 2);
	s3s_object_free(&o);

	/* a metadata-only sidecar is enough; a body without sidecar is no object */
	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=carol", dir);
	spit(path, "");
	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=carol.meta.json", dir);
	spit(path, "{\"metadata\":{\"_v\":\"v1\"}}");
	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=dave", dir);
	spit(path, "orphan");
	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=erin", dir);
	spit(path, "broken");
	snprintf(path, sizeof(path), "%s/base/resource=users/data/id=erin.meta.json", dir);
	spit(path, "{\"metadata\": ");
	CHECK_INTEQ(s3s_head(st, "resource=users/data/id=carol", &o, &err), S3S_OK);
	CHECK_STREQ(o.content_type, "application/octet-stream");
	CHECK_INTEQ(o.size, 0);
	s3s_object_free(&o);
	CHECK_INTEQ(s3s_get(st, "resource=users/data/id=dave", &o, &err), S3S_ERR_NOT_FOUND);
	CHECK_INTEQ(s3s_get(st, "resource=users/data/id=erin", &o, &err), S3S_ERR_NOT_FOUND);
	{
		char	   *l = list_all(st, "resource=users/data", NULL, 0, NULL);

		CHECK_STREQ(l, "resource=users/data/id=alice,resource=users/data/id=bob,resource=users/data/id=carol,");
		free(l);
	}

	/* byte order, not directory order: "a-b" < "a/x" < "a0" */
	CHECK_INTEQ(put(st, "ord/a/x", "1"), S3S_OK);
	CHECK_INTEQ(put(st, "ord/a-b", "1"), S3S_OK);
	CHECK_INTEQ(put(st, "ord/a0", "1"), S3S_OK);
	CHECK_INTEQ(put(st, "ord/a.b", "1"), S3S_OK);
	{
		char	   *l = list_all(st, "ord/", NULL, 0, NULL);

		CHECK_STREQ(l, "ord/a-b,ord/a.b,ord/a/x,ord/a0,");
		free(l);
		l = list_all(st, "ord/", NULL, 1, NULL);
		CHECK_STREQ(l, "ord/a-b,ord/a.b,ord/a/x,ord/a0,");
		free(l);
	}

	/* deleting the last object of a directory removes the directory */
	CHECK_INTEQ(put(st, "gone/deep/er/x", "1"), S3S_OK);
	CHECK_INTEQ(del(st, "gone/deep/er/x"), S3S_OK);
	snprintf(path, sizeof(path), "%s/base/gone", dir);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/base", dir);
	CHECK(access(path, F_OK) == 0);

	/* no temporary files are left behind */
	{
		DIR		   *d;
		struct dirent *de;
		int			tmp = 0;

		snprintf(path, sizeof(path), "%s/base/resource=users/data", dir);
		d = opendir(path);
		while (d && (de = readdir(d)) != NULL)
			if (strstr(de->d_name, ".tmp.") != NULL)
				tmp++;
		if (d)
			closedir(d);
		CHECK_INTEQ(tmp, 0);
	}
	s3s_close(st);
}

static void
test_fs_hostile(const char *dir)
{
	char		url[600],
				path[800];
	s3s_store  *st;
	s3s_object	o;
	s3s_error	err;
	s3s_request r;
	const char *bad[] = {"../x", "a/../../x", "a//b", "/etc/passwd", "./x", "a/.", "x/",
	"a.meta.json", "a.meta.json/b", "..", "a/b.tmp.1700000000000.abcdef", ""};
	const char *many[] = {"fine", "../escape"};
	size_t		i;
	int			rejected = 0;

	snprintf(url, sizeof(url), "file://%s/hostile/base", dir);
	st = open_store(url);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		s3s_request_init(&r, S3S_OP_PUT, bad[i]);
		r.body = (const unsigned char *) "evil";
		r.body_len = 4;
		s3s_execute(st, &r, 1);
		if (r.err.code == S3S_ERR_INVALID)
			rejected++;
		else
			printf("# accepted hostile key '%s'\n", bad[i]);
		s3s_request_reset(&r);
	}
	CHECK_INTEQ(rejected, (int) (sizeof(bad) / sizeof(bad[0])));
	/* a key with a NUL cannot be expressed past the NUL: "a\0../x" is "a" */
	CHECK_INTEQ(s3s_get(st, "..\0/x", &o, &err), S3S_ERR_INVALID);
	CHECK_INTEQ(s3s_head(st, "../base/x", &o, &err), S3S_ERR_INVALID);
	snprintf(path, sizeof(path), "%s/hostile/x", dir);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/x", dir);
	CHECK(access(path, F_OK) != 0);

	/* the whole delete batch is refused when one key is bad */
	CHECK_INTEQ(put(st, "fine", "ok"), S3S_OK);
	s3s_request_init(&r, S3S_OP_DELETE_MANY, NULL);
	r.keys = many;
	r.nkeys = 2;
	s3s_execute(st, &r, 1);
	CHECK_INTEQ(r.err.code, S3S_ERR_INVALID);
	s3s_request_reset(&r);
	CHECK_INTEQ(s3s_head(st, "fine", &o, &err), S3S_OK);
	s3s_object_free(&o);

	/* copy from outside the base is refused */
	s3s_request_init(&r, S3S_OP_COPY, "stolen");
	r.copy_source = "../../etc/passwd";
	s3s_execute(st, &r, 1);
	CHECK_INTEQ(r.err.code, S3S_ERR_INVALID);
	s3s_request_reset(&r);

	/* listing with a hostile prefix finds nothing */
	{
		char	   *l;

		root[0] = '\0';
		l = list_all(st, "../", NULL, 0, NULL);
		CHECK_STREQ(l, "");
		free(l);
	}

	/* symbolic links below BASE are not followed */
	snprintf(path, sizeof(path), "%s/outside", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/outside/secret", dir);
	spit(path, "s");
	snprintf(path, sizeof(path), "%s/outside/secret.meta.json", dir);
	spit(path, "{\"metadata\":{}}");
	{
		char		target[800];

		snprintf(target, sizeof(target), "%s/outside", dir);
		snprintf(path, sizeof(path), "%s/hostile/base/link", dir);
		CHECK(symlink(target, path) == 0);
		snprintf(target, sizeof(target), "%s/outside/secret", dir);
		snprintf(path, sizeof(path), "%s/hostile/base/direct", dir);
		CHECK(symlink(target, path) == 0);
	}
	CHECK_INTEQ(s3s_get(st, "link/secret", &o, &err), S3S_ERR_NOT_FOUND);
	CHECK_INTEQ(s3s_get(st, "direct", &o, &err), S3S_ERR_NOT_FOUND);
	CHECK_INTEQ(put(st, "link/secret", "overwrite"), S3S_ERR_IO);
	{
		char	   *l = list_all(st, "", NULL, 0, NULL);

		CHECK_STREQ(l, "fine,");
		free(l);
	}
	snprintf(path, sizeof(path), "%s/outside/secret", dir);
	{
		char	   *t = unit_read_file(path, NULL);

		CHECK(t != NULL && strcmp(t, "s") == 0);
		free(t);
	}
	s3s_close(st);
}

/* If-None-Match is atomic across processes: one of several racers wins. */
static void
test_fs_processes(const char *dir)
{
	char		url[600];
	int			wins = 0,
				losses = 0,
				i;
	pid_t		pids[8];

	snprintf(url, sizeof(url), "file://%s/race", dir);
	for (i = 0; i < 8; i++)
	{
		pids[i] = fork();
		if (pids[i] == 0)
		{
			s3s_store  *st = open_store(url);
			char		body[16];
			s3s_code	c;

			snprintf(body, sizeof(body), "%d", i);
			c = put_full(st, "resource=r/sequence=id/lock", body, strlen(body), NULL,
						 NULL, true, NULL, NULL);
			s3s_close(st);
			_exit(c == S3S_OK ? 0 : c == S3S_ERR_PRECONDITION ? 1 : 2);
		}
	}
	for (i = 0; i < 8; i++)
	{
		int			status = 0;

		if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status))
		{
			if (WEXITSTATUS(status) == 0)
				wins++;
			else if (WEXITSTATUS(status) == 1)
				losses++;
		}
	}
	CHECK_INTEQ(wins, 1);
	CHECK_INTEQ(losses, 7);
}

/* ---- memory:// specifics and the dispatcher ---- */

/*
 * Listing pages are served from a kept copy of each directory's sorted
 * entries (fs_list.c); a key that another store handle (another process,
 * for the cache) adds or removes between two pages, in the directory or in
 * one below it, must still show, or vanish, on the later pages.
 */
static void
test_fs_list_pages(const char *dir)
{
	char		url[600];
	s3s_store  *a,
			   *b;
	s3s_request reqs[50];
	char		keys[50][32];
	s3s_request r;
	char	   *token;
	char	   *rest;
	int			pages = 0;
	int			i;

	root[0] = '\0';
	snprintf(url, sizeof(url), "file://%s/pages", dir);
	a = open_store(url);
	b = open_store(url);
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		return;
	for (i = 0; i < 50; i++)
	{
		snprintf(keys[i], sizeof(keys[i]), "p/%03d", i);
		s3s_request_init(&reqs[i], S3S_OP_PUT, keys[i]);
		reqs[i].body = (const unsigned char *) "x";
		reqs[i].body_len = 1;
	}
	CHECK_INTEQ(s3s_execute(a, reqs, 50), 0);
	for (i = 0; i < 50; i++)
		s3s_request_reset(&reqs[i]);
	CHECK_INTEQ(put(a, "p/sub/a", "x"), S3S_OK);
	usleep(200 * 1000);			/* settled: the walk keeps the directories */

	s3s_request_init(&r, S3S_OP_LIST, NULL);
	r.prefix = "p/";
	r.max_keys = 10;
	s3s_execute(a, &r, 1);
	CHECK_INTEQ(r.err.code, S3S_OK);
	CHECK_INTEQ(r.list.n, 10);
	CHECK(r.list.n == 10 && strcmp(r.list.entries[9].key, "p/009") == 0);
	token = r.list.next_token ? strdup(r.list.next_token) : NULL;
	s3s_request_reset(&r);
	CHECK(token != NULL);

	/* another handle changes the directory and the one below it */
	CHECK_INTEQ(put(b, "p/025x", "y"), S3S_OK);
	CHECK_INTEQ(del(b, "p/030"), S3S_OK);
	CHECK_INTEQ(put(b, "p/sub/b", "y"), S3S_OK);

	rest = calloc(1, 4096);
	while (token != NULL && pages < 20)
	{
		s3s_request_init(&r, S3S_OP_LIST, NULL);
		r.prefix = "p/";
		r.max_keys = 10;
		r.continuation = token;
		s3s_execute(a, &r, 1);
		CHECK_INTEQ(r.err.code, S3S_OK);
		free(token);
		token = r.list.truncated && r.list.next_token ? strdup(r.list.next_token) : NULL;
		for (i = 0; i < r.list.n; i++)
		{
			strcat(rest, r.list.entries[i].key);
			strcat(rest, ",");
		}
		s3s_request_reset(&r);
		pages++;
	}
	free(token);
	CHECK(strstr(rest, "p/025,p/025x,p/026,") != NULL);
	CHECK(strstr(rest, "p/030,") == NULL);
	CHECK(strstr(rest, "p/029,p/031,") != NULL);
	CHECK(strstr(rest, "p/sub/a,p/sub/b,") != NULL);
	CHECK_INTEQ(pages, 5);
	free(rest);

	/* the handle's own change, then a whole listing again */
	CHECK_INTEQ(del(a, "p/000"), S3S_OK);
	rest = list_all(a, "p/", NULL, 7, &pages);
	CHECK(strncmp(rest, "p/001,p/002,", 12) == 0);
	CHECK(strstr(rest, "p/025x,") != NULL && strstr(rest, "p/sub/b,") != NULL);
	CHECK_INTEQ(pages, 8);		/* 49 + 1 + 2 = 52 keys */
	free(rest);

	/*
	 * More directories than are kept, nested and side by side, settled: a
	 * walk must never lose the entries of a directory it is still in when a
	 * deeper one takes a place (unit-asan sees a use after free).
	 */
	CHECK_INTEQ(put(a, "q/1/2/3/4/5/6/k", "x"), S3S_OK);
	CHECK_INTEQ(put(a, "q/1/2/3/4/5/m", "x"), S3S_OK);
	CHECK_INTEQ(put(a, "q/1/b/c/d/e/f/k", "x"), S3S_OK);
	CHECK_INTEQ(put(a, "q/z", "x"), S3S_OK);
	usleep(200 * 1000);
	for (i = 0; i < 2; i++)
	{
		rest = list_all(a, "q/", NULL, 2, &pages);
		CHECK_STREQ(rest, "q/1/2/3/4/5/6/k,q/1/2/3/4/5/m,q/1/b/c/d/e/f/k,q/z,");
		CHECK_INTEQ(pages, 2);
		free(rest);
	}
	s3s_close(a);
	s3s_close(b);
}

int
main(void)
{
	char		tmpl[] = "/tmp/s3db_store_fs_XXXXXX";
	char	   *dir = mkdtemp(tmpl);
	char		cmd[700];

	CHECK(dir != NULL);
	if (dir == NULL)
		return unit_done();
	test_fs_layout(dir);
	test_fs_hostile(dir);
	test_fs_processes(dir);
	test_fs_list_pages(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return unit_done();
}
