/*-------------------------------------------------------------------------
 *
 * scan.c
 *		Executing foreign scans: list, fetch in concurrent batches, decode.
 *
 * A scan walks the keys of the resource's data prefix one LIST page at a
 * time (or the ids pinned by the quals) and fetches records in batches: a
 * batch of HEAD or GET requests runs concurrently on the store, and the
 * LIST of the next page rides along with the last batch of the current
 * one.  What each record costs depends on the columns the query needs:
 *
 *	nothing but ids (count(*), SELECT id)	no request per record
 *	fields that live in metadata			HEAD
 *	fields that may be in a JSON body		HEAD, then GET only if needed;
 *											switches to GET when most need it
 *	binary content, or body-only resources	GET
 *
 * Memory stays constant: each batch's results are released before the next
 * one, and tuples are built in a context reset for every row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "format/encode.h"
#include "utils/hsearch.h"

typedef enum FetchMode
{
	FETCH_NONE,					/* ids only: LIST is enough */
	FETCH_HEAD,					/* metadata only */
	FETCH_HEAD_THEN_GET,		/* metadata, GET when a needed field is in the body */
	FETCH_GET					/* always the whole object */
} FetchMode;

static const char *const fetch_mode_names[] = {
	"LIST only", "HEAD per record", "HEAD per record, GET when the body is needed",
	"GET per record"
};

typedef struct S3dbScanState
{
	MemoryContext cxt;			/* owns everything below; reset frees core results */
	MemoryContext tuple_cxt;	/* reset per row */
	S3dbConn   *conn;
	S3dbCatalog *cat;
	const s3f_resource *res;
	char	   *relname;

	int			ncols;
	S3dbColumn *cols;			/* needed columns only */
	bool	   *wanted;			/* per resource attribute */
	FetchMode	mode;
	int			batch_size;

	/* direct fetch by id */
	bool		direct;
	List	   *id_states;		/* ExprStates */
	List	   *id_kinds;
	char	  **ids;			/* palloc'd, sorted, unique */
	int			nids;
	int			id_pos;

	/* listing: the data prefix, or the prefixes of a partition */
	char	  **prefixes;		/* "resource=R/data/id=" or ".../partition=P/f=v/id=" */
	int			nprefixes;
	int			prefix_idx;
	const s3f_partition *part;	/* partition listed, or NULL */
	List	   *part_fields;	/* field index of each expression */
	HTAB	   *listed;			/* ids already returned (partitions may repeat them) */
	bool		prefixes_ready;
	s3s_list	page;			/* current page (malloc'd by the store) */
	int			page_pos;
	bool		have_page;
	bool		list_done;		/* the current page is the prefix's last */
	s3s_list	next_page;		/* prefetched with the previous batch */
	bool		have_next;

	/* current batch */
	s3s_request *reqs;			/* palloc'd array of batch_size + 1 */
	char	  **batch_ids;		/* palloc'd per batch in batch_cxt */
	s3s_list_entry *batch_list;	/* the listing entry of each id, or NULL (direct) */
	int64		cache_hits;
	int			nreqs;
	int			pos;
	MemoryContext batch_cxt;
	int64		head_then_get;	/* HEADs that needed a GET */
	int64		heads;

	/* for EXPLAIN ANALYZE */
	s3s_stats	stats_start;
	s3s_stats	stats_end;
	bool		stats_done;
	int64		records;

	/* this transaction's pending writes */
	Oid			serverid;
	Oid			userid;
	bool		for_modify;		/* remember ETags and references for writes */
	bool		modify_reads_all;	/* ... and every attribute (UPDATE merges) */
	bool		truncated;		/* the resource was truncated in this transaction */
	HTAB	   *emitted;		/* ids served from pending writes while listing */
	List	   *tail;			/* pending inserts still to return after listing */
	bool		tail_ready;

	/* error context */
	const char *cur_id;
	const char *cur_col;
	const char *cur_value;
} S3dbScanState;

static void release_batch(S3dbScanState *st);

/* Memory context callback: free whatever the core still holds. */
static void
scan_release(void *arg)
{
	S3dbScanState *st = (S3dbScanState *) arg;

	release_batch(st);
	if (st->have_page)
		s3s_list_free(&st->page);
	st->have_page = false;
	if (st->have_next)
		s3s_list_free(&st->next_page);
	st->have_next = false;
}

