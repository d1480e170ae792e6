/*-------------------------------------------------------------------------
 *
 * cache.c
 *		A per-backend cache of fetched objects, validated by the listing.
 *
 * With the server option cache_size (megabytes, 0 = off), scans keep the
 * objects they fetch.  A later scan lists the keys as usual, and every key
 * whose listing shows the same ETag, size and last-modified time as the
 * cached copy is served from memory: a repeat scan of unchanged data costs
 * its LIST requests only.  The validator is the triple, not the ETag
 * alone: an ETag is the MD5 of the body, which a change of metadata only
 * (an s3db.js patch, a COPY) leaves alone, but such a change does move
 * last-modified.  file:// listings carry the same three values from the
 * sidecars.  Writes through SQL always change the ETag (see xact.c), and
 * committed keys are dropped from the cache as well.
 *
 * Entries live in their own memory context; the least recently used are
 * evicted beyond the size limit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/ilist.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "fdw/s3db_fdw.h"

/*
 * An entry's contents are one allocation (etag, content type, metadata,
 * body), so what it costs is what the allocator says it takes; that, the
 * key and the hash entry count towards the limit.
 */
typedef struct CacheEnt
{
	char	   *hkey;			/* "server/user/key" */
	char	   *blob;			/* the strings and arrays below point into it */
	char	   *etag;
	int64		size;
	int64		last_modified;
	bool		has_body;		/* fetched with GET */
	char	   *content_type;
	int			nmeta;
	char	  **mkeys;
	char	  **mvals;
	char	   *body;
	size_t		body_len;
	size_t		bytes;			/* accounted size */
	dlist_node	lru;
} CacheEnt;

static MemoryContext cache_cxt = NULL;
static HTAB *cache = NULL;
static dlist_head lru = DLIST_STATIC_INIT(lru);
static size_t cache_bytes = 0;

static char *
make_hkey(S3dbConn *conn, const char *key)
{
	return psprintf("%u/%u/%s", conn->serverid, conn->userid, key);
}

static void
ensure_cache(void)
{
	if (cache)
		return;
	cache_cxt = AllocSetContextCreate(TopMemoryContext, "s3db_fdw object cache",
									  ALLOCSET_DEFAULT_SIZES);
	cache = s3db_strhash_create("s3db_fdw object cache", sizeof(CacheEnt), cache_cxt);
}

static void
remove_entry(CacheEnt *e)
{
	dlist_delete(&e->lru);
	pfree(e->blob);
	cache_bytes -= e->bytes;
	s3db_strhash_remove(cache, e);
}

/*
 * A cached object matching the listed validator, copied into *out (malloc,
 * as the store would return it).  False when there is none, or when the
 * body is needed and only the metadata is cached.
 */
bool
s3db_cache_get(S3dbConn *conn, const char *key, const char *etag, int64 size,
			   int64 last_modified, bool need_body, s3s_object *out)
{
	char	   *hkey;
	CacheEnt   *e;

	if (conn->opts.cache_bytes <= 0 || cache == NULL || etag == NULL)
		return false;
	hkey = make_hkey(conn, key);
	e = s3db_strhash_lookup(cache, hkey, HASH_FIND, NULL, cache_cxt);
	pfree(hkey);
	if (e == NULL)
		return false;
	if (strcmp(e->etag, etag) != 0 || e->size != size || e->last_modified != last_modified)
	{
		remove_entry(e);		/* changed since: forget it */
		return false;
	}
	if (need_body && !e->has_body && e->size > 0)
		return false;

	memset(out, 0, sizeof(*out));
	s3s_meta_init(&out->meta);
	for (int i = 0; i < e->nmeta; i++)
		if (s3s_meta_add(&out->meta, e->mkeys[i], e->mvals[i]) != 0)
		{
			s3s_object_free(out);
			return false;
		}
	out->etag = strdup(e->etag);
	out->content_type = e->content_type ? strdup(e->content_type) : NULL;
	out->size = e->size;
	out->last_modified = e->last_modified;
	if (e->has_body)
	{
		out->body = malloc(e->body_len + 1);
		if (out->body == NULL)
		{
			s3s_object_free(out);
			return false;
		}
		memcpy(out->body, e->body, e->body_len);
		out->body[e->body_len] = '\0';
		out->body_len = e->body_len;
	}
	dlist_move_head(&lru, &e->lru);
	return true;
}

