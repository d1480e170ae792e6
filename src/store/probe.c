/*-------------------------------------------------------------------------
 *
 * probe.c
 *		Asking a store whether it honours write conditions (see probe.h).
 *
 * Each check pairs a write that must fail with one that must succeed, so
 * that "ignored" (the failing write went through) and "refused" (the true
 * condition was answered with 412 or a 4xx) are told apart: a store that
 * ignores a condition loses updates silently, one that refuses it makes
 * every write fail.  Only 412 counts as a failed condition; a 4xx or 501
 * answer to a condition means the store does not support it.  Anything
 * else (network, access, other server errors) stops the probe with that
 * error: it says nothing about conditions.
 *
 * The probe writes only under S3S_PROBE_PREFIX<random>/ and deletes what it
 * wrote, whatever the outcome.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/probe.h"
#include "store/store_int.h"

/* An ETag none of the probe's bodies has (their MD5s are not all zeros). */
#define WRONG_ETAG "00000000000000000000000000000000"
/* Metadata entries are at most this long (key plus value), as records' are. */
#define META_ENTRY 200
#define META_MIN 256
/* The objects a probe writes: "a", "dq", "db" and "m". */
#define PROBE_LEAVES 4

typedef enum outcome
{
	O_DONE,						/* the request succeeded */
	O_PRECONDITION,				/* 412 */
	O_REFUSED,					/* another 4xx, or 501: not supported */
	O_FATAL						/* says nothing about conditions: stop */
} outcome;

typedef struct probe
{
	s3s_store  *st;
	char		base[64];		/* S3S_PROBE_PREFIX<hex>/ */
	char		key[96];
	char		etag[PROBE_LEAVES][128];	/* each object's ETag, by leaves[] */
	s3s_error  *err;
	bool		fatal;
} probe;

const char *
s3s_cap_name(s3s_cap c)
{
	switch (c)
	{
		case S3S_CAP_HONOURED:
			return "honoured";
		case S3S_CAP_IGNORED:
			return "ignored";
		case S3S_CAP_REFUSED:
			return "refused";
		case S3S_CAP_NOT_NEEDED:
			return "not needed";
		case S3S_CAP_UNTESTED:
			break;
	}
	return "untested";
}

static const char *
key_of(probe *p, const char *leaf)
{
	snprintf(p->key, sizeof(p->key), "%s%s", p->base, leaf);
	return p->key;
}

static outcome
classify(probe *p, s3s_request *r)
{
	switch (r->err.code)
	{
		case S3S_OK:
			return O_DONE;
		case S3S_ERR_PRECONDITION:
			return O_PRECONDITION;
		case S3S_ERR_CLIENT:
		case S3S_ERR_NOT_FOUND:
			return O_REFUSED;
		case S3S_ERR_SERVER:
			if (r->err.http_status == 501)
				return O_REFUSED;
			break;
		default:
			break;
	}
	if (!p->fatal)
	{
		*p->err = r->err;
		p->fatal = true;
	}
	return O_FATAL;
}

static void
set_spelling(probe *p, int spelling)
{
	s3s_conditions c;

	/* not s3s_set_conditions(): that would open the store's gate */
	memset(&c, 0, sizeof(c));
	c.if_match_unquoted = spelling == S3S_SPELL_BARE;
	p->st->cond = c;
}

/* The objects a probe writes, under its base. */
static const char *const leaves[PROBE_LEAVES] = {"a", "dq", "db", "m"};

/* Where the current ETag of leaf is kept (the last write's answer). */
static char *
etag_of(probe *p, const char *leaf)
{
	for (int i = 0; i < PROBE_LEAVES; i++)
		if (strcmp(leaves[i], leaf) == 0)
			return p->etag[i];
	abort();					/* only leaves[] are written */
}

/* PUT leaf; on success remember its ETag. */
static outcome
put(probe *p, const char *leaf, const char *body, bool inm, const char *if_match,
	const s3s_meta *meta)
{
	s3s_request r;
	outcome		o;

	if (p->fatal)
		return O_FATAL;
	s3s_request_init(&r, S3S_OP_PUT, key_of(p, leaf));
	r.body = (const unsigned char *) body;
	r.body_len = strlen(body);
	r.content_type = "text/plain";
	r.if_none_match = inm;
	r.if_match = if_match;
	r.meta = meta;
	s3s_execute(p->st, &r, 1);
	o = classify(p, &r);
	if (o == O_DONE)
	{
		if (r.obj.etag != NULL)
			snprintf(etag_of(p, leaf), sizeof(p->etag[0]), "%s", r.obj.etag);
		else
			s3s_md5_hex(r.body, r.body_len, etag_of(p, leaf));
	}
	s3s_request_reset(&r);
	return o;
}