static void
release_batch(S3dbScanState *st)
{
	for (int i = 0; i < st->nreqs; i++)
		s3s_request_reset(&st->reqs[i]);
	st->nreqs = 0;
	st->pos = 0;
	if (st->batch_cxt)
		MemoryContextReset(st->batch_cxt);
}

static void
conversion_error_callback(void *arg)
{
	S3dbScanState *st = (S3dbScanState *) arg;

	if (st->cur_col)
	{
		if (st->cur_value)
			errcontext("column \"%s\" of foreign table \"%s\", record \"%s\", value \"%.80s\"",
					   st->cur_col, st->relname, st->cur_id ? st->cur_id : "?",
					   st->cur_value);
		else
			errcontext("column \"%s\" of foreign table \"%s\", record \"%s\"",
					   st->cur_col, st->relname, st->cur_id ? st->cur_id : "?");
	}
	else if (st->cur_id)
		errcontext("record \"%s\" of foreign table \"%s\"", st->cur_id, st->relname);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Evaluate the id expressions: the sorted, de-duplicated ids to fetch. */
static void
evaluate_ids(S3dbScanState *st, ExprContext *econtext)
{
	ListCell   *lc1,
			   *lc2;
	List	   *ids = NIL;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);

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

static FetchMode
choose_fetch_mode(S3dbScanState *st, bool need_content, bool need_meta)
{
	bool		any_attr = false;

	for (int i = 0; i < st->res->nattrs; i++)
		any_attr |= st->wanted[i];

	if (need_content || (any_attr && st->res->behavior == S3F_B_BODY_ONLY))
		return FETCH_GET;
	if (!any_attr)
		return need_meta ? FETCH_HEAD : FETCH_NONE;
	if (!s3f_behavior_uses_body(st->res->behavior))
		return FETCH_HEAD;
	return FETCH_HEAD_THEN_GET;
}

void
s3dbBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Relation	rel = node->ss.ss_currentRelation;
	S3dbScanState *st;
	RangeTblEntry *rte;
	Oid			userid;
	char	   *resource = strVal(linitial(fsplan->fdw_private));
	List	   *attnums = (List *) lsecond(fsplan->fdw_private);
	MemoryContextCallback *cb;
	bool		need_content = false;
	bool		need_meta = false;
	ListCell   *lc;
	S3dbTableOptions topts;

	st = palloc0(sizeof(S3dbScanState));
	node->fdw_state = st;
	st->cxt = AllocSetContextCreate(estate->es_query_cxt, "s3db_fdw scan",
									ALLOCSET_DEFAULT_SIZES);
	st->tuple_cxt = AllocSetContextCreate(st->cxt, "s3db_fdw tuple",
										  ALLOCSET_DEFAULT_SIZES);
	st->batch_cxt = AllocSetContextCreate(st->cxt, "s3db_fdw batch",
										  ALLOCSET_DEFAULT_SIZES);
	cb = MemoryContextAlloc(st->cxt, sizeof(MemoryContextCallback));
	cb->func = scan_release;
	cb->arg = st;
	MemoryContextRegisterResetCallback(st->cxt, cb);

	st->relname = pstrdup(RelationGetRelationName(rel));
#if PG_VERSION_NUM >= 160000
	(void) rte;
	userid = OidIsValid(fsplan->checkAsUser) ? fsplan->checkAsUser : GetUserId();
#else
	rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);
	userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
