/*-------------------------------------------------------------------------
 *
 * sequence.c
 *		Incremental ids on the store (spec 10.3, 10.4): s3db.js's lock and
 *		counter protocol, so that we and s3db.js can share a sequence.
 *
 * The counter resource=R/sequence=id/value holds the next value to hand
 * out.  It is guarded by resource=R/sequence=id/lock, created with
 * If-None-Match: * and carrying a random token; a lock older than its
 * _expiresAt (10 s), or one we cannot parse, is removed and the PUT
 * retried.  A live lock is waited for with s3db.js's backoff, for at most
 * 5 s.  Release reads the lock back and deletes it only when the token is
 * ours, so a lock taken over after expiry is not removed by its old
 * holder.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/catalog_int.h"
#include "format/codec_int.h"
#include "format/encode_int.h"
#include "store/store_int.h"

#define LOCK_TTL_MS 10000
#define LOCK_WAIT_MS 5000

static s3s_code
run1(s3s_store *st, s3s_request *r, s3s_error *err)
{
	s3s_execute(st, r, 1);
	if (r->err.code != S3S_OK && err)
		*err = r->err;
	return r->err.code;
}

static s3s_code
put_json(s3s_store *st, const char *key, const char *body, bool if_none_match,
		 s3s_error *err)
{
	s3s_request r;
	s3s_meta	none;
	s3s_code	rc;

	s3s_meta_init(&none);
	s3s_request_init(&r, S3S_OP_PUT, key);
	r.meta = &none;
	r.body = (const unsigned char *) body;
	r.body_len = strlen(body);
	r.content_type = "application/json";
	r.if_none_match = if_none_match;
	rc = run1(st, &r, err);
	s3s_request_reset(&r);
	return rc;
}

static s3s_code
delete_key(s3s_store *st, const char *key, s3s_error *err)
{
	s3s_request r;
	s3s_code	rc;

	s3s_request_init(&r, S3S_OP_DELETE, key);
	rc = run1(st, &r, err);
	s3s_request_reset(&r);
	return rc;
}

/* GET key and parse its body as a JSON object (NULL if it is not one) */
static s3s_code
get_json(s3s_store *st, const char *key, json_object **out, s3s_error *err)
{
	s3s_object	o;
	s3s_code	rc;
	const char *why;

	*out = NULL;
	memset(&o, 0, sizeof(o));
	rc = s3s_get(st, key, &o, err);
	if (rc != S3S_OK)
	{
		s3s_object_free(&o);
		return rc;
	}
	*out = s3f_json_parse((const char *) (o.body ? o.body : (unsigned char *) ""),
						  o.body_len, &why);
	if (*out && !json_object_is_type(*out, json_type_object))
	{
		json_object_put(*out);
		*out = NULL;
	}
	s3s_object_free(&o);
	return S3S_OK;
}

