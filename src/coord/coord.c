/*-------------------------------------------------------------------------
 *
 * coord.c
 *		The coordinator: configuration, the heartbeat tick (lease renewal and
 *		election), resignation and epoch fencing.
 *
 * One tick, at the caller's now:
 *	 1. PUT our worker record (unconditional: it is only ours);
 *	 2. GET state.json and list the worker records;
 *	 3. if the lease is ours and unexpired: renew it with If-Match (same
 *		epoch, new leaseEnd);
 *		if someone else holds an unexpired lease: follow it;
 *		otherwise (missing, malformed, past _expiresAt or leaseEnd, leaderId
 *		null, or a "gcs-" leader while plain workers exist): elect, writing
 *		epoch max(seen + 1, highest known + 1) with If-None-Match: * when the
 *		object is absent and If-Match on its ETag when replacing it;
 *	 4. if we lead, PUT checkpoint.json when the epoch changed (or every
 *		30 s, to keep it from expiring).
 * A lost conditional write (412) means another process wrote first: the
 * lease is read again and followed.  The tick never sleeps or retries; the
 * next tick is the retry.
 *
 * Safety rests on the store honouring If-None-Match and If-Match on PUT and
 * on the participants' clocks agreeing to well within a lease: a leader
 * considers itself leader only while its own clock is before leaseEnd, and
 * the others elect only once theirs has passed it.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord/coord_int.h"

/* how often the leader rewrites an unchanged checkpoint.json */
#define CHECKPOINT_REFRESH_MS 30000

void
s3c_config_init(s3c_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->lease_ms = 15000;
	cfg->heartbeat_ms = 5000;
	cfg->jitter_ms = 1000;
	cfg->worker_timeout_ms = 0;	/* = lease_ms */
	cfg->breaker_failures = 5;
	cfg->breaker_reset_ms = 30000;
	cfg->contention_ratio = 2.0;
	cfg->contention_report_ms = 30000;
	cfg->metrics_size = 100;
}

/* Ids and namespaces become key segments: keep them printable, no "/". */
static bool
id_ok(const char *s)
{
	size_t		n;

	if (s == NULL || s[0] == '\0')
		return false;
	n = strlen(s);
	if (n > S3C_ID_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || *s == '/' || *s == 0x7f)
			return false;
	return true;
}

void
s3c_coord_free(s3c_coord *c)
{
	if (c == NULL)
		return;
	free(c->ns);
	free(c->worker_id);
	free(c->pod);
	free(c->plugin_name);
	free(c->k_state);
	free(c->k_checkpoint);
	free(c->k_metadata);
	free(c->k_workers);
	free(c->k_self);
	free(c->ring);
	free(c);
}

