/*-------------------------------------------------------------------------
 *
 * fs.c
 *		The file:// backend, in s3db.js's FileSystemClient layout: keys,
 *		directories, the store lock and request dispatch.  Object requests
 *		are in fs_object.c, listing in fs_list.c, sidecars in fs_sidecar.c.
 *
 * Object K lives in BASE/K (the body) and BASE/K.meta.json (the sidecar,
 * see fs_sidecar.c); the store's key prefix is applied below BASE.  An
 * object exists when its sidecar is readable.  Writes go body first, then
 * sidecar, each atomically by rename; directories are created as needed
 * and pruned again when a delete leaves them empty.
 *
 * Keys are untrusted.  A key is refused unless every '/'-separated segment
 * is non-empty, is not "." or "..", does not end in ".meta.json" (which
 * would alias a sidecar) and does not look like a temporary file.  Paths
 * are resolved one directory at a time with O_NOFOLLOW from BASE, so no
 * symbolic link below BASE is ever followed.
 *
 * Writers serialize on an exclusive flock of BASE/.s3db_fdw.lock.meta.json
 * (a name no key can reach), held for a whole batch, which makes
 * If-None-Match and If-Match atomic among processes using this code;
 * readers hold a shared lock so they never see a body and sidecar from two
 * different writes.  s3db.js itself does not lock: against a concurrent
 * s3db.js writer the conditional checks are only as good as its own.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/fs_int.h"
#include "store/local.h"

#define FS_LOCK_NAME ".s3db_fdw.lock" FS_SIDECAR_SUFFIX

/* ---- keys and directories ---- */

static bool
segment_ok(const char *s, size_t n)
{
	static const size_t sl = sizeof(FS_SIDECAR_SUFFIX) - 1;
	char		buf[FS_MAX_SEGMENT + 1];

	if (n == 0 || n > FS_MAX_SEGMENT)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	if (n >= sl && memcmp(s + n - sl, FS_SIDECAR_SUFFIX, sl) == 0)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return !fs_is_temp_name(buf);
}

/* Check a full key for the rules in the file header; sets r->err when refused. */
bool
fs_check_key(s3s_request *r, const char *full, const char *logical)
{
	const char *s = full;

	if (full[0] == '\0' || full[0] == '/')
		goto bad;
	for (;;)
	{
		const char *slash = strchr(s, '/');
		size_t		n = slash ? (size_t) (slash - s) : strlen(s);

		if (!segment_ok(s, n))
			goto bad;
		if (slash == NULL)
			return true;
		s = slash + 1;
	}
bad:
	s3s_error_set(&r->err, S3S_ERR_INVALID, s3s_op_name(r->op), logical,
				  "key is not usable in a file store (empty, \".\" or \"..\" segment, "
				  "leading '/', \".meta.json\" suffix or over-long segment)");
	return false;
}