#endif
	s3db_table_options(RelationGetRelid(rel), &topts);

	st->conn = s3db_get_conn(topts.serverid, userid);
	st->serverid = topts.serverid;
	st->userid = userid;
	st->for_modify = list_length(fsplan->fdw_private) > 3 &&
		intVal(list_nth(fsplan->fdw_private, 3)) != 0;
	st->modify_reads_all = st->for_modify && intVal(list_nth(fsplan->fdw_private, 3)) == 2;
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st->cat = s3db_catalog_pin(st->conn, st->cxt);
	st->res = s3db_find_resource(st->cat, resource, st->relname);

	/* needed columns and the attributes they read */
	st->wanted = MemoryContextAllocZero(st->cxt, sizeof(bool) * Max(st->res->nattrs, 1));
	st->cols = MemoryContextAllocZero(st->cxt, sizeof(S3dbColumn) * Max(list_length(attnums), 1));
	foreach(lc, attnums)
	{
		MemoryContext old = MemoryContextSwitchTo(st->cxt);
		S3dbColumn *col = &st->cols[st->ncols++];

		s3db_column_init(col, rel, (AttrNumber) lfirst_int(lc), st->res);
		MemoryContextSwitchTo(old);
		if (col->attr_index >= 0)
			st->wanted[col->attr_index] = true;
		else if (col->attr_index == S3DB_COL_CONTENT)
			need_content = true;
		else if (col->attr_index == S3DB_COL_CONTENT_TYPE)
			need_meta = true;
	}
	if (st->for_modify)
	{
		/*
		 * Writes need the ETag, the old partition references and, unless the
		 * UPDATE replaces everything, the attributes the table does not
		 * carry, which the new version of the record keeps.
		 */
		need_meta = true;
		if (st->modify_reads_all)
			for (int a = 0; a < st->res->nattrs; a++)
				st->wanted[a] = true;
		for (int p = 0; p < st->res->nparts; p++)
			for (int f = 0; f < st->res->parts[p].nfields; f++)
			{
				const s3f_attr *a = s3f_resource_attr(st->res, st->res->parts[p].fields[f]);

				if (a)
					st->wanted[a - st->res->attrs] = true;
			}
	}
	st->truncated = s3db_pending_truncated(st->serverid, st->userid, st->res->name);
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = 1100;
		ctl.entrysize = 1100;
		ctl.hcxt = st->cxt;
		st->emitted = hash_create("s3db_fdw emitted", 64, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	/* a fetch by id must at least find out whether the record exists */
	if (fsplan->fdw_exprs != NIL &&
		(list_length(fsplan->fdw_private) <= 4 || list_nth(fsplan->fdw_private, 4) == NULL))
		need_meta = true;
	st->mode = choose_fetch_mode(st, need_content, need_meta);
	st->batch_size = Max(16, Min(4 * st->conn->opts.max_inflight, 512));
	st->reqs = MemoryContextAllocZero(st->cxt, sizeof(s3s_request) * (st->batch_size + 1));

	/* direct fetch by id, or listing of partition prefixes? */
	if (list_length(fsplan->fdw_private) > 4 && list_nth(fsplan->fdw_private, 4) != NULL)
	{
		const char *pname = strVal(list_nth(fsplan->fdw_private, 4));

		for (int p = 0; p < st->res->nparts; p++)
			if (strcmp(st->res->parts[p].name, pname) == 0)
				st->part = &st->res->parts[p];
		st->part_fields = (List *) list_nth(fsplan->fdw_private, 5);
	}
	if (fsplan->fdw_exprs != NIL)
	{
		st->id_states = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
		st->id_kinds = (List *) lthird(fsplan->fdw_private);
		st->direct = list_length(fsplan->fdw_private) <= 4 ||
			list_nth(fsplan->fdw_private, 4) == NULL;
	}
	{
		char	   *dp = s3f_prefix_data(st->res->name);

		st->prefixes = MemoryContextAlloc(st->cxt, sizeof(char *));
		st->prefixes[0] = MemoryContextStrdup(st->cxt, psprintf("%sid=", dp));
		st->nprefixes = 1;
		free(dp);
	}
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = 1100;
		ctl.entrysize = 1100;
		ctl.hcxt = st->cxt;
		st->listed = hash_create("s3db_fdw listed", 64, &ctl,
								 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}

	s3s_get_stats(st->conn->store, &st->stats_start);
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
		hash_search(st->listed, rest, HASH_ENTER, &found);
		if (found)
			return NULL;
	}
	return pstrdup(rest);
}

/*
 * Partition prefixes from the evaluated quals: one per combination of the
 * values given for the fields (IN lists multiply).
 */
