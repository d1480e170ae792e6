/*-------------------------------------------------------------------------
 *
 * xact.c
 *		Transactional writes: collect during the transaction, apply at commit.
 *
 * INSERT, UPDATE, DELETE and TRUNCATE append to a log of pending writes in
 * transaction memory; nothing reaches the store before commit.  ROLLBACK
 * (explicit, by error, or to a savepoint) simply forgets the log, or the
 * part of it written since the savepoint.  Scans of the same transaction
 * consult the log, so a transaction reads its own writes.
 *
 * At pre-commit, commit.c applies the log to the stores.  Beyond work_mem,
 * the payloads of pending writes (metadata and bodies) wait in a temporary
 * file instead of memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "storage/buffile.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "storage/proc.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "fdw/commit.h"

#define KEYLEN 1600

/*
 * Both hash tables are keyed by "server/user/resource/id" strings held in
 * transaction memory: the key field is a pointer (hashed and compared by
 * what it points to), so an entry costs the length of its key, not the
 * longest key possible.
 */
typedef struct LatestEnt
{
	char	   *key;
	int			index;			/* in log */
	int			first;			/* first write of this record in log */
} LatestEnt;

typedef struct SeenEnt
{
	char	   *key;
	S3dbSeen	seen;
} SeenEnt;

typedef struct SubLevel
{
	SubTransactionId subid;
	int			loglen;
	int			ntrunc;
} SubLevel;

typedef struct XactState
{
	List	   *log;			/* S3dbPending * in write order */
	HTAB	   *latest;
	HTAB	   *seen;
	List	   *truncated;		/* "srv/user/resource" strings */
	List	   *subs;			/* SubLevel *, innermost first */
	BufFile    *spill;			/* payloads beyond work_mem */
	int			spill_end_file;	/* where the next payload goes */
	off_t		spill_end_off;
	List	   *names;			/* resource names and versions, one copy each */

	/*
	 * What stays for the whole transaction (the log entries, their ids,
	 * keys and references, the index) is never freed one by one: a
	 * generation context packs it without the power-of-two rounding of an
	 * AllocSet.  Payloads are freed as they spill, so they live apart, in
	 * an AllocSet that reuses their space.
	 */
	MemoryContext log_cxt;
	MemoryContext payload_cxt;
} XactState;

static XactState *xs = NULL;

static void
make_key(char *buf, Oid serverid, Oid userid, const char *resource, const char *id)
{
	int			n = snprintf(buf, KEYLEN, "%u/%u/%s/%s", serverid, userid, resource,
							 id ? id : "");

	if (n >= KEYLEN)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_LENGTH_OR_BUFFER_LENGTH),
				 errmsg("record id too long")));
}

static void *
lookup(HTAB *h, const char *key, HASHACTION action, bool *found)
{
	return s3db_strhash_lookup(h, key, action, found, xs->log_cxt);
}

static XactState *
state(bool create)
{
	if (xs == NULL && create)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		xs = palloc0(sizeof(XactState));
#if PG_VERSION_NUM >= 150000
		xs->log_cxt = GenerationContextCreate(TopTransactionContext, "s3db_fdw pending writes",
											  ALLOCSET_DEFAULT_SIZES);
#else
		xs->log_cxt = GenerationContextCreate(TopTransactionContext, "s3db_fdw pending writes",
											  SLAB_LARGE_BLOCK_SIZE);
#endif
		xs->payload_cxt = AllocSetContextCreate(TopTransactionContext, "s3db_fdw pending payloads",
												ALLOCSET_DEFAULT_SIZES);
		xs->latest = s3db_strhash_create("s3db_fdw pending", sizeof(LatestEnt),
										 TopTransactionContext);
		xs->seen = s3db_strhash_create("s3db_fdw seen", sizeof(SeenEnt), TopTransactionContext);
		MemoryContextSwitchTo(old);
	}
	return xs;
}

