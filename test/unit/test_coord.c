/*-------------------------------------------------------------------------
 *
 * test_coord.c
 *		Tests of the coordinator protocol (src/coord): leader election with
 *		simulated clocks, takeover, fencing, resignation, the lock helper and
 *		the JSON shapes shared with s3db.js.  The circuit breaker, metrics
 *		and configuration are in test_coord_breaker.c.
 *
 * The protocol suite runs on memory://, on file:// in a temporary
 * directory and, when S3DB_TEST_S3_URL is set, on that S3 store.  Each run
 * uses its own namespace, so runs against one bucket do not collide.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "coord/coord.h"
#include "store/store.h"
#include "coord_util.h"
#include "unit.h"

/* ticks of the long simulations; fewer on a real S3 server, where each costs */
static int	sim_ticks = 120;

static char *
get_body(s3s_store *st, const char *key)
{
	s3s_object	o;
	s3s_error	err;
	char	   *s = NULL;

	memset(&o, 0, sizeof(o));
	if (s3s_get(st, key, &o, &err) == S3S_OK)
		s = strdup((const char *) o.body);
	s3s_object_free(&o);
	return s;
}

static void
put_body(s3s_store *st, const char *key, const char *body)
{
	s3s_request r;

	s3s_request_init(&r, S3S_OP_PUT, key);
	r.body = (const unsigned char *) body;
	r.body_len = strlen(body);
	r.content_type = "application/json";
	s3s_execute(st, &r, 1);
	if (r.err.code != S3S_OK)
		printf("# put %s: %s\n", key, r.err.message);
	s3s_request_reset(&r);
}

/* "k1,k2,..." in document order, and the object (caller puts it). */
static json_object *
parse_keys(const char *body, char *keys, size_t size)
{
	json_object *o = body ? json_tokener_parse(body) : NULL;

	keys[0] = '\0';
	if (o == NULL || !json_object_is_type(o, json_type_object))
		return o;
	json_object_object_foreach(o, k, v)
	{
		(void) v;
		if (keys[0])
			strncat(keys, ",", size - strlen(keys) - 1);
		strncat(keys, k, size - strlen(keys) - 1);
	}
	return o;
}

static int64_t
jint(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -999;
	return json_object_get_int64(v);
}

