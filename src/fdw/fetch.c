/*-------------------------------------------------------------------------
 *
 * fetch.c
 *		Where a scan's records come from: ids pinned by quals, LIST pages of
 *		the resource or of partition prefixes (the next page prefetched with
 *		the last batch of the current one), this transaction's pending
 *		writes, the object cache, and concurrent batches of HEAD/GET.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fdw/s3db_fdw.h"
#include "fdw/scan_int.h"
#include "fdw/xact.h"
#include "format/encode.h"

void
s3db_release_batch(S3dbScanState *st)
{
	for (int i = 0; i < st->nreqs; i++)
		s3s_request_reset(&st->reqs[i]);
	st->nreqs = 0;
	st->pos = 0;
	if (st->batch_cxt)
		MemoryContextReset(st->batch_cxt);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Evaluate the id expressions: the sorted, de-duplicated ids to fetch. */
void
s3db_evaluate_ids(S3dbScanState *st, ExprContext *econtext)
{
	ListCell   *lc1,
			   *lc2;
	List	   *ids = NIL;
	MemoryContext old = MemoryContextSwitchTo(st->rescan_cxt);

	forboth(lc1, st->id_states, lc2, st->id_kinds)
	{
		ExprState  *es = (ExprState *) lfirst(lc1);
		bool		isnull;
		Datum		d = ExecEvalExpr(es, econtext, &isnull);

		if (isnull)
			continue;
		if (lfirst_int(lc2) == 0)
			ids = lappend(ids, TextDatumGetCString(d));
		else
		{
			ArrayType  *arr = DatumGetArrayTypeP(d);
			Datum	   *elems;
			bool	   *nulls;
			int			n;

			deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
			for (int i = 0; i < n; i++)
				if (!nulls[i])
					ids = lappend(ids, TextDatumGetCString(elems[i]));
		}
	}

	st->nids = 0;
	st->ids = palloc(sizeof(char *) * Max(list_length(ids), 1));
	foreach(lc1, ids)
	{
		char	   *id = (char *) lfirst(lc1);

		/* an id s3db.js could not have written matches nothing */
		if (s3f_valid_id(id, NULL))
			st->ids[st->nids++] = id;
	}
	qsort(st->ids, st->nids, sizeof(char *), cmp_str);
	if (st->nids > 1)
	{
		int			j = 1;

		for (int i = 1; i < st->nids; i++)
			if (strcmp(st->ids[i], st->ids[j - 1]) != 0)
				st->ids[j++] = st->ids[i];
		st->nids = j;
	}
	st->id_pos = 0;
	MemoryContextSwitchTo(old);
}

/* Take the next LIST page, synchronously. */
static void
list_next_page(S3dbScanState *st, const char *token)
{
	s3s_request r;

	s3s_request_init(&r, S3S_OP_LIST, NULL);
	r.prefix = st->prefixes[st->prefix_idx];
	r.continuation = token;
	s3db_execute(st->conn, &r, 1);
	if (r.err.code != S3S_OK)
	{
		s3s_error	e = r.err;

		s3s_request_reset(&r);
		s3db_report(&e, psprintf("could not list resource \"%s\"", st->res->name));
	}
	if (st->have_page)
		s3s_list_free(&st->page);
	st->page = r.list;
	memset(&r.list, 0, sizeof(r.list));
	s3s_request_reset(&r);
	st->have_page = true;
	st->page_pos = 0;
	st->list_done = !st->page.truncated;
}

/* The record id of a listed key, or NULL for keys that are not records. */
static char *
listed_id(S3dbScanState *st, const char *key)
{
	const char *prefix = st->prefixes[st->prefix_idx];
	size_t		plen = strlen(prefix);
	const char *rest;
	bool		found;

	if (strncmp(key, prefix, plen) != 0)
		return NULL;
	rest = key + plen;
	if (strchr(rest, '/') != NULL || rest[0] == '\0' || strlen(rest) >= 1024)
		return NULL;
	/* a record may be referenced under several prefixes: return it once */
	if (st->part)
	{
		s3db_strhash_lookup(st->listed, rest, HASH_ENTER, &found, st->rescan_cxt);
		if (found)
			return NULL;
	}
	return pstrdup(rest);
}

/*
 * Partition prefixes from the evaluated quals: one per combination of the
 * values given for the fields (IN lists multiply).
 */