/* An unconditional PUT that must succeed. */
static bool
put_plain(probe *p, const char *leaf, const char *body)
{
	outcome		o = put(p, leaf, body, false, NULL, NULL);

	if (o != O_DONE && !p->fatal)
	{
		s3s_error_set(p->err, S3S_ERR_PROTOCOL, "PUT", p->key,
					  "the store refused a plain write of the probe");
		p->fatal = true;
	}
	return o == O_DONE;
}

static outcome
del(probe *p, const char *leaf, const char *if_match)
{
	s3s_request r;
	outcome		o;

	if (p->fatal)
		return O_FATAL;
	s3s_request_init(&r, S3S_OP_DELETE, key_of(p, leaf));
	r.if_match = if_match;
	s3s_execute(p->st, &r, 1);
	o = classify(p, &r);
	s3s_request_reset(&r);
	return o;
}

/* HEAD leaf: 1 exists (metadata into *meta when given), 0 missing, -1 fatal. */
static int
head(probe *p, const char *leaf, s3s_meta *meta)
{
	s3s_request r;
	int			rc;

	if (p->fatal)
		return -1;
	s3s_request_init(&r, S3S_OP_HEAD, key_of(p, leaf));
	s3s_execute(p->st, &r, 1);
	if (r.err.code == S3S_OK)
	{
		rc = 1;
		if (meta != NULL && s3s_meta_copy(meta, &r.obj.meta) != 0)
		{
			s3s_error_set(p->err, S3S_ERR_NOMEM, "HEAD", p->key, "out of memory");
			p->fatal = true;
			rc = -1;
		}
	}
	else if (r.err.code == S3S_ERR_NOT_FOUND)
		rc = 0;
	else
	{
		classify(p, &r);
		rc = -1;
	}
	s3s_request_reset(&r);
	return rc;
}

/* If-None-Match: * on PUT, against a missing and then an existing object. */
static void
probe_if_none_match(probe *p, s3s_probe_result *res)
{
	outcome		o = put(p, "a", "probe 1", true, NULL, NULL);

	if (o == O_FATAL)
		return;
	if (o != O_DONE)
	{
		res->put_if_none_match = S3S_CAP_REFUSED;
		put_plain(p, "a", "probe 1");
		return;
	}
	o = put(p, "a", "probe 2", true, NULL, NULL);
	if (o == O_DONE)
		res->put_if_none_match = S3S_CAP_IGNORED;
	else if (o == O_PRECONDITION)
		res->put_if_none_match = S3S_CAP_HONOURED;
	else if (o == O_REFUSED)
		res->put_if_none_match = S3S_CAP_REFUSED;
}

/*
 * COPY leaf onto itself with x-amz-copy-source-if-match, replacing its
 * metadata: how s3db_fdw changes a record's metadata without its body.
 */
static outcome
copy_self(probe *p, const char *leaf, const char *if_match)
{
	s3s_request r;
	s3s_meta	m;
	outcome		o;

	if (p->fatal)
		return O_FATAL;
	s3s_meta_init(&m);
	if (s3s_meta_add(&m, "probe", if_match) != 0)
	{
		s3s_error_set(p->err, S3S_ERR_NOMEM, "COPY", NULL, "out of memory");
		p->fatal = true;
		return O_FATAL;
	}
	s3s_request_init(&r, S3S_OP_COPY, key_of(p, leaf));
	r.copy_source = p->key;
	r.if_match = if_match;
	r.meta = &m;
	s3s_execute(p->st, &r, 1);
	o = classify(p, &r);
	if (o == O_DONE && r.obj.etag != NULL)
		snprintf(etag_of(p, leaf), sizeof(p->etag[0]), "%s", r.obj.etag);
	s3s_request_reset(&r);
	s3s_meta_free(&m);
	return o;
}

/*
 * If-Match on a PUT of the existing object "a", or x-amz-copy-source-if-match
 * on a COPY of it onto itself, in one spelling: a stale ETag must fail with
 * 412 and the current one must succeed.
 */
