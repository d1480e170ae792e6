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
	void	   *impl;			/* backend state */
};

extern const s3s_backend s3s_backend_s3;
extern const s3s_backend s3s_backend_fs;
extern const s3s_backend s3s_backend_mem;

/* Join the store's key prefix and a logical key (malloc'd, POSIX join). */
extern char *s3s_full_key(const s3s_store *st, const char *key);
/* Strip the key prefix from a full key (malloc'd); NULL if it does not match. */
extern char *s3s_logical_key(const s3s_store *st, const char *full);

/* True if the cancel hook says stop. */
extern bool s3s_cancelled(s3s_store *st);

/* Random bytes for jitter, tokens and ids (OpenSSL RAND, fallback urandom). */
extern void s3s_random_bytes(unsigned char *buf, size_t n);

/* Lower-case hex MD5 of data into out[33]. */
extern void s3s_md5_hex(const unsigned char *data, size_t len, char out[33]);

#endif							/* S3DB_STORE_INT_H */