static void
evaluate_partition_prefixes(S3dbScanState *st, ExprContext *econtext)
{
	int			nf = st->part->nfields;
	List	  **choices = palloc0(sizeof(List *) * nf);
	ListCell   *lc1,
			   *lc2,
			   *lc3;
	int		   *pos = palloc0(sizeof(int) * nf);
	List	   *out = NIL;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);

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
		{
			out = lappend(out, psprintf("%s/id=", pfx));
			free(pfx);
		}
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
		while (n < st->batch_size && st->id_pos < st->nids)
			st->batch_ids[n++] = st->ids[st->id_pos++];
		MemoryContextSwitchTo(old);
		return n;
	}

	while (n < st->batch_size && st->prefix_idx < st->nprefixes)
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
	s3s_request *run = palloc0(sizeof(s3s_request) * (n + 1));
	int			nrun = 0;
	s3s_request *list = NULL;

	for (int i = 0; i < n; i++)
	{
		char	   *k = s3f_key_data(st->res->name, st->batch_ids[i]);
		S3dbPending *p = s3db_pending_lookup(st->serverid, st->userid, st->res->name,
											 st->batch_ids[i]);

		keys[i] = pstrdup(k);
		free(k);
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
	st->nreqs = n;
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
		s3s_request *gets = palloc0(sizeof(s3s_request) * nrun);

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
			}
			st->head_then_get += nget;
		}
		/* most records need their body: stop paying for the HEAD */
		if (st->heads >= 32 && st->head_then_get * 2 > st->heads)
			st->mode = FETCH_GET;
	}
	for (int j = 0; j < nrun; j++)
	{
		st->reqs[idx[j]] = run[j];
		if (st->batch_list && run[j].err.code == S3S_OK && run[j].user == NULL)
		{
			s3s_list_entry *le = &st->batch_list[idx[j]];

			s3db_cache_put(st->conn, run[j].key, &run[j].obj, run[j].op == S3S_OP_GET,
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

		old = MemoryContextSwitchTo(st->cxt);
		foreach(lc, s3db_pending_for_resource(st->serverid, st->userid, st->res->name))
		{
			S3dbPending *p = (S3dbPending *) lfirst(lc);

			if (p->is_insert && p->op != PENDING_DELETE &&
				hash_search(st->emitted, p->id, HASH_FIND, NULL) == NULL)
				st->tail = lappend(st->tail, pstrdup(p->id));
		}
		MemoryContextSwitchTo(old);
		st->tail_ready = true;
	}
	old = MemoryContextSwitchTo(st->batch_cxt);
	st->batch_ids = palloc(sizeof(char *) * st->batch_size);
	while (n < st->batch_size && st->tail != NIL)
	{
		st->batch_ids[n++] = pstrdup((char *) linitial(st->tail));
		st->tail = list_delete_first(st->tail);
	}
	MemoryContextSwitchTo(old);
	return n;
}

static bool
fill_batch(S3dbScanState *st)
{
	bool		prefetch;
	int			n;

	release_batch(st);
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
												   st->res->name, st->batch_ids[i]);
		}
	}
	else
		fetch_batch(st, n, prefetch);
	st->pos = 0;
	return true;
}

/*
 * Remember what the store held for a record an UPDATE or DELETE is about to
 * change: its ETag (for If-Match at commit), whether it has a body, and its
 * partition references (to delete the stale ones).
 */
static void
remember_seen(S3dbScanState *st, const char *id, s3s_request *r, s3f_record *rec)
{
	S3dbSeen	seen;

	memset(&seen, 0, sizeof(seen));
	seen.etag = r->obj.etag;
	seen.has_body = r->obj.size > 0;
	seen.nmeta = r->obj.meta.n;
	seen.mkeys = r->obj.meta.keys;
	seen.mvals = r->obj.meta.values;
	if (r->op == S3S_OP_GET && !rec->has_content)
	{
		seen.body = (char *) r->obj.body;
		seen.body_len = r->obj.body_len;
	}
	seen.content_type = r->obj.content_type;
	seen.has_content = rec->has_content;
	seen.version = rec->version;
	for (int i = 0; i < st->res->nparts; i++)
	{
		char	   *k = s3f_partition_key(st->res, &st->res->parts[i], rec->vals, id);

		if (k)
		{
			seen.markers = lappend(seen.markers, pstrdup(k));
			free(k);
		}
	}
	if (rec->has_content)
	{
		static const char *const ck[] = {"_hascontent", "_mimetype", "_contentlength"};

		for (int i = 0; i < 3; i++)
		{
			const char *v = s3s_meta_get(&r->obj.meta, ck[i]);

			if (v)
				seen.content_meta = lappend(lappend(seen.content_meta, (char *) ck[i]),
											(char *) v);
		}
	}
	s3db_seen_put(st->serverid, st->userid, st->res->name, id, &seen);
}

