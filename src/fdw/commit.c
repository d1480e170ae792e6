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
 * A commit that fails after some of its writes landed reports what landed
 * (commit_landed.c), so the tally is kept as the writes succeed.  A failure
 * to delete stale references (phase 4) comes after every record landed: it
 * is a warning, the commit succeeds.
 *
 * Every phase is a pass over the records a chunk at a time (xact.c reads
 * each chunk back, from memory or from its temporary file, into a context
 * reset for the next), so a commit's memory does not grow with the number
 * of records it writes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "fdw/commit.h"
#include "fdw/modify_int.h"
#include "fdw/probe.h"

static void
meta_view(s3s_meta *m, const S3dbPayload *p)
{
	m->n = p->nmeta;
	m->cap = p->nmeta;
	m->keys = p->mkeys;
	m->values = p->mvals;
}

static void
raise_write_error(const s3s_error *err, const char *resource, const char *id, bool insert,
				  bool if_absent)
{
	/* ON CONFLICT DO NOTHING under REPEATABLE READ or SERIALIZABLE */
	if (err->code == S3S_ERR_PRECONDITION && insert && if_absent)
		s3db_conflict_at_commit(resource, id);
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
	if (f->is_insert)
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

/* One connection's commit: its request buffers and the chunk being applied. */
typedef struct Commit
{
	S3dbConn   *conn;
	Oid			serverid;
	Oid			userid;
	char	   *server;			/* its name, for the tally of what landed */
	MemoryContext chunk_cxt;	/* the finals of one chunk; reset per chunk */
	S3dbFinal  *finals;			/* COMMIT_CHUNK of them */
	s3s_request *reqs;			/* COMMIT_CHUNK requests */
	s3s_meta   *mvs;
	char	  **vvals;			/* "_v" values of reference PUTs */
	int			nreq;
	List	   *skipped;		/* keys of ON CONFLICT DO NOTHING records someone
								 * else created: never to be undone */
} Commit;

/*
 * Delete every key under a prefix, a listing page at a time; the deletions
 * of a truncated resource's records count as landed.
 */
static void
delete_prefix(Commit *c, const char *prefix, const char *what, const char *truncated)
{
	S3dbConn   *conn = c->conn;
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
		if (truncated)
			s3db_landed_entry(c->server, truncated)->truncated = true;
	}
}


/* The next chunk of finals (the previous chunk's memory is released). */
static int
next_chunk(Commit *c, S3dbFinalScan *fs)
{
	MemoryContextReset(c->chunk_cxt);
	return s3db_finals_next(fs, c->finals, COMMIT_CHUNK, c->chunk_cxt);
}

static void
reset_reqs(Commit *c)
{
	for (int i = 0; i < c->nreq; i++)
		s3s_request_reset(&c->reqs[i]);
	c->nreq = 0;
}

/* Send the queued requests; the index of the first that failed, or -1. */
static int
flush(Commit *c)
{
	int			bad = -1;

	if (c->nreq == 0)
		return -1;
	s3db_execute(c->conn, c->reqs, c->nreq);
	for (int i = 0; i < c->nreq && bad < 0; i++)
		if (c->reqs[i].err.code != S3S_OK)
			bad = i;
	return bad;
}

/*
 * Send the queued deletions of an undo (best effort: this is the way back
 * from an error already raised).  A record that could not be deleted again
 * stays created: it counts as landed.
 */
static void
flush_undo(Commit *c)
{
	if (c->nreq == 0)
		return;
	s3db_execute(c->conn, c->reqs, c->nreq);
	for (int i = 0; i < c->nreq; i++)
	{
		const char *key = c->reqs[i].key;
		const char *data;

		if (c->reqs[i].err.code == S3S_OK || c->reqs[i].err.code == S3S_ERR_NOT_FOUND ||
			strncmp(key, "resource=", 9) != 0 || (data = strstr(key, "/data/")) == NULL)
			continue;
		s3db_landed_entry(c->server, pnstrdup(key + 9, data - (key + 9)))->created++;
	}
	reset_reqs(c);
}

static void
queue_undo(Commit *c, const char *key)
{
	if (str_member(c->skipped, key))
		return;					/* another writer's record */
	if (c->nreq == COMMIT_CHUNK)
		flush_undo(c);
	s3s_request_init(&c->reqs[c->nreq++], S3S_OP_DELETE, key);
}

