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

#define CACHE_KEYLEN 1200

typedef struct CacheEnt
{
	char		hkey[CACHE_KEYLEN];	/* "server/user/key" */
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

static void
make_hkey(char *buf, S3dbConn *conn, const char *key)
{
	snprintf(buf, CACHE_KEYLEN, "%u/%u/%s", conn->serverid, conn->userid, key);
}

static void
ensure_cache(void)
{
	HASHCTL		ctl;

	if (cache)
		return;
	cache_cxt = AllocSetContextCreate(TopMemoryContext, "s3db_fdw object cache",
									  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = CACHE_KEYLEN;
	ctl.entrysize = sizeof(CacheEnt);
	ctl.hcxt = cache_cxt;
	cache = hash_create("s3db_fdw object cache", 256, &ctl,
						HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

static void
free_contents(CacheEnt *e)
{
	if (e->etag)
		pfree(e->etag);
	if (e->content_type)
		pfree(e->content_type);
	for (int i = 0; i < e->nmeta; i++)
	{
		pfree(e->mkeys[i]);
		pfree(e->mvals[i]);
	}
	if (e->mkeys)
	{
		pfree(e->mkeys);
		pfree(e->mvals);
	}
	if (e->body)
		pfree(e->body);
	cache_bytes -= e->bytes;
}

static void
remove_entry(CacheEnt *e)
{
	dlist_delete(&e->lru);
	free_contents(e);
	hash_search(cache, e->hkey, HASH_REMOVE, NULL);
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
	char		hkey[CACHE_KEYLEN];
	CacheEnt   *e;

	if (conn->opts.cache_bytes <= 0 || cache == NULL || etag == NULL)
		return false;
	make_hkey(hkey, conn, key);
	e = hash_search(cache, hkey, HASH_FIND, NULL);
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

/*
 * Keep a fetched object under the validator its listing showed; has_body
 * says whether obj carries the body.
 */
void
s3db_cache_put(S3dbConn *conn, const char *key, const s3s_object *obj, bool has_body,
			   const char *etag, int64 size, int64 last_modified)
{
	char		hkey[CACHE_KEYLEN];
	CacheEnt   *e;
	bool		found;
	MemoryContext old;
	size_t		bytes;

	if (conn->opts.cache_bytes <= 0 || etag == NULL)
		return;
	ensure_cache();
	make_hkey(hkey, conn, key);
	bytes = strlen(hkey) + 128 + (has_body ? obj->body_len : 0);
	for (int i = 0; i < obj->meta.n; i++)
		bytes += strlen(obj->meta.keys[i]) + strlen(obj->meta.values[i]) + 16;
	if ((int64) bytes > conn->opts.cache_bytes / 4)
		return;					/* too big to be worth it */

	e = hash_search(cache, hkey, HASH_ENTER, &found);
	if (found)
	{
		dlist_delete(&e->lru);
		free_contents(e);
	}
	old = MemoryContextSwitchTo(cache_cxt);
	e->etag = pstrdup(etag);
	e->size = size;
	e->last_modified = last_modified;
	e->has_body = has_body;
	e->content_type = obj->content_type ? pstrdup(obj->content_type) : NULL;
	e->nmeta = obj->meta.n;
	e->mkeys = palloc(sizeof(char *) * Max(e->nmeta, 1));
	e->mvals = palloc(sizeof(char *) * Max(e->nmeta, 1));
	for (int i = 0; i < e->nmeta; i++)
	{
		e->mkeys[i] = pstrdup(obj->meta.keys[i]);
		e->mvals[i] = pstrdup(obj->meta.values[i]);
	}
	e->body = NULL;
	e->body_len = 0;
	if (has_body && obj->body)
	{
		e->body = palloc(obj->body_len + 1);
		memcpy(e->body, obj->body, obj->body_len);
		e->body[obj->body_len] = '\0';
		e->body_len = obj->body_len;
	}
	e->bytes = bytes;
	MemoryContextSwitchTo(old);
	cache_bytes += bytes;
	dlist_push_head(&lru, &e->lru);

	/* evict the least recently used beyond the limit */
	while ((int64) cache_bytes > conn->opts.cache_bytes && !dlist_is_empty(&lru))
		remove_entry(dlist_container(CacheEnt, lru, dlist_tail_node(&lru)));
}

/* Forget a key (written by this backend). */
void
s3db_cache_forget(S3dbConn *conn, const char *key)
{
	char		hkey[CACHE_KEYLEN];
	CacheEnt   *e;

	if (cache == NULL)
		return;
	make_hkey(hkey, conn, key);
	e = hash_search(cache, hkey, HASH_FIND, NULL);
	if (e)
		remove_entry(e);
}
