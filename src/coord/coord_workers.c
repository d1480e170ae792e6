/*-------------------------------------------------------------------------
 *
 * coord_workers.c
 *		Worker records: listing, liveness, the choice of a leader among the
 *		live workers, and removal of long-dead records.
 *
 * Liveness is judged from the "lastHeartbeat" field against the caller's
 * clock (s3db.js uses the listing's LastModified, which ties it to server
 * time and makes simulated clocks impossible).  Both are written at every
 * heartbeat, so the two views agree up to clock skew.
 *
 * The leader is chosen as s3db.js 21.6.2 does with its default "timestamp"
 * strategy: among the live workers whose id does not start with "gcs-"
 * (all of them if none qualifies), the oldest startTime wins, ties broken by
 * id.  Every participant computes the same answer from the same listing,
 * so in a namespace shared with s3db.js processes nobody fights over whom
 * to elect, only over who writes.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord/coord_int.h"

#define WORKER_PREFIX "worker="
#define WORKER_SUFFIX ".json"
#define MAX_PAGES 4				/* at most ~4000 records read per tick */

/*
 * An approximation of JavaScript's localeCompare for the ASCII ids used
 * here: case-insensitive first, then lower case before upper case, then
 * byte order.
 */
int
s3c_id_compare(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *) a;
	const unsigned char *q = (const unsigned char *) b;
	size_t		i;

	for (i = 0; p[i] && q[i]; i++)
	{
		int			x = tolower(p[i]);
		int			y = tolower(q[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	if (p[i] || q[i])
		return p[i] ? 1 : -1;
	for (i = 0; p[i]; i++)
		if (p[i] != q[i])
			return islower(p[i]) ? -1 : 1;
	return 0;
}

/* The id in ".../workers/worker=<id>.json", or NULL if the key is not one. */
static char *
id_from_key(const char *key, const char *prefix)
{
	size_t		pl = strlen(prefix);
	size_t		kl = strlen(key);
	size_t		wl = strlen(WORKER_PREFIX);
	size_t		sl = strlen(WORKER_SUFFIX);
	const char *leaf;
	size_t		n;

	if (kl < pl || strncmp(key, prefix, pl) != 0)
		return NULL;
	leaf = key + pl;
	n = strlen(leaf);
	if (n <= wl + sl || strncmp(leaf, WORKER_PREFIX, wl) != 0 ||
		strcmp(leaf + n - sl, WORKER_SUFFIX) != 0 || strchr(leaf, '/') != NULL)
		return NULL;
	n -= wl + sl;
	if (n > S3C_ID_MAX)
		return NULL;
	return strndup(leaf + wl, n);
}

void
s3c_wrecs_free(s3c_wrec *w, int n)
{
	int			i;

	if (w == NULL)
		return;
	for (i = 0; i < n; i++)
	{
		free(w[i].w.worker_id);
		free(w[i].w.plugin_name);
		free(w[i].w.pod);
		free(w[i].w.ns);
	}
	free(w);
}

/*
 * LIST the workers/ prefix (all pages) and GET every record in one batch.
 * Records that vanish between the LIST and the GET are left out; records
 * whose body is not a JSON object are kept with parsed=false (never live).
 */
s3s_code
s3c_read_workers(s3c_coord *c, s3c_wrec **out, int *nout, s3s_error *err)
{
	s3c_wrec   *w = NULL;
	int			n = 0;
	int			cap = 0;
	char	   *token = NULL;
	s3s_request *reqs = NULL;
	s3s_code	code = S3S_OK;
	int			i;
	int			pages = 0;

	*out = NULL;
	*nout = 0;
	do
	{
		s3s_request r;

		s3s_request_init(&r, S3S_OP_LIST, NULL);
		r.prefix = c->k_workers;
		r.continuation = token;
		s3s_execute(c->st, &r, 1);
		free(token);
		token = NULL;
		if (r.err.code != S3S_OK)
		{
			*err = r.err;
			code = r.err.code;
			s3s_request_reset(&r);
			goto fail;
		}
		for (i = 0; i < r.list.n; i++)
		{
			char	   *id = id_from_key(r.list.entries[i].key, c->k_workers);

			if (id == NULL)
				continue;
			if (n == cap)
			{
				int			ncap = cap ? cap * 2 : 16;
				s3c_wrec   *nw = realloc(w, sizeof(s3c_wrec) * (size_t) ncap);

				if (nw == NULL)
				{
					free(id);
					s3s_request_reset(&r);
					goto nomem;
				}
				w = nw;
				cap = ncap;
			}
			memset(&w[n], 0, sizeof(w[n]));
			w[n].w.worker_id = id;
			w[n].w.start_time = INT64_MAX;
			w[n].w.last_modified = r.list.entries[i].last_modified;
			n++;
		}
		/* s3db.js reads one page of 1000; a few more cost little */
		if (r.list.truncated && r.list.next_token != NULL && ++pages < MAX_PAGES)
		{
			token = strdup(r.list.next_token);
			if (token == NULL)
			{
				s3s_request_reset(&r);
				goto nomem;
			}
		}
		s3s_request_reset(&r);
	} while (token != NULL);

	if (n > 0)
	{
		char	  **keys = calloc((size_t) n, sizeof(char *));

		reqs = calloc((size_t) n, sizeof(s3s_request));
		if (keys == NULL || reqs == NULL)
		{
			free(keys);
			goto nomem;
		}
		for (i = 0; i < n; i++)
		{
			keys[i] = s3c_strdup_printf("%s" WORKER_PREFIX "%s" WORKER_SUFFIX,
										c->k_workers, w[i].w.worker_id);
			s3s_request_init(&reqs[i], S3S_OP_GET, keys[i]);
		}
		for (i = 0; i < n; i++)
			if (keys[i] == NULL)
				break;
		if (i == n)
			s3s_execute(c->st, reqs, n);
		else
			code = S3S_ERR_NOMEM;
		for (i = 0; code == S3S_OK && i < n; i++)
		{
			s3s_request *r = &reqs[i];

			if (r->err.code == S3S_OK)
			{
				w[i].parsed = s3c_parse_worker(r->obj.body, r->obj.body_len, &w[i].w);
				s3c_copy(w[i].etag, sizeof(w[i].etag), r->obj.etag);
			}
			else if (r->err.code != S3S_ERR_NOT_FOUND)
			{
				*err = r->err;
				code = r->err.code;
			}
			else
				w[i].gone = true;	/* dropped below */
		}
		for (i = 0; i < n; i++)
		{
			s3s_request_reset(&reqs[i]);
			free(keys[i]);
		}
		free(keys);
		free(reqs);
		reqs = NULL;
		if (code == S3S_ERR_NOMEM)
			goto nomem;
		if (code != S3S_OK)
			goto fail;
		/* drop the records that vanished */
		{
			int			j = 0;

			for (i = 0; i < n; i++)
			{
				if (w[i].gone)
				{
					free(w[i].w.worker_id);
					continue;
				}
				w[j++] = w[i];
			}
			n = j;
		}
	}
	*out = w;
	*nout = n;
	return S3S_OK;

nomem:
	s3s_error_set(err, S3S_ERR_NOMEM, "LIST", c->k_workers, "out of memory reading worker records");
	code = S3S_ERR_NOMEM;
fail:
	free(token);
	s3c_wrecs_free(w, n);
	return code;
}

bool
s3c_worker_live(const s3c_coord *c, const s3c_worker *w, int64_t now_ms)
{
	return w->last_heartbeat > 0 && now_ms - w->last_heartbeat < c->worker_timeout_ms;
}

static bool
is_gcs(const char *id)
{
	return strncmp(id, "gcs-", 4) == 0;
}

/*
 * The id to elect among the live records (ours must be among them; the
 * caller adds it if the listing missed it).  Returns NULL if none is live.
 */
const char *
s3c_choose_leader(const s3c_coord *c, const s3c_wrec *w, int n, int64_t now_ms)
{
	const s3c_worker *best = NULL;
	bool		any_plain = false;
	int			i;

	for (i = 0; i < n; i++)
		if (w[i].parsed && s3c_worker_live(c, &w[i].w, now_ms) && !is_gcs(w[i].w.worker_id))
			any_plain = true;
	for (i = 0; i < n; i++)
	{
		const s3c_worker *x = &w[i].w;

		if (!w[i].parsed || !s3c_worker_live(c, x, now_ms))
			continue;
		if (any_plain && is_gcs(x->worker_id))
			continue;
		if (best == NULL || x->start_time < best->start_time ||
			(x->start_time == best->start_time &&
			 s3c_id_compare(x->worker_id, best->worker_id) < 0))
			best = x;
	}
	return best ? best->worker_id : NULL;
}

/*
 * Remove records that are dead and past their own _expiresAt, with If-Match
 * on the ETag read, so a worker that refreshed its record in the meantime
 * keeps it.  Best effort: failures are left for a later tick.
 */
void
s3c_cleanup_workers(s3c_coord *c, const s3c_wrec *w, int n, int64_t now_ms)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		const s3c_worker *x = &w[i].w;
		char	   *key;
		s3s_error	e;

		if (w[i].etag[0] == '\0' || strcmp(x->worker_id, c->worker_id) == 0)
			continue;
		if (w[i].parsed && (s3c_worker_live(c, x, now_ms) || x->expires_at == 0 ||
							now_ms <= x->expires_at))
			continue;
		key = s3c_strdup_printf("%s" WORKER_PREFIX "%s" WORKER_SUFFIX, c->k_workers,
								x->worker_id);
		if (key != NULL)
			s3c_delete(c->st, key, w[i].etag, &e);
		free(key);
	}
}