void
s3db_evaluate_partition_prefixes(S3dbScanState *st, ExprContext *econtext)
{
	int			nf = st->part->nfields;
	MemoryContext old = MemoryContextSwitchTo(st->rescan_cxt);
	List	  **choices = palloc0(sizeof(List *) * nf);
	ListCell   *lc1,
			   *lc2,
			   *lc3;
	int		   *pos = palloc0(sizeof(int) * nf);
	List	   *out = NIL;

	forthree(lc1, st->id_states, lc2, st->id_kinds, lc3, st->part_fields)
	{
		ExprState  *es = (ExprState *) lfirst(lc1);
		int			f = lfirst_int(lc3);
		bool		isnull;
		Datum		d = ExecEvalExpr(es, econtext, &isnull);
		S3dbColumn	col;
		Oid			typ = exprType((Node *) es->expr);

		if (isnull)
			continue;
		memset(&col, 0, sizeof(col));
		col.typid = typ;
		getTypeOutputInfo(typ, &col.typoutput, &col.typisvarlena);
		col.elemtype = get_element_type(typ);
		if (OidIsValid(col.elemtype))
			get_typlenbyvalalign(col.elemtype, &col.elemlen, &col.elembyval, &col.elemalign);
		{
			s3f_val    *v = palloc0(sizeof(s3f_val));

			s3db_datum_to_value(&col, d, false, v);
			if (lfirst_int(lc2) == 1 && v->kind == S3F_ARRAY)
			{
				for (int i = 0; i < v->nitems; i++)
					if (v->items[i].kind != S3F_NULL)
						choices[f] = lappend(choices[f], &v->items[i]);
			}
			else
				choices[f] = lappend(choices[f], v);
		}
	}

	/* no value for some field (all NULL): nothing can match */
	for (int f = 0; f < nf; f++)
		if (choices[f] == NIL)
		{
			st->nprefixes = 0;
			MemoryContextSwitchTo(old);
			return;
		}

	for (;;)
	{
		const s3f_val **vals = palloc(sizeof(s3f_val *) * nf);
		char	   *pfx;
		int			f;

		for (f = 0; f < nf; f++)
			vals[f] = (const s3f_val *) list_nth(choices[f], pos[f]);
		pfx = s3f_partition_prefix(st->res, st->part, (const s3f_val *const *) vals);
		if (pfx)
			out = lappend(out, psprintf("%s/id=", s3db_take_string(pfx)));
		for (f = nf - 1; f >= 0; f--)
		{
			if (++pos[f] < list_length(choices[f]))
				break;
			pos[f] = 0;
		}
		if (f < 0)
			break;
	}
	st->nprefixes = list_length(out);
	st->prefixes = palloc(sizeof(char *) * Max(st->nprefixes, 1));
	for (int i = 0; i < st->nprefixes; i++)
		st->prefixes[i] = (char *) list_nth(out, i);
	st->prefix_idx = 0;
	MemoryContextSwitchTo(old);
}

static s3s_op
op_for_mode(FetchMode m)
{
	return m == FETCH_GET ? S3S_OP_GET : S3S_OP_HEAD;
}

/*
 * Gather the ids of the next batch.  Returns the number of ids, 0 at the
 * end.  With listing, the next LIST page is fetched when the current one is
 * used up (the previous batch prefetched it when possible).
 */
static int
next_batch_ids(S3dbScanState *st, bool *prefetch)
{
	int			n = 0;
	MemoryContext old = MemoryContextSwitchTo(st->batch_cxt);

	*prefetch = false;
	st->batch_ids = palloc(sizeof(char *) * st->batch_size);
	st->batch_list = NULL;

	if (st->direct)
	{
		while (n < st->batch_want && st->id_pos < st->nids)
			st->batch_ids[n++] = st->ids[st->id_pos++];
		MemoryContextSwitchTo(old);
		return n;
	}

	while (n < st->batch_want && st->prefix_idx < st->nprefixes)
	{
		char	   *id;

		if (!st->have_page || st->page_pos >= st->page.n)
		{
			char	   *token;

			if (st->truncated)
			{
				st->prefix_idx = st->nprefixes;	/* nothing of the store survives */
				break;
			}
			if (st->have_page && st->list_done)
			{
				/* this prefix is done: on to the next one */
				s3s_list_free(&st->page);
				st->have_page = false;
				st->list_done = false;
				st->prefix_idx++;
				continue;
			}
			if (st->have_next)
			{
				if (st->have_page)
					s3s_list_free(&st->page);
				st->page = st->next_page;
				memset(&st->next_page, 0, sizeof(st->next_page));
				st->have_next = false;
				st->have_page = true;
				st->page_pos = 0;
				st->list_done = !st->page.truncated;
				continue;
			}
			if (n > 0)
				break;			/* finish this batch first */
			token = (st->have_page && st->page.next_token) ? pstrdup(st->page.next_token) : NULL;
			list_next_page(st, token);
			continue;
		}
		id = listed_id(st, st->page.entries[st->page_pos].key);
		if (id)
		{
			s3s_list_entry *le = &st->page.entries[st->page_pos];

			if (st->batch_list == NULL)
				st->batch_list = palloc0(sizeof(s3s_list_entry) * st->batch_size);
			st->batch_list[n].etag = le->etag ? pstrdup(le->etag) : NULL;
			st->batch_list[n].size = le->size;
			st->batch_list[n].last_modified = le->last_modified;
			st->batch_ids[n++] = id;
		}
		st->page_pos++;
	}
	/* the batch uses up this page: fetch the next one along with it */
	if (n > 0 && st->have_page && st->page_pos >= st->page.n && !st->list_done &&
		!st->have_next && st->page.next_token)
		*prefetch = true;
	MemoryContextSwitchTo(old);
	return n;
}

