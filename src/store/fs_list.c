/*-------------------------------------------------------------------------
 *
 * fs_list.c
 *		LIST over the file:// backend: a directory walk in key order.
 *
 * The walk starts at the directory of the listing prefix and visits
 * entries so that keys come out in byte order without collecting and
 * sorting the whole tree: within a directory, a subdirectory "d" sorts as
 * "d/" (every key below it starts with that), a file by its name.  That
 * lets the walk skip subtrees that lie before the resume point or fold into
 * a common prefix, and stop as soon as a page is full.
 *
 * Sidecars, temporary files, symbolic links and other non-regular entries
 * are never listed; a body whose sidecar is missing or unreadable is not an
 * object.
 *
 * A listing of N keys takes N/1000 pages, and every page walks from the
 * prefix's directory again: the sorted entries of the last few directories
 * read are kept (fs_state.dirs), so that a page costs the sidecars it
 * returns instead of a read and sort of the whole directory.  A kept
 * directory is used only while its device, inode, modification and change
 * times are those it had when read, and only kept if it had not changed
 * for FS_DIR_SETTLED_MS before it was read: file times advance in clock
 * ticks, so a change in the same tick as the read could otherwise leave the
 * times as they were.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/fs_int.h"
#include "store/local.h"

typedef struct fs_entry
{
	char	   *name;
	char	   *sortkey;		/* name, plus '/' for a directory */
	bool		isdir;
} fs_entry;

#define FS_DIR_SETTLED_MS 50

struct fs_dircache
{
	char	   *path;			/* the directory, relative to BASE */
	dev_t		dev;
	ino_t		ino;
	struct timespec mtime;
	struct timespec ctime;
	fs_entry   *ents;
	int			n;
	uint64_t	used;
	int			busy;			/* walks iterating over ents right now */
};

enum
{
	WALK_MORE = 0,
	WALK_STOP = 1,
	WALK_NOMEM = -1
};

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const fs_entry *) a)->sortkey, ((const fs_entry *) b)->sortkey);
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t		n = strlen(s),
				m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static void
free_entries(fs_entry *ents, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		free(ents[i].name);
		free(ents[i].sortkey);
	}
	free(ents);
}

