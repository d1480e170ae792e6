/*-------------------------------------------------------------------------
 *
 * coord_json.c
 *		The JSON bodies of the coordinator objects and of lock objects, and
 *		the single-object reads and writes that carry them.
 *
 * s3db.js writes these objects with JSON.stringify: compact, fields in
 * insertion order, "/" not escaped.  json-c keeps insertion order, so the
 * builders below add the fields in exactly the order s3db.js does; a peer
 * diffing bytes sees the same shapes.
 *
 * The parsers are written for hostile input: the body may come from any
 * writer of the bucket.  A body that is too large, not a JSON object, or
 * whose fields have the wrong types is reported as malformed, never
 * trusted.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "coord/coord_int.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

char *
s3c_strdup_printf(const char *fmt,...)
{
	va_list		ap;
	int			n;
	char	   *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t) n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void
s3c_copy(char *dst, size_t size, const char *src)
{
	if (size == 0)
		return;
	if (src == NULL)
		src = "";
	snprintf(dst, size, "%s", src);
}

/* Serialize and release obj; NULL on out of memory. */
static char *
finish(json_object *obj)
{
	char	   *s = NULL;

	if (obj != NULL)
	{
		const char *txt = json_object_to_json_string_ext(obj, JSON_FLAGS);

		if (txt != NULL)
			s = strdup(txt);
		json_object_put(obj);
	}
	return s;
}

static void
add_str(json_object *o, const char *k, const char *v)
{
	/* a NULL value serializes as JSON null */
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void
add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

char *
s3c_json_state(const s3c_lease *l, int64_t expires_at)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	add_str(o, "leaderId", l->leader_null ? NULL : l->leader_id);
	add_str(o, "leaderPod", l->leader_pod);
	add_int(o, "epoch", l->epoch);
	add_int(o, "leaseStart", l->lease_start);
	add_int(o, "leaseEnd", l->lease_end);
	add_str(o, "electedBy", l->elected_by);
	add_int(o, "electedAt", l->elected_at);
	add_int(o, "_expiresAt", expires_at);
	return finish(o);
}

/* ceil(ms / 1000) seconds, in ms: s3db.js passes TTLs in whole seconds. */
static int64_t
ttl_ms(int64_t ms)
{
	return ((ms + 999) / 1000) * 1000;
}

char *
s3c_json_worker(const s3c_coord *c, int64_t now_ms)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	add_str(o, "workerId", c->worker_id);
	add_str(o, "pluginName", c->plugin_name);
	add_str(o, "pod", c->pod);
	add_int(o, "lastHeartbeat", now_ms);
	add_int(o, "startTime", c->start_time);
	add_str(o, "namespace", c->ns);
	add_int(o, "_expiresAt", now_ms + ttl_ms(c->worker_timeout_ms));
	return finish(o);
}

char *
s3c_json_checkpoint(const s3c_coord *c, int64_t now_ms)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	add_str(o, "namespace", c->ns);
	add_str(o, "leaderId", c->leader_id[0] ? c->leader_id : NULL);
	add_int(o, "epoch", c->epoch);
	add_int(o, "generatedAt", now_ms);
	add_str(o, "updatedBy", c->worker_id);
	add_int(o, "_expiresAt", now_ms + ttl_ms(c->lease_ms) + 60000);
	return finish(o);
}

char *
s3c_json_metadata(const s3c_coord *c, int64_t now_ms)
{
	json_object *o = json_object_new_object();
	char		sid[S3C_ID_MAX + 64];

	if (o == NULL)
		return NULL;
	snprintf(sid, sizeof(sid), "coordinator-%s-%lld", c->worker_id, (long long) c->start_time);
	add_str(o, "namespace", c->ns);
	add_str(o, "serviceId", sid);
	add_int(o, "createdAt", now_ms);
	add_str(o, "createdBy", c->worker_id);
	json_object_object_add(o, "plugins", json_object_new_array());
	add_int(o, "_expiresAt", now_ms + 3600 * 1000);
	return finish(o);
}

