/*-------------------------------------------------------------------------
 *
 * coord.h
 *		Leader election over an object store, compatible with the
 *		GlobalCoordinatorService of s3db.js, and a DistributedLock helper.
 *
 * The coordinator core is plain C: it allocates with malloc, reports
 * failures through s3s_error values and never sleeps.  Time is supplied by
 * the caller: every call that needs "now" takes it as an argument, so a
 * background worker drives it from its wall clock and the unit tests from a
 * simulated one.  Only tick latency (for metrics and contention detection)
 * is measured with a monotonic clock, which the configuration may replace.
 *
 * Objects (relative to the store's key prefix), all compact JSON bodies in
 * the field order s3db.js writes them, with "_expiresAt" in epoch ms:
 *
 *	 plugin=coordinator/namespace=<ns>/state.json		 the lease
 *	 plugin=coordinator/namespace=<ns>/checkpoint.json	 last epoch seen
 *	 plugin=coordinator/namespace=<ns>/metadata.json	 informational
 *	 plugin=coordinator/namespace=<ns>/workers/worker=<id>.json  liveness
 *	 plugin=<slug>/locks/<name>							 a lock
 *
 * Differences from s3db.js, all invisible to s3db.js readers:
 *	- the leader renews its own lease with If-Match before it ends, so the
 *	  epoch changes only when leadership really moves (s3db.js re-elects at
 *	  every lease end and bumps the epoch each time);
 *	- an expired or malformed state.json is replaced with If-Match on its
 *	  ETag, never deleted first, and its epoch still counts as a floor;
 *	- liveness is judged from "lastHeartbeat" in the worker records against
 *	  the caller's clock, not from LastModified;
 *	- resigning writes an ended lease with leaderId null (and removes the
 *	  worker record), so the others elect at their next tick;
 *	- only the leader writes checkpoint.json, so a stale follower cannot
 *	  lower the epoch recorded there.
 *
 * The default namespace is "s3db_fdw", so that the extension never takes
 * the duties of s3db.js plugins, which all use "default".  Joining
 * "default" is a deliberate choice of the caller.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_COORD_H
#define S3DB_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define S3C_DEFAULT_NAMESPACE "s3db_fdw"
#define S3C_ID_MAX 200			/* longest worker id / namespace accepted */

/* Monotonic milliseconds, used only to time ticks. */
typedef int64_t (*s3c_clock_fn) (void *arg);

typedef struct s3c_config
{
	const char *ns;				/* namespace; NULL = "s3db_fdw" */
	const char *worker_id;		/* required, e.g. "pg-<sysid>-<pid>" */
	const char *pod;			/* NULL = $HOSTNAME, $NODE_NAME or "unknown" */
	const char *plugin_name;	/* "pluginName" of the worker record;
								 * NULL = "s3db_fdw" */
	int64_t		lease_ms;		/* lease length; default 15000 */
	int64_t		heartbeat_ms;	/* expected tick interval; default 5000 */
	int64_t		jitter_ms;		/* added U(0, jitter) by s3c_next_delay;
								 * default 1000 */
	int64_t		worker_timeout_ms;	/* liveness window; default = lease_ms */
	int			breaker_failures;	/* consecutive failed ticks that open
									 * the breaker; default 5 */
	int64_t		breaker_reset_ms;	/* open -> half-open; default 30000 */
	double		contention_ratio;	/* tick slower than ratio x heartbeat;
									 * default 2.0 */
	int64_t		contention_report_ms;	/* at most one report per this;
										 * default 30000 */
	int			metrics_size;	/* latency ring size; default 100 */
	s3c_clock_fn clock;			/* NULL = CLOCK_MONOTONIC */
	void	   *clock_arg;
} s3c_config;

extern void s3c_config_init(s3c_config *cfg);

typedef enum s3c_breaker_state
{
	S3C_BREAKER_CLOSED = 0,
	S3C_BREAKER_OPEN,
	S3C_BREAKER_HALF_OPEN
} s3c_breaker_state;

extern const char *s3c_breaker_name(s3c_breaker_state s);

/* What a tick saw.  Strings are copies (no pointers into the coordinator). */
typedef struct s3c_status
{
	bool		is_leader;		/* we hold an unexpired lease */
	char		leader_id[S3C_ID_MAX + 1];	/* "" when there is no leader */
	int64_t		epoch;			/* epoch of the lease as last seen; 0 = none */
	int64_t		lease_end;		/* its leaseEnd (epoch ms); 0 = none */
	int			live_workers;	/* live worker records, ourselves included */
	s3c_breaker_state breaker;
	bool		skipped;		/* breaker open: no I/O was done */
	bool		leader_changed; /* leader differs from the previous tick */
	bool		promoted;		/* we became leader in this tick */
	bool		demoted;		/* we stopped being leader in this tick */
	bool		contention;		/* slow tick to report (rate-limited) */
	int64_t		duration_ms;	/* monotonic duration of the tick */
} s3c_status;

