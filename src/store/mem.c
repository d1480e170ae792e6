/*-------------------------------------------------------------------------
 *
 * mem.c
 *		The memory:// backend: process-private objects for tests and for
 *		sessions that want a scratch store.
 *
 * Objects live in a global registry of buckets, each a sorted array of
 * objects keyed by full key (key prefix joined).  Every store opened on the
 * same bucket in one process sees the same objects, as S3 clients of one
 * bucket would; different key prefixes share the bucket's namespace.  The
 * registry is the only global mutable state of the store layer; a mutex
 * guards it so that threads may share it, and s3s_memory_reset_all()
 * empties it.  A store holds only its bucket's name and looks the bucket up
 * per batch, so resetting never leaves a store with a dangling pointer.
 *
 * Semantics follow the file:// backend: lower-case hex MD5 ETags,
 * If-None-Match: * and If-Match on PUT/COPY/DELETE, byte-ordered listings.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/local.h"

typedef struct mem_obj
{
	char	   *key;			/* full key */
	unsigned char *body;
	size_t		len;
	char	   *content_type;
	s3s_meta	meta;
	char		etag[33];
	int64_t		last_modified;
} mem_obj;

typedef struct mem_bucket
{
	char	   *name;
	mem_obj   **objs;			/* sorted by strcmp of key */
	int			n;
	int			cap;
	struct mem_bucket *next;
} mem_bucket;

static pthread_mutex_t mem_mutex = PTHREAD_MUTEX_INITIALIZER;
static mem_bucket *mem_buckets;

/* s3s_memory_set_quirks(): test-only misbehaviour, guarded by mem_mutex */
static unsigned mem_quirks;
static int	mem_meta_limit;

static void
obj_free(mem_obj *o)
{
	if (o == NULL)
		return;
	free(o->key);
	free(o->body);
	free(o->content_type);
	s3s_meta_free(&o->meta);
	free(o);
}