s3s_code
s3c_workers(s3c_coord *c, int64_t now_ms, s3c_worker **out, int *nout, s3s_error *err)
{
	s3c_wrec   *w;
	int			n;
	int			i;
	int			j = 0;
	s3c_worker *res;
	s3s_code	code;

	*out = NULL;
	*nout = 0;
	s3s_error_clear(err);
	code = s3c_read_workers(c, &w, &n, err);
	if (code != S3S_OK)
		return code;
	res = calloc((size_t) (n > 0 ? n : 1), sizeof(s3c_worker));
	if (res == NULL)
	{
		s3c_wrecs_free(w, n);
		s3s_error_set(err, S3S_ERR_NOMEM, "LIST", c->k_workers, "out of memory");
		return S3S_ERR_NOMEM;
	}
	for (i = 0; i < n; i++)
	{
		if (!w[i].parsed || !s3c_worker_live(c, &w[i].w, now_ms))
			continue;
		res[j++] = w[i].w;
		memset(&w[i].w, 0, sizeof(w[i].w)); /* moved */
	}
	s3c_wrecs_free(w, n);
	/* insertion sort: worker counts are small */
	for (i = 1; i < j; i++)
	{
		s3c_worker	t = res[i];
		int			k = i - 1;

		while (k >= 0 && s3c_id_compare(res[k].worker_id, t.worker_id) > 0)
		{
			res[k + 1] = res[k];
			k--;
		}
		res[k + 1] = t;
	}
	*out = res;
	*nout = j;
	return S3S_OK;
}

void
s3c_workers_free(s3c_worker *w, int n)
{
	int			i;

	if (w == NULL)
		return;
	for (i = 0; i < n; i++)
	{
		free(w[i].worker_id);
		free(w[i].plugin_name);
		free(w[i].pod);
		free(w[i].ns);
	}
	free(w);
}