/* One shared copy of a resource name or version for all pending writes. */
static char *
tx_name(const char *s)
{
	ListCell   *lc;

	if (s == NULL)
		return NULL;
	foreach(lc, xs->names)
		if (strcmp((char *) lfirst(lc), s) == 0)
			return (char *) lfirst(lc);
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		xs->names = lappend(xs->names, pstrdup(s));
		MemoryContextSwitchTo(old);
	}
	return (char *) llast(xs->names);
}

S3dbPending *
s3db_pending_lookup(Oid serverid, Oid userid, const char *resource, const char *id)
{
	char		key[KEYLEN];
	LatestEnt  *e;

	if (state(false) == NULL)
		return NULL;
	make_key(key, serverid, userid, resource, id);
	e = lookup(xs->latest, key, HASH_FIND, NULL);
	return e ? (S3dbPending *) list_nth(xs->log, e->index) : NULL;
}

static void
put_chunk(StringInfo buf, const char *data, size_t len)
{
	uint32		l = (uint32) len;

	appendBinaryStringInfo(buf, (const char *) &l, sizeof(l));
	if (len > 0)
		appendBinaryStringInfo(buf, data, len);
}

/*
 * Once the payloads in memory take work_mem (as the allocator counts: many
 * small strings cost twice their length), a pending write's metadata and
 * body go to a temporary file (closed with the transaction) and only the
 * small entry stays in memory, so a large transaction does not grow memory
 * without bound.  Read back with s3db_pending_payload().
 */