static mem_bucket *
bucket_find(const char *name, bool create)
{
	mem_bucket *b;

	for (b = mem_buckets; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			return b;
	if (!create)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->name = strdup(name);
	if (b->name == NULL)
	{
		free(b);
		return NULL;
	}
	b->next = mem_buckets;
	mem_buckets = b;
	return b;
}

/* Index of the first object whose key is >= key. */
static int
lower_bound(const mem_bucket *b, const char *key)
{
	int			lo = 0,
				hi = b ? b->n : 0;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (strcmp(b->objs[mid]->key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static mem_obj *
obj_find(const mem_bucket *b, const char *key)
{
	int			i;

	if (b == NULL)
		return NULL;
	i = lower_bound(b, key);
	return i < b->n && strcmp(b->objs[i]->key, key) == 0 ? b->objs[i] : NULL;
}

/* Insert or replace; takes ownership of o.  False on out of memory. */
static bool
obj_store(mem_bucket *b, mem_obj *o)
{
	int			i = lower_bound(b, o->key);

	if (i < b->n && strcmp(b->objs[i]->key, o->key) == 0)
	{
		obj_free(b->objs[i]);
		b->objs[i] = o;
		return true;
	}
	if (b->n == b->cap)
	{
		int			ncap = b->cap ? b->cap * 2 : 64;
		mem_obj   **n = realloc(b->objs, sizeof(mem_obj *) * ncap);

		if (n == NULL)
			return false;
		b->objs = n;
		b->cap = ncap;
	}
	memmove(&b->objs[i + 1], &b->objs[i], sizeof(mem_obj *) * (b->n - i));
	b->objs[i] = o;
	b->n++;
	return true;
}

static void
obj_remove(mem_bucket *b, const char *key)
{
	int			i;

	if (b == NULL)
		return;
	i = lower_bound(b, key);
	if (i < b->n && strcmp(b->objs[i]->key, key) == 0)
	{
		obj_free(b->objs[i]);
		memmove(&b->objs[i], &b->objs[i + 1], sizeof(mem_obj *) * (b->n - i - 1));
		b->n--;
	}
}

void
s3s_memory_reset_all(void)
{
	mem_bucket *b;

	pthread_mutex_lock(&mem_mutex);
	while ((b = mem_buckets) != NULL)
	{
		int			i;

		mem_buckets = b->next;
		for (i = 0; i < b->n; i++)
			obj_free(b->objs[i]);
		free(b->objs);
		free(b->name);
		free(b);
	}
	pthread_mutex_unlock(&mem_mutex);
}

static void
set_nomem(s3s_request *r)
{
	s3s_error_set(&r->err, S3S_ERR_NOMEM, s3s_op_name(r->op), r->key, "out of memory");
}

/* Describe o in r->obj; with_body copies (the requested range of) the body. */
static void
fill_result(s3s_request *r, const mem_obj *o, bool with_body)
{
	s3s_object *out = &r->obj;
	size_t		off = 0,
				len = 0;

	if (with_body && !s3s_local_range(r, o->len, &off, &len))
		return;
	out->etag = strdup(o->etag);
	out->content_type = strdup(o->content_type);
	out->size = (int64_t) o->len;
	out->last_modified = o->last_modified;
	if (out->etag == NULL || out->content_type == NULL ||
		s3s_meta_copy(&out->meta, &o->meta) != 0)
		goto nomem;
	if (with_body)
	{
		out->body = malloc(len + 1);
		if (out->body == NULL)
			goto nomem;
		if (len > 0)
			memcpy(out->body, o->body + off, len);
		out->body[len] = '\0';
		out->body_len = len;
		r->bytes_in = (int64_t) len;
	}
	return;

nomem:
	s3s_object_free(out);
	set_nomem(r);
}

void
s3s_memory_set_quirks(unsigned flags, int meta_limit)
{
	pthread_mutex_lock(&mem_mutex);
	mem_quirks = flags;
	mem_meta_limit = meta_limit;
	pthread_mutex_unlock(&mem_mutex);
}

/*
 * Check If-None-Match / If-Match against the current object (may be NULL),
 * as S3 does, or as the store imitated by s3s_memory_set_quirks() does.
 */
static bool
conditions_hold(const s3s_store *st, s3s_request *r, const mem_obj *cur)
{
	const char *op = s3s_op_name(r->op);

	if (mem_quirks & S3S_MEMQ_IGNORE_CONDITIONS)
		return true;
	if ((mem_quirks & S3S_MEMQ_IGNORE_DELETE_IF_MATCH) && r->op == S3S_OP_DELETE)
		return true;
	if ((mem_quirks & S3S_MEMQ_IGNORE_COPY_IF_MATCH) && r->op == S3S_OP_COPY)
		return true;
	if ((mem_quirks & S3S_MEMQ_REFUSE_QUOTED) && r->op != S3S_OP_DELETE &&
		r->if_match != NULL && !st->cond.if_match_unquoted)
	{
		s3s_error_set(&r->err, S3S_ERR_PRECONDITION, op, r->key, "etag does not match");
		r->err.http_status = 412;
		strcpy(r->err.s3_code, "PreconditionFailed");
		return false;
	}

	if (r->if_none_match && cur != NULL && r->op != S3S_OP_DELETE)
	{
		s3s_error_set(&r->err, S3S_ERR_PRECONDITION, op, r->key, "object already exists");
		r->err.http_status = 412;
		strcpy(r->err.s3_code, "PreconditionFailed");
		return false;
	}
	if (r->if_match != NULL && cur == NULL)
	{
		s3s_error_set(&r->err, S3S_ERR_NOT_FOUND, op, r->key, "object does not exist");
		r->err.http_status = 404;
		strcpy(r->err.s3_code, "NoSuchKey");
		return false;
	}
	if (r->if_match != NULL && !s3s_local_etag_match(cur->etag, r->if_match))
	{
		s3s_error_set(&r->err, S3S_ERR_PRECONDITION, op, r->key, "etag does not match");
		r->err.http_status = 412;
		strcpy(r->err.s3_code, "PreconditionFailed");
		return false;
	}
	return true;
}

/* Build a new object from a body and metadata; NULL on out of memory. */
static mem_obj *
obj_new(const char *full, const unsigned char *body, size_t len,
		const char *content_type, const s3s_meta *meta)
{
	mem_obj    *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->key = strdup(full);
	o->body = malloc(len ? len : 1);
	o->content_type = strdup(content_type ? content_type : "application/octet-stream");
	if (o->key == NULL || o->body == NULL || o->content_type == NULL ||
		s3s_local_meta_lower(&o->meta, meta) != 0)
	{
		obj_free(o);
		return NULL;
	}
	if (len > 0)
		memcpy(o->body, body, len);
	o->len = len;
	s3s_md5_hex(body, len, o->etag);
	o->last_modified = s3s_local_now_ms();
	return o;
}

static void
do_one(s3s_store *st, const char *bucket, s3s_request *r)
{
	mem_bucket *b = bucket_find(bucket, false);
	char	   *full = NULL;
	mem_obj    *cur;
	mem_obj    *o;

	if (r->op != S3S_OP_DELETE_MANY && r->op != S3S_OP_LIST)
	{
		full = s3s_full_key(st, r->key);
		if (full == NULL)
		{
			set_nomem(r);
			return;
		}
	}

	switch (r->op)
	{
		case S3S_OP_HEAD:
		case S3S_OP_GET:
			cur = obj_find(b, full);
			if (cur == NULL)
			{
				s3s_error_set(&r->err, S3S_ERR_NOT_FOUND, s3s_op_name(r->op), r->key,
							  "object does not exist");
				r->err.http_status = 404;
				strcpy(r->err.s3_code, "NoSuchKey");
			}
			else
				fill_result(r, cur, r->op == S3S_OP_GET);
			break;

		case S3S_OP_PUT:
		case S3S_OP_COPY:
			{
				const unsigned char *body = r->body;
				size_t		len = r->body_len;
				const char *ctype = r->content_type;

				if (r->op == S3S_OP_COPY)
				{
					char	   *src = s3s_full_key(st, r->copy_source);
					mem_obj    *so;

					if (src == NULL)
					{
						set_nomem(r);
						break;
					}
					so = obj_find(b, src);
					free(src);
					if (so == NULL)
					{
						s3s_error_set(&r->err, S3S_ERR_NOT_FOUND, "COPY", r->copy_source,
									  "copy source does not exist");
						r->err.http_status = 404;
						strcpy(r->err.s3_code, "NoSuchKey");
						break;
					}
					body = so->body;
					len = so->len;
					if (ctype == NULL)
						ctype = so->content_type;
				}
				if (!conditions_hold(st, r, obj_find(b, full)))
					break;
				if (mem_meta_limit > 0 && r->meta != NULL)
				{
					size_t		sum = 0;

					for (int i = 0; i < r->meta->n; i++)
						sum += strlen(r->meta->keys[i]) + strlen(r->meta->values[i]);
					if (sum > (size_t) mem_meta_limit)
					{
						s3s_error_set(&r->err, S3S_ERR_CLIENT, s3s_op_name(r->op), r->key,
									  "metadata too large");
						r->err.http_status = 400;
						strcpy(r->err.s3_code, "MetadataTooLarge");
						break;
					}
				}
				if (b == NULL && (b = bucket_find(bucket, true)) == NULL)
				{
					set_nomem(r);
					break;
				}
				o = obj_new(full, body, len, ctype, r->meta);
				if (o == NULL)
				{
					set_nomem(r);
					break;
				}
				fill_result(r, o, false);
				if (r->op == S3S_OP_PUT)
					r->bytes_out = (int64_t) len;
				if (!obj_store(b, o))
				{
					obj_free(o);
					s3s_object_free(&r->obj);
					set_nomem(r);
				}
			}
			break;

		case S3S_OP_DELETE:
			cur = obj_find(b, full);
			if (r->if_match != NULL && !conditions_hold(st, r, cur))
				break;
			obj_remove(b, full);
			break;

		case S3S_OP_DELETE_MANY:
			{
				int			i;

				for (i = 0; i < r->nkeys; i++)
				{
					char	   *k = s3s_full_key(st, r->keys[i]);

					if (k == NULL)
					{
						set_nomem(r);
						break;
					}
					obj_remove(b, k);
					free(k);
				}
			}
			break;

		case S3S_OP_LIST:
			{
				s3s_lister l;
				bool		ok = true;
				int			i;

				if (!s3s_lister_begin(&l, st, r))
					break;
				for (i = lower_bound(b, s3s_lister_seek(&l)); b != NULL && i < b->n; i++)
				{
					s3s_lister_verdict v = s3s_lister_want(&l, b->objs[i]->key);

					if (v == S3S_LISTER_STOP)
						break;
					if (v == S3S_LISTER_SKIP)
						continue;
					if (!s3s_lister_add(&l, b->objs[i]->key, b->objs[i]->etag,
										(int64_t) b->objs[i]->len,
										b->objs[i]->last_modified))
					{
						ok = false;
						break;
					}
				}
				if (!s3s_lister_end(&l, ok))
				{
					s3s_list_free(&r->list);
					set_nomem(r);
				}
			}
			break;
	}
	free(full);
}

static bool
mem_open(s3s_store *st, const s3s_config *cfg, s3s_error *err)
{
	const char *bucket = st->loc.bucket && st->loc.bucket[0] ? st->loc.bucket : "s3db";

	st->impl = strdup(bucket);
	if (st->impl == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "open", NULL, "out of memory");
		return false;
	}
	return true;
}

static void
mem_close(s3s_store *st)
{
	free(st->impl);
	st->impl = NULL;
}

static void
mem_execute(s3s_store *st, s3s_request *reqs, int n)
{
	int			i;

	pthread_mutex_lock(&mem_mutex);
	for (i = 0; i < n; i++)
	{
		s3s_request *r = &reqs[i];

		if (s3s_cancelled(st))
		{
			s3s_error_set(&r->err, S3S_ERR_CANCELLED, s3s_op_name(r->op), r->key,
						  "request cancelled");
			continue;
		}
		r->attempts = 1;
		do_one(st, (const char *) st->impl, r);
	}
	pthread_mutex_unlock(&mem_mutex);
}

const s3s_backend s3s_backend_mem = {
	.name = "memory",
	.open = mem_open,
	.close = mem_close,
	.execute = mem_execute,
};
