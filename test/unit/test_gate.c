/*-------------------------------------------------------------------------
 *
 * test_gate.c
 *		Unit tests of the write gate (src/store/gate.c): a store takes no
 *		conditional write before it was probed, probes on the first one
 *		whoever sends it, refuses them (and only them) when it does not
 *		honour the conditions unless weak conditions were accepted, refuses
 *		them whatever was accepted when it does not keep the metadata
 *		writes need, and stays unchecked when the probe could not finish.
 *		Memory stores are made to misbehave with s3s_memory_set_quirks().
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/probe.h"
#include "store/store.h"
#include "unit.h"

static s3s_store *
open_mem(const char *url, bool accept_weak, int meta_needed)
{
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *st;

	s3s_config_init(&cfg);
	cfg.url = url;
	cfg.accept_weak_conditions = accept_weak;
	cfg.metadata_needed = meta_needed;
	st = s3s_open(&cfg, &err);
	if (st == NULL)
		printf("# open failed: %s\n", err.message);
	return st;
}

static void
init_put(s3s_request *r, const char *key, const char *body, bool inm, const char *if_match)
{
	s3s_request_init(r, S3S_OP_PUT, key);
	r->body = (const unsigned char *) body;
	r->body_len = strlen(body);
	r->if_none_match = inm;
	r->if_match = if_match;
}

/* PUT key; returns the error, *out_err gets the whole error when given. */
static s3s_code
put(s3s_store *st, const char *key, const char *body, bool inm, const char *if_match,
	char *etag_out, s3s_error *out_err)
{
	s3s_request r;
	s3s_code	code;

	init_put(&r, key, body, inm, if_match);
	s3s_execute(st, &r, 1);
	code = r.err.code;
	if (out_err)
		*out_err = r.err;
	if (code == S3S_OK && etag_out)
		snprintf(etag_out, 128, "%s", r.obj.etag);
	s3s_request_reset(&r);
	return code;
}

static s3s_code
del(s3s_store *st, const char *key, const char *if_match)
{
	s3s_request r;
	s3s_code	code;

	s3s_request_init(&r, S3S_OP_DELETE, key);
	r.if_match = if_match;
	s3s_execute(st, &r, 1);
	code = r.err.code;
	s3s_request_reset(&r);
	return code;
}

static bool
exists(s3s_store *st, const char *key)
{
	s3s_object	o;
	s3s_error	err;
	bool		found = s3s_head(st, key, &o, &err) == S3S_OK;

	s3s_object_free(&o);
	return found;
}

static bool
cancel_always(void *arg)
{
	(void) arg;
	return true;
}

/* A store that keeps the promises opens on its first conditional write. */
static void
honest_store(void)
{
	s3s_store  *st = open_mem("memory://gate/honest", false, 2047);
	s3s_stats	stats;
	char		etag[128];

	if (st == NULL)
	{
		CHECK(st != NULL);
		return;
	}
	CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_UNCHECKED);
	/* reads and unconditional writes do not probe */
	CHECK_INTEQ(put(st, "plain", "x", false, NULL, NULL, NULL), S3S_OK);
	CHECK(exists(st, "plain"));
	CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_UNCHECKED);
	/* the first conditional write does, and goes through */
	CHECK_INTEQ(put(st, "k", "one", true, NULL, etag, NULL), S3S_OK);
	CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_OPEN);
	CHECK_INTEQ(put(st, "k", "two", false, "0123", NULL, NULL), S3S_ERR_PRECONDITION);
	CHECK_INTEQ(put(st, "k", "two", false, etag, NULL, NULL), S3S_OK);
	/* the probe's requests are not the caller's */
	s3s_get_stats(st, &stats);
	CHECK_INTEQ(stats.requests[S3S_OP_PUT], 4);
	CHECK_INTEQ(stats.requests[S3S_OP_DELETE], 0);
	s3s_close(st);
}