/* Create BASE and its missing parents. */
static int
mkdir_base(const char *base)
{
	char	   *p = strdup(base);
	char	   *s;

	if (p == NULL)
		return -1;
	for (s = p + 1; *s; s++)
	{
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
		{
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, 0777) != 0 && errno != EEXIST)
	{
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

/*
 * Open the directory holding a full key: the first 'len' bytes of path are
 * its directory part (no trailing '/').  With create, missing directories
 * (BASE included) are made.  Returns an fd, or -1 with errno (EINVAL for an
 * empty, "." or ".." segment).
 */
int
fs_open_dir(const char *base, const char *path, size_t len, bool create)
{
	int			fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t		at = 0;

	if (fd < 0 && errno == ENOENT && create)
	{
		if (mkdir_base(base) != 0)
			return -1;
		fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	while (fd >= 0 && at < len)
	{
		const char *slash = memchr(path + at, '/', len - at);
		size_t		n = slash ? (size_t) (slash - (path + at)) : len - at;
		char		seg[FS_MAX_SEGMENT + 1];
		int			next;

		if (n == 0 || n > FS_MAX_SEGMENT ||
			(n == 1 && path[at] == '.') ||
			(n == 2 && path[at] == '.' && path[at + 1] == '.'))
		{
			close(fd);
			errno = EINVAL;
			return -1;
		}
		memcpy(seg, path + at, n);
		seg[n] = '\0';
		next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create)
		{
			if (mkdirat(fd, seg, 0777) != 0 && errno != EEXIST)
			{
				int			e = errno;

				close(fd);
				errno = e;
				return -1;
			}
			next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		{
			int			e = errno;

			close(fd);
			errno = e;
		}
		fd = next;
		at += n + 1;
	}
	return fd;
}

/* Directory part length and leaf name of a full key. */
const char *
fs_split_key(const char *full, size_t *dirlen)
{
	const char *slash = strrchr(full, '/');

	*dirlen = slash ? (size_t) (slash - full) : 0;
	return slash ? slash + 1 : full;
}

/* Remove directories a delete left empty, deepest first, never BASE. */
void
fs_prune_dirs(fs_state *fs, const char *full)
{
	size_t		dirlen;

	fs_split_key(full, &dirlen);
	while (dirlen > 0)
	{
		const char *slash = NULL;
		size_t		i;
		int			fd;
		char		seg[FS_MAX_SEGMENT + 1];
		size_t		parentlen;
		size_t		n;

		for (i = dirlen; i > 0; i--)
			if (full[i - 1] == '/')
			{
				slash = full + i - 1;
				break;
			}
		parentlen = slash ? (size_t) (slash - full) : 0;
		n = dirlen - (slash ? parentlen + 1 : 0);
		if (n > FS_MAX_SEGMENT)
			return;
		memcpy(seg, full + dirlen - n, n);
		seg[n] = '\0';
		fd = fs_open_dir(fs->base, full, parentlen, false);
		if (fd < 0)
			return;
		i = unlinkat(fd, seg, AT_REMOVEDIR) == 0;
		close(fd);
		if (!i)
			return;
		dirlen = parentlen;
	}
}

static void
do_one(s3s_store *st, fs_state *fs, s3s_request *r)
{
	char	   *full = NULL;
	const char *leaf;
	size_t		dirlen;
	int			dirfd = -1;

	if (r->op == S3S_OP_LIST)
	{
		fs_list(st, fs->base, r);
		return;
	}
	if (r->op == S3S_OP_DELETE_MANY)
	{
		fs_do_delete_many(st, fs, r);
		return;
	}
	full = s3s_full_key(st, r->key);
	if (full == NULL)
	{
		s3s_error_set(&r->err, S3S_ERR_NOMEM, s3s_op_name(r->op), r->key, "out of memory");
		return;
	}
	if (!fs_check_key(r, full, r->key))
		goto done;
	leaf = fs_split_key(full, &dirlen);
	switch (r->op)
	{
		case S3S_OP_HEAD:
		case S3S_OP_GET:
			dirfd = fs_open_dir(fs->base, full, dirlen, false);
			if (dirfd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
				fs_set_errno_error(r, "could not open directory");
			else
				fs_do_read(r, dirfd, leaf);
			break;
		case S3S_OP_PUT:
			dirfd = fs_open_dir(fs->base, full, dirlen, true);
			if (dirfd < 0)
				fs_set_errno_error(r, "could not create directory");
			else
				fs_do_write(r, dirfd, leaf, r->body, r->body_len, r->content_type);
			break;
		case S3S_OP_COPY:
			fs_do_copy(st, fs, r, full);
			break;
		case S3S_OP_DELETE:
			dirfd = fs_open_dir(fs->base, full, dirlen, false);
			if (dirfd < 0)
			{
				if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
					fs_set_errno_error(r, "could not open directory");
				else if (r->if_match != NULL)
					fs_set_not_found(r, r->key);
				break;
			}
			if (r->if_match != NULL && !fs_conditions_hold(r, dirfd, leaf))
				break;
			fs_remove_object(fs, r, full, dirfd, leaf);
			break;
		default:
			break;
	}
done:
	if (dirfd >= 0)
		close(dirfd);
	free(full);
}

static bool
fs_open(s3s_store *st, const s3s_config *cfg, s3s_error *err)
{
	const char *base = st->loc.base_path;
	fs_state   *fs;
	size_t		n;

	if (base == NULL || base[0] == '\0')
	{
		s3s_error_set(err, S3S_ERR_INVALID, "open", NULL, "file store url has no directory");
		return false;
	}
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		goto nomem;
	if (base[0] == '/')
		fs->base = strdup(base);
	else
	{
		char		cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
		{
			free(fs);
			s3s_error_set(err, S3S_ERR_IO, "open", NULL, "could not resolve relative file store directory");
			return false;
		}
		fs->base = malloc(strlen(cwd) + strlen(base) + 2);
		if (fs->base != NULL)
			sprintf(fs->base, "%s/%s", cwd, base);
	}
	if (fs->base == NULL)
	{
		free(fs);
		goto nomem;
	}
	/* "/x/" and "/x" name the same directory */
	n = strlen(fs->base);
	while (n > 1 && fs->base[n - 1] == '/')
		fs->base[--n] = '\0';
	st->impl = fs;
	return true;

nomem:
	s3s_error_set(err, S3S_ERR_NOMEM, "open", NULL, "out of memory");
	return false;
}

static void
fs_close(s3s_store *st)
{
	fs_state   *fs = st->impl;

	if (fs != NULL)
	{
		fs_dircache_free(fs);
		free(fs->base);
		free(fs);
	}
	st->impl = NULL;
}

/*
 * Take the store lock: exclusive (creating BASE and the lock file) for a
 * batch that writes, shared for one that only reads.  Returns the fd, -2
 * when reading a store that has no lock file (nothing was ever written
 * by us), or -1 with errno.
 */
static int
take_lock(fs_state *fs, bool exclusive)
{
	int			bfd = fs_open_dir(fs->base, "", 0, exclusive);
	int			fd;

	if (bfd < 0)
		return exclusive ? -1 : -2;
	fd = openat(bfd, FS_LOCK_NAME,
				exclusive ? (O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC) :
				(O_RDONLY | O_NOFOLLOW | O_CLOEXEC), 0666);
	close(bfd);
	if (fd < 0)
		return (!exclusive && errno == ENOENT) ? -2 : -1;
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0)
	{
		if (errno != EINTR)
		{
			int			e = errno;

			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

/*
 * A batch runs on up to FS_THREADS threads (this one included), one more
 * for every FS_PER_THREAD requests: creating a file costs the kernel far
 * more than our encoding does, and the requests of a batch are independent
 * (the S3 backend runs them concurrently too).  Only batches of HEAD, GET,
 * PUT and COPY are spread: a DELETE prunes directories that a concurrent
 * PUT may be about to write into.  The threads run nothing but do_one, with
 * every signal blocked, so the host process's signal handling is untouched.
 */
#define FS_THREADS 4
#define FS_PER_THREAD 16

typedef struct fs_batch
{
	s3s_store  *st;
	fs_state   *fs;
	s3s_request *reqs;
	int			n;
	atomic_int	next;
} fs_batch;

static void
run_batch(fs_batch *b)
{
	int			i;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->n)
	{
		s3s_request *r = &b->reqs[i];

		if (s3s_cancelled(b->st))
		{
			s3s_error_set(&r->err, S3S_ERR_CANCELLED, s3s_op_name(r->op), r->key,
						  "request cancelled");
			continue;
		}
		r->attempts = 1;
		do_one(b->st, b->fs, r);
	}
}

static void *
batch_thread(void *arg)
{
	run_batch((fs_batch *) arg);
	return NULL;
}

static void
fs_execute(s3s_store *st, s3s_request *reqs, int n)
{
	fs_state   *fs = st->impl;
	bool		writes = false;
	bool		spread = true;
	int			lockfd;
	int			i;
	fs_batch	b;
	pthread_t	tids[FS_THREADS - 1];
	int			nt = 0;

	for (i = 0; i < n; i++)
	{
		s3s_op		op = reqs[i].op;

		if (op != S3S_OP_HEAD && op != S3S_OP_GET && op != S3S_OP_LIST)
			writes = true;
		if (op != S3S_OP_HEAD && op != S3S_OP_GET && op != S3S_OP_PUT && op != S3S_OP_COPY)
			spread = false;
	}
	lockfd = take_lock(fs, writes);
	if (lockfd == -1)
	{
		for (i = 0; i < n; i++)
		{
			errno = errno ? errno : EIO;
			fs_set_errno_error(&reqs[i], "could not lock file store");
			reqs[i].attempts = 1;
		}
		return;
	}
	b.st = st;
	b.fs = fs;
	b.reqs = reqs;
	b.n = n;
	atomic_init(&b.next, 0);
	if (spread && n >= 2 * FS_PER_THREAD)
	{
		sigset_t	all,
					old;
		int			want = n / FS_PER_THREAD - 1;

		if (want > FS_THREADS - 1)
			want = FS_THREADS - 1;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (; nt < want; nt++)
			if (pthread_create(&tids[nt], NULL, batch_thread, &b) != 0)
				break;			/* fewer threads; this one does the rest */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	run_batch(&b);
	for (i = 0; i < nt; i++)
		pthread_join(tids[i], NULL);
	if (lockfd >= 0)
		close(lockfd);
}

const s3s_backend s3s_backend_fs = {
	.name = "file",
	.open = fs_open,
	.close = fs_close,
	.execute = fs_execute,
};