static const char *
jstr(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* ---- one coordinator: leadership and the JSON shapes ---- */

static void
test_single(s3s_store *st)
{
	const char *ns = new_ns();
	s3c_coord  *a = make(st, ns, "pg-1-100");
	s3c_status	s;
	s3s_error	err;
	char		key[256];
	char		keys[512];
	char	   *body;
	json_object *o;
	int64_t		t = 1700000000000LL;

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK_INTEQ(s3c_tick(a, t, &s, &err), S3S_OK);
	CHECK(s.is_leader);
	CHECK_STREQ(s.leader_id, "pg-1-100");
	CHECK_INTEQ(s.epoch, 1);
	CHECK_INTEQ(s.lease_end, t + LEASE);
	CHECK_INTEQ(s.live_workers, 1);
	CHECK(s.promoted);
	CHECK(s3c_fence_ok(a, 1));
	CHECK(!s3c_fence_ok(a, 2));

	/* state.json: s3db.js field names, order and types, compact */
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/state.json", ns);
	CHECK_STREQ(s3c_state_key(a), key);
	body = get_body(st, key);
	CHECK(body != NULL && strchr(body, ' ') == NULL);
	o = parse_keys(body, keys, sizeof(keys));
	CHECK_STREQ(keys, "leaderId,leaderPod,epoch,leaseStart,leaseEnd,electedBy,electedAt,_expiresAt");
	CHECK_STREQ(jstr(o, "leaderId"), "pg-1-100");
	CHECK_STREQ(jstr(o, "leaderPod"), "testpod");
	CHECK_INTEQ(jint(o, "epoch"), 1);
	CHECK_INTEQ(jint(o, "leaseStart"), t);
	CHECK_INTEQ(jint(o, "leaseEnd"), t + LEASE);
	CHECK_STREQ(jstr(o, "electedBy"), "pg-1-100");
	CHECK_INTEQ(jint(o, "electedAt"), t);
	CHECK_INTEQ(jint(o, "_expiresAt"), t + (LEASE / 1000 + 60) * 1000);
	json_object_put(o);
	free(body);

	/* worker record */
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/workers/worker=pg-1-100.json", ns);
	CHECK_STREQ(s3c_worker_key(a), key);
	body = get_body(st, key);
	o = parse_keys(body, keys, sizeof(keys));
	CHECK_STREQ(keys, "workerId,pluginName,pod,lastHeartbeat,startTime,namespace,_expiresAt");
	CHECK_STREQ(jstr(o, "workerId"), "pg-1-100");
	CHECK_STREQ(jstr(o, "pluginName"), "s3db_fdw");
	CHECK_STREQ(jstr(o, "namespace"), ns);
	CHECK_INTEQ(jint(o, "lastHeartbeat"), t);
	CHECK_INTEQ(jint(o, "startTime"), t);
	CHECK_INTEQ(jint(o, "_expiresAt"), t + LEASE);
	json_object_put(o);
	free(body);

	/* checkpoint.json and metadata.json */
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/checkpoint.json", ns);
	body = get_body(st, key);
	o = parse_keys(body, keys, sizeof(keys));
	CHECK_STREQ(keys, "namespace,leaderId,epoch,generatedAt,updatedBy,_expiresAt");
	CHECK_INTEQ(jint(o, "epoch"), 1);
	CHECK_INTEQ(jint(o, "_expiresAt"), t + 70000);
	json_object_put(o);
	free(body);
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/metadata.json", ns);
	body = get_body(st, key);
	o = parse_keys(body, keys, sizeof(keys));
	CHECK_STREQ(keys, "namespace,serviceId,createdAt,createdBy,plugins,_expiresAt");
	CHECK(body != NULL && strstr(body, "\"plugins\":[]") != NULL);
	CHECK_INTEQ(jint(o, "_expiresAt"), t + 3600000);
	json_object_put(o);
	free(body);

	/* renewal keeps the epoch and moves the lease end */
	CHECK_INTEQ(s3c_tick(a, t + BEAT, &s, &err), S3S_OK);
	CHECK(s.is_leader && s.epoch == 1 && !s.promoted && !s.leader_changed);
	CHECK_INTEQ(s.lease_end, t + BEAT + LEASE);
	{
		s3c_metrics m;

		s3c_get_metrics(a, &m);
		CHECK_INTEQ(m.renewals, 1);
		CHECK_INTEQ(m.elections_won, 1);
		CHECK_INTEQ(m.ticks, 2);
		CHECK_INTEQ(m.latency_count, 2);
	}

	/* a missed lease (no tick for longer than the lease) costs an epoch */
	CHECK_INTEQ(s3c_tick(a, t + BEAT + LEASE + 1, &s, &err), S3S_OK);
	CHECK(s.is_leader && s.epoch == 2);
	s3c_coord_free(a);
}

/* ---- two coordinators: exactly one leader, takeover, fencing, resign ---- */

static void
test_two(s3s_store *sa, s3s_store *sb)
{
	const char *ns = new_ns();
	s3c_coord  *c[2];
	s3c_status	s[2];
	s3s_error	err;
	int64_t		next[2];
	int64_t		t0 = 1700000000000LL;
	int64_t		now = t0;
	int64_t		stop_at;
	int64_t		old_epoch;
	int64_t		taken = -1;
	int			i;
	int			both = 0;
	int			none_after_start = 0;
	int			errors = 0;
	int			leader;

	c[0] = make(sa, ns, "pg-7-1");
	c[1] = make(sb, ns, "pg-7-2");
	CHECK(c[0] != NULL && c[1] != NULL);
	if (!c[0] || !c[1])
		goto out;
	next[0] = t0;
	next[1] = t0 + 137;

	/* many ticks at jittered intervals */
	for (i = 0; i < sim_ticks; i++)
	{
		int			k = next[0] <= next[1] ? 0 : 1;

		now = next[k];
		if (s3c_tick(c[k], now, &s[k], &err) != S3S_OK)
			errors++;
		next[k] = now + s3c_next_delay(c[k]);
		s3c_get_status(c[0], &s[0]);
		s3c_get_status(c[1], &s[1]);
		if (s3c_fence_ok_at(c[0], s[0].epoch, now) && s3c_fence_ok_at(c[1], s[1].epoch, now))
			both++;
		if (i > 2 && !s[0].is_leader && !s[1].is_leader)
			none_after_start++;
	}
	s3c_get_status(c[0], &s[0]);
	s3c_get_status(c[1], &s[1]);
	CHECK_INTEQ(errors, 0);
	CHECK_INTEQ(both, 0);
	CHECK_INTEQ(none_after_start, 0);
	CHECK(s[0].is_leader && !s[1].is_leader);	/* the older start wins */
	CHECK_STREQ(s[1].leader_id, "pg-7-1");
	CHECK_INTEQ(s[0].epoch, 1);		/* stable leadership keeps its epoch */
	CHECK_INTEQ(s[1].epoch, 1);
	CHECK_INTEQ(s[0].live_workers, 2);

	/* s3c_workers lists both, sorted */
	{
		s3c_worker *w;
		int			n;

		CHECK_INTEQ(s3c_workers(c[1], now, &w, &n, &err), S3S_OK);
		CHECK_INTEQ(n, 2);
		if (n == 2)
		{
			CHECK_STREQ(w[0].worker_id, "pg-7-1");
			CHECK_STREQ(w[1].worker_id, "pg-7-2");
			CHECK_STREQ(w[1].pod, "testpod");
			CHECK(w[0].start_time < w[1].start_time);
		}
		s3c_workers_free(w, n);
	}

	/* the leader stops ticking: the other takes over within two leases */
	old_epoch = s[0].epoch;
	stop_at = now;
	while (now < stop_at + 3 * LEASE)
	{
		now = next[1];
		CHECK_INTEQ(s3c_tick(c[1], now, &s[1], &err), S3S_OK);
		next[1] = now + s3c_next_delay(c[1]);
		if (s[1].is_leader)
		{
			taken = now;
			break;
		}
	}
	CHECK(taken > 0 && taken - stop_at <= 2 * LEASE);
	CHECK(s[1].epoch > old_epoch);
	CHECK(s[1].promoted && s[1].leader_changed);
	/* the stale leader: its lease has ended by its own clock */
	CHECK(!s3c_fence_ok_at(c[0], old_epoch, now));
	/* and when it ticks again it follows, and its old epoch is fenced off */
	CHECK_INTEQ(s3c_tick(c[0], now + 1, &s[0], &err), S3S_OK);
	CHECK(!s[0].is_leader && s[0].demoted);
	CHECK_STREQ(s[0].leader_id, "pg-7-2");
	CHECK(!s3c_fence_ok(c[0], old_epoch));
	CHECK(s3c_fence_ok(c[1], s[1].epoch));
	/* the checkpoint carries the new leader's epoch (followers never write it) */
	{
		char		key[256];
		char		keys[256];
		char	   *body;
		json_object *o;

		snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/checkpoint.json", ns);
		body = get_body(sa, key);
		o = parse_keys(body, keys, sizeof(keys));
		CHECK_INTEQ(jint(o, "epoch"), s[1].epoch);
		CHECK_STREQ(jstr(o, "leaderId"), "pg-7-2");
		json_object_put(o);
		free(body);
	}
	/* the returning worker is older but the lease is held: no flapping */
	for (i = 0; i < sim_ticks / 12; i++)
	{
		now += BEAT;
		s3c_tick(c[0], now, &s[0], &err);
		s3c_tick(c[1], now + 10, &s[1], &err);
	}
	CHECK(s[1].is_leader && !s[0].is_leader);

	/* resign hands over at the other's next tick */
	old_epoch = s[1].epoch;
	leader = 1;
	CHECK_INTEQ(s3c_resign(c[leader], now + 20, &err), S3S_OK);
	CHECK(!s3c_fence_ok(c[leader], old_epoch));
	CHECK_INTEQ(s3c_tick(c[0], now + 30, &s[0], &err), S3S_OK);
	CHECK(s[0].is_leader);
	CHECK(s[0].epoch > old_epoch);
	{
		char	   *body = get_body(sa, s3c_worker_key(c[1]));

		CHECK(body == NULL);	/* its worker record is gone */
		free(body);
	}
out:
	s3c_coord_free(c[0]);
	s3c_coord_free(c[1]);
}

/* ---- interop with objects written by s3db.js processes ---- */

static void
test_interop(s3s_store *st)
{
	const char *ns;
	s3c_coord  *a;
	s3c_status	s;
	s3s_error	err;
	char		key[256];
	char		body[1024];
	int64_t		t = 1700000100000LL;

	/* a valid lease of an s3db.js plugin worker is followed */
	ns = new_ns();
	a = make(st, ns, "pg-9-1");
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/state.json", ns);
	snprintf(body, sizeof(body),
			 "{\"leaderId\":\"worker-solo\",\"leaderPod\":\"unknown\",\"epoch\":7,\"leaseStart\":%lld,"
			 "\"leaseEnd\":%lld,\"electedBy\":\"gcs-solo-2\",\"electedAt\":%lld,\"_expiresAt\":%lld}",
			 (long long) t, (long long) (t + 15000), (long long) t, (long long) (t + 75000));
	put_body(st, key, body);
	CHECK_INTEQ(s3c_tick(a, t + 100, &s, &err), S3S_OK);
	CHECK(!s.is_leader);
	CHECK_STREQ(s.leader_id, "worker-solo");
	CHECK_INTEQ(s.epoch, 7);
	/* when it ends, the older live s3db.js worker is elected, not us */
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/workers/worker=worker-solo.json", ns);
	snprintf(body, sizeof(body),
			 "{\"workerId\":\"worker-solo\",\"pluginName\":\"ttl\",\"pod\":\"unknown\",\"lastHeartbeat\":%lld,"
			 "\"startTime\":%lld,\"namespace\":\"%s\",\"_expiresAt\":%lld}",
			 (long long) (t + 14000), (long long) (t - 5000), ns, (long long) (t + 34000));
	put_body(st, key, body);
	CHECK_INTEQ(s3c_tick(a, t + 15001, &s, &err), S3S_OK);
	CHECK(!s.is_leader);
	CHECK_STREQ(s.leader_id, "worker-solo");
	CHECK_INTEQ(s.epoch, 8);
	CHECK_INTEQ(s.live_workers, 2);
	s3c_coord_free(a);

	/* a "gcs-" bootstrap leader hands over to a plain worker at once */
	ns = new_ns();
	a = make(st, ns, "pg-9-2");
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/state.json", ns);
	snprintf(body, sizeof(body),
			 "{\"leaderId\":\"gcs-x-2\",\"leaderPod\":\"unknown\",\"epoch\":1,\"leaseStart\":%lld,"
			 "\"leaseEnd\":%lld,\"electedBy\":\"gcs-x-2\",\"electedAt\":%lld,\"_expiresAt\":%lld}",
			 (long long) t, (long long) (t + 15000), (long long) t, (long long) (t + 75000));
	put_body(st, key, body);
	CHECK_INTEQ(s3c_tick(a, t + 100, &s, &err), S3S_OK);
	CHECK(s.is_leader);
	CHECK_INTEQ(s.epoch, 2);
	s3c_coord_free(a);

	/* malformed state.json is replaced; the checkpoint is an epoch floor */
	ns = new_ns();
	a = make(st, ns, "pg-9-3");
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/state.json", ns);
	put_body(st, key, "{\"leaderId\":42,\"epoch\":\"x\"}");
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/checkpoint.json", ns);
	put_body(st, key, "{\"namespace\":\"x\",\"leaderId\":null,\"epoch\":41,\"generatedAt\":1}");
	CHECK_INTEQ(s3c_tick(a, t, &s, &err), S3S_OK);
	CHECK(s.is_leader);
	CHECK_INTEQ(s.epoch, 42);
	s3c_coord_free(a);

	/* garbage bodies never crash the parser */
	ns = new_ns();
	a = make(st, ns, "pg-9-4");
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/state.json", ns);
	put_body(st, key, "{\"leaderId\":\"a\",\"epoch\":1} trailing");
	snprintf(key, sizeof(key), "plugin=coordinator/namespace=%s/workers/worker=junk.json", ns);
	put_body(st, key, "[1,2,3]");
	CHECK_INTEQ(s3c_tick(a, t, &s, &err), S3S_OK);
	CHECK(s.is_leader && s.epoch == 1 && s.live_workers == 1);
	s3c_coord_free(a);
}

/* ---- lock helper ---- */

static void
test_lock(s3s_store *st)
{
	s3c_lock	l1;
	s3c_lock	l2;
	s3s_error	err;
	char		slug[64];
	char		keys[256];
	char	   *body;
	json_object *o;
	int64_t		t = 1700000200000LL;

	snprintf(slug, sizeof(slug), "ttl-%s", run_id);
	CHECK_INTEQ(s3c_lock_acquire(st, slug, "sweep", "w1", 30000, t, &l1, &err), 1);
	CHECK(strncmp(l1.key, "plugin=ttl-", 11) == 0 && strstr(l1.key, "/locks/sweep") != NULL);
	body = get_body(st, l1.key);
	o = parse_keys(body, keys, sizeof(keys));
	CHECK_STREQ(keys, "workerId,token,acquiredAt,_expiresAt");
	CHECK_INTEQ(strlen(jstr(o, "token") ? jstr(o, "token") : ""), 22);
	CHECK_INTEQ(jint(o, "_expiresAt"), t + 30000);
	json_object_put(o);
	free(body);
	CHECK_INTEQ(s3c_lock_acquire(st, slug, "sweep", "w2", 30000, t + 1000, &l2, &err), 0);
	/* expired: the second contender takes it over */
	CHECK_INTEQ(s3c_lock_acquire(st, slug, "sweep", "w2", 30000, t + 30001, &l2, &err), 1);
	CHECK(strcmp(l1.token, l2.token) != 0);
	CHECK_INTEQ(s3c_lock_release(st, &l1, &err), 0);	/* no longer ours */
	CHECK_INTEQ(s3c_lock_release(st, &l2, &err), 1);
	body = get_body(st, l2.key);
	CHECK(body == NULL);
	free(body);
	CHECK_INTEQ(s3c_lock_release(st, &l2, &err), 0);
	CHECK_INTEQ(s3c_lock_acquire(st, slug, "bad/../", "w1", 0, t, &l1, &err), -1);
}

static void
run_suite(const char *label, const char *url)
{
	s3s_store  *a = open_url(url, -1);
	s3s_store  *b = open_url(url, -1);

	printf("# suite on %s\n", label);
	CHECK(a != NULL && b != NULL);
	if (a && b)
	{
		test_single(a);
		test_two(a, b);
		test_interop(a);
		test_lock(a);
	}
	if (a)
		s3s_close(a);
	if (b)
		s3s_close(b);
}

/* ---- circuit breaker ---- */
int
main(void)
{
	char		tmpl[] = "/tmp/test_coord.XXXXXX";
	char	   *dir = mkdtemp(tmpl);
	const char *s3url = getenv("S3DB_TEST_S3_URL");
	char		url[600];

	snprintf(run_id, sizeof(run_id), "%x%lx", (unsigned) getpid(), (unsigned long) time(NULL) & 0xffff);

	run_suite("memory", "memory://coordtest/pfx");
	s3s_memory_reset_all();
	CHECK(dir != NULL);
	if (dir != NULL)
	{
		snprintf(url, sizeof(url), "file://%s/suite", dir);
		run_suite("file", url);
	}
	if (s3url != NULL && s3url[0] != '\0')
	{
		sim_ticks = 16;
		run_suite("s3", s3url);
	}
	else
		printf("# S3DB_TEST_S3_URL not set: S3 suite skipped\n");

	if (dir != NULL)
	{
		char		cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	s3s_memory_reset_all();
	return unit_done();
}
