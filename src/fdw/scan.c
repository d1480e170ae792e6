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
#include "fdw/scan_int.h"
#include "fdw/xact.h"
#include "format/encode.h"
#include "utils/hsearch.h"


static const char *const fetch_mode_names[] = {
	"LIST only", "HEAD per record", "HEAD per record, GET when the body is needed",
	"GET per record"
};

/*
 * Memory context callback: free whatever the core still holds.  The child
 * contexts (the batch's) are gone already when the scan's context is
 * deleted, so only the requests themselves are released here.
 */
static void
scan_release(void *arg)
{
	S3dbScanState *st = (S3dbScanState *) arg;

	for (int i = 0; i < st->nreqs; i++)
		s3s_request_reset(&st->reqs[i]);
	st->nreqs = 0;
	if (st->have_page)
		s3s_list_free(&st->page);
	st->have_page = false;
	if (st->have_next)
		s3s_list_free(&st->next_page);
	st->have_next = false;
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
	st->rescan_cxt = AllocSetContextCreate(st->cxt, "s3db_fdw rescan",
										   ALLOCSET_DEFAULT_SIZES);
	cb = MemoryContextAlloc(st->cxt, sizeof(MemoryContextCallback));
	cb->func = scan_release;
	cb->arg = st;
	MemoryContextRegisterResetCallback(st->cxt, cb);

	st->relname = pstrdup(RelationGetRelationName(rel));
	userid = s3db_scan_check_as_user(fsplan, estate);
	if (!OidIsValid(userid))
		userid = GetUserId();
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
	st->cid = estate->es_snapshot ? estate->es_snapshot->curcid : InvalidCommandId;
	st->truncated = s3db_pending_truncated(st->serverid, st->userid, st->res->name, st->cid);
	/* sets of record ids: entries are just the key */
	st->emitted = s3db_strhash_create("s3db_fdw emitted", sizeof(char *), st->rescan_cxt);
	/* a fetch by id must at least find out whether the record exists */
	if (fsplan->fdw_exprs != NIL &&
		(list_length(fsplan->fdw_private) <= 4 || list_nth(fsplan->fdw_private, 4) == NULL))
		need_meta = true;
	st->mode = choose_fetch_mode(st, need_content, need_meta);
	st->batch_size = Max(16, Min(4 * st->conn->opts.max_inflight, 512));
	if (list_length(fsplan->fdw_private) > 6)
		st->limit_hint = intVal(list_nth(fsplan->fdw_private, 6));
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
		char	   *dp = s3db_take_string(s3f_prefix_data(st->res->name));

		st->prefixes = MemoryContextAlloc(st->cxt, sizeof(char *));
		st->prefixes[0] = MemoryContextStrdup(st->cxt, psprintf("%sid=", dp));
		st->nprefixes = 1;
	}
	st->listed = s3db_strhash_create("s3db_fdw listed", sizeof(char *), st->rescan_cxt);

	s3s_get_stats(st->conn->store, &st->stats_start);
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
		char	   *k = s3db_take_string(s3f_partition_key(st->res, &st->res->parts[i],
															  rec->vals, id));

		if (k)
			seen.markers = lappend(seen.markers, k);
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
	volatile bool remember = false;
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
		remember = st->for_modify && p == NULL;
	}

	memset(nulls, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	PG_TRY();
	{
		/* inside: remembering pallocs, and rec is malloc'd */
		if (remember)
			remember_seen(st, id, r, &rec);
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
		s3db_evaluate_ids(st, node->ss.ps.ps_ExprContext);
	else if (st->part && st->id_states != NIL && !st->prefixes_ready)
	{
		s3db_evaluate_partition_prefixes(st, node->ss.ps.ps_ExprContext);
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
				{
					bool		found;

					s3db_strhash_lookup(st->emitted, st->batch_ids[i], HASH_ENTER, &found,
										st->rescan_cxt);
				}
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
		if (!s3db_fill_batch(st))
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

	s3db_release_batch(st);
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
	st->batch_want = 0;
	st->tail = NIL;
	st->tail_ready = false;

	/*
	 * Everything derived from the parameters goes with the rescan context, so
	 * that a nested loop's inner scan stays the same size however many outer
	 * rows drive it.
	 */
	MemoryContextReset(st->rescan_cxt);
	if (st->emitted)
		st->emitted = s3db_strhash_create("s3db_fdw emitted", sizeof(char *), st->rescan_cxt);
	if (st->listed)
		st->listed = s3db_strhash_create("s3db_fdw listed", sizeof(char *), st->rescan_cxt);
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
	s3db_release_batch(st);
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

	/* a scan a LIMIT stopped early has not ended yet when EXPLAIN prints */
	if (es->analyze && st && st->conn && st->res && !st->stats_done)
		s3s_get_stats(st->conn->store, &st->stats_end);
	if (es->analyze && st && st->conn && st->res)
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
			/* what the store allows now: s3db_fdw.max_inflight or the server's */
			ExplainPropertyInteger("S3 Max In Flight", NULL,
								   s3s_get_max_inflight(st->conn->store), es);
			ExplainPropertyInteger("S3 Batch Size", NULL, st->batch_size, es);
		}
	}
}