/*
 * Serve batch entry i from the cache when its listing matches the cached
 * copy and the copy has what this scan needs.
 */
static bool
cached_object(S3dbScanState *st, int i, const char *key)
{
	s3s_list_entry *le = &st->batch_list[i];
	s3s_object	o;

	if (!s3db_cache_get(st->conn, key, le->etag, le->size, le->last_modified,
						st->mode == FETCH_GET, &o))
		return false;
	if (st->mode == FETCH_HEAD_THEN_GET && o.body == NULL &&
		s3f_record_needs_body(st->res, &o.meta, o.size, o.content_type, st->wanted))
	{
		s3s_object_free(&o);
		return false;
	}
	s3s_request_init(&st->reqs[i], o.body ? S3S_OP_GET : S3S_OP_HEAD, key);
	st->reqs[i].obj = o;
	st->cache_hits++;
	return true;
}

/*
 * Fetch the objects of a batch (plus GETs of bodies HEAD said we need).
 * Records this transaction wrote or deleted come from the pending writes
 * without a request; req->user then points at the pending write.
 */
static void
fetch_batch(S3dbScanState *st, int n, bool prefetch)
{
	MemoryContext old = MemoryContextSwitchTo(st->batch_cxt);
	char	  **keys = palloc(sizeof(char *) * n);
	int		   *idx = palloc(sizeof(int) * n);
	s3s_request *run = s3db_owned_requests(n + 1);
	int			nrun = 0;
	s3s_request *list = NULL;

	/*
	 * Results are owned until they reach st->reqs, which the scan's context
	 * releases: run[] by the batch context (moved entries are emptied), and
	 * st->reqs[0..n) from now on, cached objects included.
	 */
	st->nreqs = n;
	for (int i = 0; i < n; i++)
	{
		S3dbPending *p;

		keys[i] = s3db_take_string(s3f_key_data(st->res->name, st->batch_ids[i]));
		p = s3db_pending_lookup(st->serverid, st->userid, st->res->name,
								st->batch_ids[i], st->cid, st->batch_cxt);
		if (p && p->op != PENDING_COPY)
		{
			s3s_request_init(&st->reqs[i], S3S_OP_HEAD, NULL);
			st->reqs[i].user = p;
			continue;
		}
		if (st->truncated && p == NULL)
		{
			/* truncated in this transaction: the stored record is gone */
			s3s_request_init(&st->reqs[i], S3S_OP_HEAD, NULL);
			st->reqs[i].err.code = S3S_ERR_NOT_FOUND;
			continue;
		}
		if (p == NULL && st->batch_list && st->conn->opts.cache_bytes > 0 &&
			cached_object(st, i, keys[i]))
			continue;
		s3s_request_init(&st->reqs[i], op_for_mode(st->mode), keys[i]);
		st->reqs[i].user = p;
		idx[nrun] = i;
		run[nrun++] = st->reqs[i];
	}
	if (prefetch)
	{
		list = &run[nrun];
		s3s_request_init(list, S3S_OP_LIST, NULL);
		list->prefix = st->prefixes[st->prefix_idx];
		list->continuation = pstrdup(st->page.next_token);
	}
	if (nrun > 0 || list)
		s3db_execute(st->conn, run, nrun + (list ? 1 : 0));
	if (list)
	{
		if (list->err.code != S3S_OK)
		{
			s3s_error	e = list->err;

			s3db_report(&e, psprintf("could not list resource \"%s\"", st->res->name));
		}
		st->next_page = list->list;
		memset(&list->list, 0, sizeof(list->list));
		st->have_next = true;
		s3s_request_reset(list);
	}

	if (st->mode == FETCH_HEAD_THEN_GET && nrun > 0)
	{
		int			nget = 0;
		int		   *gidx = palloc(sizeof(int) * nrun);
		s3s_request *gets = s3db_owned_requests(nrun);

		for (int j = 0; j < nrun; j++)
		{
			s3s_request *r = &run[j];

			if (r->err.code != S3S_OK)
				continue;
			st->heads++;
			if (s3f_record_needs_body(st->res, &r->obj.meta, r->obj.size,
									  r->obj.content_type, st->wanted))
			{
				s3s_request_init(&gets[nget], S3S_OP_GET, r->key);
				gets[nget].user = r->user;
				gidx[nget++] = j;
			}
		}
		if (nget > 0)
		{
			s3db_execute(st->conn, gets, nget);
			for (int g = 0; g < nget; g++)
			{
				s3s_request_reset(&run[gidx[g]]);
				run[gidx[g]] = gets[g];
				memset(&gets[g].obj, 0, sizeof(gets[g].obj));
				memset(&gets[g].list, 0, sizeof(gets[g].list));
			}
			st->head_then_get += nget;
		}
		/* most records need their body: stop paying for the HEAD */
		if (st->heads >= 32 && st->head_then_get * 2 > st->heads)
			st->mode = FETCH_GET;
	}
	/* the results move to st->reqs; the emptied run[] owns nothing more */
	for (int j = 0; j < nrun; j++)
	{
		st->reqs[idx[j]] = run[j];
		memset(&run[j].obj, 0, sizeof(run[j].obj));
		memset(&run[j].list, 0, sizeof(run[j].list));
	}
	for (int j = 0; j < nrun; j++)
	{
		s3s_request *r = &st->reqs[idx[j]];

		if (st->batch_list && r->err.code == S3S_OK && r->user == NULL)
		{
			s3s_list_entry *le = &st->batch_list[idx[j]];

			s3db_cache_put(st->conn, r->key, &r->obj, r->op == S3S_OP_GET,
						   le->etag, le->size, le->last_modified);
		}
	}
	MemoryContextSwitchTo(old);
}