typedef struct s3c_metrics
{
	int64_t		ticks;			/* successful ticks */
	int64_t		failures;		/* failed ticks */
	int64_t		skipped;		/* ticks skipped by the open breaker */
	int64_t		elections;		/* election writes attempted */
	int64_t		elections_won;	/* election writes that landed */
	int64_t		elections_lost; /* election writes that got 412 */
	int64_t		renewals;		/* lease renewals that landed */
	int64_t		renewals_lost;	/* renewals that got 412 */
	int64_t		leader_changes;
	int64_t		worker_registrations;
	int64_t		breaker_trips;
	int64_t		contention_events;
	int64_t		start_time;		/* first tick (caller's clock) */
	int64_t		last_tick_time;
	/* latency over the ring of the last metrics_size tick durations */
	int			latency_count;
	int64_t		latency_min;
	int64_t		latency_max;
	double		latency_avg;
	int64_t		latency_p50;
	int64_t		latency_p95;
	int64_t		latency_p99;
} s3c_metrics;

typedef struct s3c_coord s3c_coord;

/*
 * Create a coordinator on st (borrowed; must outlive it).  No I/O.  Returns
 * NULL and fills *err on a bad configuration or out of memory.
 */
extern s3c_coord *s3c_coord_new(s3s_store *st, const s3c_config *cfg, s3s_error *err);
extern void s3c_coord_free(s3c_coord *c);

/*
 * One heartbeat at now_ms: refresh our worker record, read the lease, renew
 * it if we lead, elect if it is missing, ended or unowned; the leader also
 * writes checkpoint.json when the epoch changes.  The first tick also writes metadata.json and seeds the epoch
 * from checkpoint.json.  Fills *out (always, also on failure) and returns
 * S3S_OK, or the storage error that failed the tick (then *err says why).
 * While the circuit breaker is open the tick does no I/O and returns S3S_OK
 * with out->skipped set.
 */
extern s3s_code s3c_tick(s3c_coord *c, int64_t now_ms, s3c_status *out, s3s_error *err);

/* Milliseconds to wait before the next tick: heartbeat + U(0, jitter). */
extern int64_t s3c_next_delay(s3c_coord *c);

/*
 * Epoch fencing: true while we are leader (as of the last tick) under the
 * same epoch a task started with.  s3c_fence_ok_at also requires the lease
 * to be unexpired at now_ms; use it before a side effect.
 */
extern bool s3c_fence_ok(const s3c_coord *c, int64_t epoch);
extern bool s3c_fence_ok_at(const s3c_coord *c, int64_t epoch, int64_t now_ms);

/* The view of the last tick (same content as its s3c_status). */
extern void s3c_get_status(const s3c_coord *c, s3c_status *out);
extern void s3c_get_metrics(const s3c_coord *c, s3c_metrics *out);

/*
 * Give up: delete our worker record and, if we lead, replace the lease with
 * an ended one (leaderId null, same epoch) using If-Match, so the others
 * elect at their next tick.  Ticking again afterwards rejoins.
 */
extern s3s_code s3c_resign(s3c_coord *c, int64_t now_ms, s3s_error *err);

/* A worker record as read back. */
typedef struct s3c_worker
{
	char	   *worker_id;
	char	   *plugin_name;	/* NULL if absent */
	char	   *pod;			/* NULL if absent */
	char	   *ns;				/* NULL if absent */
	int64_t		last_heartbeat; /* 0 if absent */
	int64_t		start_time;		/* INT64_MAX if absent */
	int64_t		expires_at;		/* 0 if absent */
	int64_t		last_modified;	/* from the listing */
} s3c_worker;

/*
 * Live workers of the namespace at now_ms (now - lastHeartbeat <
 * worker_timeout), sorted by id.  *out is malloc'd; free with
 * s3c_workers_free.
 */
extern s3s_code s3c_workers(s3c_coord *c, int64_t now_ms, s3c_worker **out, int *n,
							s3s_error *err);
extern void s3c_workers_free(s3c_worker *w, int n);

/* The key of the lease object and of our worker record (static buffers). */
extern const char *s3c_state_key(const s3c_coord *c);
extern const char *s3c_worker_key(const s3c_coord *c);

/* ---- DistributedLock: plugin=<slug>/locks/<name> ---- */

typedef struct s3c_lock
{
	char		key[1024];
	char		token[23];		/* 22 characters of [A-Za-z0-9_-] */
	char		etag[128];
	char		worker_id[S3C_ID_MAX + 1];
	int64_t		acquired_at;
	int64_t		expires_at;
} s3c_lock;

/*
 * Try once to take the lock (no waiting): a create-only PUT; if the lock is
 * there but expired (now > _expiresAt) or malformed, replace it with
 * If-Match on its ETag.  Returns 1 when taken (*lock filled), 0 when
 * another holder has it, -1 on a storage error (*err filled).
 */
extern int	s3c_lock_acquire(s3s_store *st, const char *slug, const char *name,
							 const char *worker_id, int64_t ttl_ms, int64_t now_ms,
							 s3c_lock *lock, s3s_error *err);

/*
 * Release: delete the lock if it still carries our token (DELETE with
 * If-Match on the ETag read).  Returns 1 when released, 0 when it was no
 * longer ours (or gone), -1 on a storage error.
 */
extern int	s3c_lock_release(s3s_store *st, const s3c_lock *lock, s3s_error *err);

/* ---- latency percentiles (exposed for tests and reuse) ---- */

/*
 * Nearest-rank percentile as s3db.js computes it over sorted[0..n-1]:
 * p <= 0 gives the minimum, p >= 100 the maximum, otherwise
 * sorted[max(0, ceil(p/100*n) - 1)].  n must be > 0.
 */
extern int64_t s3c_percentile(const int64_t *sorted, int n, double p);

#endif							/* S3DB_COORD_H */
