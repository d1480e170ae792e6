/*-------------------------------------------------------------------------
 *
 * test_coord_breaker.c
 *		Tests of the coordinator's circuit breaker (a store made unusable, a
 *		closed port), its metrics with latency percentiles, and its
 *		configuration defaults.
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

static int64_t
requests_sent(s3s_store *st)
{
	s3s_stats	s;
	int64_t		n = 0;
	int			i;

	s3s_get_stats(st, &s);
	for (i = 0; i <= S3S_OP_LIST; i++)
		n += s.requests[i];
	return n;
}

static void
test_breaker_file(const char *dir)
{
	char		base[512];
	char		moved[512];
	char		url[600];
	s3s_store  *st;
	s3c_coord  *c;
	s3c_status	s;
	s3s_error	err;
	s3c_metrics m;
	int64_t		t = 1700000300000LL;
	int64_t		before;
	FILE	   *f;
	int			i;

	snprintf(base, sizeof(base), "%s/breaker", dir);
	snprintf(moved, sizeof(moved), "%s/breaker.moved", dir);
	snprintf(url, sizeof(url), "file://%s", base);
	st = open_url(url, -1);
	c = st ? make(st, new_ns(), "pg-b-1") : NULL;
	CHECK(c != NULL);
	if (c == NULL)
		goto out;
	CHECK_INTEQ(s3c_tick(c, t, &s, &err), S3S_OK);
	CHECK(s.is_leader && s.breaker == S3C_BREAKER_CLOSED);

	/* the store breaks: a plain file where its directory was */
	CHECK(rename(base, moved) == 0);
	f = fopen(base, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	for (i = 1; i <= 3; i++)
	{
		t += BEAT;
		CHECK(s3c_tick(c, t, &s, &err) != S3S_OK);
		CHECK(!s.skipped);
	}
	CHECK_INTEQ(s.breaker, S3C_BREAKER_OPEN);
	CHECK(s.is_leader);			/* its lease has not ended yet */
	/* open: ticks do no I/O */
	before = requests_sent(st);
	t += BEAT;
	CHECK_INTEQ(s3c_tick(c, t, &s, &err), S3S_OK);
	CHECK(s.skipped && s.breaker == S3C_BREAKER_OPEN);
	CHECK_INTEQ(requests_sent(st), before);
	/* the lease runs out while the breaker is open */
	t += LEASE;
	CHECK_INTEQ(s3c_tick(c, t, &s, &err), S3S_OK);
	CHECK(s.skipped && !s.is_leader && s.demoted);
	CHECK(!s3c_fence_ok(c, 1));
	/* half-open probe that fails: open again */
	t += 20000;
	CHECK(s3c_tick(c, t, &s, &err) != S3S_OK);
	CHECK_INTEQ(s.breaker, S3C_BREAKER_OPEN);
	s3c_get_metrics(c, &m);
	CHECK_INTEQ(m.breaker_trips, 2);

	/* recovery: the next probe closes it and leadership comes back */
	CHECK(unlink(base) == 0);
	CHECK(rename(moved, base) == 0);
	t += 1000;
	CHECK_INTEQ(s3c_tick(c, t, &s, &err), S3S_OK);
	CHECK(s.skipped);
	t += 20000;
	CHECK_INTEQ(s3c_tick(c, t, &s, &err), S3S_OK);
	CHECK(!s.skipped && s.breaker == S3C_BREAKER_CLOSED);
	CHECK(s.is_leader && s.epoch == 2);
	s3c_get_metrics(c, &m);
	CHECK_INTEQ(m.failures, 4);
	CHECK_INTEQ(m.skipped, 3);
out:
	s3c_coord_free(c);
	if (st)
		s3s_close(st);
}

