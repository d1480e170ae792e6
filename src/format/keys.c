/*-------------------------------------------------------------------------
 *
 * keys.c
 *		Object keys of a resource (spec 2): data keys, listing prefixes and
 *		ids taken back out of keys.
 *
 * s3db.js refuses ids, resource and partition names containing '/', '\\',
 * '=' or '%'.  We refuse those too, and additionally empty ids, "." and
 * ".." (a path join would resolve them into another key, and on file://
 * into another directory) and ids over 1024 bytes (S3 keys are limited to
 * 1024 bytes anyway).  A C string cannot carry NUL, so that is implied.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/record.h"

#define MAX_ID_BYTES 1024

bool
s3f_valid_id(const char *id, s3s_error *err)
{
	const unsigned char *p;
	size_t		len;

	if (id == NULL || id[0] == '\0')
	{
		s3s_error_set(err, S3S_ERR_INVALID, "key", NULL, "id must not be empty");
		return false;
	}
	len = strlen(id);
	if (len > MAX_ID_BYTES)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "key", NULL,
					  "id is too long (%zu bytes, at most %d)", len, MAX_ID_BYTES);
		return false;
	}
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "key", id, "id \"%s\" is not allowed", id);
		return false;
	}
	for (p = (const unsigned char *) id; *p; p++)
	{
		if (*p == '/' || *p == '\\' || *p == '=' || *p == '%')
		{
			s3s_error_set(err, S3S_ERR_INVALID, "key", id,
						  "id must not contain '/', '\\', '=' or '%%'");
			return false;
		}
	}
	return true;
}

char *
s3f_key_data(const char *resource, const char *id)
{
	size_t		n = strlen(resource) + strlen(id) + 32;
	char	   *k = malloc(n);

	if (k)
		snprintf(k, n, "resource=%s/data/id=%s", resource, id);
	return k;
}

char *
s3f_prefix_data(const char *resource)
{
	size_t		n = strlen(resource) + 32;
	char	   *k = malloc(n);

	if (k)
		snprintf(k, n, "resource=%s/data/", resource);
	return k;
}

char *
s3f_key_id(const char *key)
{
	const char *seg,
			   *found = NULL,
			   *end;

	if (key == NULL)
		return NULL;
	/*
	 * A partition value may contain '/' and even "id=", but the id itself
	 * never contains '/', so the last "id=" segment is the id.
	 */
	for (seg = key; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
		if (strncmp(seg, "id=", 3) == 0)
			found = seg + 3;
	if (found == NULL)
		return NULL;
	end = strchr(found, '/');
	return end ? strndup(found, (size_t) (end - found)) : strdup(found);
}