static bool
is_number(json_object *o)
{
	return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

static char *
key_of(const char *resource, const char *leaf)
{
	size_t		n = strlen(resource) + strlen(leaf) + 32;
	char	   *k = malloc(n);

	if (k)
		snprintf(k, n, "resource=%s/sequence=id/%s", resource, leaf);
	return k;
}

static s3s_code
acquire(s3s_store *st, const char *lockkey, const char *token, s3s_error *err)
{
	int64_t		deadline = s3f_now_ms() + LOCK_WAIT_MS;
	int			attempt = 0;

	for (;;)
	{
		char		body[256];
		int64_t		now = s3f_now_ms();
		json_object *lock = NULL,
				   *exp;
		s3s_code	rc;
		s3s_error	e;

		snprintf(body, sizeof(body),
				 "{\"workerId\":\"s3db_fdw-%ld\",\"token\":\"%s\",\"acquiredAt\":%lld,\"_expiresAt\":%lld}",
				 (long) getpid(), token, (long long) now, (long long) (now + LOCK_TTL_MS));
		s3s_error_clear(&e);
		rc = put_json(st, lockkey, body, true, &e);
		if (rc == S3S_OK)
			return S3S_OK;
		if (rc != S3S_ERR_PRECONDITION)
		{
			*err = e;
			return rc;
		}

		rc = get_json(st, lockkey, &lock, &e);
		if (rc != S3S_OK && rc != S3S_ERR_NOT_FOUND)
		{
			*err = e;
			return rc;
		}
		if (rc == S3S_OK)
		{
			exp = s3f_jmember(lock, "_expiresAt");
			if (lock == NULL ||
				!json_object_is_type(s3f_jmember(lock, "token"), json_type_string) ||
				!is_number(s3f_jmember(lock, "acquiredAt")) ||
				(is_number(exp) && json_object_get_double(exp) < (double) s3f_now_ms()))
			{
				json_object_put(lock);
				rc = delete_key(st, lockkey, &e);
				if (rc != S3S_OK && rc != S3S_ERR_NOT_FOUND)
				{
					*err = e;
					return rc;
				}
				if (s3f_now_ms() < deadline)
					continue;
			}
			else
				json_object_put(lock);
		}
		else if (s3f_now_ms() < deadline)
			continue;			/* released meanwhile: retry at once */

		if (s3f_now_ms() >= deadline)
		{
			s3s_error_set(err, S3S_ERR_TIMEOUT, "PUT", lockkey, "sequence lock busy");
			return S3S_ERR_TIMEOUT;
		}
		attempt++;
		{
			unsigned char j;
			long		wait = attempt >= 5 ? 1000 : 100L << (attempt - 1);

			if (wait > 1000)
				wait = 1000;
			s3s_random_bytes(&j, 1);
			s3f_sleep_ms(wait + j % 50);
		}
	}
}

static void
release(s3s_store *st, const char *lockkey, const char *token)
{
	json_object *lock = NULL;
	json_object *t;
	s3s_error	e;

	if (get_json(st, lockkey, &lock, &e) != S3S_OK)
		return;
	t = s3f_jmember(lock, "token");
	if (json_object_is_type(t, json_type_string) && strcmp(json_object_get_string(t), token) == 0)
		delete_key(st, lockkey, &e);
	json_object_put(lock);
}

static json_object *
js_number(double d)
{
	char		txt[64];

	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		return json_object_new_int64((int64_t) d);
	s3f_js_number_to_string(d, txt, sizeof(txt));
	return json_object_new_double_s(d, txt);
}

/* read and advance the counter; the lock is held */
static s3s_code
advance(s3s_store *st, const char *valkey, const s3f_incremental *c, int n,
		double *first, s3s_error *err)
{
	json_object *v = NULL,
			   *cur;
	char		iso[40];
	char	   *text;
	s3s_code	rc;
	double		next;

	s3f_now_iso(iso, sizeof(iso));
	rc = get_json(st, valkey, &v, err);
	if (rc == S3S_ERR_NOT_FOUND)
	{
		*first = c->start;
		v = json_object_new_object();
		if (v == NULL)
			goto nomem;
		json_object_object_add(v, "value", js_number(c->start + c->increment * n));
		json_object_object_add(v, "name", json_object_new_string("id"));
		json_object_object_add(v, "createdAt", json_object_new_string(iso));
	}
	else if (rc != S3S_OK)
		return rc;
	else
	{
		cur = s3f_jmember(v, "value");
		if (v == NULL || !is_number(cur) || !isfinite(json_object_get_double(cur)))
		{
			json_object_put(v);
			s3s_error_set(err, S3S_ERR_FORMAT, "GET", valkey,
						  "the sequence counter is not a JSON object with a numeric value");
			return S3S_ERR_FORMAT;
		}
		*first = json_object_get_double(cur);
		next = *first + c->increment * n;
		json_object_object_add(v, "value", js_number(next));
		json_object_object_add(v, "updatedAt", json_object_new_string(iso));
	}
	text = s3f_json_text(v);
	json_object_put(v);
	if (text == NULL)
		goto nomem;
	rc = put_json(st, valkey, text, false, err);
	free(text);
	return rc;

nomem:
	s3s_error_set(err, S3S_ERR_NOMEM, "PUT", valkey, "out of memory");
	return S3S_ERR_NOMEM;
}

s3s_code
s3f_sequence_next(s3s_store *st, const char *resource,
				  const s3f_incremental *c, int n,
				  double *first, s3s_error *err)
{
	char	   *lockkey,
			   *valkey,
			   *token;
	s3s_code	rc;

	s3s_error_clear(err);
	if (n < 1)
		n = 1;
	lockkey = key_of(resource, "lock");
	valkey = key_of(resource, "value");
	token = s3f_random_id(22);
	if (lockkey == NULL || valkey == NULL || token == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "PUT", resource, "out of memory");
		rc = S3S_ERR_NOMEM;
		goto out;
	}
	rc = acquire(st, lockkey, token, err);
	if (rc != S3S_OK)
		goto out;
	rc = advance(st, valkey, c, n, first, err);
	release(st, lockkey, token);
out:
	free(lockkey);
	free(valkey);
	free(token);
	return rc;
}