static s3s_cap
probe_write_if_match(probe *p, bool copy, int spelling)
{
	bool		quoted = spelling == S3S_SPELL_QUOTED;
	char		cur[128];
	outcome		stale,
				fresh;

	set_spelling(p, spelling);
	stale = copy ? copy_self(p, "a", WRONG_ETAG) :
		put(p, "a", quoted ? "stale q" : "stale b", false, WRONG_ETAG, NULL);
	snprintf(cur, sizeof(cur), "%s", etag_of(p, "a"));
	fresh = copy ? copy_self(p, "a", cur) :
		put(p, "a", quoted ? "fresh q" : "fresh b", false, cur, NULL);
	if (p->fatal)
		return S3S_CAP_UNTESTED;
	if (stale == O_DONE)
		return S3S_CAP_IGNORED;
	if (stale == O_REFUSED || fresh != O_DONE)
		return S3S_CAP_REFUSED;
	return S3S_CAP_HONOURED;
}

/* If-Match on DELETE, in one spelling, of an object written for it. */
static s3s_cap
probe_delete_if_match(probe *p, int spelling)
{
	const char *leaf = spelling == S3S_SPELL_QUOTED ? "dq" : "db";
	char		cur[128];
	s3s_cap		verdict = S3S_CAP_HONOURED;
	outcome		o;
	int			exists;

	if (!put_plain(p, leaf, "delete me"))
		return S3S_CAP_UNTESTED;
	set_spelling(p, spelling);
	o = del(p, leaf, WRONG_ETAG);
	exists = head(p, leaf, NULL);
	if (o == O_REFUSED)
		verdict = S3S_CAP_REFUSED;
	else if (o == O_DONE || exists == 0)
	{
		/* deleted (or said so) although the ETag differed */
		verdict = S3S_CAP_IGNORED;
	}
	if (exists == 0)
		put_plain(p, leaf, "delete me");
	snprintf(cur, sizeof(cur), "%s", etag_of(p, leaf));
	set_spelling(p, spelling);
	o = del(p, leaf, cur);
	exists = head(p, leaf, NULL);
	if (p->fatal)
		return S3S_CAP_UNTESTED;
	if ((o != O_DONE || exists != 0) && verdict == S3S_CAP_HONOURED)
		verdict = S3S_CAP_REFUSED;
	return verdict;
}

/* Does a PUT with size bytes of user metadata come back whole? */
static bool
meta_fits(probe *p, int size)
{
	s3s_meta	m,
				back;
	char		key[16];
	char		value[META_ENTRY + 1];
	bool		whole = false;
	int			count = (size + META_ENTRY - 1) / META_ENTRY;

	/* count entries of nearly equal size, key and value bytes summing to size */
	s3s_meta_init(&m);
	s3s_meta_init(&back);
	for (int i = 0; i < count; i++)
	{
		int			bytes = size / count + (i < size % count ? 1 : 0);
		int			klen = snprintf(key, sizeof(key), "probe-%03d", i);
		int			vlen = bytes - klen;

		memset(value, 'a' + i % 26, (size_t) vlen);
		value[vlen] = '\0';
		if (s3s_meta_add(&m, key, value) != 0)
		{
			s3s_error_set(p->err, S3S_ERR_NOMEM, "PUT", NULL, "out of memory");
			p->fatal = true;
			goto done;
		}
	}
	if (put(p, "m", "metadata", false, NULL, &m) != O_DONE)
		goto done;
	if (head(p, "m", &back) != 1)
		goto done;
	whole = back.n == m.n;
	for (int i = 0; whole && i < m.n; i++)
	{
		const char *v = s3s_meta_get(&back, m.keys[i]);

		whole = v != NULL && strcmp(v, m.values[i]) == 0;
	}
done:
	s3s_meta_free(&m);
	s3s_meta_free(&back);
	return whole;
}

