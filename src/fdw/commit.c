/*-------------------------------------------------------------------------
 *
 * commit.c
 *		Applying a transaction's pending writes to a store at commit.
 *
 * The log of pending writes (xact.c) is collapsed to the final state of
 * each record, then applied concurrently, in phases and in chunks:
 *	0. TRUNCATE: delete every record and reference of the resource
 *	1. partition references of the new states (a reference without its
 *	   record is skipped by readers; a record without its reference would
 *	   be missed by partition queries)
 *	2. new records: PUT with If-None-Match: * (a record that appeared in the
 *	   meantime is a unique violation; the new records already written by
 *	   this commit, and their references, are deleted again before the error)
 *	3. changed and deleted records: PUT/COPY/DELETE with If-Match: <ETag
 *	   read>, so a record changed by someone else since we read it is a
 *	   serialization failure, never a lost update
 *	4. stale partition references are deleted
 * Each record is one object written at once, so after any failure or crash
 * a record is either in its old state or in its new one, with its
 * references; an error aborts the transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "fdw/commit.h"

static void
meta_view(s3s_meta *m, const S3dbPayload *p)
{
	m->n = p->nmeta;
	m->cap = p->nmeta;
	m->keys = p->mkeys;
	m->values = p->mvals;
}

static void
raise_write_error(const s3s_error *err, const char *resource, const char *id, bool insert)
{
	if (err->code == S3S_ERR_PRECONDITION && insert)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("record \"%s\" of resource \"%s\" already exists", id, resource),
				 errdetail("Another writer created it before this transaction committed.")));
	if (err->code == S3S_ERR_PRECONDITION || (err->code == S3S_ERR_NOT_FOUND && !insert))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access to record \"%s\" of resource \"%s\"",
						id, resource),
				 errdetail("The record was changed or deleted by another writer since this transaction read it."),
				 errhint("Retry the transaction.")));
	s3db_report(err, psprintf("could not write record \"%s\" of resource \"%s\"", id, resource));
}

static void
init_write(s3s_request *r, const S3dbFinal *f, s3s_meta *mv)
{
	const S3dbPending *p = f->last;
	S3dbPayload pl;

	if (p->op == PENDING_DELETE)
		s3s_request_init(r, S3S_OP_DELETE, p->key);
	else if (p->op == PENDING_COPY)
	{
		s3db_pending_payload(p, &pl);
		s3s_request_init(r, S3S_OP_COPY, p->key);
		r->copy_source = p->key;
		meta_view(mv, &pl);
		r->meta = mv;
	}
	else
	{
		s3db_pending_payload(p, &pl);
		s3s_request_init(r, S3S_OP_PUT, p->key);
		meta_view(mv, &pl);
		r->meta = mv;
		r->body = (const unsigned char *) pl.body;
		r->body_len = pl.body_len;
		r->content_type = pl.content_type;
	}
	if (f->first->is_insert)
		r->if_none_match = true;
	else if (f->seen && f->seen->etag && f->seen->etag[0])
		r->if_match = f->seen->etag;
}

#define COMMIT_CHUNK 256

static bool
str_member(List *strs, const char *s)
{
	ListCell   *lc;

	foreach(lc, strs)
		if (strcmp((const char *) lfirst(lc), s) == 0)
			return true;
	return false;
}

/*
 * A conditional PUT that failed its precondition may have been sent twice,
 * the first time landing with its answer lost.  The record is ours if it
 * carries our revision (a random token per version, so never someone
 * else's), or, for binary content without one, our bytes.
 */
static bool
own_write(S3dbConn *conn, const S3dbFinal *f)
{
	S3dbPayload pl;
	const char *rev = NULL;
	s3s_object	o;
	s3s_error	err;
	bool		ours = false;

	s3db_pending_payload(f->last, &pl);
	for (int i = 0; i < pl.nmeta; i++)
		if (strcmp(pl.mkeys[i], "_rev") == 0)
			rev = pl.mvals[i];
	memset(&o, 0, sizeof(o));
	s3s_error_clear(&err);
	if (s3s_head(conn->store, f->last->key, &o, &err) == S3S_OK)
	{
		const char *theirs = s3s_meta_get(&o.meta, "_rev");

		if (rev)
			ours = theirs != NULL && strcmp(theirs, rev) == 0;
		else if (pl.body && o.etag)
		{
			/* binary content carries no revision: compare the bytes' MD5 */
			char		md5[33];

			s3s_md5_hex((const unsigned char *) pl.body, pl.body_len, md5);
			ours = strcmp(md5, o.etag) == 0;
		}
	}
	s3s_object_free(&o);
	return ours;
}