s3c_coord *
s3c_coord_new(s3s_store *st, const s3c_config *cfg, s3s_error *err)
{
	s3c_coord  *c;
	const char *ns;
	const char *pod;

	s3s_error_clear(err);
	ns = cfg->ns ? cfg->ns : S3C_DEFAULT_NAMESPACE;
	if (st == NULL)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "coord", "", "no store");
		return NULL;
	}
	if (!id_ok(ns))
	{
		s3s_error_set(err, S3S_ERR_INVALID, "coord", "", "invalid coordinator namespace \"%.64s\"", ns);
		return NULL;
	}
	if (!id_ok(cfg->worker_id))
	{
		s3s_error_set(err, S3S_ERR_INVALID, "coord", "",
					  "worker id must be 1 to %d printable characters without \"/\"", S3C_ID_MAX);
		return NULL;
	}
	if (cfg->lease_ms < 1000 || cfg->heartbeat_ms < 10 || cfg->heartbeat_ms >= cfg->lease_ms ||
		cfg->jitter_ms < 0 || cfg->heartbeat_ms + cfg->jitter_ms >= cfg->lease_ms)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "coord", "",
					  "heartbeat interval plus jitter must be shorter than the lease (and the lease at least 1000 ms)");
		return NULL;
	}
	if (cfg->worker_timeout_ms != 0 && cfg->worker_timeout_ms <= cfg->heartbeat_ms + cfg->jitter_ms)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "coord", "",
					  "worker timeout must be longer than the heartbeat interval plus jitter");
		return NULL;
	}
	if (cfg->breaker_failures < 1 || cfg->breaker_reset_ms < 0 || !(cfg->contention_ratio > 0) ||
		cfg->metrics_size < 0)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "coord", "", "invalid circuit breaker or metrics settings");
		return NULL;
	}
	pod = cfg->pod;
	if (pod == NULL || pod[0] == '\0')
		pod = getenv("HOSTNAME");
	if (pod == NULL || pod[0] == '\0')
		pod = getenv("NODE_NAME");
	if (pod == NULL || pod[0] == '\0')
		pod = "unknown";

	c = calloc(1, sizeof(s3c_coord));
	if (c == NULL)
		goto nomem;
	c->st = st;
	c->ns = strdup(ns);
	c->worker_id = strdup(cfg->worker_id);
	c->pod = strndup(pod, S3C_ID_MAX);
	c->plugin_name = strdup(cfg->plugin_name ? cfg->plugin_name : "s3db_fdw");
	c->k_state = s3c_strdup_printf("plugin=coordinator/namespace=%s/state.json", ns);
	c->k_checkpoint = s3c_strdup_printf("plugin=coordinator/namespace=%s/checkpoint.json", ns);
	c->k_metadata = s3c_strdup_printf("plugin=coordinator/namespace=%s/metadata.json", ns);
	c->k_workers = s3c_strdup_printf("plugin=coordinator/namespace=%s/workers/", ns);
	c->k_self = s3c_strdup_printf("plugin=coordinator/namespace=%s/workers/worker=%s.json",
								  ns, cfg->worker_id);
	c->ring_size = cfg->metrics_size < 10 ? 10 : cfg->metrics_size;
	c->ring = calloc((size_t) c->ring_size, sizeof(int64_t));
	if (!c->ns || !c->worker_id || !c->pod || !c->plugin_name || !c->k_state ||
		!c->k_checkpoint || !c->k_metadata || !c->k_workers || !c->k_self || !c->ring)
		goto nomem;
	c->lease_ms = cfg->lease_ms;
	c->heartbeat_ms = cfg->heartbeat_ms;
	c->jitter_ms = cfg->jitter_ms;
	c->worker_timeout_ms = cfg->worker_timeout_ms ? cfg->worker_timeout_ms : cfg->lease_ms;
	c->breaker_failures = cfg->breaker_failures;
	c->breaker_reset_ms = cfg->breaker_reset_ms;
	c->contention_ratio = cfg->contention_ratio;
	c->contention_report_ms = cfg->contention_report_ms;
	c->clock = cfg->clock ? cfg->clock : s3c_monotonic_ms;
	c->clock_arg = cfg->clock_arg;
	return c;

nomem:
	s3c_coord_free(c);
	s3s_error_set(err, S3S_ERR_NOMEM, "coord", "", "out of memory");
	return NULL;
}

const char *
s3c_state_key(const s3c_coord *c)
{
	return c->k_state;
}

const char *
s3c_worker_key(const s3c_coord *c)
{
	return c->k_self;
}

int64_t
s3c_next_delay(s3c_coord *c)
{
	if (c->jitter_ms <= 0)
		return c->heartbeat_ms;
	return c->heartbeat_ms + (int64_t) (s3c_random(c) % (uint64_t) (c->jitter_ms + 1));
}

/* Take the view of a lease read from (or written to) the store. */
static void
adopt(s3c_coord *c, const s3c_lease *l, int64_t now_ms)
{
	if (l->valid && !l->leader_null)
	{
		s3c_copy(c->leader_id, sizeof(c->leader_id), l->leader_id);
		c->epoch = l->epoch;
		c->lease_end = l->lease_end;
		c->is_leader = strcmp(l->leader_id, c->worker_id) == 0 && now_ms < l->lease_end;
	}
	else
	{
		c->leader_id[0] = '\0';
		c->epoch = l->valid ? l->epoch : c->epoch;
		c->lease_end = 0;
		c->is_leader = false;
	}
	if (l->valid && l->epoch > c->last_known_epoch)
		c->last_known_epoch = l->epoch;
}

