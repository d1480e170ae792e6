/*-------------------------------------------------------------------------
 *
 * store_util.h
 *		Helpers of the object-store unit tests (test_store.c, test_store_fs.c):
 *		a per-run key root, opening a store, single PUT/DELETE, listing all
 *		pages.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_TEST_STORE_UTIL_H
#define S3DB_TEST_STORE_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "unit.h"

/* Every key of one run starts with this, so runs against S3 do not collide. */
static char root[64];

static inline const char *
K(const char *suffix)
{
	static char buf[8][512];
	static int	slot;
	char	   *b = buf[slot++ % 8];

	snprintf(b, 512, "%s%s", root, suffix);
	return b;
}

static inline s3s_store *
open_store(const char *url)
{
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *st;

	s3s_config_init(&cfg);
	cfg.url = url;
	st = s3s_open(&cfg, &err);
	if (st == NULL)
		printf("# open %s failed: %s\n", url, err.message);
	return st;
}

static inline s3s_code
put_full(s3s_store *st, const char *key, const void *body, size_t len,
		 const s3s_meta *meta, const char *ctype, bool inm, const char *if_match,
		 char *etag_out)
{
	s3s_request r;
	s3s_code	code;

	s3s_request_init(&r, S3S_OP_PUT, key);
	r.body = body;
	r.body_len = len;
	r.meta = meta;
	r.content_type = ctype;
	r.if_none_match = inm;
	r.if_match = if_match;
	s3s_execute(st, &r, 1);
	code = r.err.code;
	if (code != S3S_OK)
		printf("# put %s: %s\n", key, r.err.message);
	if (etag_out != NULL)
		snprintf(etag_out, 64, "%s", r.obj.etag ? r.obj.etag : "");
	s3s_request_reset(&r);
	return code;
}

static inline s3s_code
put(s3s_store *st, const char *key, const char *body)
{
	return put_full(st, key, body, strlen(body), NULL, NULL, false, NULL, NULL);
}

static inline s3s_code
del(s3s_store *st, const char *key)
{
	s3s_request r;
	s3s_code	code;

	s3s_request_init(&r, S3S_OP_DELETE, key);
	s3s_execute(st, &r, 1);
	code = r.err.code;
	s3s_request_reset(&r);
	return code;
}

/* List all pages; returns keys joined with ',' and prefixes with ';'. */
static inline char *
list_all(s3s_store *st, const char *prefix, const char *delim, int max_keys, int *pages)
{
	char	   *out = calloc(1, 65536);
	char	   *token = NULL;
	int			npages = 0;

	do
	{
		s3s_request r;
		int			i;

		s3s_request_init(&r, S3S_OP_LIST, NULL);
		r.prefix = prefix;
		r.delimiter = delim;
		r.max_keys = max_keys;
		r.continuation = token;
		s3s_execute(st, &r, 1);
		free(token);
		token = NULL;
		npages++;
		if (r.err.code != S3S_OK)
		{
			printf("# list failed: %s\n", r.err.message);
			strcat(out, "ERROR");
			s3s_request_reset(&r);
			break;
		}
		for (i = 0; i < r.list.n; i++)
		{
			strcat(out, r.list.entries[i].key + strlen(root));
			strcat(out, ",");
		}
		for (i = 0; i < r.list.nprefixes; i++)
		{
			strcat(out, r.list.prefixes[i] + strlen(root));
			strcat(out, ";");
		}
		if (r.list.truncated && r.list.next_token)
			token = strdup(r.list.next_token);
		s3s_request_reset(&r);
	} while (token != NULL && npages < 1000);
	if (pages)
		*pages = npages;
	return out;
}


#endif
