/*-------------------------------------------------------------------------
 *
 * test_probe.c
 *		Unit tests of the store probe (src/store/probe.c): what it finds on
 *		memory:// stores that keep S3's promises and on ones made to behave
 *		like Ceph radosgw 18 or like a store that ignores every condition
 *		(s3s_memory_set_quirks), on file://, and on a live S3 server when
 *		S3DB_TEST_S3_URL is set (which must keep every promise).  Also the
 *		conditions a store is told to use: the bare ETag spelling and
 *		conditions left out.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/probe.h"
#include "store/store.h"
#include "unit.h"

static s3s_store *
open_url(const char *url)
{
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *st;

	s3s_config_init(&cfg);
	cfg.url = url;
	st = s3s_open(&cfg, &err);
	if (st == NULL)
		printf("# open failed: %s\n", err.message);
	return st;
}

/* How many objects are left under the probe's prefix. */
static int
left_behind(s3s_store *st)
{
	s3s_request r;
	int			n;

	s3s_request_init(&r, S3S_OP_LIST, NULL);
	r.prefix = S3S_PROBE_PREFIX;
	s3s_execute(st, &r, 1);
	n = r.err.code == S3S_OK ? r.list.n : -1;
	s3s_request_reset(&r);
	return n;
}

static s3s_code
put(s3s_store *st, const char *key, const char *body, bool inm, const char *if_match,
	char *etag_out)
{
	s3s_request r;
	s3s_code	code;

	s3s_request_init(&r, S3S_OP_PUT, key);
	r.body = (const unsigned char *) body;
	r.body_len = strlen(body);
	r.if_none_match = inm;
	r.if_match = if_match;
	s3s_execute(st, &r, 1);
	code = r.err.code;
	if (code == S3S_OK && etag_out)
		snprintf(etag_out, 128, "%s", r.obj.etag);
	CHECK(r.if_match == if_match && r.if_none_match == inm);	/* given back unchanged */
	s3s_request_reset(&r);
	return code;
}

static void
check_keeps_promises(s3s_store *st, const char *what)
{
	s3s_probe_result res;
	s3s_conditions cond;
	s3s_stats	before,
				after;
	s3s_error	err;

	printf("# %s\n", what);
	s3s_get_stats(st, &before);
	CHECK_INTEQ(s3s_probe(st, 2047, &res, &err), S3S_OK);
	if (err.code != S3S_OK)
		printf("# probe failed: %s\n", err.message);
	s3s_get_stats(st, &after);
	CHECK_INTEQ(after.requests[S3S_OP_PUT], before.requests[S3S_OP_PUT]);
	CHECK_STREQ(s3s_cap_name(res.put_if_none_match), "honoured");
	CHECK_STREQ(s3s_cap_name(res.put_if_match[S3S_SPELL_QUOTED]), "honoured");
	CHECK_STREQ(s3s_cap_name(res.put_if_match[S3S_SPELL_BARE]), "not needed");
	CHECK_STREQ(s3s_cap_name(res.copy_if_match[S3S_SPELL_QUOTED]), "honoured");
	CHECK_STREQ(s3s_cap_name(res.copy_if_match[S3S_SPELL_BARE]), "not needed");
	CHECK_STREQ(s3s_cap_name(res.delete_if_match[S3S_SPELL_QUOTED]), "honoured");
	CHECK_STREQ(s3s_cap_name(res.delete_if_match[S3S_SPELL_BARE]), "not needed");
	CHECK_INTEQ(res.meta_wanted, 2047);
	CHECK_INTEQ(res.meta_accepted, 2047);
	CHECK(s3s_probe_conditions(&res, &cond));
	CHECK(!cond.if_match_unquoted && !cond.omit_if_none_match &&
		  !cond.omit_put_if_match && !cond.omit_copy_if_match && !cond.omit_delete_if_match);
	CHECK_INTEQ(left_behind(st), 0);
}