/* Ceph radosgw 18: the gate closes, conditional writes fail unsent. */
static void
weak_store_refused(void)
{
	s3s_store  *st;
	s3s_request r[3];
	s3s_error	err;
	char		etag[128];

	s3s_memory_set_quirks(S3S_MEMQ_REFUSE_QUOTED | S3S_MEMQ_IGNORE_DELETE_IF_MATCH, 0);
	st = open_mem("memory://gate/ceph18", false, 2047);
	if (st == NULL)
	{
		CHECK(st != NULL);
		s3s_memory_set_quirks(0, 0);
		return;
	}
	CHECK_INTEQ(put(st, "k", "one", true, NULL, NULL, &err), S3S_ERR_UNSAFE);
	CHECK_STREQ(err.s3_code, "conditions");
	CHECK_STREQ(err.op, "PUT");
	CHECK_STREQ(err.key, "k");
	CHECK(strstr(err.message, "If-Match on DELETE is ignored") != NULL);
	CHECK(!exists(st, "k"));
	CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_CLOSED);

	/* an unconditional write still goes; a conditional DELETE does not */
	CHECK_INTEQ(put(st, "k", "plain", false, NULL, etag, NULL), S3S_OK);
	CHECK_INTEQ(del(st, "k", etag), S3S_ERR_UNSAFE);
	CHECK(exists(st, "k"));

	/* in one batch, only the conditional requests fail */
	init_put(&r[0], "a", "a", false, NULL);
	init_put(&r[1], "b", "b", true, NULL);
	s3s_request_init(&r[2], S3S_OP_HEAD, "k");
	CHECK_INTEQ(s3s_execute(st, r, 3), 1);
	CHECK_INTEQ(r[0].err.code, S3S_OK);
	CHECK_INTEQ(r[1].err.code, S3S_ERR_UNSAFE);
	CHECK_INTEQ(r[2].err.code, S3S_OK);
	CHECK(r[1].if_none_match);	/* the request is given back unchanged */
	for (int i = 0; i < 3; i++)
		s3s_request_reset(&r[i]);
	CHECK(exists(st, "a") && !exists(st, "b"));

	/* asking again gives the same answer */
	CHECK_INTEQ(s3s_check_writes(st, false, &err), S3S_ERR_UNSAFE);
	CHECK_INTEQ(s3s_check_writes(st, true, &err), S3S_ERR_UNSAFE);
	CHECK_INTEQ(del(st, "k", NULL), S3S_OK);
	s3s_close(st);
	s3s_memory_set_quirks(0, 0);
}

/* A store that ignores the copy source's ETag takes no conditional COPY. */
static void
copy_unchecked(void)
{
	s3s_store  *st;
	s3s_request r;
	s3s_meta	m;
	char		etag[128];

	s3s_memory_set_quirks(S3S_MEMQ_IGNORE_COPY_IF_MATCH, 0);
	st = open_mem("memory://gate/copy", false, 0);
	if (st == NULL)
	{
		CHECK(st != NULL);
		s3s_memory_set_quirks(0, 0);
		return;
	}
	CHECK_INTEQ(put(st, "k", "one", false, NULL, etag, NULL), S3S_OK);
	s3s_meta_init(&m);
	s3s_meta_add(&m, "v", "2");
	s3s_request_init(&r, S3S_OP_COPY, "k");
	r.copy_source = "k";
	r.if_match = etag;
	r.meta = &m;
	CHECK_INTEQ(s3s_execute(st, &r, 1), 1);
	CHECK_INTEQ(r.err.code, S3S_ERR_UNSAFE);
	CHECK(strstr(r.err.message, "x-amz-copy-source-if-match on COPY is ignored") != NULL);
	s3s_request_reset(&r);
	s3s_meta_free(&m);
	s3s_close(st);
	s3s_memory_set_quirks(0, 0);
}

/* Accepted weak conditions: written with what the store honours. */
static void
weak_store_accepted(void)
{
	s3s_store  *st;
	s3s_conditions cond;
	char		etag[128];

	s3s_memory_set_quirks(S3S_MEMQ_REFUSE_QUOTED | S3S_MEMQ_IGNORE_DELETE_IF_MATCH, 0);
	st = open_mem("memory://gate/ceph18-accepted", true, 2047);
	if (st != NULL)
	{
		CHECK_INTEQ(put(st, "k", "one", true, NULL, etag, NULL), S3S_OK);
		CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_WEAK);
		s3s_get_conditions(st, &cond);
		CHECK(cond.if_match_unquoted);
		/* the bare spelling is honoured on PUT: a stale update still fails */
		CHECK_INTEQ(put(st, "k", "two", false, "0123", NULL, NULL), S3S_ERR_PRECONDITION);
		CHECK_INTEQ(put(st, "k", "two", false, etag, NULL, NULL), S3S_OK);
		s3s_close(st);
	}

	/* a store that ignores everything, accepted: writes go, unchecked */
	s3s_memory_set_quirks(S3S_MEMQ_IGNORE_CONDITIONS, 0);
	st = open_mem("memory://gate/none-accepted", true, 2047);
	if (st != NULL)
	{
		CHECK_INTEQ(put(st, "k", "one", true, NULL, NULL, NULL), S3S_OK);
		CHECK_INTEQ(put(st, "k", "two", true, NULL, NULL, NULL), S3S_OK);
		CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_WEAK);
		s3s_close(st);
	}
	s3s_memory_set_quirks(0, 0);
}