/* Build the row of one fetched record into the slot. */
static void
store_record(S3dbScanState *st, TupleTableSlot *slot, const char *id, s3s_request *r)
{
	s3f_record	rec;
	s3s_error	err;
	volatile bool have_rec = false;
	Datum	   *values = slot->tts_values;
	bool	   *nulls = slot->tts_isnull;
	ErrorContextCallback errcb;

	memset(&rec, 0, sizeof(rec));
	st->cur_id = id;
	st->cur_col = NULL;
	st->cur_value = NULL;
	errcb.callback = conversion_error_callback;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (r->key != NULL || r->user != NULL)
	{
		S3dbPending *p = (S3dbPending *) r->user;
		s3s_meta	pm;
		const s3s_meta *meta = &r->obj.meta;
		const unsigned char *body = r->obj.body;
		size_t		body_len = r->obj.body_len;
		const char *ctype = r->obj.content_type;

		if (p)
		{
			/* this transaction's own version of the record */
			S3dbPayload pl;

			s3db_pending_payload(p, &pl);
			pm.n = pm.cap = pl.nmeta;
			pm.keys = pl.mkeys;
			pm.values = pl.mvals;
			meta = &pm;
			if (p->op == PENDING_PUT)
			{
				body = (const unsigned char *) pl.body;
				body_len = pl.body_len;
				ctype = pl.content_type;
			}
		}
		s3s_error_clear(&err);
		if (s3f_record_decode(st->res, id, meta, body, body_len, ctype, st->wanted,
							  st->conn->opts.passphrase, &rec, &err) != S3S_OK)
		{
			s3f_record_free(&rec);
			s3db_report(&err, psprintf("could not decode record \"%s\" of resource \"%s\"",
									   id, st->res->name));
		}
		have_rec = true;
		if (st->for_modify && p == NULL)
			remember_seen(st, id, r, &rec);
	}

	memset(nulls, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	PG_TRY();
	{
		for (int c = 0; c < st->ncols; c++)
		{
			S3dbColumn *col = &st->cols[c];
			int			a = col->attnum - 1;

			st->cur_col = col->name;
			st->cur_value = NULL;
			if (col->attr_index == S3DB_COL_ID)
			{
				st->cur_value = id;
				values[a] = s3db_text_to_datum(col, id, &nulls[a]);
			}
			else if (!have_rec || col->attr_index == S3DB_COL_UNKNOWN)
				nulls[a] = true;
			else if (col->attr_index == S3DB_COL_CONTENT)
			{
				s3f_val		v;

				memset(&v, 0, sizeof(v));
				if (rec.has_content || (r->obj.body_len > 0 &&
										!(r->obj.content_type &&
										  strstr(r->obj.content_type, "json"))))
				{
					v.kind = S3F_BYTES;
					v.str = (char *) r->obj.body;
					v.len = r->obj.body_len;
				}
				values[a] = s3db_value_to_datum(col, &v, &nulls[a]);
			}
			else if (col->attr_index == S3DB_COL_CONTENT_TYPE)
				values[a] = s3db_text_to_datum(col, rec.has_content ? rec.content_type : NULL,
											   &nulls[a]);
			else
			{
				const s3f_val *v = &rec.vals[col->attr_index];

				if (v->kind == S3F_STR || v->kind == S3F_NUM || v->kind == S3F_JSON)
					st->cur_value = v->str;
				values[a] = s3db_value_to_datum(col, v, &nulls[a]);
			}
		}
	}
	PG_FINALLY();
	{
		s3f_record_free(&rec);
	}
	PG_END_TRY();

	error_context_stack = errcb.previous;
	st->cur_id = NULL;
	st->cur_col = NULL;
	ExecStoreVirtualTuple(slot);
}

TupleTableSlot *
s3dbIterateForeignScan(ForeignScanState *node)
{
	S3dbScanState *st = (S3dbScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	ExecClearTuple(slot);
	MemoryContextReset(st->tuple_cxt);

	if (st->direct && st->ids == NULL)
		evaluate_ids(st, node->ss.ps.ps_ExprContext);
	else if (st->part && st->id_states != NIL && !st->prefixes_ready)
	{
		evaluate_partition_prefixes(st, node->ss.ps.ps_ExprContext);
		st->prefixes_ready = true;
	}

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (st->pos < st->nreqs)
		{
			int			i = st->pos++;
			s3s_request *r = &st->reqs[i];
			MemoryContext old;

			if (r->user != NULL)
			{
				S3dbPending *p = (S3dbPending *) r->user;

				if (!st->direct)
					hash_search(st->emitted, st->batch_ids[i], HASH_ENTER, NULL);
				if (p->op == PENDING_DELETE)
					continue;	/* deleted by this transaction */
			}
			if (st->mode != FETCH_NONE || r->key != NULL || r->err.code != S3S_OK)
			{
				if (r->err.code == S3S_ERR_NOT_FOUND)
					continue;	/* deleted since it was listed, or no such id */
				if (r->err.code != S3S_OK)
				{
					s3s_error	e = r->err;

					s3db_report(&e, psprintf("could not fetch record \"%s\" of resource \"%s\"",
											 st->batch_ids[i], st->res->name));
				}
			}
			old = MemoryContextSwitchTo(st->tuple_cxt);
			store_record(st, slot, st->batch_ids[i], r);
			MemoryContextSwitchTo(old);
			st->records++;
			return slot;
		}
		if (!fill_batch(st))
		{
			s3s_get_stats(st->conn->store, &st->stats_end);
			st->stats_done = true;
			return slot;
		}
	}
}

void
s3dbReScanForeignScan(ForeignScanState *node)
{
	S3dbScanState *st = (S3dbScanState *) node->fdw_state;

	release_batch(st);
	if (st->have_page)
		s3s_list_free(&st->page);
	st->have_page = false;
	if (st->have_next)
		s3s_list_free(&st->next_page);
	st->have_next = false;
	st->list_done = false;
	st->page_pos = 0;
	st->prefix_idx = 0;
	if (st->part && st->id_states != NIL)
		st->prefixes_ready = false;	/* parameters may have changed */
	st->ids = NULL;				/* parameters may have changed */
	st->tail = NIL;
	st->tail_ready = false;
	for (int h = 0; h < 2; h++)
	{
		HTAB	   *t = h == 0 ? st->emitted : st->listed;
		HASH_SEQ_STATUS hs;
		char	   *e;

		if (t == NULL)
			continue;
		hash_seq_init(&hs, t);
		while ((e = hash_seq_search(&hs)) != NULL)
			hash_search(t, e, HASH_REMOVE, NULL);
	}
	st->id_pos = 0;
}

void
s3dbEndForeignScan(ForeignScanState *node)
{
	S3dbScanState *st = (S3dbScanState *) node->fdw_state;

	if (st == NULL)
		return;
	if (!st->stats_done && st->conn)
		s3s_get_stats(st->conn->store, &st->stats_end);
	st->stats_done = true;
	/* keep the state for EXPLAIN ANALYZE; the context goes with the query */
	release_batch(st);
}

void
s3dbExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	S3dbScanState *st = (S3dbScanState *) node->fdw_state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	char	   *resource = strVal(linitial(fsplan->fdw_private));

	ExplainPropertyText("S3 Resource", resource, es);
	if (list_length(fsplan->fdw_private) > 4 && list_nth(fsplan->fdw_private, 4) != NULL)
		ExplainPropertyText("S3 Access",
							psprintf("LIST resource=%s/partition=%s/ (%d field%s)", resource,
									 strVal(list_nth(fsplan->fdw_private, 4)),
									 list_length((List *) list_nth(fsplan->fdw_private, 5)),
									 list_length((List *) list_nth(fsplan->fdw_private, 5)) == 1 ? "" : "s"),
							es);
	else if (fsplan->fdw_exprs != NIL)
		ExplainPropertyText("S3 Access", "direct fetch by id", es);
	else
		ExplainPropertyText("S3 Access", psprintf("LIST resource=%s/data/", resource), es);

	if (st && st->res)
		ExplainPropertyText("S3 Fetch", fetch_mode_names[st->mode], es);

	if (es->analyze && st && st->stats_done)
	{
		s3s_stats  *a = &st->stats_start;
		s3s_stats  *b = &st->stats_end;

		ExplainPropertyInteger("S3 LIST Requests", NULL,
							   b->requests[S3S_OP_LIST] - a->requests[S3S_OP_LIST], es);
		ExplainPropertyInteger("S3 HEAD Requests", NULL,
							   b->requests[S3S_OP_HEAD] - a->requests[S3S_OP_HEAD], es);
		ExplainPropertyInteger("S3 GET Requests", NULL,
							   b->requests[S3S_OP_GET] - a->requests[S3S_OP_GET], es);
		if (st->conn->opts.cache_bytes > 0)
			ExplainPropertyInteger("S3 Cache Hits", NULL, st->cache_hits, es);
		if (es->verbose)
		{
			ExplainPropertyInteger("S3 Retries", NULL, b->retries - a->retries, es);
			ExplainPropertyInteger("S3 Bytes In", "bytes", b->bytes_in - a->bytes_in, es);
		}
	}
}
