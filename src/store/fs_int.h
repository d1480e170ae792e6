/*-------------------------------------------------------------------------
 *
 * fs_int.h
 *		Internals of the file:// backend shared by fs.c (requests, keys,
 *		listing) and fs_sidecar.c (sidecar JSON and atomic file writes).
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_STORE_FS_INT_H
#define S3DB_STORE_FS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define FS_SIDECAR_SUFFIX ".meta.json"
/* Longest key segment: the sidecar's temporary name must fit NAME_MAX. */
#define FS_MAX_SEGMENT (255 - 10 - 34)
/* Bodies larger than this are not read into memory. */
#define FS_MAX_BODY ((size_t) 4 * 1024 * 1024 * 1024)

/* A directory's listable entries, sorted, kept between LIST pages (fs_list.c). */
#define FS_DIRCACHE 4
typedef struct fs_dircache fs_dircache;

typedef struct fs_state
{
	char	   *base;			/* absolute base directory */
	fs_dircache *dirs[FS_DIRCACHE];	/* NULL or a cached directory */
	uint64_t	dir_tick;		/* for least-recently-used eviction */
} fs_state;


/* What a sidecar says about its object. */
typedef struct fs_sidecar
{
	s3s_meta	meta;
	char	   *content_type;	/* never NULL after a successful read */
	char	   *etag;			/* NULL if the sidecar has none */
	int64_t		size;
	bool		has_size;
	int64_t		last_modified;	/* epoch ms, 0 if unknown */
	bool		compressed;		/* body file holds gzip data */
} fs_sidecar;

/*
 * Read the sidecar of leaf in dirfd.  Returns S3S_OK, S3S_ERR_NOT_FOUND
 * (missing or unreadable: such an object does not exist), S3S_ERR_NOMEM,
 * or S3S_ERR_IO / S3S_ERR_ACCESS with errno set.
 */
extern s3s_code fs_sidecar_read(int dirfd, const char *leaf, fs_sidecar *out);
extern void fs_sidecar_free(fs_sidecar *sc);

/* Render a sidecar document (malloc'd, NUL-terminated); NULL on OOM. */
extern char *fs_sidecar_render(const s3s_meta *meta, const char *content_type,
							   const char *etag, int64_t last_modified,
							   int64_t size, size_t *len);

/* Write leaf in dirfd through a temporary file and rename; false with errno. */
extern bool fs_write_atomic(int dirfd, const char *leaf, const void *data, size_t len);

/* Is name one of our (or s3db.js's) temporary files "<x>.tmp.<ms>.<6 chars>"? */
extern bool fs_is_temp_name(const char *name);

/* Read a whole regular file (no symlinks) into a malloc'd NUL-terminated buffer. */
extern bool fs_read_file(int dirfd, const char *name, size_t limit,
						 unsigned char **data, size_t *len);

/* Open the directory part path[0..len) below base without following links. */
extern int	fs_open_dir(const char *base, const char *path, size_t len, bool create);

/* Keys and directories (fs.c). */
extern bool fs_check_key(s3s_request *r, const char *full, const char *logical);
extern const char *fs_split_key(const char *full, size_t *dirlen);
extern void fs_prune_dirs(fs_state *fs, const char *full);

/* Object requests (fs_object.c); dirfd is the key's directory. */
extern void fs_set_errno_error(s3s_request *r, const char *what);
extern void fs_set_not_found(s3s_request *r, const char *key);
extern void fs_do_read(s3s_request *r, int dirfd, const char *leaf);
extern bool fs_conditions_hold(s3s_request *r, int dirfd, const char *leaf);
extern void fs_do_write(s3s_request *r, int dirfd, const char *leaf,
						const unsigned char *body, size_t len, const char *content_type);
extern bool fs_remove_object(fs_state *fs, s3s_request *r, const char *full,
							 int dirfd, const char *leaf);
extern void fs_do_copy(s3s_store *st, fs_state *fs, s3s_request *r, const char *full);
extern void fs_do_delete_many(s3s_store *st, fs_state *fs, s3s_request *r);

/* LIST over the file store (fs_list.c). */
extern void fs_list(s3s_store *st, const char *base, s3s_request *r);
extern void fs_dircache_free(fs_state *fs);

#endif							/* S3DB_STORE_FS_INT_H */
