/*-------------------------------------------------------------------------
 *
 * coord_int.h
 *		Internals shared by the files of the coordinator core.  Not for
 *		users of the coordinator.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_COORD_INT_H
#define S3DB_COORD_INT_H

#include "coord/coord.h"

/* Bodies larger than this are not ours: treated as malformed. */
#define S3C_MAX_BODY (64 * 1024)

/* A parsed state.json (the lease). */
typedef struct s3c_lease
{
	bool		present;		/* the object exists (etag says which) */
	bool		valid;			/* leaderId string or null, epoch a number */
	bool		leader_null;
	char		etag[128];		/* "" if the store gave none */
	char		leader_id[S3C_ID_MAX + 1];
	char		leader_pod[S3C_ID_MAX + 1];
	char		elected_by[S3C_ID_MAX + 1];
	int64_t		epoch;
	int64_t		lease_start;
	int64_t		lease_end;		/* 0 if absent */
	int64_t		elected_at;
	int64_t		expires_at;		/* _expiresAt; 0 if absent */
} s3c_lease;

/* A worker record with what is needed to clean it up. */
typedef struct s3c_wrec
{
	s3c_worker	w;
	char		etag[128];
	bool		parsed;			/* the body was a JSON object */
	bool		gone;			/* listed, but deleted before the GET */
} s3c_wrec;

struct s3c_coord
{
	s3s_store  *st;
	char	   *ns;
	char	   *worker_id;
	char	   *pod;
	char	   *plugin_name;
	char	   *k_state;
	char	   *k_checkpoint;
	char	   *k_metadata;
	char	   *k_workers;		/* prefix ".../workers/" */
	char	   *k_self;			/* our worker record */

	int64_t		lease_ms;
	int64_t		heartbeat_ms;
	int64_t		jitter_ms;
	int64_t		worker_timeout_ms;
	int			breaker_failures;
	int64_t		breaker_reset_ms;
	double		contention_ratio;
	int64_t		contention_report_ms;
	s3c_clock_fn clock;
	void	   *clock_arg;
	uint64_t	rng;

	bool		started;		/* metadata written, checkpoint read */
	int64_t		start_time;		/* "startTime" of our worker record */
	int64_t		last_known_epoch;	/* highest epoch ever seen */
	int64_t		ckpt_epoch;		/* epoch of our last checkpoint write */
	int64_t		ckpt_at;		/* and when */

	/* the view as of the last tick */
	bool		is_leader;
	char		leader_id[S3C_ID_MAX + 1];
	int64_t		epoch;
	int64_t		lease_end;
	int			live_workers;

	/* circuit breaker */
	s3c_breaker_state breaker;
	int			consecutive_failures;
	int64_t		opened_at;

	/* contention */
	bool		contention_reported;
	int64_t		contention_last_report;

	/* metrics */
	s3c_metrics m;
	int64_t    *ring;
	int			ring_size;
	int			ring_n;
	int			ring_pos;

	s3c_status	last;
};

/* coord_json.c: bodies and parsing */
extern char *s3c_json_state(const s3c_lease *l, int64_t expires_at);
extern char *s3c_json_worker(const s3c_coord *c, int64_t now_ms);
extern char *s3c_json_checkpoint(const s3c_coord *c, int64_t now_ms);
extern char *s3c_json_metadata(const s3c_coord *c, int64_t now_ms);
extern char *s3c_json_lock(const char *worker_id, const char *token,
						   int64_t acquired_at, int64_t expires_at);
extern void s3c_parse_state(const unsigned char *body, size_t len, s3c_lease *out);
extern bool s3c_parse_worker(const unsigned char *body, size_t len, s3c_worker *out);
extern bool s3c_parse_lock(const unsigned char *body, size_t len, char *worker_id,
						   size_t wsize, char *token, size_t tsize,
						   int64_t *acquired_at, int64_t *expires_at);
extern bool s3c_parse_checkpoint_epoch(const unsigned char *body, size_t len,
									   int64_t *epoch);
extern char *s3c_strdup_printf(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void s3c_copy(char *dst, size_t size, const char *src);

/* coord_json.c: single-object I/O */
extern s3s_code s3c_put_json(s3s_store *st, const char *key, const char *json,
							 bool if_none_match, const char *if_match,
							 char *etag_out, size_t etag_size, s3s_error *err);
extern s3s_code s3c_get(s3s_store *st, const char *key, s3s_object *obj, s3s_error *err);
extern s3s_code s3c_delete(s3s_store *st, const char *key, const char *if_match,
						   s3s_error *err);
extern s3s_code s3c_read_lease(s3s_store *st, const char *key, s3c_lease *out,
							   s3s_error *err);

/* coord_workers.c */
extern s3s_code s3c_read_workers(s3c_coord *c, s3c_wrec **out, int *n, s3s_error *err);
extern void s3c_wrecs_free(s3c_wrec *w, int n);
extern bool s3c_worker_live(const s3c_coord *c, const s3c_worker *w, int64_t now_ms);
extern const char *s3c_choose_leader(const s3c_coord *c, const s3c_wrec *w, int n,
									 int64_t now_ms);
extern void s3c_cleanup_workers(s3c_coord *c, const s3c_wrec *w, int n, int64_t now_ms);
extern int	s3c_id_compare(const char *a, const char *b);

/* coord_metrics.c: breaker, contention, latency ring */
extern bool s3c_breaker_allows(s3c_coord *c, int64_t now_ms);
extern void s3c_breaker_success(s3c_coord *c);
extern void s3c_breaker_failure(s3c_coord *c, int64_t now_ms);
extern bool s3c_contention_check(s3c_coord *c, int64_t duration_ms, int64_t now_ms);
extern void s3c_latency_push(s3c_coord *c, int64_t duration_ms);
extern void s3c_latency_fill(const s3c_coord *c, s3c_metrics *m);
extern int64_t s3c_monotonic_ms(void *arg);
extern uint64_t s3c_random(s3c_coord *c);

#endif							/* S3DB_COORD_INT_H */