/*
 * A new record could not be written: take back the records this commit
 * created (those of the chunks before the failing one, and the ones of the
 * failing chunk in written) and the partition references of every new
 * record.  Reads the finals again from the start.
 */
static void
undo_inserts(Commit *c, int failed_chunk, List *written)
{
	S3dbFinalScan fs;
	int			n;
	int			chunk = 0;
	ListCell   *lc;

	reset_reqs(c);
	foreach(lc, written)
		queue_undo(c, (const char *) lfirst(lc));
	flush_undo(c);
	s3db_finals_begin(&fs, c->serverid, c->userid);
	while ((n = next_chunk(c, &fs)) > 0)
	{
		for (int i = 0; i < n; i++)
		{
			S3dbFinal  *f = &c->finals[i];

			if (!f->is_insert || f->last->op == PENDING_DELETE ||
				str_member(c->skipped, f->last->key))
				continue;
			if (chunk < failed_chunk)
				queue_undo(c, f->last->key);
			foreach(lc, f->last->markers)
				queue_undo(c, (const char *) lfirst(lc));
		}
		flush_undo(c);			/* before the chunk's memory goes */
		chunk++;
	}
}

/* Phase 1 failed: take back the references of the new records, then raise. */
static void
references_failed(Commit *c, int bad) pg_attribute_noreturn();

static void
references_failed(Commit *c, int bad)
{
	s3s_error	e = c->reqs[bad].err;

	/* nothing of this commit stays behind: its new records' references go */
	undo_inserts(c, 0, NIL);
	s3db_report(&e, "could not write a partition reference");
}

/*
 * Phase 1: the partition references of the new states, before the records:
 * a reader skips a reference whose record is missing or does not match,
 * but a record without its reference would be invisible to partition
 * queries.  A reference the record already had stays as it is.
 */
static void
put_references(Commit *c)
{
	S3dbFinalScan fs;
	int			n;
	int			bad;
	char	   *vkey = "_v";

	s3db_finals_begin(&fs, c->serverid, c->userid);
	while ((n = next_chunk(c, &fs)) > 0)
	{
		for (int i = 0; i < n; i++)
		{
			S3dbFinal  *f = &c->finals[i];
			ListCell   *lc;

			if (f->last->op == PENDING_DELETE)
				continue;
			foreach(lc, f->last->markers)
			{
				const char *key = (const char *) lfirst(lc);
				int			k;

				if (f->seen && str_member(f->seen->markers, key))
					continue;
				if (c->nreq == COMMIT_CHUNK)
				{
					if ((bad = flush(c)) >= 0)
						references_failed(c, bad);
					reset_reqs(c);
				}
				/* a reference's only metadata is the version of its record */
				k = c->nreq++;
				c->vvals[k] = f->last->version ? f->last->version : "v1";
				c->mvs[k].n = c->mvs[k].cap = 1;
				c->mvs[k].keys = &vkey;
				c->mvs[k].values = &c->vvals[k];
				s3s_request_init(&c->reqs[k], S3S_OP_PUT, key);
				c->reqs[k].meta = &c->mvs[k];
			}
		}
		/* the chunk's keys are about to go: send what is queued */
		if ((bad = flush(c)) >= 0)
			references_failed(c, bad);
		reset_reqs(c);
	}
}

/* Count a new record of a resource in a list of S3dbLanded (outside chunk memory). */
static List *
count_resource(List *counts, const char *resource)
{
	ListCell   *lc;
	S3dbLanded *l;

	foreach(lc, counts)
	{
		l = (S3dbLanded *) lfirst(lc);
		if (strcmp(l->resource, resource) == 0)
		{
			l->created++;
			return counts;
		}
	}
	l = palloc0(sizeof(S3dbLanded));
	l->resource = pstrdup(resource);
	l->created = 1;
	return lappend(counts, l);
}

/*
 * Phase 2: new records, with If-None-Match: *.  A record someone else
 * created meanwhile is a unique violation, unless it is our own write
 * whose answer was lost; the new records already written, and the
 * references of all, are deleted again before the error.
 */
