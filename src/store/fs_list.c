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
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/fs_int.h"
#include "store/local.h"

typedef struct fs_entry
{
	char	   *name;
	char	   *sortkey;		/* name, plus '/' for a directory */
	bool		isdir;
} fs_entry;

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

/* Walk dirfd, whose keys start with path ("" or ending in '/'). */
static int
walk(s3s_lister *l, int dirfd, const char *path)
{
	fs_entry   *ents;
	int			n = read_entries(dirfd, &ents);
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
					rc = walk(l, sub, full);
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
		rc = walk(&l, dirfd, path);
	free(path);
	close(dirfd);
	if (!s3s_lister_end(&l, rc != WALK_NOMEM))
	{
		s3s_list_free(&r->list);
		s3s_error_set(&r->err, S3S_ERR_NOMEM, "LIST", r->prefix, "out of memory");
	}
}