char *
s3c_json_lock(const char *worker_id, const char *token, int64_t acquired_at,
			  int64_t expires_at)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	add_str(o, "workerId", worker_id);
	add_str(o, "token", token);
	add_int(o, "acquiredAt", acquired_at);
	add_int(o, "_expiresAt", expires_at);
	return finish(o);
}

/* ---- parsing ---- */

/* Parse a whole body as one JSON object; NULL if it is anything else. */
static json_object *
parse_object(const unsigned char *body, size_t len)
{
	json_tokener *tok;
	json_object *o;

	if (body == NULL || len == 0 || len > S3C_MAX_BODY)
		return NULL;
	tok = json_tokener_new_ex(32);
	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, (const char *) body, (int) len);
	if (o != NULL)
	{
		size_t		end = json_tokener_get_parse_end(tok);

		/* trailing bytes other than white space make it malformed */
		for (; end < len; end++)
			if (body[end] != ' ' && body[end] != '\n' && body[end] != '\r' && body[end] != '\t')
				break;
		if (end < len || !json_object_is_type(o, json_type_object))
		{
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	return o;
}

/* A finite number that fits int64 (JSON numbers may come as doubles). */
static bool
get_num(json_object *o, const char *k, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || v == NULL)
		return false;
	if (json_object_is_type(v, json_type_int))
	{
		*out = json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double))
	{
		double		d = json_object_get_double(v);

		if (!isfinite(d) || d > 9.2e18 || d < -9.2e18)
			return false;
		*out = (int64_t) d;
		return true;
	}
	return false;
}