/*
 * Whether a failed write of phase 3 (a record that existed) is in fact done.
 * A write whose answer was lost is sent again, by our retries or by
 * libcurl's own resend on a reused connection that died (which the attempt
 * count does not see), and then fails its own precondition: a DELETE finds
 * the record gone (404, or 412 from a store that checks If-Match on a
 * missing key), a PUT or COPY finds our revision in place.  A record
 * deleted by someone else is gone either way.
 */
static bool
own_change(S3dbConn *conn, const S3dbFinal *f, const s3s_request *r)
{
	s3s_code	code = r->err.code;

	if (r->op == S3S_OP_DELETE)
	{
		s3s_object	o;
		s3s_error	err;
		bool		gone;

		if (code == S3S_ERR_NOT_FOUND)
			return true;
		if (code != S3S_ERR_PRECONDITION)
			return false;
		memset(&o, 0, sizeof(o));
		s3s_error_clear(&err);
		gone = s3s_head(conn->store, r->key, &o, &err) != S3S_OK &&
			err.code == S3S_ERR_NOT_FOUND;
		s3s_object_free(&o);
		return gone;
	}
	return code == S3S_ERR_PRECONDITION && own_write(conn, f);
}

/*
 * A new record could not be written: take back the records this commit
 * created and the partition references of every new record.
 */
static void
undo_inserts(S3dbConn *conn, List *inserts, List *written)
{
	List	   *keys = NIL;
	ListCell   *lc;
	int			n;
	s3s_request *undo;
	int			i = 0;

	foreach(lc, written)
		keys = lappend(keys, ((S3dbFinal *) lfirst(lc))->last->key);
	foreach(lc, inserts)
	{
		ListCell   *lm;

		foreach(lm, ((S3dbFinal *) lfirst(lc))->last->markers)
			keys = lappend(keys, lfirst(lm));
	}
	n = list_length(keys);
	if (n == 0)
		return;
	/* a request is over a kilobyte: a chunk at a time */
	undo = palloc0(sizeof(s3s_request) * Min(n, COMMIT_CHUNK));
	lc = list_head(keys);
	for (int off = 0; off < n; off += COMMIT_CHUNK)
	{
		int			m = Min(COMMIT_CHUNK, n - off);

		for (i = 0; i < m; i++, lc = lnext(keys, lc))
			s3s_request_init(&undo[i], S3S_OP_DELETE, (char *) lfirst(lc));
		s3s_execute(conn->store, undo, m);
		for (i = 0; i < m; i++)
			s3s_request_reset(&undo[i]);
	}
}

/* The finals that create records. */
static List *
new_records(List *finals)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, finals)
	{
		S3dbFinal  *f = (S3dbFinal *) lfirst(lc);

		if (f->first->is_insert && f->last->op != PENDING_DELETE)
			out = lappend(out, f);
	}
	return out;
}

/* Delete every key under a prefix, a listing page at a time. */
static void
delete_prefix(S3dbConn *conn, const char *prefix, const char *what)
{
	S3dbPager	pg;
	const s3s_list *page;

	s3db_pager_start(&pg, conn, prefix, NULL, what);
	while ((page = s3db_pager_next(&pg)) != NULL)
	{
		s3s_request d;
		const char **keys;

		if (page->n == 0)
			continue;
		keys = palloc(sizeof(char *) * page->n);
		for (int i = 0; i < page->n; i++)
			keys[i] = page->entries[i].key;
		s3s_request_init(&d, S3S_OP_DELETE_MANY, NULL);
		d.keys = keys;
		d.nkeys = page->n;
		s3db_execute(conn, &d, 1);
		if (d.err.code != S3S_OK)
		{
			s3s_error	e = d.err;

			s3s_request_reset(&d);
			s3db_pager_end(&pg);
			s3db_report(&e, what);
		}
		s3s_request_reset(&d);
		pfree(keys);
	}
}

