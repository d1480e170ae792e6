/*-------------------------------------------------------------------------
 *
 * fs_object.c
 *		Object requests of the file:// backend: HEAD, GET, PUT, COPY,
 *		DELETE and DELETE_MANY on the body file and its sidecar.
 *
 * fs.c resolves keys to directories (refusing unsafe keys) and holds the
 * store lock for the batch; the functions here work relative to an open
 * directory descriptor, never through a path that could follow a link.
 * Conditional writes are evaluated here, under that lock.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/fs_int.h"
#include "store/local.h"

/* ---- errors ---- */

void
fs_set_errno_error(s3s_request *r, const char *what)
{
	int			e = errno;
	s3s_code	code = e == ENOMEM ? S3S_ERR_NOMEM :
		(e == EACCES || e == EPERM || e == EROFS) ? S3S_ERR_ACCESS : S3S_ERR_IO;

	s3s_error_set(&r->err, code, s3s_op_name(r->op), r->key, "%s: %s", what, strerror(e));
}

void
fs_set_not_found(s3s_request *r, const char *key)
{
	s3s_error_set(&r->err, S3S_ERR_NOT_FOUND, s3s_op_name(r->op), key, "object does not exist");
	r->err.http_status = 404;
	strcpy(r->err.s3_code, "NoSuchKey");
}

static void
set_code_error(s3s_request *r, s3s_code code, const char *key)
{
	if (code == S3S_ERR_NOT_FOUND)
		fs_set_not_found(r, key);
	else if (code == S3S_ERR_NOMEM)
		s3s_error_set(&r->err, code, s3s_op_name(r->op), key, "out of memory");
	else
		s3s_error_set(&r->err, code, s3s_op_name(r->op), key, "could not read object metadata: %s",
					  strerror(errno));
}

/* ---- objects ---- */

static bool
sidecar_name(const char *leaf, char **out)
{
	size_t		n = strlen(leaf);

	*out = malloc(n + sizeof(FS_SIDECAR_SUFFIX));
	if (*out == NULL)
		return false;
	memcpy(*out, leaf, n);
	memcpy(*out + n, FS_SIDECAR_SUFFIX, sizeof(FS_SIDECAR_SUFFIX));
	return true;
}

/* Fill r->obj from a sidecar (moving its strings). */
static void
take_sidecar(s3s_request *r, fs_sidecar *sc)
{
	r->obj.etag = sc->etag;
	r->obj.content_type = sc->content_type;
	r->obj.meta = sc->meta;
	r->obj.size = sc->size;
	r->obj.last_modified = sc->last_modified;
	memset(sc, 0, sizeof(*sc));
}

