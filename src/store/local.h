/*-------------------------------------------------------------------------
 *
 * local.h
 *		Helpers shared by the local backends (fs.c and mem.c): listing
 *		pages, conditional-request checks, timestamps.
 *
 * Both local backends produce their candidate keys in byte order, so the
 * S3 listing rules (prefix, start-after, continuation, delimiter, page
 * size) are implemented once, by a "lister" that is fed keys one at a time.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_STORE_LOCAL_H
#define S3DB_STORE_LOCAL_H

#include "store/store_int.h"

typedef enum s3s_lister_verdict
{
	S3S_LISTER_SKIP,			/* not part of this page, keep going */
	S3S_LISTER_TAKE,			/* a candidate: look it up, then add it */
	S3S_LISTER_STOP				/* nothing further can be on this page */
} s3s_lister_verdict;

typedef struct s3s_lister
{
	s3s_store  *st;
	s3s_list   *out;
	char	   *prefix;			/* full listing prefix */
	const char *delimiter;		/* NULL when not delimited */
	char	   *after;			/* full key; only keys > after are listed */
	char	   *skip_prefix;	/* last common prefix: keys below it are folded */
	char	   *last;			/* token of the last item added */
	int			max_keys;
	int			cap_entries;
	int			cap_prefixes;
	bool		done;
} s3s_lister;

/* Start a LIST for r; false (with r->err filled) on a bad token or no memory. */
extern bool s3s_lister_begin(s3s_lister *l, s3s_store *st, s3s_request *r);
/* The smallest full key that may be listed (where to start a sorted walk). */
extern const char *s3s_lister_seek(const s3s_lister *l);
/* Classify the next key of the byte-ordered walk. */
extern s3s_lister_verdict s3s_lister_want(const s3s_lister *l, const char *full);
/* May a key starting with dirprefix (which ends in '/') be listed? */
extern bool s3s_lister_want_subtree(const s3s_lister *l, const char *dirprefix);
/* Add a key that exists; false on out of memory. */
extern bool s3s_lister_add(s3s_lister *l, const char *full, const char *etag,
						   int64_t size, int64_t last_modified);
/* Finish the page (sets the continuation token) and free the lister. */
extern bool s3s_lister_end(s3s_lister *l, bool ok);

/* Resolve a GET range against the object size; false with r->err if unsatisfiable. */
extern bool s3s_local_range(s3s_request *r, size_t total, size_t *off, size_t *len);
/* Does a stored etag satisfy an If-Match value ("*", quoted or not)? */
extern bool s3s_local_etag_match(const char *stored, const char *cond);
/* Copy metadata with ASCII-lower-cased keys, as S3 stores them; -1 on OOM. */
extern int	s3s_local_meta_lower(s3s_meta *dst, const s3s_meta *src);
/* Current time in epoch milliseconds. */
extern int64_t s3s_local_now_ms(void);
/* ISO-8601 "2026-11-25T17:59:39.509Z" <-> epoch ms (0 if unparsable). */
extern void s3s_local_format_iso(int64_t ms, char out[32]);
extern int64_t s3s_local_parse_iso(const char *s);

#endif							/* S3DB_STORE_LOCAL_H */
