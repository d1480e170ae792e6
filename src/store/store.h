/*-------------------------------------------------------------------------
 *
 * store.h
 *		The object-store core: one interface over S3 (libcurl + SigV4),
 *		file:// (s3db.js FileSystemClient layout) and memory:// backends.
 *
 * This layer knows nothing about PostgreSQL.  It allocates with malloc,
 * reports failures through s3s_error values and never longjmps.  Callers
 * (the FDW, the background worker, command-line tools and the unit tests)
 * decide what an error means to them.
 *
 * Keys passed to and returned from this API are *logical* keys, such as
 * "resource=users/data/id=alice": the store applies its key prefix on the
 * way out and strips it on the way back.
 *
 * Requests are executed in batches: the caller fills an array of
 * s3s_request and calls s3s_execute(), which runs them concurrently (a
 * bounded window of transfers on one curl multi handle for S3; in order for
 * the local backends) and returns when every request has completed.  Each
 * request carries its own result and error, so one failed GET does not hide
 * the others.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_STORE_H
#define S3DB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/s3err.h"

/* A flat list of metadata entries (user metadata without "x-amz-meta-"). */
typedef struct s3s_meta
{
	int			n;
	int			cap;
	char	  **keys;			/* lower-case keys as stored */
	char	  **values;			/* values as stored (client-encoded) */
} s3s_meta;

extern void s3s_meta_init(s3s_meta *m);
extern int	s3s_meta_add(s3s_meta *m, const char *key, const char *value);
extern const char *s3s_meta_get(const s3s_meta *m, const char *key);
extern void s3s_meta_free(s3s_meta *m);
extern int	s3s_meta_copy(s3s_meta *dst, const s3s_meta *src);

/* What HEAD/GET/PUT/COPY return about an object. */
typedef struct s3s_object
{
	char	   *etag;			/* without quotes, lower-case hex for fs */
	char	   *content_type;
	int64_t		size;			/* stored length (Content-Length / size) */
	int64_t		last_modified;	/* epoch milliseconds, 0 if unknown */
	s3s_meta	meta;
	unsigned char *body;		/* GET only; NUL-terminated for convenience */
	size_t		body_len;
} s3s_object;

extern void s3s_object_free(s3s_object *o);

/* One ListObjectsV2 page. */
typedef struct s3s_list_entry
{
	char	   *key;			/* logical key */
	char	   *etag;			/* without quotes; may be NULL */
	int64_t		size;
	int64_t		last_modified;	/* epoch ms */
} s3s_list_entry;

typedef struct s3s_list
{
	int			n;
	s3s_list_entry *entries;
	int			nprefixes;
	char	  **prefixes;		/* common prefixes (logical) when delimited */
	bool		truncated;
	char	   *next_token;		/* continuation token when truncated */
} s3s_list;

extern void s3s_list_free(s3s_list *l);

typedef enum s3s_op
{
	S3S_OP_HEAD,
	S3S_OP_GET,
	S3S_OP_PUT,
	S3S_OP_COPY,				/* copy_source -> key, metadata REPLACE */
	S3S_OP_DELETE,
	S3S_OP_DELETE_MANY,			/* up to 1000 keys */
	S3S_OP_LIST
} s3s_op;

extern const char *s3s_op_name(s3s_op op);

/*
 * A request and, after s3s_execute(), its result.  Inputs are borrowed (the
 * caller keeps them alive until s3s_execute returns); outputs are owned by
 * the request and released by s3s_request_reset().
 */
typedef struct s3s_request
{
	/* inputs */
	s3s_op		op;
	const char *key;			/* HEAD/GET/PUT/COPY/DELETE */

	int64_t		range_start;	/* GET: -1 for the whole object */
	int64_t		range_end;		/* GET: inclusive, -1 for "to the end" */

	const s3s_meta *meta;		/* PUT/COPY */
	const char *content_type;	/* PUT; NULL = none sent */
	const unsigned char *body;	/* PUT */
	size_t		body_len;
	bool		if_none_match;	/* PUT: If-None-Match: * */
	const char *if_match;		/* PUT/COPY/DELETE: If-Match: "etag" */
	const char *copy_source;	/* COPY: logical key of the source */

	const char *const *keys;	/* DELETE_MANY */
	int			nkeys;

	const char *prefix;			/* LIST */
	const char *delimiter;
	const char *continuation;
	const char *start_after;
	int			max_keys;		/* 0 = server default (1000) */

	void	   *user;			/* caller's cookie, untouched */

	/* outputs */
	s3s_error	err;			/* err.code == S3S_OK on success */
	s3s_object	obj;			/* HEAD/GET/PUT/COPY */
	s3s_list	list;			/* LIST */
	int			attempts;		/* how many times it was sent */
	int64_t		bytes_in;
	int64_t		bytes_out;
} s3s_request;

/* Prepare a request: zero everything, set ranges to -1. */
extern void s3s_request_init(s3s_request *r, s3s_op op, const char *key);
/* Release outputs so the request can be reused. */
extern void s3s_request_reset(s3s_request *r);

/* Called often during transfers; return true to abort them (query cancel). */
typedef bool (*s3s_cancel_fn) (void *arg);

struct s3s_probe_result;		/* store/probe.h */