/* Apply the pending writes of one connection. */
void
s3db_commit_apply(S3dbConn *conn, List *finals, List *truncs)
{
	s3s_request *reqs = palloc0(sizeof(s3s_request) * COMMIT_CHUNK);
	s3s_meta   *mvs = palloc0(sizeof(s3s_meta) * COMMIT_CHUNK);
	S3dbFinal **fs = palloc(sizeof(S3dbFinal *) * COMMIT_CHUNK);
	int			nr;
	ListCell   *lc;
	List	   *put_markers = NIL;
	List	   *del_markers = NIL;

	/* phase 0: truncates */
	foreach(lc, truncs)
	{
		const char *resource = (const char *) lfirst(lc);

		char	   *what = psprintf("could not truncate resource \"%s\"", resource);

		/* records and their partition references; sequences stay */
		delete_prefix(conn, psprintf("resource=%s/data/", resource), what);
		delete_prefix(conn, psprintf("resource=%s/partition=", resource), what);
	}

	/*
	 * phase 1: partition references of the new states, before the records:
	 * a reader skips a reference whose record is missing or does not match,
	 * but a record without its reference would be invisible to partition
	 * queries.  Stale references go last, once the records are in place.
	 */
	foreach(lc, finals)
	{
		S3dbFinal  *f = (S3dbFinal *) lfirst(lc);
		List	   *newm = f->last->op == PENDING_DELETE ? NIL : f->last->markers;
		ListCell   *lc2;

		foreach(lc2, newm)
		{
			/* a reference the record already had stays as it is */
			if (f->seen && str_member(f->seen->markers, (const char *) lfirst(lc2)))
				continue;
			put_markers = lappend(put_markers, list_make2(lfirst(lc2), f->last->version));
		}
		if (f->seen)
			foreach(lc2, f->seen->markers)
			{
				bool		keep = false;
				ListCell   *lc3;

				foreach(lc3, newm)
					keep |= strcmp((char *) lfirst(lc3), (char *) lfirst(lc2)) == 0;
				if (!keep)
					del_markers = lappend(del_markers, lfirst(lc2));
			}
	}
	if (put_markers != NIL)
	{
		int			np = list_length(put_markers);
		ListCell   *next = list_head(put_markers);
		char	   *vkey = "_v";
		char	  **vvals = palloc(sizeof(char *) * COMMIT_CHUNK);

		for (int off = 0; off < np; off += COMMIT_CHUNK)
		{
			int			m = Min(COMMIT_CHUNK, np - off);

			for (int i = 0; i < m; i++, next = lnext(put_markers, next))
			{
				List	   *pair = (List *) lfirst(next);

				/* a reference's only metadata is the version of its record */
				vvals[i] = lsecond(pair) ? (char *) lsecond(pair) : "v1";
				mvs[i].n = mvs[i].cap = 1;
				mvs[i].keys = &vkey;
				mvs[i].values = &vvals[i];
				s3s_request_init(&reqs[i], S3S_OP_PUT, (char *) linitial(pair));
				reqs[i].meta = &mvs[i];
			}
			s3db_execute(conn, reqs, m);
			for (int i = 0; i < m; i++)
				if (reqs[i].err.code != S3S_OK)
				{
					s3s_error	e = reqs[i].err;

					for (int j = 0; j < m; j++)
						s3s_request_reset(&reqs[j]);
					/* nothing of this commit stays behind: its new records' references go */
					undo_inserts(conn, new_records(finals), NIL);
					s3db_report(&e, "could not write a partition reference");
				}
			for (int i = 0; i < m; i++)
				s3s_request_reset(&reqs[i]);
		}
	}

	/*
	 * phase 2: new records, conditionally, in chunks (payloads of a large
	 * transaction come back from disk one chunk at a time)
	 */
	{
		List	   *inserts = NIL;
		List	   *written = NIL;	/* Final * of records this commit created */
		MemoryContext chunk_cxt = AllocSetContextCreate(CurrentMemoryContext,
														"s3db_fdw commit chunk",
														ALLOCSET_DEFAULT_SIZES);

		foreach(lc, finals)
		{
			S3dbFinal  *f = (S3dbFinal *) lfirst(lc);

			if (f->first->is_insert && f->last->op != PENDING_DELETE)
				inserts = lappend(inserts, f);
		}
		for (int off = 0; off < list_length(inserts); off += COMMIT_CHUNK)
		{
			int			bad = -1;
			MemoryContext old = MemoryContextSwitchTo(chunk_cxt);

			nr = 0;
			for (int k = off; k < list_length(inserts) && nr < COMMIT_CHUNK; k++)
			{
				fs[nr] = (S3dbFinal *) list_nth(inserts, k);
				init_write(&reqs[nr], fs[nr], &mvs[nr]);
				nr++;
			}
			MemoryContextSwitchTo(old);
			s3db_execute(conn, reqs, nr);
			for (int k = 0; k < nr; k++)
			{
				if (reqs[k].err.code == S3S_OK ||
					(reqs[k].err.code == S3S_ERR_PRECONDITION && own_write(conn, fs[k])))
					written = lappend(written, fs[k]);
				else if (bad < 0)
					bad = k;
			}
			if (bad >= 0)
			{
				s3s_error	e = reqs[bad].err;
				S3dbFinal  *badf = fs[bad];

				for (int k = 0; k < nr; k++)
					s3s_request_reset(&reqs[k]);
				undo_inserts(conn, inserts, written);
				raise_write_error(&e, badf->last->resource, badf->last->id, true);
			}
			for (int k = 0; k < nr; k++)
				s3s_request_reset(&reqs[k]);
			MemoryContextReset(chunk_cxt);
		}

		/* phase 3: changes to records that existed, likewise in chunks */
		nr = 0;
		foreach(lc, finals)
		{
			S3dbFinal  *f = (S3dbFinal *) lfirst(lc);
			bool		last = lnext(finals, lc) == NULL;

			if (!f->first->is_insert)
			{
				MemoryContext old = MemoryContextSwitchTo(chunk_cxt);

				fs[nr] = f;
				init_write(&reqs[nr], f, &mvs[nr]);
				nr++;
				MemoryContextSwitchTo(old);
			}
			if (nr > 0 && (nr == COMMIT_CHUNK || last))
			{
				s3db_execute(conn, reqs, nr);
				for (int k = 0; k < nr; k++)
				{
					if (reqs[k].err.code != S3S_OK && !own_change(conn, fs[k], &reqs[k]))
					{
						s3s_error	e = reqs[k].err;
						S3dbFinal  *badf = fs[k];

						for (int j2 = 0; j2 < nr; j2++)
							s3s_request_reset(&reqs[j2]);
						raise_write_error(&e, badf->last->resource, badf->last->id, false);
					}
				}
				for (int k = 0; k < nr; k++)
					s3s_request_reset(&reqs[k]);
				MemoryContextReset(chunk_cxt);
				nr = 0;
			}
		}
		MemoryContextDelete(chunk_cxt);
	}

	/* this backend's cached copies of written records are stale now */
	foreach(lc, finals)
		s3db_cache_forget(conn, ((S3dbFinal *) lfirst(lc))->last->key);

	/* phase 4: stale partition references */
	if (del_markers != NIL)
	{
		int			nd = list_length(del_markers);
		const char **keys = palloc(sizeof(char *) * nd);
		int			i = 0;

		foreach(lc, del_markers)
			keys[i++] = (const char *) lfirst(lc);
		for (int off = 0; off < nd; off += 1000)
		{
			s3s_request d;

			s3s_request_init(&d, S3S_OP_DELETE_MANY, NULL);
			d.keys = keys + off;
			d.nkeys = Min(1000, nd - off);
			s3db_execute(conn, &d, 1);
			if (d.err.code != S3S_OK)
			{
				s3s_error	e = d.err;

				s3s_request_reset(&d);
				s3db_report(&e, "could not delete stale partition references");
			}
			s3s_request_reset(&d);
		}
	}
}