/*
 * After the listing: records this transaction inserted that the listing did
 * not show.  They are fetched like listed ones, which finds them pending.
 */
static int
next_tail_ids(S3dbScanState *st)
{
	int			n = 0;
	MemoryContext old;

	if (!st->tail_ready)
	{
		ListCell   *lc;

		old = MemoryContextSwitchTo(st->rescan_cxt);
		foreach(lc, s3db_pending_new_ids(st->serverid, st->userid, st->res->name,
													st->cid))
		{
			const char *id = (const char *) lfirst(lc);

			if (s3db_strhash_lookup(st->emitted, id, HASH_FIND, NULL, st->rescan_cxt) == NULL)
				st->tail = lappend(st->tail, pstrdup(id));
		}
		MemoryContextSwitchTo(old);
		st->tail_ready = true;
	}
	old = MemoryContextSwitchTo(st->batch_cxt);
	st->batch_ids = palloc(sizeof(char *) * st->batch_size);
	while (n < st->batch_want && st->tail != NIL)
	{
		st->batch_ids[n++] = pstrdup((char *) linitial(st->tail));
		st->tail = list_delete_first(st->tail);
	}
	MemoryContextSwitchTo(old);
	return n;
}

bool
s3db_fill_batch(S3dbScanState *st)
{
	bool		prefetch;
	int			n;

	/*
	 * Under a LIMIT the first batch asks for no more than the limit, and
	 * each later one for four times as many, up to the full batch size.
	 */
	if (st->batch_want == 0)
		st->batch_want = st->limit_hint > 0 ? Min(st->limit_hint, st->batch_size) : st->batch_size;
	else
		st->batch_want = Min(st->batch_want * 4, st->batch_size);

	s3db_release_batch(st);
	n = next_batch_ids(st, &prefetch);
	if (n == 0 && !st->direct)
		n = next_tail_ids(st);
	if (n == 0)
		return false;
	if (st->mode == FETCH_NONE)
	{
		st->nreqs = n;
		for (int i = 0; i < n; i++)
		{
			s3s_request_init(&st->reqs[i], S3S_OP_HEAD, NULL);
			st->reqs[i].user = s3db_pending_lookup(st->serverid, st->userid,
												   st->res->name, st->batch_ids[i],
												   st->cid, st->batch_cxt);
		}
	}
	else
		fetch_batch(st, n, prefetch);
	st->pos = 0;
	return true;
}