/* Read the listable entries of a directory, sorted; -1 on OOM, else count. */
static int
read_entries(int dirfd, fs_entry **out)
{
	int			dfd = dup(dirfd);
	DIR		   *d;
	struct dirent *de;
	fs_entry   *ents = NULL;
	int			n = 0,
				cap = 0;

	*out = NULL;
	if (dfd < 0)
		return 0;
	d = fdopendir(dfd);
	if (d == NULL)
	{
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
	{
		const char *name = de->d_name;
		bool		isdir;
		size_t		len;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
			has_suffix(name, FS_SIDECAR_SUFFIX) || fs_is_temp_name(name))
			continue;
		if (de->d_type == DT_DIR)
			isdir = true;
		else if (de->d_type == DT_REG)
			isdir = false;
		else if (de->d_type == DT_UNKNOWN)
		{
			struct stat sb;

			if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			if (S_ISDIR(sb.st_mode))
				isdir = true;
			else if (S_ISREG(sb.st_mode))
				isdir = false;
			else
				continue;
		}
		else
			continue;			/* symbolic links, sockets, ... */

		if (n == cap)
		{
			int			ncap = cap ? cap * 2 : 32;
			fs_entry   *ne = realloc(ents, sizeof(fs_entry) * ncap);

			if (ne == NULL)
				goto nomem;
			ents = ne;
			cap = ncap;
		}
		len = strlen(name);
		ents[n].name = strdup(name);
		ents[n].sortkey = malloc(len + 2);
		ents[n].isdir = isdir;
		if (ents[n].name == NULL || ents[n].sortkey == NULL)
		{
			free(ents[n].name);
			free(ents[n].sortkey);
			goto nomem;
		}
		memcpy(ents[n].sortkey, name, len);
		ents[n].sortkey[len] = '/';
		ents[n].sortkey[isdir ? len + 1 : len] = '\0';
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(ents, n, sizeof(fs_entry), entry_cmp);
	*out = ents;
	return n;

nomem:
	closedir(d);
	free_entries(ents, n);
	return -1;
}

static void
dircache_drop(fs_dircache *c)
{
	if (c == NULL)
		return;
	free_entries(c->ents, c->n);
	free(c->path);
	free(c);
}

void
fs_dircache_free(fs_state *fs)
{
	for (int i = 0; i < FS_DIRCACHE; i++)
	{
		dircache_drop(fs->dirs[i]);
		fs->dirs[i] = NULL;
	}
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/*
 * The sorted entries of directory dirfd (at path below BASE), from the
 * cache when it still holds them.  *held is the cache entry the caller
 * iterates over and must release (dircache_release), or NULL when the
 * caller owns and frees the entries.  A walk holds the entries of every
 * directory on its path down, so held entries are never evicted.  -1 on
 * OOM, else the count.
 */
static int
dir_entries(fs_state *fs, int dirfd, const char *path, fs_entry **out, fs_dircache **held)
{
	struct stat sb;
	struct timespec now;
	fs_dircache *c;
	int			slot = -1;
	int			n;

	*held = NULL;
	if (fstat(dirfd, &sb) != 0)
		return read_entries(dirfd, out);
	for (int i = 0; i < FS_DIRCACHE; i++)
	{
		c = fs->dirs[i];
		if (c && strcmp(c->path, path) == 0)
		{
			if (c->dev == sb.st_dev && c->ino == sb.st_ino &&
				same_time(&c->mtime, &sb.st_mtim) && same_time(&c->ctime, &sb.st_ctim))
			{
				c->used = ++fs->dir_tick;
				c->busy++;
				*out = c->ents;
				*held = c;
				return c->n;
			}
			if (c->busy == 0)
			{
				dircache_drop(c);	/* changed since */
				fs->dirs[i] = NULL;
			}
		}
	}
	n = read_entries(dirfd, out);
	if (n < 0)
		return n;

	/* keep it only if no change can hide in the same clock tick */
	clock_gettime(CLOCK_REALTIME, &now);
	if ((now.tv_sec - sb.st_mtim.tv_sec) * 1000 + (now.tv_nsec - sb.st_mtim.tv_nsec) / 1000000
		< FS_DIR_SETTLED_MS)
		return n;
	for (int i = 0; i < FS_DIRCACHE; i++)
	{
		fs_dircache *d = fs->dirs[i];

		if (d == NULL)
		{
			slot = i;
			break;
		}
		if (d->busy == 0 && (slot < 0 || d->used < fs->dirs[slot]->used))
			slot = i;
	}
	if (slot < 0)
		return n;				/* every kept directory is being walked */
	c = calloc(1, sizeof(fs_dircache));
	if (c == NULL || (c->path = strdup(path)) == NULL)
	{
		free(c);
		return n;				/* not kept: the caller frees */
	}
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	c->mtime = sb.st_mtim;
	c->ctime = sb.st_ctim;
	c->ents = *out;
	c->n = n;
	c->used = ++fs->dir_tick;
	c->busy = 1;
	dircache_drop(fs->dirs[slot]);
	fs->dirs[slot] = c;
	*held = c;
	return n;
}

/* Walk dirfd, whose keys start with path ("" or ending in '/'). */
static int
walk(fs_state *fs, s3s_lister *l, int dirfd, const char *path)
{
	fs_entry   *ents;
	fs_dircache *held;
	int			n = dir_entries(fs, dirfd, path, &ents, &held);
	size_t		plen = strlen(path);
	int			rc = WALK_MORE;
	int			i;

	if (n < 0)
		return WALK_NOMEM;
	for (i = 0; i < n && rc == WALK_MORE; i++)
	{
		size_t		klen = strlen(ents[i].sortkey);
		char	   *full = malloc(plen + klen + 1);

		if (full == NULL)
		{
			rc = WALK_NOMEM;
			break;
		}
		memcpy(full, path, plen);
		memcpy(full + plen, ents[i].sortkey, klen + 1);

		if (ents[i].isdir)
		{
			if (s3s_lister_want_subtree(l, full))
			{
				int			sub = openat(dirfd, ents[i].name,
										 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

				if (sub >= 0)
				{
					rc = walk(fs, l, sub, full);
					close(sub);
				}
			}
		}
		else
		{
			s3s_lister_verdict v = s3s_lister_want(l, full);

			if (v == S3S_LISTER_STOP)
				rc = WALK_STOP;
			else if (v == S3S_LISTER_TAKE)
			{
				fs_sidecar	sc;
				s3s_code	code = fs_sidecar_read(dirfd, ents[i].name, &sc);

				if (code == S3S_ERR_NOMEM)
					rc = WALK_NOMEM;
				else if (code == S3S_OK)
				{
					if (!sc.has_size)
					{
						struct stat sb;

						if (fstatat(dirfd, ents[i].name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
							sc.size = sb.st_size;
					}
					if (!s3s_lister_add(l, full, sc.etag, sc.size, sc.last_modified))
						rc = WALK_NOMEM;
					fs_sidecar_free(&sc);
				}
				/* otherwise unreadable: not an object */
			}
		}
		free(full);
		if (rc == WALK_MORE && l->done)
			rc = WALK_STOP;
	}
	if (held)
		held->busy--;
	else
		free_entries(ents, n);
	return rc;
}

void
fs_list(s3s_store *st, const char *base, s3s_request *r)
{
	s3s_lister	l;
	const char *slash;
	size_t		dirlen;
	char	   *path;
	int			dirfd;
	int			rc = WALK_MORE;

	if (!s3s_lister_begin(&l, st, r))
		return;
	slash = strrchr(l.prefix, '/');
	dirlen = slash ? (size_t) (slash - l.prefix) : 0;

	/*
	 * A prefix whose directory part cannot name a directory below BASE (an
	 * empty, "." or ".." segment) matches no valid key: the page is empty.
	 */
	dirfd = fs_open_dir(base, l.prefix, dirlen, false);
	if (dirfd < 0)
	{
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != EINVAL)
		{
			int			e = errno;

			s3s_lister_end(&l, false);
			s3s_list_free(&r->list);
			s3s_error_set(&r->err, e == EACCES ? S3S_ERR_ACCESS : S3S_ERR_IO, "LIST",
						  r->prefix, "could not open directory: %s", strerror(e));
			return;
		}
		s3s_lister_end(&l, true);
		return;
	}
	path = strndup(l.prefix, slash ? dirlen + 1 : 0);
	if (path == NULL)
		rc = WALK_NOMEM;
	else
		rc = walk(st->impl, &l, dirfd, path);
	free(path);
	close(dirfd);
	if (!s3s_lister_end(&l, rc != WALK_NOMEM))
	{
		s3s_list_free(&r->list);
		s3s_error_set(&r->err, S3S_ERR_NOMEM, "LIST", r->prefix, "out of memory");
	}
}