static void
put_new_records(Commit *c)
{
	S3dbFinalScan fs;
	int			n;
	int			chunk = 0;
	S3dbFinal **fsel = palloc(sizeof(S3dbFinal *) * COMMIT_CHUNK);
	bool	   *ok = palloc(sizeof(bool) * COMMIT_CHUNK);
	List	   *created = NIL;	/* of S3dbLanded, counting new records written */
	ListCell   *lc;

	s3db_finals_begin(&fs, c->serverid, c->userid);
	while ((n = next_chunk(c, &fs)) > 0)
	{
		int			bad = -1;

		for (int i = 0; i < n; i++)
		{
			S3dbFinal  *f = &c->finals[i];

			if (!f->is_insert || f->last->op == PENDING_DELETE)
				continue;
			fsel[c->nreq] = f;
			init_write(&c->reqs[c->nreq], f, &c->mvs[c->nreq]);
			c->nreq++;
		}
		(void) flush(c);
		for (int k = 0; k < c->nreq; k++)
		{
			bool		taken = c->reqs[k].err.code == S3S_ERR_PRECONDITION;

			ok[k] = c->reqs[k].err.code == S3S_OK || (taken && own_write(c->conn, fsel[k]));
			if (!ok[k] && taken && fsel[k]->last->if_absent && !IsolationUsesXactSnapshot())
			{
				/* ON CONFLICT DO NOTHING: the other writer's record stays */
				MemoryContext old = MemoryContextSwitchTo(c->chunk_cxt->parent);

				c->skipped = lappend(c->skipped, pstrdup(fsel[k]->last->key));
				MemoryContextSwitchTo(old);
				fsel[k] = NULL;
				ok[k] = true;
			}
			if (!ok[k] && bad < 0)
				bad = k;
		}
		if (bad >= 0)
		{
			s3s_error	e = c->reqs[bad].err;
			List	   *written = NIL;
			char	   *resource = pstrdup(fsel[bad]->last->resource);
			char	   *id = pstrdup(fsel[bad]->last->id);
			bool		if_absent = fsel[bad]->last->if_absent;

			/* outside the chunk's memory, which the undo pass reuses */
			for (int k = 0; k < c->nreq; k++)
				if (ok[k] && fsel[k] != NULL)
					written = lappend(written, pstrdup(fsel[k]->last->key));
			reset_reqs(c);
			undo_inserts(c, chunk, written);
			raise_write_error(&e, resource, id, true, if_absent);
		}
		for (int k = 0; k < c->nreq; k++)
			if (fsel[k] != NULL)
				created = count_resource(created, fsel[k]->last->resource);
		reset_reqs(c);
		chunk++;
	}
	/* landed for good: a later failure no longer undoes them */
	foreach(lc, created)
	{
		S3dbLanded *l = (S3dbLanded *) lfirst(lc);

		s3db_landed_entry(c->server, l->resource)->created += l->created;
	}
}

/*
 * Phase 3: changes to records that existed, with If-Match on the ETag
 * read, so a record changed by someone else since is a serialization
 * failure, never a lost update.  This backend's cached copies of every
 * written record are dropped on the way.
 */
static void
put_changed_records(Commit *c)
{
	S3dbFinalScan fs;
	int			n;
	S3dbFinal **fsel = palloc(sizeof(S3dbFinal *) * COMMIT_CHUNK);

	s3db_finals_begin(&fs, c->serverid, c->userid);
	while ((n = next_chunk(c, &fs)) > 0)
	{
		int			bad = -1;

		for (int i = 0; i < n; i++)
		{
			S3dbFinal  *f = &c->finals[i];

			s3db_cache_forget(c->conn, f->last->key);
			if (f->is_insert)
				continue;
			fsel[c->nreq] = f;
			init_write(&c->reqs[c->nreq], f, &c->mvs[c->nreq]);
			c->nreq++;
		}
		(void) flush(c);
		/* what landed first (the whole chunk was sent), then the failure */
		for (int k = 0; k < c->nreq; k++)
		{
			S3dbLanded *l;

			if (c->reqs[k].err.code != S3S_OK && !own_change(c->conn, fsel[k], &c->reqs[k]))
			{
				if (bad < 0)
					bad = k;
				continue;
			}
			l = s3db_landed_entry(c->server, fsel[k]->last->resource);
			if (fsel[k]->last->op == PENDING_DELETE)
				l->deleted++;
			else
				l->changed++;
		}
		if (bad >= 0)
		{
			s3s_error	e = c->reqs[bad].err;
			char	   *resource = pstrdup(fsel[bad]->last->resource);
			char	   *id = pstrdup(fsel[bad]->last->id);

			reset_reqs(c);
			raise_write_error(&e, resource, id, false, false);
		}
		reset_reqs(c);
	}
}