/*
 * Without fresh information (failed or skipped tick): keep the last view,
 * but a lease whose end has passed is nobody's any more.
 */
static void
age_view(s3c_coord *c, int64_t now_ms)
{
	if (c->lease_end != 0 && now_ms >= c->lease_end)
	{
		c->is_leader = false;
		c->leader_id[0] = '\0';
	}
}

/* First tick: metadata.json, and the epoch floor from checkpoint.json. */
static s3s_code
start(s3c_coord *c, int64_t now_ms, s3s_error *err)
{
	s3s_object	obj;
	s3s_code	code;
	char	   *json;
	int64_t		epoch;

	c->start_time = now_ms;
	json = s3c_json_metadata(c, now_ms);
	code = s3c_put_json(c->st, c->k_metadata, json, false, NULL, NULL, 0, err);
	free(json);
	if (code != S3S_OK)
		return code;
	code = s3c_get(c->st, c->k_checkpoint, &obj, err);
	if (code == S3S_OK)
	{
		if (s3c_parse_checkpoint_epoch(obj.body, obj.body_len, &epoch) && epoch > c->last_known_epoch)
			c->last_known_epoch = epoch;
		s3s_object_free(&obj);
	}
	else if (code != S3S_ERR_NOT_FOUND)
		return code;
	s3s_error_clear(err);
	c->started = true;
	return S3S_OK;
}

/* Write a lease conditionally; on 412 read the winner's lease into *cur. */
static s3s_code
write_lease(s3c_coord *c, s3c_lease *cur, const s3c_lease *next, int64_t now_ms,
			bool *won, s3s_error *err)
{
	char	   *json = s3c_json_state(next, now_ms + ((c->lease_ms + 999) / 1000 + 60) * 1000);
	s3s_code	code;
	bool		replace = cur->present && cur->etag[0] != '\0';

	code = s3c_put_json(c->st, c->k_state, json, !replace, replace ? cur->etag : NULL,
						NULL, 0, err);
	free(json);
	*won = (code == S3S_OK);
	if (code == S3S_OK)
	{
		adopt(c, next, now_ms);
		return S3S_OK;
	}
	/* If-Match on an object deleted meanwhile (by an s3db.js reader) is a 404 */
	if (code != S3S_ERR_PRECONDITION && !(code == S3S_ERR_NOT_FOUND && replace))
		return code;
	s3s_error_clear(err);
	code = s3c_read_lease(c->st, c->k_state, cur, err);
	if (code == S3S_OK)
		adopt(c, cur, now_ms);
	return code;
}

static s3s_code
elect(s3c_coord *c, s3c_lease *cur, const s3c_wrec *w, int n, int64_t now_ms,
	  s3s_error *err)
{
	s3c_lease	next;
	const char *elected = s3c_choose_leader(c, w, n, now_ms);
	int64_t		base = c->last_known_epoch > c->epoch ? c->last_known_epoch : c->epoch;
	bool		won;
	s3s_code	code;

	/* our own record was written this tick; a lagging listing may miss it */
	if (elected == NULL)
		elected = c->worker_id;
	memset(&next, 0, sizeof(next));
	next.valid = true;
	next.leader_null = false;
	s3c_copy(next.leader_id, sizeof(next.leader_id), elected);
	s3c_copy(next.leader_pod, sizeof(next.leader_pod), c->pod);
	s3c_copy(next.elected_by, sizeof(next.elected_by), c->worker_id);
	next.epoch = base + 1;
	if (cur->valid && cur->epoch + 1 > next.epoch)
		next.epoch = cur->epoch + 1;
	next.lease_start = now_ms;
	next.lease_end = now_ms + c->lease_ms;
	next.elected_at = now_ms;

	c->m.elections++;
	code = write_lease(c, cur, &next, now_ms, &won, err);
	if (code == S3S_OK)
	{
		if (won)
			c->m.elections_won++;
		else
			c->m.elections_lost++;
	}
	return code;
}