static void
maybe_spill(S3dbPending *c)
{
	StringInfoData buf;
	int			fileno;
	off_t		off;

	if (MemoryContextMemAllocated(xs->payload_cxt, false) <= (Size) work_mem * 1024)
		return;
	if (xs->spill == NULL)
	{
		ResourceOwner saved = CurrentResourceOwner;
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		CurrentResourceOwner = TopTransactionResourceOwner;
		xs->spill = BufFileCreateTemp(false);
		CurrentResourceOwner = saved;
		MemoryContextSwitchTo(old);
	}
	initStringInfo(&buf);
	put_chunk(&buf, (const char *) &c->nmeta, sizeof(c->nmeta));
	for (int i = 0; i < c->nmeta; i++)
	{
		put_chunk(&buf, c->mkeys[i], strlen(c->mkeys[i]));
		put_chunk(&buf, c->mvals[i], strlen(c->mvals[i]));
	}
	put_chunk(&buf, c->body ? c->body : "", c->body ? c->body_len : 0);
	put_chunk(&buf, c->content_type ? c->content_type : "", c->content_type ? strlen(c->content_type) : 0);
	put_chunk(&buf, c->body ? "1" : "0", 1);
	put_chunk(&buf, c->content_type ? "1" : "0", 1);

	/* reads move the position: always append at our own end mark */
	fileno = xs->spill_end_file;
	off = xs->spill_end_off;
	if (BufFileSeek(xs->spill, fileno, off, SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not seek in a temporary file of pending writes")));
	BufFileWrite(xs->spill, buf.data, buf.len);
	BufFileTell(xs->spill, &xs->spill_end_file, &xs->spill_end_off);
	c->spilled = true;
	c->spill_fileno = fileno;
	c->spill_off = off;
	c->spill_len = buf.len;

	for (int i = 0; i < c->nmeta; i++)
	{
		pfree(c->mkeys[i]);
		pfree(c->mvals[i]);
	}
	pfree(c->mkeys);
	pfree(c->mvals);
	c->mkeys = c->mvals = NULL;
	if (c->body)
		pfree(c->body);
	c->body = NULL;
	if (c->content_type)
		pfree(c->content_type);
	c->content_type = NULL;
	pfree(buf.data);
}

static const char *
get_chunk(const char **pos, const char *end, size_t *len)
{
	uint32		l;
	const char *data;

	if (end - *pos < (long) sizeof(l))
		elog(ERROR, "s3db_fdw spill file is corrupt");
	memcpy(&l, *pos, sizeof(l));
	data = *pos + sizeof(l);
	if (end - data < (long) l)
		elog(ERROR, "s3db_fdw spill file is corrupt");
	*pos = data + l;
	*len = l;
	return data;
}

static char *
chunk_str(const char **pos, const char *end)
{
	size_t		len;
	const char *d = get_chunk(pos, end, &len);

	return pnstrdup(d, len);
}

void
s3db_pending_payload(const S3dbPending *p, S3dbPayload *out)
{
	char	   *buf;
	const char *pos;
	const char *end;
	size_t		len;
	const char *d;
	char	   *body;
	char	   *ctype;

	if (!p->spilled)
	{
		out->nmeta = p->nmeta;
		out->mkeys = p->mkeys;
		out->mvals = p->mvals;
		out->body = p->body;
		out->body_len = p->body_len;
		out->content_type = p->content_type;
		return;
	}
	buf = palloc(p->spill_len);
	if (BufFileSeek(xs->spill, p->spill_fileno, p->spill_off, SEEK_SET) != 0 ||
		BufFileRead(xs->spill, buf, p->spill_len) != p->spill_len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read pending writes back from a temporary file")));
	pos = buf;
	end = buf + p->spill_len;
	d = get_chunk(&pos, end, &len);
	memcpy(&out->nmeta, d, sizeof(out->nmeta));
	out->mkeys = palloc(sizeof(char *) * Max(out->nmeta, 1));
	out->mvals = palloc(sizeof(char *) * Max(out->nmeta, 1));
	for (int i = 0; i < out->nmeta; i++)
	{
		out->mkeys[i] = chunk_str(&pos, end);
		out->mvals[i] = chunk_str(&pos, end);
	}
	d = get_chunk(&pos, end, &len);
	body = palloc(len + 1);
	memcpy(body, d, len);
	body[len] = '\0';
	out->body_len = len;
	ctype = chunk_str(&pos, end);
	d = get_chunk(&pos, end, &len);
	out->body = (len == 1 && d[0] == '1') ? body : NULL;
	d = get_chunk(&pos, end, &len);
	out->content_type = (len == 1 && d[0] == '1') ? ctype : NULL;
	pfree(buf);
}

void
s3db_pending_add(const S3dbPending *p)
{
	MemoryContext old;
	S3dbPending *c;
	char		key[KEYLEN];
	LatestEnt  *e;
	bool		found;
	ListCell   *lc;

	state(true);
	old = MemoryContextSwitchTo(xs->log_cxt);
	c = palloc(sizeof(S3dbPending));
	*c = *p;
	c->resource = tx_name(p->resource);
	c->id = pstrdup(p->id);
	c->key = pstrdup(p->key);
	c->markers = NIL;
	foreach(lc, p->markers)
		c->markers = lappend(c->markers, pstrdup((char *) lfirst(lc)));
	MemoryContextSwitchTo(xs->payload_cxt);
	c->mkeys = palloc(sizeof(char *) * Max(p->nmeta, 1));
	c->mvals = palloc(sizeof(char *) * Max(p->nmeta, 1));
	for (int i = 0; i < p->nmeta; i++)
	{
		c->mkeys[i] = pstrdup(p->mkeys[i]);
		c->mvals[i] = pstrdup(p->mvals[i]);
	}
	if (p->body)
	{
		c->body = palloc(p->body_len + 1);
		memcpy(c->body, p->body, p->body_len);
		c->body[p->body_len] = '\0';
	}
	c->content_type = p->content_type ? pstrdup(p->content_type) : NULL;
	c->version = tx_name(p->version);
	c->spilled = false;
	maybe_spill(c);

	MemoryContextSwitchTo(TopTransactionContext);
	xs->log = lappend(xs->log, c);
	make_key(key, p->serverid, p->userid, p->resource, p->id);
	e = lookup(xs->latest, key, HASH_ENTER, &found);
	if (!found)
		e->first = list_length(xs->log) - 1;
	else
		c->is_insert = ((S3dbPending *) list_nth(xs->log, e->first))->is_insert;
	e->index = list_length(xs->log) - 1;
	MemoryContextSwitchTo(old);
}

List *
s3db_pending_for_resource(Oid serverid, Oid userid, const char *resource)
{
	List	   *result = NIL;
	ListCell   *lc;
	int			i = 0;

	if (state(false) == NULL)
		return NIL;
	foreach(lc, xs->log)
	{
		S3dbPending *p = (S3dbPending *) lfirst(lc);
		char		key[KEYLEN];
		LatestEnt  *e;

		if (p->serverid == serverid && p->userid == userid &&
			strcmp(p->resource, resource) == 0)
		{
			make_key(key, serverid, userid, resource, p->id);
			e = lookup(xs->latest, key, HASH_FIND, NULL);
			if (e && e->first == i)
				result = lappend(result, list_nth(xs->log, e->index));
		}
		i++;
	}
	return result;
}

bool
s3db_pending_truncated(Oid serverid, Oid userid, const char *resource)
{
	char		key[KEYLEN];
	ListCell   *lc;

	if (state(false) == NULL)
		return false;
	make_key(key, serverid, userid, resource, NULL);
	foreach(lc, xs->truncated)
		if (strcmp((char *) lfirst(lc), key) == 0)
			return true;
	return false;
}

/* Index the log again: latest and first write of each record. */
static void
rebuild_index(void)
{
	HASH_SEQ_STATUS scan;
	LatestEnt  *e;
	ListCell   *lc;
	int			i = 0;

	hash_seq_init(&scan, xs->latest);
	while ((e = hash_seq_search(&scan)) != NULL)
		s3db_strhash_remove(xs->latest, e);
	foreach(lc, xs->log)
	{
		S3dbPending *p = (S3dbPending *) lfirst(lc);
		char		key[KEYLEN];
		bool		found;

		make_key(key, p->serverid, p->userid, p->resource, p->id);
		e = lookup(xs->latest, key, HASH_ENTER, &found);
		if (!found)
			e->first = i;
		e->index = i++;
	}
}

/* Forget the pending writes of one resource (they are superseded). */
static void
drop_resource_entries(Oid serverid, Oid userid, const char *resource)
{
	List	   *keep = NIL;
	ListCell   *lc;

	foreach(lc, xs->log)
	{
		S3dbPending *p = (S3dbPending *) lfirst(lc);

		if (!(p->serverid == serverid && p->userid == userid &&
			  strcmp(p->resource, resource) == 0))
			keep = lappend(keep, p);
	}
	xs->log = keep;
	rebuild_index();
}

void
s3db_pending_truncate(Oid serverid, Oid userid, const char *resource)
{
	char		key[KEYLEN];
	MemoryContext old;

	state(true);
	drop_resource_entries(serverid, userid, resource);
	if (s3db_pending_truncated(serverid, userid, resource))
		return;
	make_key(key, serverid, userid, resource, NULL);
	old = MemoryContextSwitchTo(TopTransactionContext);
	xs->truncated = lappend(xs->truncated, pstrdup(key));
	MemoryContextSwitchTo(old);
}

void
s3db_seen_put(Oid serverid, Oid userid, const char *resource, const char *id,
			  const S3dbSeen *seen)
{
	char		key[KEYLEN];
	SeenEnt    *e;
	bool		found;
	MemoryContext old;
	ListCell   *lc;

	state(true);
	make_key(key, serverid, userid, resource, id);
	e = lookup(xs->seen, key, HASH_ENTER, &found);
	if (found)
		return;					/* the first read is what the store held */
	old = MemoryContextSwitchTo(TopTransactionContext);
	e->seen.etag = pstrdup(seen->etag ? seen->etag : "");
	e->seen.has_body = seen->has_body;
	e->seen.has_content = seen->has_content;
	e->seen.version = seen->version ? pstrdup(seen->version) : NULL;
	e->seen.markers = NIL;
	foreach(lc, seen->markers)
		e->seen.markers = lappend(e->seen.markers, pstrdup((char *) lfirst(lc)));
	e->seen.content_meta = NIL;
	foreach(lc, seen->content_meta)
		e->seen.content_meta = lappend(e->seen.content_meta, pstrdup((char *) lfirst(lc)));
	e->seen.nmeta = seen->nmeta;
	e->seen.mkeys = palloc(sizeof(char *) * Max(seen->nmeta, 1));
	e->seen.mvals = palloc(sizeof(char *) * Max(seen->nmeta, 1));
	for (int i = 0; i < seen->nmeta; i++)
	{
		e->seen.mkeys[i] = pstrdup(seen->mkeys[i]);
		e->seen.mvals[i] = pstrdup(seen->mvals[i]);
	}
	e->seen.body = NULL;
	e->seen.body_len = 0;
	if (seen->body)
	{
		e->seen.body = palloc(seen->body_len + 1);
		memcpy(e->seen.body, seen->body, seen->body_len);
		e->seen.body[seen->body_len] = '\0';
		e->seen.body_len = seen->body_len;
	}
	e->seen.content_type = seen->content_type ? pstrdup(seen->content_type) : NULL;
	MemoryContextSwitchTo(old);
}

S3dbSeen *
s3db_seen_get(Oid serverid, Oid userid, const char *resource, const char *id)
{
	char		key[KEYLEN];
	SeenEnt    *e;

	if (state(false) == NULL)
		return NULL;
	make_key(key, serverid, userid, resource, id);
	e = lookup(xs->seen, key, HASH_FIND, NULL);
	return e ? &e->seen : NULL;
}

int
s3db_pending_count(void)
{
	return xs ? list_length(xs->log) : 0;
}

static void apply_all(void);

/*
 * PostgreSQL turns statement_timeout off before it commits, but our commit
 * does the transaction's I/O: arm the timer again for it, so a COMMIT
 * stuck on a stalled store is cancelled like any statement.
 */
static void
pre_commit(void)
{
	bool		armed = false;

	if (xs == NULL || (xs->log == NIL && xs->truncated == NIL))
		return;
	if (StatementTimeout > 0 && !get_timeout_active(STATEMENT_TIMEOUT))
	{
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
		armed = true;
	}
	apply_all();
	if (armed)
		disable_timeout(STATEMENT_TIMEOUT, false);
}

static void
apply_all(void)
{
	List	   *conns = NIL;	/* list of (serverid, userid) pairs seen */
	ListCell   *lc;
	int			i = 0;

	/* the connections involved */
	foreach(lc, xs->log)
	{
		S3dbPending *p = (S3dbPending *) lfirst(lc);
		char	   *k = psprintf("%u/%u", p->serverid, p->userid);

		if (!list_member(conns, makeString(k)))
			conns = lappend(conns, makeString(k));
	}
	foreach(lc, xs->truncated)
	{
		Oid			s,
					u;
		char	   *k;

		sscanf((char *) lfirst(lc), "%u/%u/", &s, &u);
		k = psprintf("%u/%u", s, u);
		if (!list_member(conns, makeString(k)))
			conns = lappend(conns, makeString(k));
	}

	foreach(lc, conns)
	{
		Oid			serverid,
					userid;
		List	   *finals = NIL;
		List	   *truncs = NIL;
		ListCell   *lc2;

		sscanf(strVal(lfirst(lc)), "%u/%u", &serverid, &userid);
		i = 0;
		foreach(lc2, xs->log)
		{
			S3dbPending *p = (S3dbPending *) lfirst(lc2);
			char		key[KEYLEN];
			LatestEnt  *e;

			if (p->serverid == serverid && p->userid == userid)
			{
				make_key(key, serverid, userid, p->resource, p->id);
				e = lookup(xs->latest, key, HASH_FIND, NULL);
				if (e && e->first == i)
				{
					S3dbFinal  *f = palloc0(sizeof(S3dbFinal));

					f->first = p;
					f->last = list_nth(xs->log, e->index);
					f->seen = s3db_seen_get(serverid, userid, p->resource, p->id);
					/* created and deleted in this transaction: nothing to do */
					if (!(f->first->is_insert && f->last->op == PENDING_DELETE))
						finals = lappend(finals, f);
				}
			}
			i++;
		}
		foreach(lc2, xs->truncated)
		{
			Oid			s,
						u;
			int			off = 0;

			sscanf((char *) lfirst(lc2), "%u/%u/%n", &s, &u, &off);
			if (s == serverid && u == userid)
			{
				/* the key is "server/user/resource/" */
				char	   *r = pstrdup((char *) lfirst(lc2) + off);

				if (r[0] && r[strlen(r) - 1] == '/')
					r[strlen(r) - 1] = '\0';
				truncs = lappend(truncs, r);
			}
		}
		s3db_commit_apply(s3db_get_conn_for_commit(serverid, userid), finals, truncs);
	}
}

static void
xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			pre_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (xs && (xs->log != NIL || xs->truncated != NIL))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that has written to s3db_fdw foreign tables")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (xs && xs->spill)
				BufFileClose(xs->spill);
			xs = NULL;			/* its memory goes with TopTransactionContext */
			break;
	}
}

static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	if (xs == NULL)
		return;
	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			{
				MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
				SubLevel   *l = palloc(sizeof(SubLevel));

				l->subid = mySubid;
				l->loglen = list_length(xs->log);
				l->ntrunc = list_length(xs->truncated);
				xs->subs = lcons(l, xs->subs);
				MemoryContextSwitchTo(old);
				break;
			}
		case SUBXACT_EVENT_COMMIT_SUB:
			if (xs->subs && ((SubLevel *) linitial(xs->subs))->subid == mySubid)
				xs->subs = list_delete_first(xs->subs);
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			if (xs->subs && ((SubLevel *) linitial(xs->subs))->subid == mySubid)
			{
				SubLevel   *l = (SubLevel *) linitial(xs->subs);

				xs->log = list_truncate(xs->log, l->loglen);
				xs->truncated = list_truncate(xs->truncated, l->ntrunc);
				xs->subs = list_delete_first(xs->subs);
				rebuild_index();
			}
			break;
		default:
			break;
	}
}