/* Backend selection and tuning.  Strings are copied by s3s_open. */
typedef struct s3s_config
{
	const char *url;			/* s3://, http(s)://, file://, memory:// */
	const char *region;			/* default us-east-1 */
	const char *endpoint;		/* overrides the endpoint implied by url */
	const char *url_style;		/* "path", "virtual" or NULL (auto) */
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;

	/*
	 * Where credentials come from beyond the keys above (store/creds.h):
	 * the server's own identity, a role to assume.  NULL = the keys above
	 * (or the URL's), else unsigned requests.
	 */
	const struct s3s_cred_options *creds;
	const char *ca_file;		/* https: CA bundle; NULL = system default */
	bool		insecure_skip_verify; /* https: disable peer/host checks */
	int			max_inflight;	/* concurrent transfers; default 48 */
	int			max_retries;	/* default 5 */
	long		connect_timeout_ms; /* default 5000 */
	long		request_timeout_ms; /* default 60000 (one attempt) */
	long		low_speed_time_s;	/* abort a transfer slower than 1 B/s for this long; default 30 */
	s3s_cancel_fn cancel;
	void	   *cancel_arg;

	/*
	 * Conditional writes (probe.h): before the first one the store is
	 * probed; it takes them only if it honours every condition, or if
	 * accept_weak_conditions says to write with what it does honour.
	 * metadata_needed is the user-metadata size writes need (0: not
	 * checked); a store that does not keep that much takes none.
	 */
	bool		accept_weak_conditions;
	int			metadata_needed;

	/*
	 * Called after each probe this store runs, with its result, so that a
	 * caller may share it with other stores of the same place
	 * (s3s_adopt_probe); NULL for none.  Runs inside s3s_execute().
	 */
	void		(*on_probe) (void *arg, const struct s3s_probe_result *res);
	void	   *on_probe_arg;
} s3s_config;

extern void s3s_config_init(s3s_config *c);

typedef struct s3s_store s3s_store;

typedef enum s3s_kind
{
	S3S_KIND_S3,
	S3S_KIND_FILE,
	S3S_KIND_MEMORY
} s3s_kind;

/*
 * Open a store.  On failure returns NULL and fills *err (never with a
 * credential).  Opening does no I/O for S3.
 */
extern s3s_store *s3s_open(const s3s_config *cfg, s3s_error *err);
extern void s3s_close(s3s_store *st);
extern s3s_kind s3s_store_kind(const s3s_store *st);

/* A description safe to show (no credentials): "s3 bucket=b prefix=p endpoint=..." */
extern const char *s3s_store_describe(const s3s_store *st);

/* Change the cancel hook (per query). */
extern void s3s_set_cancel(s3s_store *st, s3s_cancel_fn fn, void *arg);

/*
 * Change how many transfers may run at once (a session setting that changed
 * since the store was opened); applies from the next s3s_execute.
 */
extern void s3s_set_max_inflight(s3s_store *st, int n);
extern int	s3s_get_max_inflight(const s3s_store *st);

/*
 * Run n requests concurrently; returns when all are done.  Returns the
 * number of requests that failed (their err says why).  If the cancel hook
 * fires, outstanding requests fail with S3S_ERR_CANCELLED.
 */
extern int	s3s_execute(s3s_store *st, s3s_request *reqs, int n);

/* Convenience wrappers for a single request (return err.code). */
extern s3s_code s3s_head(s3s_store *st, const char *key, s3s_object *out, s3s_error *err);
extern s3s_code s3s_get(s3s_store *st, const char *key, s3s_object *out, s3s_error *err);

/*
 * How write conditions are sent.  A store that answers "If-Match" with a
 * quoted ETag by 412 whatever the ETag (Ceph radosgw 18) wants the bare
 * spelling; a store that refuses a condition outright can only be written
 * without it, which s3db_fdw does only when told to accept weaker
 * guarantees.  The default is what S3 specifies: quoted, every condition
 * sent.  src/store/probe.h finds the right setting for a store.
 */
typedef struct s3s_conditions
{
	bool		if_match_unquoted;	/* If-Match: etag rather than "etag" */
	bool		omit_if_none_match; /* PUT/COPY: never send If-None-Match */
	bool		omit_put_if_match;	/* PUT: never send If-Match */
	bool		omit_copy_if_match; /* COPY: never send x-amz-copy-source-if-match */
	bool		omit_delete_if_match;	/* DELETE: never send If-Match */
} s3s_conditions;

/*
 * Declare how a store keeps conditions instead of probing it: the store
 * then takes conditional writes, sent as c says.  For tests against
 * scripted servers and tools that know their store; s3db_fdw itself never
 * calls it (test/run-all.sh checks), so every store it writes to is probed.
 */
extern void s3s_set_conditions(s3s_store *st, const s3s_conditions *c);
extern void s3s_get_conditions(const s3s_store *st, s3s_conditions *out);

/* Request counters since open (for EXPLAIN ANALYZE and benchmarks). */
typedef struct s3s_stats
{
	int64_t		requests[S3S_OP_LIST + 1];
	int64_t		retries;
	int64_t		bytes_in;
	int64_t		bytes_out;
} s3s_stats;

extern void s3s_get_stats(const s3s_store *st, s3s_stats *out);

/* Lower-case hex MD5 of data into out[33] (an S3 ETag of a simple upload). */
extern void s3s_md5_hex(const unsigned char *data, size_t len, char out[33]);

/* Memory stores with the same url share objects within one process. */
extern void s3s_memory_reset_all(void);

/*
 * Test hook: make every memory store of the process behave like a store
 * that does not keep S3's promises, so the probe (probe.h) and its callers
 * can be tested without such a server.  0 restores the normal behaviour.
 */
#define S3S_MEMQ_IGNORE_CONDITIONS	0x01	/* no condition is checked */
#define S3S_MEMQ_REFUSE_QUOTED		0x02	/* PUT If-Match "etag": 412 always */
#define S3S_MEMQ_IGNORE_DELETE_IF_MATCH 0x04	/* DELETE deletes whatever If-Match says */
#define S3S_MEMQ_IGNORE_COPY_IF_MATCH 0x08	/* COPY copies whatever the source's ETag */
extern void s3s_memory_set_quirks(unsigned flags, int meta_limit);

#endif							/* S3DB_STORE_H */