static void
delete_keys(Commit *c, const char **keys, int *nkeys)
{
	s3s_request d;

	if (*nkeys == 0)
		return;
	s3s_request_init(&d, S3S_OP_DELETE_MANY, NULL);
	d.keys = keys;
	d.nkeys = *nkeys;
	s3db_execute(c->conn, &d, 1);
	/*
	 * Every record landed: the commit succeeded, and a stale reference is
	 * only a hint readers recheck.  Say so, and go on.
	 */
	if (d.err.code != S3S_OK)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("could not delete %d stale partition reference%s: %s",
						*nkeys, *nkeys == 1 ? "" : "s", d.err.message),
				 errdetail("The transaction's records were all written.  A stale reference costs partition queries a fetch, never a wrong row.")));
	s3s_request_reset(&d);
	*nkeys = 0;
}

/* Phase 4: the references the records no longer have, 1,000 per DeleteObjects. */
static void
delete_stale_references(Commit *c)
{
	S3dbFinalScan fs;
	int			n;
	const char **keys = palloc(sizeof(char *) * 1000);
	int			nkeys = 0;

	s3db_finals_begin(&fs, c->serverid, c->userid);
	while ((n = next_chunk(c, &fs)) > 0)
	{
		for (int i = 0; i < n; i++)
		{
			S3dbFinal  *f = &c->finals[i];
			List	   *newm;
			ListCell   *lc;

			if (f->seen == NULL)
				continue;
			newm = f->last->op == PENDING_DELETE ? NIL : f->last->markers;
			foreach(lc, f->seen->markers)
			{
				if (str_member(newm, (const char *) lfirst(lc)))
					continue;
				keys[nkeys++] = (const char *) lfirst(lc);
				if (nkeys == 1000)
					delete_keys(c, keys, &nkeys);
			}
		}
		/* the chunk's keys are about to go */
		delete_keys(c, keys, &nkeys);
	}
}

/* Apply what the transaction wrote through one connection. */
void
s3db_commit_apply(S3dbConn *conn, Oid serverid, Oid userid, List *truncs)
{
	Commit		c;
	ListCell   *lc;
	MemoryContext cxt = CurrentMemoryContext;

	/* only to a store that honours the conditions below (or told to accept) */
	s3db_probe_before_write(conn, serverid);

	memset(&c, 0, sizeof(c));
	c.conn = conn;
	c.serverid = serverid;
	c.userid = userid;
	{
		/* the transaction may have dropped the server it wrote through */
		ForeignServer *fs = GetForeignServerExtended(serverid, FSV_MISSING_OK);

		c.server = fs ? fs->servername : psprintf("%u", serverid);
	}
	c.chunk_cxt = AllocSetContextCreate(CurrentMemoryContext, "s3db_fdw commit chunk",
										ALLOCSET_DEFAULT_SIZES);
	c.finals = palloc0(sizeof(S3dbFinal) * COMMIT_CHUNK);
	c.reqs = s3db_owned_requests(COMMIT_CHUNK);	/* released on any error */
	c.mvs = palloc0(sizeof(s3s_meta) * COMMIT_CHUNK);
	c.vvals = palloc0(sizeof(char *) * COMMIT_CHUNK);

	PG_TRY();
	{
		/* phase 0: truncates */
		foreach(lc, truncs)
		{
			const char *resource = (const char *) lfirst(lc);
			char	   *what = psprintf("could not truncate resource \"%s\"", resource);

			/* records and their partition references; sequences stay */
			delete_prefix(&c, psprintf("resource=%s/data/", resource), what, resource);
			delete_prefix(&c, psprintf("resource=%s/partition=", resource), what, NULL);
		}
		put_references(&c);
		put_new_records(&c);
		put_changed_records(&c);
		delete_stale_references(&c);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		if (!s3db_landed_any())
			PG_RE_THROW();
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->elevel > ERROR)
			PG_RE_THROW();
		FlushErrorState();
		s3db_raise_partial_commit(edata);
	}
	PG_END_TRY();
	MemoryContextDelete(c.chunk_cxt);
}