void
s3db_xact_init(void)
{
	RegisterXactCallback(xact_callback, NULL);
	RegisterSubXactCallback(subxact_callback, NULL);
}

/*
 * A record as this transaction knows it: its own pending version, or what a
 * scan read from the store.  S3S_ERR_NOT_FOUND when it knows neither (or
 * deleted it); a decoding error otherwise fills err.
 */
s3s_code
s3db_record_as_known(const s3f_resource *res, Oid serverid, Oid userid, const char *id,
					 const char *passphrase, s3f_record *out, s3s_error *err)
{
	S3dbPending *p = s3db_pending_lookup(serverid, userid, res->name, id);
	S3dbSeen   *seen = s3db_seen_get(serverid, userid, res->name, id);
	s3s_meta	m;
	const char *body = NULL;
	size_t		body_len = 0;
	const char *ctype = NULL;
	s3s_code	rc;

	memset(out, 0, sizeof(*out));
	if (p && p->op == PENDING_DELETE)
		return S3S_ERR_NOT_FOUND;
	if (p)
	{
		S3dbPayload pl;

		s3db_pending_payload(p, &pl);
		m.n = m.cap = pl.nmeta;
		m.keys = pl.mkeys;
		m.values = pl.mvals;
		if (p->op == PENDING_PUT)
		{
			body = pl.body;
			body_len = pl.body_len;
			ctype = pl.content_type;
		}
		else if (seen)
		{
			/* a COPY keeps the stored body */
			body = seen->body;
			body_len = seen->body_len;
			ctype = seen->content_type;
		}
	}
	else if (seen && seen->nmeta > 0)
	{
		m.n = m.cap = seen->nmeta;
		m.keys = seen->mkeys;
		m.values = seen->mvals;
		body = seen->body;
		body_len = seen->body_len;
		ctype = seen->content_type;
	}
	else
		return S3S_ERR_NOT_FOUND;

	s3s_error_clear(err);
	rc = s3f_record_decode(res, id, &m, (const unsigned char *) body, body_len, ctype,
						   NULL, passphrase, out, err);
	if (rc != S3S_OK)
	{
		s3f_record_free(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}