static void
memory_checks(void)
{
	s3s_store  *st = open_url("memory://probe/pre");
	s3s_probe_result res;
	s3s_conditions cond;
	s3s_error	err;
	char		etag[128];

	if (st == NULL)
	{
		CHECK(st != NULL);
		return;
	}
	check_keeps_promises(st, "memory:// keeps every promise");

	/* Ceph radosgw 18: quoted If-Match refused on PUT, DELETE ignores it */
	s3s_memory_set_quirks(S3S_MEMQ_REFUSE_QUOTED | S3S_MEMQ_IGNORE_DELETE_IF_MATCH, 0);
	CHECK_INTEQ(s3s_probe(st, 2047, &res, &err), S3S_OK);
	CHECK_STREQ(s3s_cap_name(res.put_if_none_match), "honoured");
	CHECK_STREQ(s3s_cap_name(res.put_if_match[S3S_SPELL_QUOTED]), "refused");
	CHECK_STREQ(s3s_cap_name(res.put_if_match[S3S_SPELL_BARE]), "honoured");
	CHECK_STREQ(s3s_cap_name(res.delete_if_match[S3S_SPELL_QUOTED]), "ignored");
	CHECK_STREQ(s3s_cap_name(res.delete_if_match[S3S_SPELL_BARE]), "ignored");
	CHECK(!s3s_probe_conditions(&res, &cond));
	CHECK(cond.if_match_unquoted);
	CHECK(!cond.omit_put_if_match && !cond.omit_delete_if_match && !cond.omit_if_none_match);
	CHECK_INTEQ(left_behind(st), 0);

	/*
	 * with the bare spelling, conditional updates work there (the store is
	 * told how to write instead of being probed: the gate is tested below)
	 */
	memset(&cond, 0, sizeof(cond));
	s3s_set_conditions(st, &cond);
	CHECK(s3s_probe_conditions(&res, &cond) == false);
	CHECK_INTEQ(put(st, "k", "one", true, NULL, etag), S3S_OK);
	CHECK_INTEQ(put(st, "k", "two", false, etag, etag), S3S_ERR_PRECONDITION);
	s3s_set_conditions(st, &cond);
	CHECK_INTEQ(put(st, "k", "two", false, etag, etag), S3S_OK);
	CHECK_INTEQ(put(st, "k", "three", false, "0123", NULL), S3S_ERR_PRECONDITION);

	/* a store that ignores every condition */
	s3s_memory_set_quirks(S3S_MEMQ_IGNORE_CONDITIONS, 0);
	CHECK_INTEQ(s3s_probe(st, 2047, &res, &err), S3S_OK);
	CHECK_STREQ(s3s_cap_name(res.put_if_none_match), "ignored");
	CHECK_STREQ(s3s_cap_name(res.put_if_match[S3S_SPELL_QUOTED]), "ignored");
	CHECK_STREQ(s3s_cap_name(res.put_if_match[S3S_SPELL_BARE]), "ignored");
	CHECK_STREQ(s3s_cap_name(res.delete_if_match[S3S_SPELL_QUOTED]), "ignored");
	CHECK_STREQ(s3s_cap_name(res.delete_if_match[S3S_SPELL_BARE]), "ignored");
	CHECK(!s3s_probe_conditions(&res, &cond));
	CHECK(!cond.if_match_unquoted && !cond.omit_put_if_match);
	CHECK_INTEQ(left_behind(st), 0);

	/* a store that checks every condition but the copy source's */
	s3s_memory_set_quirks(S3S_MEMQ_IGNORE_COPY_IF_MATCH, 0);
	CHECK_INTEQ(s3s_probe(st, 2047, &res, &err), S3S_OK);
	CHECK_STREQ(s3s_cap_name(res.put_if_match[S3S_SPELL_QUOTED]), "honoured");
	CHECK_STREQ(s3s_cap_name(res.copy_if_match[S3S_SPELL_QUOTED]), "ignored");
	CHECK_STREQ(s3s_cap_name(res.copy_if_match[S3S_SPELL_BARE]), "ignored");
	CHECK_STREQ(s3s_cap_name(res.delete_if_match[S3S_SPELL_QUOTED]), "honoured");
	CHECK(!s3s_probe_conditions(&res, &cond));
	{
		char		why[256];

		s3s_probe_describe(&res, &cond, why, sizeof(why));
		CHECK_STREQ(why, "x-amz-copy-source-if-match on COPY is ignored");
	}
	CHECK_INTEQ(left_behind(st), 0);

	/* a store that accepts less user metadata than asked for */
	s3s_memory_set_quirks(0, 1000);
	CHECK_INTEQ(s3s_probe(st, 2047, &res, &err), S3S_OK);
	CHECK_INTEQ(res.meta_wanted, 2047);
	CHECK_INTEQ(res.meta_accepted, 511);
	CHECK(s3s_probe_conditions(&res, &cond));
	s3s_memory_set_quirks(0, 0);

	/* conditions left out are not sent, and the request is given back whole */
	memset(&cond, 0, sizeof(cond));
	cond.omit_put_if_match = true;
	cond.omit_if_none_match = true;
	s3s_set_conditions(st, &cond);
	CHECK_INTEQ(put(st, "k", "four", false, "0123", NULL), S3S_OK);
	CHECK_INTEQ(put(st, "k", "five", true, NULL, NULL), S3S_OK);
	memset(&cond, 0, sizeof(cond));
	s3s_set_conditions(st, &cond);
	CHECK_INTEQ(put(st, "k", "six", true, NULL, NULL), S3S_ERR_PRECONDITION);
	s3s_close(st);
}

static void
file_checks(void)
{
	char		dir[] = "/tmp/s3db_probe_XXXXXX";
	char		url[128];
	char		cmd[160];
	s3s_store  *st;

	if (mkdtemp(dir) == NULL)
	{
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(url, sizeof(url), "file://%s", dir);
	st = open_url(url);
	if (st != NULL)
	{
		check_keeps_promises(st, "file:// keeps every promise");
		s3s_close(st);
	}
	/* the probe's directories are pruned: only the backend's lock file stays */
	snprintf(cmd, sizeof(cmd), "test -z \"$(find %s -mindepth 1 ! -name '.s3db_fdw.lock*')\"", dir);
	CHECK(system(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int
main(void)
{
	const char *url = getenv("S3DB_TEST_S3_URL");

	memory_checks();
	file_checks();
	if (url == NULL || url[0] == '\0')
		printf("ok %d # skip live S3 probe: S3DB_TEST_S3_URL is not set\n", ++unit_count);
	else
	{
		s3s_store  *st = open_url(url);

		CHECK(st != NULL);
		if (st != NULL)
		{
			check_keeps_promises(st, "the S3 test server keeps every promise");
			s3s_close(st);
		}
	}
	return unit_done();
}
