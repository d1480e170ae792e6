/*
 * coord_util.h
 *		Helpers of the coordinator unit tests (test_coord.c,
 *		test_coord_breaker.c): timings, a namespace per test, opening a
 *		store and a coordinator on it.
 */
#ifndef S3DB_TEST_COORD_UTIL_H
#define S3DB_TEST_COORD_UTIL_H

#include <stdio.h>

#include "coord/coord.h"
#include "store/store.h"
#include "unit.h"

#define LEASE 10000
#define BEAT 2000
#define JITTER 500

static char run_id[32];
static int	ns_counter;


static inline s3s_store *
open_url(const char *url, int max_retries)
{
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *st;

	s3s_config_init(&cfg);
	cfg.url = url;
	if (max_retries >= 0)
		cfg.max_retries = max_retries;
	cfg.connect_timeout_ms = 1000;
	cfg.request_timeout_ms = 5000;
	st = s3s_open(&cfg, &err);
	if (st == NULL)
		printf("# open %s failed: %s\n", url, err.message);
	return st;
}

static inline const char *
new_ns(void)
{
	static char ns[64];

	snprintf(ns, sizeof(ns), "t%s-%d", run_id, ++ns_counter);
	return ns;
}

static inline s3c_coord *
make(s3s_store *st, const char *ns, const char *id)
{
	s3c_config	cfg;
	s3s_error	err;
	s3c_coord  *c;

	s3c_config_init(&cfg);
	cfg.ns = ns;
	cfg.worker_id = id;
	cfg.pod = "testpod";
	cfg.lease_ms = LEASE;
	cfg.heartbeat_ms = BEAT;
	cfg.jitter_ms = JITTER;
	cfg.breaker_failures = 3;
	cfg.breaker_reset_ms = 20000;
	c = s3c_coord_new(st, &cfg, &err);
	if (c == NULL)
		printf("# coord_new: %s\n", err.message);
	return c;
}


#endif