static s3s_code
renew(s3c_coord *c, s3c_lease *cur, int64_t now_ms, s3s_error *err)
{
	s3c_lease	next = *cur;
	bool		won;
	s3s_code	code;

	next.lease_start = now_ms;
	next.lease_end = now_ms + c->lease_ms;
	code = write_lease(c, cur, &next, now_ms, &won, err);
	if (code == S3S_OK)
	{
		if (won)
			c->m.renewals++;
		else
			c->m.renewals_lost++;
	}
	return code;
}

static s3s_code
tick_io(s3c_coord *c, int64_t now_ms, s3s_error *err)
{
	s3c_lease	cur;
	s3c_wrec   *w = NULL;
	int			n = 0;
	int			i;
	char	   *json;
	s3s_code	code;
	bool		usable;

	if (!c->started && (code = start(c, now_ms, err)) != S3S_OK)
		return code;

	json = s3c_json_worker(c, now_ms);
	code = s3c_put_json(c->st, c->k_self, json, false, NULL, NULL, 0, err);
	free(json);
	if (code != S3S_OK)
		return code;
	c->m.worker_registrations++;

	if ((code = s3c_read_lease(c->st, c->k_state, &cur, err)) != S3S_OK)
		return code;
	if (cur.valid && cur.epoch > c->last_known_epoch)
		c->last_known_epoch = cur.epoch;
	if ((code = s3c_read_workers(c, &w, &n, err)) != S3S_OK)
		return code;
	c->live_workers = 0;
	for (i = 0; i < n; i++)
		if (w[i].parsed && s3c_worker_live(c, &w[i].w, now_ms))
			c->live_workers++;

	/* past its storage expiry s3db.js readers treat (and delete) it as absent */
	usable = cur.valid && !cur.leader_null && cur.lease_end > now_ms &&
		!(cur.expires_at != 0 && now_ms > cur.expires_at);
	if (usable && strcmp(cur.leader_id, c->worker_id) == 0)
		code = renew(c, &cur, now_ms, err);
	else if (usable && !(strncmp(cur.leader_id, "gcs-", 4) == 0 &&
						 strncmp(c->worker_id, "gcs-", 4) != 0))
	{
		adopt(c, &cur, now_ms);
		code = S3S_OK;
	}
	else
		code = elect(c, &cur, w, n, now_ms, err);

	if (code == S3S_OK && c->is_leader)
		s3c_cleanup_workers(c, w, n, now_ms);
	s3c_wrecs_free(w, n);
	if (code != S3S_OK)
		return code;

	/*
	 * s3db.js has every process write the checkpoint at every heartbeat, so a
	 * process with a stale view can lower it.  Only the leader writes it
	 * here, when the epoch changes and often enough to keep it from expiring
	 * (its storage TTL is the lease plus 60 s).
	 */
	if (c->is_leader && c->epoch > 0 &&
		(c->epoch != c->ckpt_epoch || now_ms - c->ckpt_at >= CHECKPOINT_REFRESH_MS))
	{
		json = s3c_json_checkpoint(c, now_ms);
		code = s3c_put_json(c->st, c->k_checkpoint, json, false, NULL, NULL, 0, err);
		free(json);
		if (code == S3S_OK)
		{
			c->ckpt_epoch = c->epoch;
			c->ckpt_at = now_ms;
		}
	}
	return code;
}

static void
fill_status(s3c_coord *c, s3c_status *out, bool was_leader, const char *prev_leader)
{
	memset(out, 0, sizeof(*out));
	out->is_leader = c->is_leader;
	s3c_copy(out->leader_id, sizeof(out->leader_id), c->leader_id);
	out->epoch = c->epoch;
	out->lease_end = c->lease_end;
	out->live_workers = c->live_workers;
	out->breaker = c->breaker;
	out->leader_changed = strcmp(prev_leader, c->leader_id) != 0;
	out->promoted = !was_leader && c->is_leader;
	out->demoted = was_leader && !c->is_leader;
	if (out->leader_changed)
		c->m.leader_changes++;
}