/* Copy s (len bytes) to *pos, NUL-terminated; the copy. */
static char *
put_str(char **pos, const char *s, size_t len)
{
	char	   *d = *pos;

	memcpy(d, s, len);
	d[len] = '\0';
	*pos += len + 1;
	return d;
}

/*
 * Keep a fetched object under the validator its listing showed; has_body
 * says whether obj carries the body.
 */
void
s3db_cache_put(S3dbConn *conn, const char *key, const s3s_object *obj, bool has_body,
			   const char *etag, int64 size, int64 last_modified)
{
	char	   *hkey;
	CacheEnt   *e;
	bool		found;
	size_t		need;
	size_t		body_len = has_body && obj->body ? obj->body_len : 0;
	char	   *pos;

	if (conn->opts.cache_bytes <= 0 || etag == NULL)
		return;
	need = sizeof(char *) * 2 * Max(obj->meta.n, 1) + strlen(etag) + 1 +
		(obj->content_type ? strlen(obj->content_type) + 1 : 0) + body_len + 1;
	for (int i = 0; i < obj->meta.n; i++)
		need += strlen(obj->meta.keys[i]) + strlen(obj->meta.values[i]) + 2;
	if ((int64) need > conn->opts.cache_bytes / 4)
		return;					/* too big to be worth it */
	ensure_cache();

	hkey = make_hkey(conn, key);
	e = s3db_strhash_lookup(cache, hkey, HASH_ENTER, &found, cache_cxt);
	pfree(hkey);
	if (found)
	{
		dlist_delete(&e->lru);
		pfree(e->blob);
		cache_bytes -= e->bytes;
	}
	e->blob = MemoryContextAlloc(cache_cxt, need);
	pos = e->blob;
	e->mkeys = (char **) pos;
	e->mvals = e->mkeys + Max(obj->meta.n, 1);
	pos += sizeof(char *) * 2 * Max(obj->meta.n, 1);
	e->nmeta = obj->meta.n;
	for (int i = 0; i < e->nmeta; i++)
	{
		e->mkeys[i] = put_str(&pos, obj->meta.keys[i], strlen(obj->meta.keys[i]));
		e->mvals[i] = put_str(&pos, obj->meta.values[i], strlen(obj->meta.values[i]));
	}
	e->etag = put_str(&pos, etag, strlen(etag));
	e->content_type = obj->content_type ?
		put_str(&pos, obj->content_type, strlen(obj->content_type)) : NULL;
	e->size = size;
	e->last_modified = last_modified;
	e->has_body = has_body;
	e->body = has_body && obj->body ? put_str(&pos, (const char *) obj->body, body_len) : NULL;
	e->body_len = body_len;
	Assert(pos <= e->blob + need);

	/* what the allocator really spends: chunk headers and rounding */
	e->bytes = GetMemoryChunkSpace(e->blob) + GetMemoryChunkSpace(e->hkey) +
		sizeof(CacheEnt) + 16;
	cache_bytes += e->bytes;
	dlist_push_head(&lru, &e->lru);

	/* evict the least recently used beyond the limit */
	while ((int64) cache_bytes > conn->opts.cache_bytes && !dlist_is_empty(&lru))
		remove_entry(dlist_container(CacheEnt, lru, dlist_tail_node(&lru)));
}

/* Forget a key (written by this backend). */
void
s3db_cache_forget(S3dbConn *conn, const char *key)
{
	char	   *hkey;
	CacheEnt   *e;

	if (cache == NULL)
		return;
	hkey = make_hkey(conn, key);
	e = s3db_strhash_lookup(cache, hkey, HASH_FIND, NULL, cache_cxt);
	pfree(hkey);
	if (e)
		remove_entry(e);
}
