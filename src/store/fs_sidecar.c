/*-------------------------------------------------------------------------
 *
 * fs_sidecar.c
 *		The "<key>.meta.json" sidecars of the file:// backend and the
 *		atomic file writes both kinds of file go through.
 *
 * The sidecar is the document s3db.js's FileSystemClient writes with
 * JSON.stringify(obj, null, 2): "metadata" (client-encoded values, exactly
 * what S3 would carry as x-amz-meta-*), "contentType", "etag" (lower-case
 * hex MD5 of the body file), "lastModified" (ISO-8601), "size",
 * "contentLength", "compressed", "expiresAt".  s3db.js also writes a
 * second copy of the body as a Node Buffer ("body"); it never reads it
 * back, so neither do we, and we do not write it.
 *
 * Files are written to "<name>.tmp.<ms>.<6 chars>" and renamed, as
 * s3db.js does, so a reader sees either the old or the new file.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "store/fs_int.h"
#include "store/local.h"

/* Sidecars with a Buffer copy of a large body can be big; cap what we parse. */
#define SIDECAR_MAX_BYTES ((size_t) 512 * 1024 * 1024)

bool
fs_read_file(int dirfd, const char *name, size_t limit,
			 unsigned char **data, size_t *len)
{
	struct stat sb;
	unsigned char *buf;
	size_t		got = 0;
	int			fd;

	*data = NULL;
	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &sb) != 0)
		goto fail;
	if (!S_ISREG(sb.st_mode))
	{
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if ((uint64_t) sb.st_size > (uint64_t) limit)
	{
		errno = EFBIG;
		goto fail;
	}
	buf = malloc((size_t) sb.st_size + 1);
	if (buf == NULL)
	{
		errno = ENOMEM;
		goto fail;
	}
	while (got < (size_t) sb.st_size)
	{
		ssize_t		r = read(fd, buf + got, (size_t) sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
		{
			free(buf);
			goto fail;
		}
		if (r == 0)
			break;				/* shrank meanwhile: take what is there */
		got += (size_t) r;
	}
	buf[got] = '\0';
	close(fd);
	*data = buf;
	*len = got;
	return true;

fail:
	{
		int			save = errno;

		close(fd);
		errno = save;
	}
	return false;
}

void
fs_sidecar_free(fs_sidecar *sc)
{
	s3s_meta_free(&sc->meta);
	free(sc->content_type);
	free(sc->etag);
	memset(sc, 0, sizeof(*sc));
}

/* Copy a JSON value as text: strings as they are, others as JSON. */
static char *
json_text(struct json_object *v)
{
	if (v == NULL)
		return NULL;
	return strdup(json_object_get_string(v));
}

s3s_code
fs_sidecar_read(int dirfd, const char *leaf, fs_sidecar *out)
{
	size_t		nlen = strlen(leaf);
	char	   *name = malloc(nlen + sizeof(FS_SIDECAR_SUFFIX));
	unsigned char *data;
	size_t		len;
	struct json_tokener *tok;
	struct json_object *root;
	struct json_object *v;
	s3s_code	code = S3S_OK;

	memset(out, 0, sizeof(*out));
	if (name == NULL)
		return S3S_ERR_NOMEM;
	memcpy(name, leaf, nlen);
	memcpy(name + nlen, FS_SIDECAR_SUFFIX, sizeof(FS_SIDECAR_SUFFIX));
	if (!fs_read_file(dirfd, name, SIDECAR_MAX_BYTES, &data, &len))
	{
		int			e = errno;

		free(name);
		errno = e;
		if (e == ENOMEM)
			return S3S_ERR_NOMEM;
		if (e == EACCES || e == EPERM)
			return S3S_ERR_ACCESS;
		if (e == EIO)
			return S3S_ERR_IO;
		/* missing, a directory, a symlink, oversized: no such object */
		return S3S_ERR_NOT_FOUND;
	}
	free(name);

	tok = json_tokener_new();
	if (tok == NULL)
	{
		free(data);
		return S3S_ERR_NOMEM;
	}
	root = len <= (size_t) INT32_MAX ? json_tokener_parse_ex(tok, (const char *) data, (int) len) : NULL;
	if (root != NULL && json_tokener_get_error(tok) != json_tokener_success)
	{
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	free(data);
	if (root == NULL || !json_object_is_type(root, json_type_object))
	{
		json_object_put(root);
		return S3S_ERR_NOT_FOUND;
	}

	if (json_object_object_get_ex(root, "metadata", &v) &&
		json_object_is_type(v, json_type_object))
	{
		json_object_object_foreach(v, mk, mv)
		{
			char	   *text;

			if (mv == NULL)
				continue;		/* a null value is not carried by S3 either */
			text = json_text(mv);
			if (text == NULL || s3s_meta_add(&out->meta, mk, text) != 0)
			{
				free(text);
				code = S3S_ERR_NOMEM;
				goto done;
			}
			free(text);
		}
	}
	if (json_object_object_get_ex(root, "contentType", &v) &&
		json_object_is_type(v, json_type_string))
		out->content_type = strdup(json_object_get_string(v));
	else
		out->content_type = strdup("application/octet-stream");
	if (out->content_type == NULL)
	{
		code = S3S_ERR_NOMEM;
		goto done;
	}
	if (json_object_object_get_ex(root, "etag", &v) &&
		json_object_is_type(v, json_type_string))
	{
		const char *e = json_object_get_string(v);
		size_t		elen = strlen(e);

		/* tolerate a quoted etag */
		if (elen >= 2 && e[0] == '"' && e[elen - 1] == '"')
			out->etag = strndup(e + 1, elen - 2);
		else
			out->etag = strdup(e);
		if (out->etag == NULL)
		{
			code = S3S_ERR_NOMEM;
			goto done;
		}
	}
	if (json_object_object_get_ex(root, "size", &v) &&
		(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
	{
		int64_t		s = json_object_get_int64(v);

		if (s >= 0)
		{
			out->size = s;
			out->has_size = true;
		}
	}
	if (json_object_object_get_ex(root, "lastModified", &v))
	{
		if (json_object_is_type(v, json_type_string))
			out->last_modified = s3s_local_parse_iso(json_object_get_string(v));
		else if (json_object_is_type(v, json_type_int))
			out->last_modified = json_object_get_int64(v);
	}
	if (json_object_object_get_ex(root, "compressed", &v) &&
		json_object_is_type(v, json_type_boolean))
		out->compressed = json_object_get_boolean(v);

done:
	json_object_put(root);
	if (code != S3S_OK)
		fs_sidecar_free(out);
	return code;
}

/* json_object_object_add that reports allocation failure. */
static bool
add_member(struct json_object *o, const char *k, struct json_object *v, bool may_be_null)
{
	if (v == NULL && !may_be_null)
		return false;
	if (json_object_object_add(o, k, v) != 0)
	{
		json_object_put(v);
		return false;
	}
	return true;
}

char *
fs_sidecar_render(const s3s_meta *meta, const char *content_type,
				  const char *etag, int64_t last_modified, int64_t size,
				  size_t *len)
{
	struct json_object *root = json_object_new_object();
	struct json_object *md = json_object_new_object();
	char		iso[32];
	const char *text;
	char	   *out = NULL;
	int			i;

	if (root == NULL || md == NULL)
	{
		json_object_put(root);
		json_object_put(md);
		return NULL;
	}
	if (!add_member(root, "metadata", md, false))
		goto done;
	for (i = 0; meta != NULL && i < meta->n; i++)
		if (!add_member(md, meta->keys[i], json_object_new_string(meta->values[i]), false))
			goto done;
	s3s_local_format_iso(last_modified, iso);
	if (!add_member(root, "contentType", json_object_new_string(content_type), false) ||
		!add_member(root, "etag", json_object_new_string(etag), false) ||
		!add_member(root, "lastModified", json_object_new_string(iso), false) ||
		!add_member(root, "size", json_object_new_int64(size), false) ||
		!add_member(root, "contentLength", json_object_new_int64(size), false) ||
		!add_member(root, "compressed", json_object_new_boolean(0), false) ||
		!add_member(root, "expiresAt", NULL, true))
		goto done;
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
										  JSON_C_TO_STRING_SPACED |
										  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL)
	{
		*len = strlen(text);
		out = strdup(text);
	}
done:
	json_object_put(root);
	return out;
}

bool
fs_is_temp_name(const char *name)
{
	size_t		n = strlen(name);
	const char *p;
	int			i;

	/* "<something>.tmp.<digits>.<6 alphanumerics>" */
	if (n < 14)
		return false;
	p = name + n - 6;
	for (i = 0; i < 6; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
			  (p[i] >= '0' && p[i] <= '9')))
			return false;
	if (p[-1] != '.')
		return false;
	p -= 2;
	if (p < name || *p < '0' || *p > '9')
		return false;
	while (p > name && *p >= '0' && *p <= '9')
		p--;
	return p - name >= 4 && strncmp(p - 4, ".tmp.", 5) == 0;
}

bool
fs_write_atomic(int dirfd, const char *leaf, const void *data, size_t len)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t		nlen = strlen(leaf);
	char	   *tmp = malloc(nlen + 48);
	unsigned char rnd[6];
	const unsigned char *p = data;
	size_t		done = 0;
	int			fd;
	int			i;
	int			save;

	if (tmp == NULL)
	{
		errno = ENOMEM;
		return false;
	}
	s3s_random_bytes(rnd, sizeof(rnd));
	snprintf(tmp, nlen + 48, "%s.tmp.%lld.", leaf, (long long) s3s_local_now_ms());
	for (i = 0; i < 6; i++)
	{
		size_t		at = strlen(tmp);

		tmp[at] = alnum[rnd[i] % 36];
		tmp[at + 1] = '\0';
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0)
	{
		save = errno;
		free(tmp);
		errno = save;
		return false;
	}
	while (done < len)
	{
		ssize_t		w = write(fd, p + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
		{
			if (w == 0)
				errno = ENOSPC;
			goto fail;
		}
		done += (size_t) w;
	}
	if (close(fd) != 0)
	{
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, leaf) != 0)
		goto fail;
	free(tmp);
	return true;

fail:
	save = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	free(tmp);
	errno = save;
	return false;
}