/* 1 = string (copied), 0 = absent or null, -1 = another type */
static int
get_str(json_object *o, const char *k, char *dst, size_t size)
{
	json_object *v;

	if (dst != NULL && size > 0)
		dst[0] = '\0';
	if (!json_object_object_get_ex(o, k, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	if (dst != NULL)
		s3c_copy(dst, size, json_object_get_string(v));
	return 1;
}

static char *
dup_str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || v == NULL ||
		!json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

/*
 * Fill out->valid and the fields; out->present and out->etag are the
 * caller's.  Valid means what s3db.js's isLeaderState accepts: leaderId a
 * string or null, epoch a number.
 */
void
s3c_parse_state(const unsigned char *body, size_t len, s3c_lease *out)
{
	json_object *o = parse_object(body, len);
	int			r;

	out->valid = false;
	out->leader_null = true;
	out->leader_id[0] = out->leader_pod[0] = out->elected_by[0] = '\0';
	out->epoch = out->lease_start = out->lease_end = 0;
	out->elected_at = out->expires_at = 0;
	if (o == NULL)
		return;
	r = get_str(o, "leaderId", out->leader_id, sizeof(out->leader_id));
	if (r >= 0 && get_num(o, "epoch", &out->epoch))
	{
		json_object *v;

		/* absent leaderId is not "null" for s3db.js: it must be present */
		if (r == 1 || (json_object_object_get_ex(o, "leaderId", &v) && v == NULL))
		{
			out->valid = true;
			out->leader_null = (r == 0);
		}
	}
	get_str(o, "leaderPod", out->leader_pod, sizeof(out->leader_pod));
	get_str(o, "electedBy", out->elected_by, sizeof(out->elected_by));
	get_num(o, "leaseStart", &out->lease_start);
	get_num(o, "leaseEnd", &out->lease_end);
	get_num(o, "electedAt", &out->elected_at);
	get_num(o, "_expiresAt", &out->expires_at);
	json_object_put(o);
}

bool
s3c_parse_worker(const unsigned char *body, size_t len, s3c_worker *out)
{
	json_object *o = parse_object(body, len);

	out->plugin_name = out->pod = out->ns = NULL;
	out->last_heartbeat = 0;
	out->start_time = INT64_MAX;
	out->expires_at = 0;
	if (o == NULL)
		return false;
	out->plugin_name = dup_str(o, "pluginName");
	out->pod = dup_str(o, "pod");
	out->ns = dup_str(o, "namespace");
	get_num(o, "lastHeartbeat", &out->last_heartbeat);
	get_num(o, "startTime", &out->start_time);
	get_num(o, "_expiresAt", &out->expires_at);
	json_object_put(o);
	return true;
}

/* A well-formed lock has a string token and a numeric acquiredAt. */
bool
s3c_parse_lock(const unsigned char *body, size_t len, char *worker_id, size_t wsize,
			   char *token, size_t tsize, int64_t *acquired_at, int64_t *expires_at)
{
	json_object *o = parse_object(body, len);
	bool		ok;

	*acquired_at = 0;
	*expires_at = 0;
	if (o == NULL)
		return false;
	get_str(o, "workerId", worker_id, wsize);
	ok = get_str(o, "token", token, tsize) == 1 && get_num(o, "acquiredAt", acquired_at);
	get_num(o, "_expiresAt", expires_at);
	json_object_put(o);
	return ok;
}

bool
s3c_parse_checkpoint_epoch(const unsigned char *body, size_t len, int64_t *epoch)
{
	json_object *o = parse_object(body, len);
	bool		ok;

	if (o == NULL)
		return false;
	ok = get_num(o, "epoch", epoch);
	json_object_put(o);
	return ok;
}

/* ---- single-object I/O ---- */

s3s_code
s3c_put_json(s3s_store *st, const char *key, const char *json, bool if_none_match,
			 const char *if_match, char *etag_out, size_t etag_size, s3s_error *err)
{
	s3s_request r;
	s3s_code	code;

	if (json == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "PUT", key, "out of memory building json");
		return S3S_ERR_NOMEM;
	}
	s3s_request_init(&r, S3S_OP_PUT, key);
	r.body = (const unsigned char *) json;
	r.body_len = strlen(json);
	r.content_type = "application/json";
	r.if_none_match = if_none_match;
	r.if_match = if_match;
	s3s_execute(st, &r, 1);
	code = r.err.code;
	if (code != S3S_OK)
		*err = r.err;
	else if (etag_out != NULL)
		s3c_copy(etag_out, etag_size, r.obj.etag);
	s3s_request_reset(&r);
	return code;
}

s3s_code
s3c_get(s3s_store *st, const char *key, s3s_object *obj, s3s_error *err)
{
	s3s_request r;
	s3s_code	code;

	s3s_request_init(&r, S3S_OP_GET, key);
	s3s_execute(st, &r, 1);
	code = r.err.code;
	if (code == S3S_OK)
	{
		*obj = r.obj;
		memset(&r.obj, 0, sizeof(r.obj));
	}
	else
		*err = r.err;
	s3s_request_reset(&r);
	return code;
}

s3s_code
s3c_delete(s3s_store *st, const char *key, const char *if_match, s3s_error *err)
{
	s3s_request r;
	s3s_code	code;

	s3s_request_init(&r, S3S_OP_DELETE, key);
	r.if_match = if_match;
	s3s_execute(st, &r, 1);
	code = r.err.code;
	if (code != S3S_OK)
		*err = r.err;
	s3s_request_reset(&r);
	return code;
}

/* GET and parse the lease; a missing object is S3S_OK with !present. */
s3s_code
s3c_read_lease(s3s_store *st, const char *key, s3c_lease *out, s3s_error *err)
{
	s3s_object	obj;
	s3s_code	code;

	memset(out, 0, sizeof(*out));
	out->leader_null = true;
	code = s3c_get(st, key, &obj, err);
	if (code == S3S_ERR_NOT_FOUND)
	{
		s3s_error_clear(err);
		return S3S_OK;
	}
	if (code != S3S_OK)
		return code;
	out->present = true;
	s3c_copy(out->etag, sizeof(out->etag), obj.etag);
	s3c_parse_state(obj.body, obj.body_len, out);
	s3s_object_free(&obj);
	return S3S_OK;
}