/* Too little user metadata closes the gate, accepted or not. */
static void
metadata_short(void)
{
	s3s_store  *st;
	s3s_error	err;
	s3s_probe_result res;

	s3s_memory_set_quirks(0, 1000);
	st = open_mem("memory://gate/meta", true, 2047);
	if (st != NULL)
	{
		CHECK_INTEQ(put(st, "k", "one", true, NULL, NULL, &err), S3S_ERR_UNSAFE);
		CHECK_STREQ(err.s3_code, "metadata");
		CHECK(strstr(err.message, "2047 bytes of user metadata") != NULL);
		CHECK_INTEQ(s3s_write_gate(st, &res), S3S_GATE_CLOSED);
		CHECK_INTEQ(res.meta_accepted, 511);
		s3s_close(st);
	}
	st = open_mem("memory://gate/meta", false, 500);
	if (st != NULL)
	{
		CHECK_INTEQ(put(st, "k", "one", true, NULL, NULL, NULL), S3S_OK);
		CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_OPEN);
		s3s_close(st);
	}
	s3s_memory_set_quirks(0, 0);
}

static void
remember_probe(void *arg, const s3s_probe_result *res)
{
	*(s3s_probe_result *) arg = *res;
}

/* One store's probe decides another's without asking the store again. */
static void
shared_probe(void)
{
	s3s_probe_result seen;
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *a,
			   *b,
			   *c;

	memset(&seen, 0, sizeof(seen));
	s3s_config_init(&cfg);
	cfg.url = "memory://gate/shared";
	cfg.metadata_needed = 600;
	cfg.on_probe = remember_probe;
	cfg.on_probe_arg = &seen;
	a = s3s_open(&cfg, &err);
	cfg.on_probe = NULL;
	b = s3s_open(&cfg, &err);
	cfg.metadata_needed = 700;
	c = s3s_open(&cfg, &err);
	if (a == NULL || b == NULL || c == NULL)
	{
		CHECK(!"open");
		return;
	}
	/* a store that ignores every condition, as the first store finds it */
	s3s_memory_set_quirks(S3S_MEMQ_IGNORE_CONDITIONS, 0);
	CHECK_INTEQ(put(a, "k", "one", true, NULL, NULL, NULL), S3S_ERR_UNSAFE);
	CHECK_INTEQ(seen.meta_wanted, 600);
	CHECK_STREQ(s3s_cap_name(seen.put_if_none_match), "ignored");
	s3s_memory_set_quirks(0, 0);

	/* the second adopts that: closed, although the store would pass now */
	s3s_adopt_probe(b, &seen);
	CHECK_INTEQ(s3s_write_gate(b, NULL), S3S_GATE_CLOSED);
	CHECK_INTEQ(put(b, "k", "one", true, NULL, NULL, NULL), S3S_ERR_UNSAFE);

	/* one that needs other metadata ignores it and asks for itself */
	s3s_adopt_probe(c, &seen);
	CHECK_INTEQ(s3s_write_gate(c, NULL), S3S_GATE_UNCHECKED);
	CHECK_INTEQ(put(c, "k", "one", true, NULL, NULL, NULL), S3S_OK);
	CHECK_INTEQ(s3s_write_gate(c, NULL), S3S_GATE_OPEN);
	s3s_close(a);
	s3s_close(b);
	s3s_close(c);
}

/* A probe that cannot finish fails the batch and leaves the gate unchecked. */
static void
probe_interrupted(void)
{
	s3s_store  *st = open_mem("memory://gate/cancel", false, 2047);
	s3s_error	err;

	if (st == NULL)
	{
		CHECK(st != NULL);
		return;
	}
	s3s_set_cancel(st, cancel_always, NULL);
	CHECK_INTEQ(put(st, "k", "one", true, NULL, NULL, &err), S3S_ERR_CANCELLED);
	CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_UNCHECKED);
	s3s_set_cancel(st, NULL, NULL);
	CHECK(!exists(st, "k"));
	CHECK_INTEQ(put(st, "k", "one", true, NULL, NULL, NULL), S3S_OK);
	CHECK_INTEQ(s3s_write_gate(st, NULL), S3S_GATE_OPEN);

	/* a store that changed is found out by a forced probe */
	s3s_memory_set_quirks(S3S_MEMQ_IGNORE_CONDITIONS, 0);
	CHECK_INTEQ(s3s_check_writes(st, true, &err), S3S_ERR_UNSAFE);
	CHECK_INTEQ(put(st, "k", "two", true, NULL, NULL, NULL), S3S_ERR_UNSAFE);
	s3s_memory_set_quirks(0, 0);
	s3s_close(st);
}

int
main(void)
{
	honest_store();
	weak_store_refused();
	copy_unchecked();
	weak_store_accepted();
	metadata_short();
	probe_interrupted();
	shared_probe();
	return unit_done();
}
