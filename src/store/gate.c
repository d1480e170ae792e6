/*-------------------------------------------------------------------------
 *
 * gate.c
 *		Letting conditional writes reach only stores known to honour them.
 *
 * Every write s3db_fdw makes that could race another writer carries a
 * condition: If-None-Match: * to create, If-Match on the ETag it read to
 * change or delete.  On a store that ignores the condition the race is
 * lost silently.  Checking the store in each caller (the commit, the
 * sequences of incremental ids, the catalog, the coordinator, TTL sweeps)
 * leaves every new caller one forgotten call away from a lost update, so
 * the check lives here, under all of them: s3s_execute() hands each batch
 * to s3s_gate_batch() before the backend sees it, and a batch with a
 * conditional write probes a store that was never probed (probe.c).
 *
 * What the probe finds decides the store's gate for its lifetime (callers
 * open a new store when its options change): open when every condition is
 * honoured in some ETag spelling, which is then the one used; weak when
 * not, but the configuration accepts that, and the conditions the store
 * does honour are still sent; closed otherwise, and then each conditional
 * write fails with S3S_ERR_UNSAFE without being sent.  A store that does
 * not keep the user metadata writes need is closed whatever the
 * configuration says: records would fail one by one.  Unconditional
 * requests are never held back, and a probe that could not finish
 * (network, access) fails only the conditional writes of that batch and
 * leaves the gate unchecked, to be tried again with the next one.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "store/probe.h"
#include "store/store_int.h"

/* Does the safety of r rest on a condition the store must honour? */
static bool
conditional(const s3s_request *r)
{
	switch (r->op)
	{
		case S3S_OP_PUT:
		case S3S_OP_COPY:
			return r->if_none_match || r->if_match != NULL;
		case S3S_OP_DELETE:
			return r->if_match != NULL;
		default:
			return false;
	}
}

void
s3s_probe_describe(const s3s_probe_result *res, const s3s_conditions *cond,
				   char *buf, size_t len)
{
	int			s = cond->if_match_unquoted ? S3S_SPELL_BARE : S3S_SPELL_QUOTED;
	struct
	{
		const char *what;
		s3s_cap		cap;
	}			checks[4];
	size_t		used = 0;

	checks[0].what = "If-None-Match on PUT";
	checks[0].cap = res->put_if_none_match;
	checks[1].what = "If-Match on PUT";
	checks[1].cap = res->put_if_match[s];
	checks[2].what = "x-amz-copy-source-if-match on COPY";
	checks[2].cap = res->copy_if_match[s];
	checks[3].what = "If-Match on DELETE";
	checks[3].cap = res->delete_if_match[s];
	if (len == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < 4; i++)
	{
		int			n;

		if (checks[i].cap == S3S_CAP_HONOURED || used >= len)
			continue;
		n = snprintf(buf + used, len - used, "%s%s is %s", used ? "; " : "",
					 checks[i].what, s3s_cap_name(checks[i].cap));
		if (n > 0)
			used += (size_t) n;
	}
}

/* Fill err with why a closed gate is closed; returns its code. */
static s3s_code
closed_error(const s3s_store *st, s3s_error *err)
{
	s3s_conditions cond;
	char		problems[256];

	if (st->probed.meta_accepted < st->probed.meta_wanted)
	{
		s3s_error_set(err, S3S_ERR_UNSAFE, "probe", NULL,
					  "the store does not keep %d bytes of user metadata (it kept %d)",
					  st->probed.meta_wanted, st->probed.meta_accepted);
		snprintf(err->s3_code, sizeof(err->s3_code), "metadata");
		return S3S_ERR_UNSAFE;
	}
	s3s_probe_conditions(&st->probed, &cond);
	s3s_probe_describe(&st->probed, &cond, problems, sizeof(problems));
	s3s_error_set(err, S3S_ERR_UNSAFE, "probe", NULL,
				  "the store does not honour conditional writes (%s), so a concurrent "
				  "change could be overwritten without an error", problems);
	snprintf(err->s3_code, sizeof(err->s3_code), "conditions");
	return S3S_ERR_UNSAFE;
}

/* Set st's gate and conditions from a probe's result. */
static void
decide(s3s_store *st, const s3s_probe_result *res)
{
	s3s_conditions cond;
	bool		honoured = s3s_probe_conditions(res, &cond);

	st->probed = *res;
	st->have_probe = true;
	if (res->meta_accepted < res->meta_wanted)
		st->gate = S3S_GATE_CLOSED;
	else if (honoured)
		st->gate = S3S_GATE_OPEN;
	else if (st->accept_weak)
		st->gate = S3S_GATE_WEAK;
	else
		st->gate = S3S_GATE_CLOSED;
	if (st->gate != S3S_GATE_CLOSED)
		st->cond = cond;
}

s3s_code
s3s_check_writes(s3s_store *st, bool force, s3s_error *err)
{
	s3s_probe_result res;
	s3s_code	code;

	s3s_error_clear(err);
	if (st->gate == S3S_GATE_UNCHECKED || force)
	{
		code = s3s_probe(st, st->meta_needed, &res, err);
		if (code != S3S_OK)
		{
			st->gate = S3S_GATE_UNCHECKED;
			return code;
		}
		decide(st, &res);
		if (st->on_probe != NULL)
			st->on_probe(st->on_probe_arg, &res);
	}
	return st->gate == S3S_GATE_CLOSED ? closed_error(st, err) : S3S_OK;
}

void
s3s_adopt_probe(s3s_store *st, const s3s_probe_result *res)
{
	/* a result for another metadata size answers another question */
	if (res->meta_wanted != st->meta_needed)
		return;
	decide(st, res);
}

s3s_gate
s3s_write_gate(const s3s_store *st, s3s_probe_result *res)
{
	if (res != NULL)
	{
		if (st->have_probe)
			*res = st->probed;
		else
			memset(res, 0, sizeof(*res));
	}
	return st->gate;
}

int
s3s_gate_batch(s3s_store *st, s3s_request *reqs, int n)
{
	s3s_error	err;
	int			i;
	int			nfailed = 0;

	if (st->probing || st->gate == S3S_GATE_OPEN || st->gate == S3S_GATE_WEAK)
		return 0;
	for (i = 0; i < n; i++)
		if (reqs[i].err.code == S3S_OK && conditional(&reqs[i]))
			break;
	if (i == n)
		return 0;

	if (s3s_check_writes(st, false, &err) == S3S_OK)
		return 0;
	if (err.code != S3S_ERR_UNSAFE)
	{
		/* keep where the probe failed; say what was being done */
		char		msg[sizeof(err.message)];

		snprintf(msg, sizeof(msg), "could not check whether the store honours "
				 "conditional writes: %.440s", err.message);
		snprintf(err.message, sizeof(err.message), "%s", msg);
	}
	for (; i < n; i++)
	{
		if (reqs[i].err.code != S3S_OK || !conditional(&reqs[i]))
			continue;
		reqs[i].err = err;
		if (err.code == S3S_ERR_UNSAFE)
		{
			/* the request itself was refused: name it */
			snprintf(reqs[i].err.op, sizeof(reqs[i].err.op), "%s", s3s_op_name(reqs[i].op));
			snprintf(reqs[i].err.key, sizeof(reqs[i].err.key), "%s", reqs[i].key);
		}
		nfailed++;
	}
	return nfailed;
}