/* HEAD or GET of full key; dirfd < 0 means its directory does not exist. */
void
fs_do_read(s3s_request *r, int dirfd, const char *leaf)
{
	fs_sidecar	sc;
	s3s_code	code;
	unsigned char *data;
	size_t		len,
				off,
				n;

	if (dirfd < 0)
	{
		fs_set_not_found(r, r->key);
		return;
	}
	code = fs_sidecar_read(dirfd, leaf, &sc);
	if (code != S3S_OK)
	{
		set_code_error(r, code, r->key);
		return;
	}
	if (r->op == S3S_OP_HEAD)
	{
		if (!sc.has_size)
		{
			struct stat sb;

			if (fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
				sc.size = sb.st_size;
		}
		take_sidecar(r, &sc);
		return;
	}
	if (sc.compressed)
	{
		s3s_error_set(&r->err, S3S_ERR_FORMAT, "GET", r->key,
					  "gzip-compressed file store objects are not supported");
		fs_sidecar_free(&sc);
		return;
	}
	if (!fs_read_file(dirfd, leaf, FS_MAX_BODY, &data, &len))
	{
		if (errno == ENOENT || errno == EISDIR || errno == ELOOP || errno == EINVAL)
			fs_set_not_found(r, r->key);
		else
			fs_set_errno_error(r, "could not read object body");
		fs_sidecar_free(&sc);
		return;
	}
	if (!s3s_local_range(r, len, &off, &n))
	{
		free(data);
		fs_sidecar_free(&sc);
		return;
	}
	if (sc.etag == NULL)
	{
		char		md5[33];

		s3s_md5_hex(data, len, md5);
		sc.etag = strdup(md5);
	}
	if (off > 0)
		memmove(data, data + off, n);
	data[n] = '\0';
	sc.size = (int64_t) len;
	take_sidecar(r, &sc);
	r->obj.body = data;
	r->obj.body_len = n;
	r->bytes_in = (int64_t) n;
	if (r->obj.etag == NULL)
	{
		s3s_object_free(&r->obj);
		s3s_error_set(&r->err, S3S_ERR_NOMEM, "GET", r->key, "out of memory");
	}
}

/*
 * Evaluate If-None-Match / If-Match of a write against the current object.
 * For If-None-Match an object exists as soon as its body file or sidecar
 * does, which is also what s3db.js checks.
 */
bool
fs_conditions_hold(s3s_request *r, int dirfd, const char *leaf)
{
	const char *op = s3s_op_name(r->op);

	if (r->if_none_match && r->op != S3S_OP_DELETE)
	{
		struct stat sb;
		char	   *sname;
		bool		exists;

		if (!sidecar_name(leaf, &sname))
		{
			s3s_error_set(&r->err, S3S_ERR_NOMEM, op, r->key, "out of memory");
			return false;
		}
		exists = fstatat(dirfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 ||
			fstatat(dirfd, sname, &sb, AT_SYMLINK_NOFOLLOW) == 0;
		free(sname);
		if (exists)
		{
			s3s_error_set(&r->err, S3S_ERR_PRECONDITION, op, r->key, "object already exists");
			r->err.http_status = 412;
			strcpy(r->err.s3_code, "PreconditionFailed");
			return false;
		}
	}
	if (r->if_match != NULL)
	{
		fs_sidecar	sc;
		s3s_code	code = fs_sidecar_read(dirfd, leaf, &sc);
		bool		match;

		if (code != S3S_OK)
		{
			set_code_error(r, code, r->key);
			return false;
		}
		if (sc.etag == NULL)
		{
			unsigned char *data;
			size_t		len;
			char		md5[33];

			if (fs_read_file(dirfd, leaf, FS_MAX_BODY, &data, &len))
			{
				s3s_md5_hex(data, len, md5);
				free(data);
				sc.etag = strdup(md5);
			}
		}
		match = s3s_local_etag_match(sc.etag, r->if_match);
		fs_sidecar_free(&sc);
		if (!match)
		{
			s3s_error_set(&r->err, S3S_ERR_PRECONDITION, op, r->key, "etag does not match");
			r->err.http_status = 412;
			strcpy(r->err.s3_code, "PreconditionFailed");
			return false;
		}
	}
	return true;
}

/* PUT (and the write half of COPY): body, then sidecar. */
void
fs_do_write(s3s_request *r, int dirfd, const char *leaf, const unsigned char *body,
		 size_t len, const char *content_type)
{
	s3s_meta	meta;
	char		etag[33];
	int64_t		now = s3s_local_now_ms();
	char	   *doc;
	char	   *sname;
	size_t		doclen = 0;

	if (!fs_conditions_hold(r, dirfd, leaf))
		return;
	if (content_type == NULL)
		content_type = "application/octet-stream";
	s3s_md5_hex(body, len, etag);
	if (s3s_local_meta_lower(&meta, r->meta) != 0)
	{
		s3s_error_set(&r->err, S3S_ERR_NOMEM, s3s_op_name(r->op), r->key, "out of memory");
		return;
	}
	doc = fs_sidecar_render(&meta, content_type, etag, now, (int64_t) len, &doclen);
	if (doc == NULL || !sidecar_name(leaf, &sname))
	{
		free(doc);
		s3s_meta_free(&meta);
		s3s_error_set(&r->err, S3S_ERR_NOMEM, s3s_op_name(r->op), r->key, "out of memory");
		return;
	}
	if (!fs_write_atomic(dirfd, leaf, body ? (const void *) body : (const void *) "", len))
		fs_set_errno_error(r, "could not write object body");
	else if (!fs_write_atomic(dirfd, sname, doc, doclen))
		fs_set_errno_error(r, "could not write object metadata");
	free(doc);
	free(sname);
	if (r->err.code != S3S_OK)
	{
		s3s_meta_free(&meta);
		return;
	}
	if (r->op == S3S_OP_PUT)
		r->bytes_out = (int64_t) len;
	r->obj.etag = strdup(etag);
	r->obj.content_type = strdup(content_type);
	r->obj.meta = meta;
	r->obj.size = (int64_t) len;
	r->obj.last_modified = now;
	if (r->obj.etag == NULL || r->obj.content_type == NULL)
	{
		s3s_object_free(&r->obj);
		s3s_error_set(&r->err, S3S_ERR_NOMEM, s3s_op_name(r->op), r->key, "out of memory");
	}
}

/* Remove one object; a missing one is fine (as on S3). */
bool
fs_remove_object(fs_state *fs, s3s_request *r, const char *full, int dirfd, const char *leaf)
{
	char	   *sname;
	bool		ok = true;

	if (!sidecar_name(leaf, &sname))
	{
		s3s_error_set(&r->err, S3S_ERR_NOMEM, s3s_op_name(r->op), r->key, "out of memory");
		return false;
	}
	if (unlinkat(dirfd, sname, 0) != 0 && errno != ENOENT && errno != EISDIR)
	{
		fs_set_errno_error(r, "could not delete object metadata");
		ok = false;
	}
	if (ok && unlinkat(dirfd, leaf, 0) != 0 && errno != ENOENT && errno != EISDIR)
	{
		fs_set_errno_error(r, "could not delete object body");
		ok = false;
	}
	free(sname);
	if (ok)
		fs_prune_dirs(fs, full);
	return ok;
}

/* COPY: read the source object, write it under the new key with new metadata. */
void
fs_do_copy(s3s_store *st, fs_state *fs, s3s_request *r, const char *full)
{
	char	   *src = s3s_full_key(st, r->copy_source);
	const char *sleaf;
	const char *leaf;
	size_t		sdirlen,
				dirlen;
	int			sfd = -1,
				dfd = -1;
	fs_sidecar	sc;
	s3s_code	code;
	unsigned char *data = NULL;
	size_t		len = 0;

	memset(&sc, 0, sizeof(sc));
	if (src == NULL)
	{
		s3s_error_set(&r->err, S3S_ERR_NOMEM, "COPY", r->key, "out of memory");
		return;
	}
	if (!fs_check_key(r, src, r->copy_source))
		goto done;
	sleaf = fs_split_key(src, &sdirlen);
	sfd = fs_open_dir(fs->base, src, sdirlen, false);
	if (sfd < 0)
	{
		fs_set_not_found(r, r->copy_source);
		goto done;
	}
	code = fs_sidecar_read(sfd, sleaf, &sc);
	if (code != S3S_OK)
	{
		set_code_error(r, code, r->copy_source);
		goto done;
	}
	if (sc.compressed)
	{
		s3s_error_set(&r->err, S3S_ERR_FORMAT, "COPY", r->copy_source,
					  "gzip-compressed file store objects are not supported");
		goto done;
	}
	if (!fs_read_file(sfd, sleaf, FS_MAX_BODY, &data, &len))
	{
		if (errno == ENOENT || errno == EISDIR || errno == ELOOP || errno == EINVAL)
			fs_set_not_found(r, r->copy_source);
		else
			fs_set_errno_error(r, "could not read copy source");
		goto done;
	}
	leaf = fs_split_key(full, &dirlen);
	dfd = fs_open_dir(fs->base, full, dirlen, true);
	if (dfd < 0)
	{
		fs_set_errno_error(r, "could not create directory");
		goto done;
	}
	fs_do_write(r, dfd, leaf, data, len,
			 r->content_type ? r->content_type : sc.content_type);

done:
	fs_sidecar_free(&sc);
	free(data);
	free(src);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
}

/* DELETE_MANY: all keys are checked first, then each is removed. */
void
fs_do_delete_many(s3s_store *st, fs_state *fs, s3s_request *r)
{
	char	  **full = calloc(r->nkeys ? r->nkeys : 1, sizeof(char *));
	int			i;

	if (full == NULL)
	{
		s3s_error_set(&r->err, S3S_ERR_NOMEM, "DELETE_MANY", NULL, "out of memory");
		return;
	}
	for (i = 0; i < r->nkeys; i++)
	{
		full[i] = s3s_full_key(st, r->keys[i]);
		if (full[i] == NULL)
		{
			s3s_error_set(&r->err, S3S_ERR_NOMEM, "DELETE_MANY", r->keys[i], "out of memory");
			goto done;
		}
		if (!fs_check_key(r, full[i], r->keys[i]))
			goto done;
	}
	for (i = 0; i < r->nkeys; i++)
	{
		size_t		dirlen;
		const char *leaf = fs_split_key(full[i], &dirlen);
		int			fd = fs_open_dir(fs->base, full[i], dirlen, false);
		s3s_error	save = r->err;

		if (fd < 0)
			continue;			/* no directory, no object */
		/* keep the first failure but go on with the other keys */
		if (!fs_remove_object(fs, r, full[i], fd, leaf) && save.code != S3S_OK)
			r->err = save;
		close(fd);
	}
done:
	for (i = 0; i < r->nkeys; i++)
		free(full[i]);
	free(full);
}

