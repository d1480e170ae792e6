/*-------------------------------------------------------------------------
 *
 * coord_metrics.c
 *		Local heuristics of the coordinator: the circuit breaker, contention
 *		detection, the latency ring with its percentiles, and randomness.
 *
 * None of this has a footprint on the store.  Unlike s3db.js, whose breaker
 * almost never trips because the heartbeat swallows most storage errors,
 * every storage failure of a tick counts here: a store that keeps failing
 * stops costing requests (and log noise) until the reset time has passed,
 * and then one probing tick decides whether to close again.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "coord/coord_int.h"

const char *
s3c_breaker_name(s3c_breaker_state s)
{
	switch (s)
	{
		case S3C_BREAKER_CLOSED:
			return "closed";
		case S3C_BREAKER_OPEN:
			return "open";
		case S3C_BREAKER_HALF_OPEN:
			return "half-open";
	}
	return "unknown";
}

/*
 * May this tick do I/O?  An open breaker turns half-open (and lets the tick
 * through as the probe) once breaker_reset_ms have passed since it opened.
 */
bool
s3c_breaker_allows(s3c_coord *c, int64_t now_ms)
{
	if (c->breaker != S3C_BREAKER_OPEN)
		return true;
	if (now_ms - c->opened_at >= c->breaker_reset_ms)
	{
		c->breaker = S3C_BREAKER_HALF_OPEN;
		return true;
	}
	return false;
}

void
s3c_breaker_success(s3c_coord *c)
{
	c->breaker = S3C_BREAKER_CLOSED;
	c->consecutive_failures = 0;
}

void
s3c_breaker_failure(s3c_coord *c, int64_t now_ms)
{
	c->consecutive_failures++;
	if (c->breaker == S3C_BREAKER_HALF_OPEN ||
		(c->breaker == S3C_BREAKER_CLOSED && c->consecutive_failures >= c->breaker_failures))
	{
		c->breaker = S3C_BREAKER_OPEN;
		c->opened_at = now_ms;
		c->m.breaker_trips++;
	}
}

/*
 * Count a tick slower than contention_ratio x heartbeat_ms; return true when
 * it should be reported (at most once per contention_report_ms).
 */
bool
s3c_contention_check(s3c_coord *c, int64_t duration_ms, int64_t now_ms)
{
	if ((double) duration_ms <= c->contention_ratio * (double) c->heartbeat_ms)
		return false;
	c->m.contention_events++;
	if (c->contention_reported && now_ms - c->contention_last_report < c->contention_report_ms)
		return false;
	c->contention_reported = true;
	c->contention_last_report = now_ms;
	return true;
}

void
s3c_latency_push(s3c_coord *c, int64_t duration_ms)
{
	c->ring[c->ring_pos] = duration_ms;
	c->ring_pos = (c->ring_pos + 1) % c->ring_size;
	if (c->ring_n < c->ring_size)
		c->ring_n++;
}

int64_t
s3c_percentile(const int64_t *sorted, int n, double p)
{
	double		rank;
	int			idx;

	if (n <= 0)
		return 0;
	if (p <= 0)
		return sorted[0];
	if (p >= 100)
		return sorted[n - 1];
	/* the same double arithmetic as Math.ceil((p / 100) * n) */
	rank = ceil((p / 100.0) * (double) n);
	idx = (int) rank - 1;
	if (idx < 0)
		idx = 0;
	if (idx > n - 1)
		idx = n - 1;
	return sorted[idx];
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a;
	int64_t		y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

void
s3c_latency_fill(const s3c_coord *c, s3c_metrics *m)
{
	int64_t    *s;
	double		sum = 0;
	int			i;

	m->latency_count = c->ring_n;
	m->latency_min = m->latency_max = 0;
	m->latency_avg = 0;
	m->latency_p50 = m->latency_p95 = m->latency_p99 = 0;
	if (c->ring_n == 0)
		return;
	s = malloc(sizeof(int64_t) * (size_t) c->ring_n);
	if (s == NULL)
		return;					/* metrics are best effort */
	memcpy(s, c->ring, sizeof(int64_t) * (size_t) c->ring_n);
	qsort(s, (size_t) c->ring_n, sizeof(int64_t), cmp_i64);
	for (i = 0; i < c->ring_n; i++)
		sum += (double) s[i];
	m->latency_min = s[0];
	m->latency_max = s[c->ring_n - 1];
	m->latency_avg = sum / c->ring_n;
	m->latency_p50 = s3c_percentile(s, c->ring_n, 50);
	m->latency_p95 = s3c_percentile(s, c->ring_n, 95);
	m->latency_p99 = s3c_percentile(s, c->ring_n, 99);
	free(s);
}

int64_t
s3c_monotonic_ms(void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: jitter needs no cryptographic quality, only independence */
uint64_t
s3c_random(s3c_coord *c)
{
	uint64_t	x = c->rng;

	if (x == 0)
	{
		if (RAND_bytes((unsigned char *) &x, sizeof(x)) != 1 || x == 0)
			x = (uint64_t) s3c_monotonic_ms(NULL) * 0x9E3779B97F4A7C15ULL + 1;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}