s3s_code
s3s_probe(s3s_store *st, int meta_wanted, s3s_probe_result *out, s3s_error *err)
{
	probe		p;
	s3s_conditions saved_cond;
	s3s_stats	saved_stats;
	bool		saved_probing;
	unsigned char rnd[8];
	char		hex[17];

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	s3s_error_clear(err);
	p.st = st;
	p.err = err;
	s3s_random_bytes(rnd, sizeof(rnd));
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(p.base, sizeof(p.base), "%s%s/", S3S_PROBE_PREFIX, hex);

	saved_cond = st->cond;
	saved_stats = st->stats;
	/* the probe's own conditional writes must reach the store (gate.c) */
	saved_probing = st->probing;
	st->probing = true;
	set_spelling(&p, S3S_SPELL_QUOTED);

	/*
	 * The quoted spelling first, as S3 specifies it.  The bare one matters
	 * only where some write does not honour the quoted one, and a probe
	 * runs before the first write of every new connection: skipping it
	 * saves nine of about twenty-five sequential requests on a store that
	 * keeps S3's promises.
	 */
	probe_if_none_match(&p, out);
	for (int s = S3S_SPELL_QUOTED; s <= S3S_SPELL_BARE && !p.fatal; s++)
	{
		if (s == S3S_SPELL_BARE &&
			out->put_if_match[S3S_SPELL_QUOTED] == S3S_CAP_HONOURED &&
			out->copy_if_match[S3S_SPELL_QUOTED] == S3S_CAP_HONOURED &&
			out->delete_if_match[S3S_SPELL_QUOTED] == S3S_CAP_HONOURED)
		{
			out->put_if_match[s] = S3S_CAP_NOT_NEEDED;
			out->copy_if_match[s] = S3S_CAP_NOT_NEEDED;
			out->delete_if_match[s] = S3S_CAP_NOT_NEEDED;
			break;
		}
		out->put_if_match[s] = probe_write_if_match(&p, false, s);
		if (!p.fatal)
			out->copy_if_match[s] = probe_write_if_match(&p, true, s);
		if (!p.fatal)
			out->delete_if_match[s] = probe_delete_if_match(&p, s);
	}

	out->meta_wanted = meta_wanted;
	for (int size = meta_wanted; size >= META_MIN && !p.fatal; size /= 2)
	{
		if (meta_fits(&p, size))
		{
			out->meta_accepted = size;
			break;
		}
	}

	/* clean up whatever happened, in one batch; a failure changes nothing above */
	set_spelling(&p, S3S_SPELL_QUOTED);
	{
		s3s_request r[PROBE_LEAVES];
		char		keys[PROBE_LEAVES][sizeof(p.key)];

		for (int i = 0; i < PROBE_LEAVES; i++)
		{
			snprintf(keys[i], sizeof(keys[i]), "%s", key_of(&p, leaves[i]));
			s3s_request_init(&r[i], S3S_OP_DELETE, keys[i]);
		}
		s3s_execute(st, r, PROBE_LEAVES);
		for (int i = 0; i < PROBE_LEAVES; i++)
			s3s_request_reset(&r[i]);
	}
	st->cond = saved_cond;
	st->stats = saved_stats;
	st->probing = saved_probing;
	return p.fatal ? err->code : S3S_OK;
}

bool
s3s_probe_conditions(const s3s_probe_result *res, s3s_conditions *out)
{
	const s3s_cap *put = res->put_if_match;
	const s3s_cap *copy = res->copy_if_match;
	const s3s_cap *del = res->delete_if_match;
	int			s;

#define ALL_HONOURED(sp) (put[sp] == S3S_CAP_HONOURED && copy[sp] == S3S_CAP_HONOURED && \
						  del[sp] == S3S_CAP_HONOURED)
	memset(out, 0, sizeof(*out));
	/* a spelling honoured by PUT, COPY and DELETE, else by PUT alone */
	if (ALL_HONOURED(S3S_SPELL_QUOTED))
		s = S3S_SPELL_QUOTED;
	else if (ALL_HONOURED(S3S_SPELL_BARE))
		s = S3S_SPELL_BARE;
	else if (put[S3S_SPELL_QUOTED] == S3S_CAP_HONOURED)
		s = S3S_SPELL_QUOTED;
	else if (put[S3S_SPELL_BARE] == S3S_CAP_HONOURED)
		s = S3S_SPELL_BARE;
	else if (put[S3S_SPELL_QUOTED] != S3S_CAP_REFUSED)
		s = S3S_SPELL_QUOTED;
	else
		s = S3S_SPELL_BARE;
	out->if_match_unquoted = s == S3S_SPELL_BARE;
	/* a refused condition would fail every write: leave it out */
	out->omit_if_none_match = res->put_if_none_match == S3S_CAP_REFUSED;
	out->omit_put_if_match = put[s] == S3S_CAP_REFUSED;
	out->omit_copy_if_match = copy[s] == S3S_CAP_REFUSED;
	out->omit_delete_if_match = del[s] == S3S_CAP_REFUSED;
	return res->put_if_none_match == S3S_CAP_HONOURED && ALL_HONOURED(s);
#undef ALL_HONOURED
}