s3s_code
s3c_tick(s3c_coord *c, int64_t now_ms, s3c_status *out, s3s_error *err)
{
	char		prev_leader[S3C_ID_MAX + 1];
	bool		was_leader = c->is_leader;
	int64_t		t0;
	int64_t		dur;
	s3s_code	code;
	bool		report = false;

	s3s_error_clear(err);
	s3c_copy(prev_leader, sizeof(prev_leader), c->leader_id);
	if (c->m.start_time == 0)
		c->m.start_time = now_ms;
	if (!s3c_breaker_allows(c, now_ms))
	{
		c->m.skipped++;
		age_view(c, now_ms);
		fill_status(c, &c->last, was_leader, prev_leader);
		c->last.skipped = true;
		*out = c->last;
		return S3S_OK;
	}

	t0 = c->clock(c->clock_arg);
	code = tick_io(c, now_ms, err);
	dur = c->clock(c->clock_arg) - t0;
	if (dur < 0)
		dur = 0;
	c->m.last_tick_time = now_ms;
	if (code == S3S_OK)
	{
		c->m.ticks++;
		s3c_breaker_success(c);
		s3c_latency_push(c, dur);
		report = s3c_contention_check(c, dur, now_ms);
	}
	else
	{
		c->m.failures++;
		s3c_breaker_failure(c, now_ms);
		age_view(c, now_ms);
	}
	fill_status(c, &c->last, was_leader, prev_leader);
	c->last.duration_ms = dur;
	c->last.contention = report;
	*out = c->last;
	return code;
}

bool
s3c_fence_ok(const s3c_coord *c, int64_t epoch)
{
	return c->is_leader && epoch > 0 && epoch == c->epoch;
}

bool
s3c_fence_ok_at(const s3c_coord *c, int64_t epoch, int64_t now_ms)
{
	return s3c_fence_ok(c, epoch) && now_ms < c->lease_end;
}

void
s3c_get_status(const s3c_coord *c, s3c_status *out)
{
	*out = c->last;
}

void
s3c_get_metrics(const s3c_coord *c, s3c_metrics *out)
{
	*out = c->m;
	s3c_latency_fill(c, out);
}

s3s_code
s3c_resign(s3c_coord *c, int64_t now_ms, s3s_error *err)
{
	s3s_code	code;
	s3c_lease	cur;

	s3s_error_clear(err);
	code = s3c_delete(c->st, c->k_self, NULL, err);
	if (code != S3S_OK && code != S3S_ERR_NOT_FOUND)
		return code;
	s3s_error_clear(err);
	if (c->is_leader)
	{
		code = s3c_read_lease(c->st, c->k_state, &cur, err);
		if (code != S3S_OK)
			return code;
		if (cur.valid && !cur.leader_null && strcmp(cur.leader_id, c->worker_id) == 0 &&
			cur.etag[0] != '\0')
		{
			s3c_lease	next = cur;
			char	   *json;

			/* an ended, unowned lease: s3db.js and we both elect at once */
			next.leader_null = true;
			next.leader_id[0] = '\0';
			next.lease_start = now_ms;
			next.lease_end = now_ms;
			json = s3c_json_state(&next, now_ms + ((c->lease_ms + 999) / 1000 + 60) * 1000);
			code = s3c_put_json(c->st, c->k_state, json, false, cur.etag, NULL, 0, err);
			free(json);
			/* 412: someone else already took it, which is what we want */
			if (code == S3S_ERR_PRECONDITION)
			{
				s3s_error_clear(err);
				code = S3S_OK;
			}
			if (code != S3S_OK)
				return code;
		}
	}
	c->is_leader = false;
	c->leader_id[0] = '\0';
	c->lease_end = 0;
	c->last.is_leader = false;
	c->last.leader_id[0] = '\0';
	c->last.lease_end = 0;
	return S3S_OK;
}
