/*-------------------------------------------------------------------------
 *
 * store_int.h
 *		Internals shared by the store dispatcher (store.c) and the backends
 *		(s3.c, fs.c, mem.c).  Not for users of the store.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_STORE_INT_H
#define S3DB_STORE_INT_H

#include "store/store.h"
#include "store/connstr.h"
#include "store/probe.h"

typedef struct s3s_backend
{
	const char *name;			/* "s3", "file", "memory" */
	/* set up backend state in st->impl; fill err and return false on failure */
	bool		(*open) (s3s_store *st, const s3s_config *cfg, s3s_error *err);
	void		(*close) (s3s_store *st);
	/* run n requests (concurrently where the backend can); fill each r->err */
	void		(*execute) (s3s_store *st, s3s_request *reqs, int n);
} s3s_backend;

struct s3s_store
{
	const s3s_backend *backend;
	s3s_kind	kind;
	s3s_location loc;			/* parsed connection string (owns its strings) */
	char	   *describe;		/* safe description, no credentials */
	s3s_cancel_fn cancel;
	void	   *cancel_arg;
	int			max_inflight;	/* concurrent transfers a backend may run */
	s3s_stats	stats;
	s3s_conditions cond;		/* how write conditions are sent */

	/* whether conditional writes may go out (gate.c) */
	s3s_gate	gate;
	bool		probing;		/* the probe's own writes pass */
	bool		accept_weak;	/* s3s_config.accept_weak_conditions */
	int			meta_needed;	/* s3s_config.metadata_needed */
	bool		have_probe;
	s3s_probe_result probed;	/* the last probe's answers */
	void		(*on_probe) (void *arg, const s3s_probe_result *res);
	void	   *on_probe_arg;

	void	   *impl;			/* backend state */
};

extern const s3s_backend s3s_backend_s3;
extern const s3s_backend s3s_backend_fs;
extern const s3s_backend s3s_backend_mem;

/* Join the store's key prefix and a logical key (malloc'd, POSIX join). */
extern char *s3s_full_key(const s3s_store *st, const char *key);
/* Strip the key prefix from a full key (malloc'd); NULL if it does not match. */
extern char *s3s_logical_key(const s3s_store *st, const char *full);

/*
 * Fail the valid conditional writes of a batch that the store may not take
 * yet, probing it first if it never was (gate.c).  Returns how many failed.
 */
extern int	s3s_gate_batch(s3s_store *st, s3s_request *reqs, int n);

/* True if the cancel hook says stop. */
extern bool s3s_cancelled(s3s_store *st);

/* Random bytes for jitter, tokens and ids (OpenSSL RAND, fallback urandom). */
extern void s3s_random_bytes(unsigned char *buf, size_t n);

/* Lower-case hex MD5 of data into out[33]. */
extern void s3s_md5_hex(const unsigned char *data, size_t len, char out[33]);

#endif							/* S3DB_STORE_INT_H */