static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t	len = sizeof(sa);
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	int			port = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 &&
		getsockname(fd, (struct sockaddr *) &sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void
test_breaker_closed_port(void)
{
	char		url[128];
	s3s_store  *st;
	s3c_coord  *c;
	s3c_status	s;
	s3s_error	err;
	int			port;
	int			i;
	s3s_code	code = S3S_OK;

	/* a port nothing listens on (bound, then closed): refused at once */
	port = free_port();
	CHECK(port > 0);
	snprintf(url, sizeof(url), "http://AK:SK@127.0.0.1:%d/bucket", port);
	st = open_url(url, 0);
	c = st ? make(st, new_ns(), "pg-b-2") : NULL;
	CHECK(c != NULL);
	if (c == NULL)
		goto out;
	for (i = 0; i < 3; i++)
		code = s3c_tick(c, 1000 + i * BEAT, &s, &err);
	CHECK(code == S3S_ERR_NETWORK || code == S3S_ERR_TIMEOUT);
	CHECK(err.message[0] != '\0');
	CHECK(!s.is_leader);
	CHECK_INTEQ(s.breaker, S3C_BREAKER_OPEN);
	CHECK_INTEQ(s3c_tick(c, 1000 + 3 * BEAT, &s, &err), S3S_OK);
	CHECK(s.skipped);
out:
	s3c_coord_free(c);
	if (st)
		s3s_close(st);
}

/* ---- metrics: percentiles, latency ring, contention ---- */

typedef struct fake_clock
{
	int64_t		now;
	int64_t		step;
	int			calls;
} fake_clock;

static int64_t
fake_ms(void *arg)
{
	fake_clock *f = arg;

	/* odd calls end a tick: the tick lasted "step" */
	if (f->calls++ % 2 == 1)
		f->now += f->step;
	return f->now;
}

static void
test_metrics(void)
{
	int64_t		v[100];
	int			i;
	s3s_store  *st;
	s3c_config	cfg;
	s3s_error	err;
	s3c_coord  *c;
	s3c_status	s;
	s3c_metrics m;
	fake_clock	fc = {0, 0, 0};
	int			reports = 0;

	for (i = 0; i < 100; i++)
		v[i] = i + 1;
	CHECK_INTEQ(s3c_percentile(v, 20, 50), 10);
	CHECK_INTEQ(s3c_percentile(v, 20, 95), 19);
	CHECK_INTEQ(s3c_percentile(v, 20, 99), 20);
	CHECK_INTEQ(s3c_percentile(v, 100, 95), 95);
	CHECK_INTEQ(s3c_percentile(v, 100, 99), 99);
	CHECK_INTEQ(s3c_percentile(v, 100, 0), 1);
	CHECK_INTEQ(s3c_percentile(v, 100, 100), 100);
	CHECK_INTEQ(s3c_percentile(v, 1, 50), 1);
	CHECK_INTEQ(s3c_percentile(v, 3, 50), 2);
	CHECK_INTEQ(s3c_percentile(v, 10, 1), 1);

	st = open_url("memory://coordmetrics", -1);
	s3c_config_init(&cfg);
	cfg.worker_id = "pg-m-1";
	cfg.lease_ms = LEASE;
	cfg.heartbeat_ms = BEAT;
	cfg.jitter_ms = JITTER;
	cfg.metrics_size = 10;
	cfg.clock = fake_ms;
	cfg.clock_arg = &fc;
	c = st ? s3c_coord_new(st, &cfg, &err) : NULL;
	CHECK(c != NULL);
	if (c == NULL)
		goto out;
	/* durations 1..15 ms: the ring keeps the last 10 (6..15) */
	for (i = 1; i <= 15; i++)
	{
		fc.step = i;
		CHECK_INTEQ(s3c_tick(c, 1000 + i * BEAT, &s, &err), S3S_OK);
	}
	CHECK_INTEQ(s.duration_ms, 15);
	s3c_get_metrics(c, &m);
	CHECK_INTEQ(m.latency_count, 10);
	CHECK_INTEQ(m.latency_min, 6);
	CHECK_INTEQ(m.latency_max, 15);
	CHECK(m.latency_avg > 10.49 && m.latency_avg < 10.51);
	CHECK_INTEQ(m.latency_p50, 10);
	CHECK_INTEQ(m.latency_p95, 15);
	CHECK_INTEQ(m.latency_p99, 15);
	CHECK_INTEQ(m.contention_events, 0);

	/* slow ticks (5 x the interval): counted each time, reported rate-limited */
	fc.step = 5 * BEAT;
	for (i = 0; i < 10; i++)
	{
		CHECK_INTEQ(s3c_tick(c, 100000 + i * 5000, &s, &err), S3S_OK);
		reports += s.contention;
	}
	s3c_get_metrics(c, &m);
	CHECK_INTEQ(m.contention_events, 10);
	CHECK_INTEQ(reports, 2);	/* at 100000 and 130000 */
	CHECK(s3c_next_delay(c) >= BEAT && s3c_next_delay(c) <= BEAT + JITTER);
out:
	s3c_coord_free(c);
	if (st)
		s3s_close(st);
}

static void
test_config(void)
{
	s3c_config	cfg;
	s3s_error	err;
	s3s_store  *st = open_url("memory://coordcfg", -1);
	s3c_coord  *c;

	s3c_config_init(&cfg);
	CHECK(s3c_coord_new(st, &cfg, &err) == NULL);	/* no worker id */
	cfg.worker_id = "a/b";
	CHECK(s3c_coord_new(st, &cfg, &err) == NULL);
	cfg.worker_id = "pg-1";
	cfg.heartbeat_ms = cfg.lease_ms;
	CHECK(s3c_coord_new(st, &cfg, &err) == NULL);
	CHECK(strstr(err.message, "lease") != NULL);
	s3c_config_init(&cfg);
	cfg.worker_id = "pg-1";
	c = s3c_coord_new(st, &cfg, &err);
	CHECK(c != NULL);
	if (c)
		CHECK_STREQ(s3c_state_key(c), "plugin=coordinator/namespace=s3db_fdw/state.json");
	s3c_coord_free(c);
	CHECK_STREQ(s3c_breaker_name(S3C_BREAKER_HALF_OPEN), "half-open");
	s3s_close(st);
}

int
main(void)
{
	char		tmpl[] = "/tmp/test_coord_breaker.XXXXXX";
	char	   *dir = mkdtemp(tmpl);

	snprintf(run_id, sizeof(run_id), "%x%lx", (unsigned) getpid(), (unsigned long) time(NULL) & 0xffff);

	test_config();
	test_metrics();
	CHECK(dir != NULL);
	if (dir != NULL)
	{
		char		cmd[700];

		test_breaker_file(dir);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	test_breaker_closed_port();
	s3s_memory_reset_all();
	return unit_done();
}
