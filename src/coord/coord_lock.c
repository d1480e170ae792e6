/*-------------------------------------------------------------------------
 *
 * coord_lock.c
 *		DistributedLock objects at plugin=<slug>/locks/<name>, in the shape
 *		s3db.js writes: {"workerId","token","acquiredAt","_expiresAt"}.
 *
 * Acquisition is a create-only PUT (If-None-Match: *).  s3db.js takes over
 * an expired lock with GET, unconditional DELETE and a new create-only PUT,
 * which lets two contenders both believe they hold it; here the expired
 * object is replaced with If-Match on the ETag that was read, so exactly
 * one contender can win.  Release deletes with If-Match for the same
 * reason.  Both stay readable and removable by s3db.js peers.
 *
 * The helper tries once and never sleeps: a caller that wants to wait
 * retries on its own schedule (its latch, in a background worker).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "coord/coord_int.h"

static const char TOKEN_ALPHABET[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

static bool
make_token(char out[23])
{
	unsigned char b[22];
	int			i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return false;
	for (i = 0; i < 22; i++)
		out[i] = TOKEN_ALPHABET[b[i] & 63];
	out[22] = '\0';
	return true;
}

static bool
name_ok(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 512)
		return false;
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int
s3c_lock_acquire(s3s_store *st, const char *slug, const char *name, const char *worker_id,
				 int64_t ttl_ms, int64_t now_ms, s3c_lock *lock, s3s_error *err)
{
	char	   *json;
	s3s_code	code;
	int			attempt;
	const char *if_match = NULL;
	char		seen_etag[128];

	s3s_error_clear(err);
	memset(lock, 0, sizeof(*lock));
	if (!name_ok(slug) || strchr(slug, '/') != NULL || !name_ok(name) || ttl_ms <= 0)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "lock", "", "invalid lock slug, name or ttl");
		return -1;
	}
	if (worker_id == NULL || worker_id[0] == '\0')
		worker_id = "unknown";
	if (snprintf(lock->key, sizeof(lock->key), "plugin=%s/locks/%s", slug, name) >=
		(int) sizeof(lock->key))
	{
		s3s_error_set(err, S3S_ERR_INVALID, "lock", "", "lock key too long");
		return -1;
	}
	s3c_copy(lock->worker_id, sizeof(lock->worker_id), worker_id);
	lock->acquired_at = now_ms;
	lock->expires_at = now_ms + ttl_ms;
	if (!make_token(lock->token))
	{
		s3s_error_set(err, S3S_ERR_IO, "lock", lock->key, "could not generate a random token");
		return -1;
	}
	json = s3c_json_lock(worker_id, lock->token, lock->acquired_at, lock->expires_at);
	if (json == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "lock", lock->key, "out of memory");
		return -1;
	}

	/*
	 * Create; if it exists, look at it: replace it when expired or malformed,
	 * retry the create when it vanished.  Three rounds bound the loop when
	 * other contenders keep changing the object under us.
	 */
	for (attempt = 0; attempt < 3; attempt++)
	{
		s3s_object	obj;
		char		holder[S3C_ID_MAX + 1];
		char		token[64];
		int64_t		acq;
		int64_t		exp;
		bool		wellformed;

		code = s3c_put_json(st, lock->key, json, if_match == NULL, if_match,
							lock->etag, sizeof(lock->etag), err);
		if (code == S3S_OK)
		{
			free(json);
			return 1;
		}
		if (code != S3S_ERR_PRECONDITION && !(code == S3S_ERR_NOT_FOUND && if_match != NULL))
			goto fail;
		s3s_error_clear(err);
		if_match = NULL;
		code = s3c_get(st, lock->key, &obj, err);
		if (code == S3S_ERR_NOT_FOUND)
		{
			s3s_error_clear(err);
			continue;
		}
		if (code != S3S_OK)
			goto fail;
		wellformed = s3c_parse_lock(obj.body, obj.body_len, holder, sizeof(holder),
									token, sizeof(token), &acq, &exp);
		s3c_copy(seen_etag, sizeof(seen_etag), obj.etag);
		s3s_object_free(&obj);
		if (wellformed && !(exp != 0 && now_ms > exp))
		{
			free(json);
			return 0;			/* held */
		}
		if (seen_etag[0] == '\0')
		{
			free(json);
			return 0;			/* cannot replace it safely */
		}
		if_match = seen_etag;
	}
	free(json);
	return 0;

fail:
	free(json);
	return -1;
}

int
s3c_lock_release(s3s_store *st, const s3c_lock *lock, s3s_error *err)
{
	s3s_object	obj;
	s3s_code	code;
	char		holder[S3C_ID_MAX + 1];
	char		token[64];
	char		etag[128];
	int64_t		acq;
	int64_t		exp;

	s3s_error_clear(err);
	code = s3c_get(st, lock->key, &obj, err);
	if (code == S3S_ERR_NOT_FOUND)
	{
		s3s_error_clear(err);
		return 0;
	}
	if (code != S3S_OK)
		return -1;
	if (!s3c_parse_lock(obj.body, obj.body_len, holder, sizeof(holder), token, sizeof(token),
						&acq, &exp) || strcmp(token, lock->token) != 0)
	{
		s3s_object_free(&obj);
		return 0;
	}
	s3c_copy(etag, sizeof(etag), obj.etag);
	s3s_object_free(&obj);
	code = s3c_delete(st, lock->key, etag[0] ? etag : NULL, err);
	if (code == S3S_ERR_PRECONDITION || code == S3S_ERR_NOT_FOUND)
	{
		s3s_error_clear(err);
		return 0;
	}
	return code == S3S_OK ? 1 : -1;
}
