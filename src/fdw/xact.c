/*-------------------------------------------------------------------------
 *
 * xact.c
 *		The log of a transaction's writes: collected during the transaction,
 *		applied at commit (xact_commit.c).
 *
 * INSERT, UPDATE, DELETE and TRUNCATE append to a log of pending writes;
 * nothing reaches the store before commit.  A TRUNCATE is an entry of the
 * log like any write: the writes of its resource before it are superseded
 * (they neither show in scans nor reach the store), and they count again
 * when the truncate itself is rolled back.  Scans of the same transaction
 * consult the log, so a transaction reads its own writes.  What an UPDATE
 * or DELETE scan read of a record ("seen": its ETag, partition references,
 * the object) is kept beside it.  At pre-commit, xact_commit.c has
 * commit.c apply the log to the stores, a chunk of records at a time.
 *
 * Subtransactions: every entry belongs to the subtransaction that appended
 * it.  Before an entry is appended, a mark (the log's length) is pushed for
 * every subtransaction level above the innermost marked one, up to the
 * current nesting level; so a savepoint taken before the transaction's
 * first write, or a PL/pgSQL exception block entered before it, is marked
 * as soon as anything is written under it.  Releasing a subtransaction
 * drops its mark (its entries now belong to the level below, whose mark is
 * older); aborting one cuts the log back to its mark and undoes the index
 * entry by entry, whatever the nesting depth.  The spill file's tail
 * written by an aborted subtransaction stays unused until the transaction
 * ends.  "Seen" records are not undone: they describe the store, which a
 * rollback does not change, and the first read remains what the commit must
 * check against, as when a transaction reads a record twice.
 *
 * Memory stays bounded by work_mem plus a small index: entries (writes and
 * seen records, with their metadata and bodies) are kept in memory until
 * they take work_mem, and every later one goes to a temporary file closed
 * with the transaction.  What stays in memory for each record is its slot
 * in the log and its index entry (about 150 bytes), so a transaction
 * writing a million records needs about 150 MB, not gigabytes.  An entry
 * on disk is read back, into a memory context the caller names, when it
 * is looked up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "fdw/xact_int.h"

#define KEYLEN 1600

/*
 * One record this transaction wrote: hash entry keyed
 * "server/user/resource/id" (the log's slots point to it: xact_int.h).
 */
struct RecEnt
{
	char	   *key;
	const char *id;				/* points into key */
	Oid			serverid;
	Oid			userid;
	int			first;			/* log index of its first write */
	int			last;			/* log index of its latest write */
	S3dbPendingOp last_op;
};

typedef struct SeenEnt
{
	char	   *key;
	S3dbPlace	place;
} SeenEnt;

/* The log's length when a subtransaction level first wrote. */
typedef struct SubLevel
{
	int			level;			/* GetCurrentTransactionNestLevel() */
	int			loglen;
} SubLevel;

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
	return s3db_strhash_lookup(h, key, action, found, xs->index_cxt);
}

static XactState *
state(bool create)
{
	if (xs == NULL && create)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		xs = palloc0(sizeof(XactState));
		xs->index_cxt = GenerationContextCreate(TopTransactionContext, "s3db_fdw write index",
												ALLOCSET_DEFAULT_SIZES);
		xs->entry_cxt = AllocSetContextCreate(TopTransactionContext, "s3db_fdw pending writes",
											  ALLOCSET_DEFAULT_SIZES);
		xs->recs = s3db_strhash_create("s3db_fdw pending", sizeof(RecEnt), TopTransactionContext);
		xs->seen = s3db_strhash_create("s3db_fdw seen", sizeof(SeenEnt), TopTransactionContext);
		MemoryContextSwitchTo(old);
	}
	return xs;
}

/* One shared copy of a resource name or version for the whole transaction. */
static char *
tx_name(const char *s)
{
	ListCell   *lc;
	MemoryContext old;

	if (s == NULL)
		return NULL;
	foreach(lc, xs->names)
		if (strcmp((char *) lfirst(lc), s) == 0)
			return (char *) lfirst(lc);
	old = MemoryContextSwitchTo(TopTransactionContext);
	xs->names = lappend(xs->names, pstrdup(s));
	MemoryContextSwitchTo(old);
	return (char *) llast(xs->names);
}

/* ---------------------------------------------------------------------
 * Entries in memory or in the spill file
 * ---------------------------------------------------------------------
 */

/* Have the entries in memory reached work_mem (as the allocator counts)? */
static bool
memory_full(void)
{
	return MemoryContextMemAllocated(xs->entry_cxt, true) > (Size) work_mem * 1024;
}

/*
 * Keep a write (p) or a seen record (s) at *pl: a copy in memory while the
 * entries there take less than work_mem, its bytes in the spill file after.
 */
static void
keep_entry(S3dbPlace *pl, const S3dbPending *p, const S3dbSeen *s)
{
	memset(pl, 0, sizeof(*pl));
	if (!memory_full())
	{
		MemoryContext old = MemoryContextSwitchTo(xs->entry_cxt);

		if (p)
			pl->mem = s3db_pending_copy(p, tx_name(p->resource), tx_name(p->version));
		else
			pl->mem = s3db_seen_copy(s);
		MemoryContextSwitchTo(old);
	}
	else
	{
		StringInfoData buf;

		initStringInfo(&buf);
		if (p)
			s3db_pending_serialize(&buf, p);
		else
			s3db_seen_serialize(&buf, s);
		s3db_spill_write(&xs->spill, &buf, pl);
		pfree(buf.data);
	}
}

static S3dbPending *
load_pending(const LogSlot *slot, MemoryContext cxt)
{
	MemoryContext old;
	char	   *raw;
	S3dbPending *p;

	if (slot->place.mem)
		return (S3dbPending *) slot->place.mem;
	old = MemoryContextSwitchTo(cxt);
	raw = s3db_spill_read(&xs->spill, &slot->place);
	p = s3db_pending_deserialize(raw, slot->place.len);
	pfree(raw);
	MemoryContextSwitchTo(old);
	return p;
}

static S3dbSeen *
load_seen(const SeenEnt *e, MemoryContext cxt)
{
	MemoryContext old;
	char	   *raw;
	S3dbSeen   *s;

	if (e->place.mem)
		return (S3dbSeen *) e->place.mem;
	old = MemoryContextSwitchTo(cxt);
	raw = s3db_spill_read(&xs->spill, &e->place);
	s = s3db_seen_deserialize(raw, e->place.len);
	pfree(raw);
	MemoryContextSwitchTo(old);
	return s;
}

/* ---------------------------------------------------------------------
 * The log and its index
 * ---------------------------------------------------------------------
 */

/*
 * The log index of the latest truncate of the resource a key begins with
 * (plen bytes: "server/user/resource/"), or -1.  Truncates are rare: a list.
 */
static int
truncate_pos(const char *key, size_t plen)
{
	for (int k = list_length(xs->truncs) - 1; k >= 0; k--)
	{
		const char *t = xs->log[list_nth_int(xs->truncs, k)].hkey;

		if (strlen(t) == plen && strncmp(t, key, plen) == 0)
			return list_nth_int(xs->truncs, k);
	}
	return -1;
}

/* Was the resource of a record truncated in this transaction? */
static bool
rec_truncated(const RecEnt *r)
{
	return truncate_pos(r->key, r->id - r->key) >= 0;
}

/* Is the latest write of a record still in force (not superseded by a truncate)? */
static bool
rec_live(const RecEnt *r)
{
	return r->last > truncate_pos(r->key, r->id - r->key);
}

/* Enter write i of the log into the index of records. */
static void
index_slot(int i)
{
	LogSlot    *slot = &xs->log[i];
	bool		found;
	RecEnt	   *r = hash_search(xs->recs, &slot->hkey, HASH_ENTER, &found);

	if (!found)
	{
		unsigned	s,
					u;
		int			off = 0;

		/* the key is the slot's own copy: "server/user/resource/id" */
		r->key = slot->hkey;
		sscanf(slot->hkey, "%u/%u/%n", &s, &u, &off);
		r->serverid = s;
		r->userid = u;
		r->id = strchr(slot->hkey + off, '/') + 1;
		r->first = i;
		slot->prev = -1;
	}
	else
		slot->prev = r->last;
	r->last = i;
	r->last_op = slot->op;
	slot->rec = r;
}

/*
 * Forget the entries from index loglen on (a subtransaction rolled back),
 * newest first, so each record's index entry returns to what it was.
 */
static void
cut_log(int loglen)
{
	for (int i = xs->nlog - 1; i >= loglen; i--)
	{
		LogSlot    *slot = &xs->log[i];
		RecEnt	   *r = slot->rec;

		if (r == NULL)
		{
			Assert(llast_int(xs->truncs) == i);
			xs->truncs = list_delete_last(xs->truncs);
		}
		else if (slot->prev < 0)
		{
			/* the key string stays: log slots and seen records share it */
			hash_search(xs->recs, &slot->hkey, HASH_REMOVE, NULL);
		}
		else
		{
			r->last = slot->prev;
			r->last_op = xs->log[slot->prev].op;
		}
	}
	xs->nlog = Min(xs->nlog, loglen);
}

/*
 * Before the log grows: mark every subtransaction level that has not
 * written yet, up to the current one (the top level needs no mark).
 */
static void
mark_levels(void)
{
	int			cur = GetCurrentTransactionNestLevel();
	int			top = xs->subs ? ((SubLevel *) linitial(xs->subs))->level : 1;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

	for (int l = top + 1; l <= cur; l++)
	{
		SubLevel   *m = palloc(sizeof(SubLevel));

		m->level = l;
		m->loglen = xs->nlog;
		xs->subs = lcons(m, xs->subs);
	}
	MemoryContextSwitchTo(old);
}

/* Room for one more entry in the log; its index. */
static int
grow_log(void)
{
	if (xs->nlog == xs->caplog)
	{
		xs->caplog = xs->caplog ? xs->caplog * 2 : 64;
		xs->log = xs->log ?
			repalloc_huge(xs->log, sizeof(LogSlot) * xs->caplog) :
			MemoryContextAllocHuge(TopTransactionContext, sizeof(LogSlot) * xs->caplog);
	}
	memset(&xs->log[xs->nlog], 0, sizeof(LogSlot));
	return xs->nlog;
}

/* The record's index entry if its latest write is in force, else NULL. */
static RecEnt *
find_live(const char *key)
{
	RecEnt	   *r = lookup(xs->recs, key, HASH_FIND, NULL);

	return (r && rec_live(r)) ? r : NULL;
}

static RecEnt *
find_rec(Oid serverid, Oid userid, const char *resource, const char *id)
{
	char		key[KEYLEN];

	if (state(false) == NULL)
		return NULL;
	make_key(key, serverid, userid, resource, id);
	return find_live(key);
}

/*
 * What a scan sees is what a heap scan would: the writes of the commands
 * before its snapshot's, not those of its own statement (an INSERT ...
 * SELECT from the same table would read back its own rows) nor of later
 * ones (a cursor declared earlier).  Command ids grow along the log, so
 * the writes a snapshot sees are the log's first visible_len() entries.
 */
static int
visible_len(CommandId before)
{
	int			lo = 0,
				hi = xs->nlog;

	if (before == InvalidCommandId)
		return xs->nlog;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (xs->log[mid].cid < before)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The latest truncate among the first len entries under a key prefix, or -1. */
static int
truncate_pos_within(const char *key, size_t plen, int len)
{
	for (int k = list_length(xs->truncs) - 1; k >= 0; k--)
	{
		int			i = list_nth_int(xs->truncs, k);
		const char *t = xs->log[i].hkey;

		if (i < len && strlen(t) == plen && strncmp(t, key, plen) == 0)
			return i;
	}
	return -1;
}

/* A record's latest write among the first len entries, if in force there; else -1. */
static int
visible_write(const RecEnt *r, int len)
{
	int			i = r->last;

	while (i >= len)
		i = xs->log[i].prev;
	if (i < 0 || i < truncate_pos_within(r->key, r->id - r->key, len))
		return -1;
	return i;
}

S3dbPending *
s3db_pending_lookup(Oid serverid, Oid userid, const char *resource, const char *id,
					CommandId before, MemoryContext cxt)
{
	char		key[KEYLEN];
	RecEnt	   *r;
	int			i;

	if (state(false) == NULL)
		return NULL;
	make_key(key, serverid, userid, resource, id);
	r = lookup(xs->recs, key, HASH_FIND, NULL);
	i = r ? visible_write(r, visible_len(before)) : -1;
	return i >= 0 ? load_pending(&xs->log[i], cxt) : NULL;
}

bool
s3db_pending_state(Oid serverid, Oid userid, const char *resource, const char *id,
				   S3dbPendingOp *op, bool *is_insert)
{
	RecEnt	   *r = find_rec(serverid, userid, resource, id);

	if (r == NULL)
		return false;
	if (op)
		*op = r->last_op;
	if (is_insert)
		*is_insert = xs->log[r->last].is_insert;
	return true;
}

void
s3db_pending_payload(const S3dbPending *p, S3dbPayload *out)
{
	out->nmeta = p->nmeta;
	out->mkeys = p->mkeys;
	out->mvals = p->mvals;
	out->body = p->body;
	out->body_len = p->body_len;
	out->content_type = p->content_type;
}

/*
 * Pending writes are kept, and committed, per user mapping: a record
 * written as two users in one transaction (directly, and through a view or
 * a SECURITY DEFINER function owned by another role) would be two writes
 * that do not see each other, committed one after the other, the second
 * failing after the first landed.  Refuse the second user before anything
 * is written (what the first rolled back to a savepoint no longer counts):
 * a record (id) the other wrote or whose resource it emptied, or (id NULL,
 * a TRUNCATE) a resource the other wrote to at all.
 */
static void
check_one_writer(Oid serverid, Oid userid, const char *resource, const char *id)
{
	ListCell   *lc;
	MemoryContext old;

	foreach(lc, xs->writers)
	{
		Oid		   *w = (Oid *) lfirst(lc);
		char		key[KEYLEN];
		size_t		plen;
		const char *what = NULL;

		if (w[0] != serverid || w[1] == userid)
			continue;
		make_key(key, serverid, w[1], resource, id);
		plen = strlen(key) - (id ? strlen(id) : 0);
		if (truncate_pos(key, plen) >= 0)
			what = "emptied the resource";
		else if (id && find_live(key))
			what = "written the record";
		else if (id == NULL)
		{
			for (int i = 0; i < xs->nlog && what == NULL; i++)
				if (xs->log[i].rec && strncmp(xs->log[i].hkey, key, plen) == 0 &&
					rec_live(xs->log[i].rec))
					what = "written to the resource";
		}
		if (what)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot write %s%s%sresource \"%s\" as role \"%s\"",
							id ? "record \"" : "", id ? id : "", id ? "\" of " : "",
							resource, GetUserNameFromId(userid, false)),
					 errdetail("This transaction has already %s as role \"%s\", "
							   "which commits through its own user mapping.",
							   what, GetUserNameFromId(w[1], false)),
					 errhint("Write a resource through views and functions owned by one role "
							 "in a transaction.")));
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	xs->writers = s3db_xact_add_conn(xs->writers, serverid, userid);
	MemoryContextSwitchTo(old);
}

void
s3db_pending_add(const S3dbPending *p)
{
	char		key[KEYLEN];
	LogSlot    *slot;
	RecEnt	   *known;
	RecEnt	   *live;
	S3dbPending q = *p;
	int			i;

	state(true);
	check_one_writer(p->serverid, p->userid, p->resource, p->id);
	mark_levels();
	make_key(key, p->serverid, p->userid, p->resource, p->id);
	known = lookup(xs->recs, key, HASH_FIND, NULL);
	live = (known && rec_live(known)) ? known : NULL;
	/* a later write of a record created here still creates it */
	if (live)
		q.is_insert = xs->log[live->last].is_insert;

	i = grow_log();
	slot = &xs->log[i];
	slot->op = q.op;
	slot->is_insert = q.is_insert;
	slot->cid = GetCurrentCommandId(true);
	if (known)
		slot->hkey = known->key;
	else
	{
		/* an UPDATE or DELETE scan read it first: share that key string */
		SeenEnt    *se = lookup(xs->seen, key, HASH_FIND, NULL);

		slot->hkey = se ? se->key : MemoryContextStrdup(xs->index_cxt, key);
	}
	keep_entry(&slot->place, &q, NULL);
	index_slot(i);
	xs->nlog++;
}

List *
s3db_pending_new_ids(Oid serverid, Oid userid, const char *resource, CommandId before)
{
	List	   *result = NIL;
	size_t		rlen = strlen(resource);
	int			len;

	if (state(false) == NULL)
		return NIL;
	len = visible_len(before);
	for (int i = 0; i < len; i++)
	{
		RecEnt	   *r = xs->log[i].rec;
		const char *res;
		int			v;

		if (r == NULL || r->first != i || r->serverid != serverid || r->userid != userid)
			continue;
		v = visible_write(r, len);
		if (v < 0 || !xs->log[v].is_insert || xs->log[v].op == PENDING_DELETE)
			continue;
		/* the resource is the part of the key before the id */
		res = r->id - rlen - 1;
		if (res > r->key && res[-1] == '/' && strncmp(res, resource, rlen) == 0)
			result = lappend(result, (char *) r->id);
	}
	return result;
}

bool
s3db_pending_truncated(Oid serverid, Oid userid, const char *resource, CommandId before)
{
	char		key[KEYLEN];

	if (state(false) == NULL)
		return false;
	make_key(key, serverid, userid, resource, NULL);
	return truncate_pos_within(key, strlen(key), visible_len(before)) >= 0;
}

/*
 * A TRUNCATE: an entry of the log that supersedes the resource's earlier
 * writes for as long as it is not rolled back.
 */
void
s3db_pending_truncate(Oid serverid, Oid userid, const char *resource)
{
	char		key[KEYLEN];
	int			i;
	MemoryContext old;

	state(true);
	check_one_writer(serverid, userid, resource, NULL);
	mark_levels();
	make_key(key, serverid, userid, resource, NULL);
	i = grow_log();
	xs->log[i].hkey = MemoryContextStrdup(xs->index_cxt, key);
	xs->log[i].prev = -1;
	xs->log[i].cid = GetCurrentCommandId(true);
	old = MemoryContextSwitchTo(TopTransactionContext);
	xs->truncs = lappend_int(xs->truncs, i);
	MemoryContextSwitchTo(old);
	xs->nlog++;
}

/* ---------------------------------------------------------------------
 * What UPDATE and DELETE scans read
 * ---------------------------------------------------------------------
 */

void
s3db_seen_put(Oid serverid, Oid userid, const char *resource, const char *id,
			  const S3dbSeen *seen)
{
	char		key[KEYLEN];
	SeenEnt    *e;
	bool		found;

	state(true);
	make_key(key, serverid, userid, resource, id);
	e = lookup(xs->seen, key, HASH_ENTER, &found);
	if (found)
		return;					/* the first read is what the store held */
	keep_entry(&e->place, NULL, seen);
}

static SeenEnt *
find_seen(Oid serverid, Oid userid, const char *resource, const char *id)
{
	char		key[KEYLEN];

	if (state(false) == NULL)
		return NULL;
	make_key(key, serverid, userid, resource, id);
	return lookup(xs->seen, key, HASH_FIND, NULL);
}

S3dbSeen *
s3db_seen_get(Oid serverid, Oid userid, const char *resource, const char *id,
			  MemoryContext cxt)
{
	SeenEnt    *e = find_seen(serverid, userid, resource, id);

	return e ? load_seen(e, cxt) : NULL;
}

bool
s3db_seen_exists(Oid serverid, Oid userid, const char *resource, const char *id)
{
	return find_seen(serverid, userid, resource, id) != NULL;
}

int
s3db_pending_count(void)
{
	return xs ? xs->nlog - list_length(xs->truncs) : 0;
}

/* ---------------------------------------------------------------------
 * The final state of each record, for commit.c
 * ---------------------------------------------------------------------
 */

void
s3db_finals_begin(S3dbFinalScan *fs, Oid serverid, Oid userid)
{
	fs->serverid = serverid;
	fs->userid = userid;
	fs->pos = 0;
}

int
s3db_finals_next(S3dbFinalScan *fs, S3dbFinal *out, int max, MemoryContext cxt)
{
	int			n = 0;

	if (xs == NULL)
		return 0;
	while (n < max && fs->pos < xs->nlog)
	{
		int			i = fs->pos++;
		RecEnt	   *r = xs->log[i].rec;
		SeenEnt    *se;

		if (r == NULL || r->first != i || r->serverid != fs->serverid ||
			r->userid != fs->userid)
			continue;
		/* superseded by a truncate (which deletes it), or created and deleted */
		if (!rec_live(r) ||
			(xs->log[r->last].is_insert && r->last_op == PENDING_DELETE))
			continue;
		out[n].last = load_pending(&xs->log[r->last], cxt);
		out[n].is_insert = xs->log[r->last].is_insert;
		/* after a truncate the store holds nothing of the resource */
		se = rec_truncated(r) ? NULL : lookup(xs->seen, r->key, HASH_FIND, NULL);
		out[n].seen = se ? load_seen(se, cxt) : NULL;
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------------
 * The log's lifetime, for xact_commit.c
 * ---------------------------------------------------------------------
 */

XactState *
s3db_xact_current(void)
{
	return xs;
}

/* Add (serverid, userid) to a list of pairs unless it is there. */
List *
s3db_xact_add_conn(List *conns, Oid serverid, Oid userid)
{
	ListCell   *lc;

	foreach(lc, conns)
	{
		Oid		   *p = (Oid *) lfirst(lc);

		if (p[0] == serverid && p[1] == userid)
			return conns;
	}
	{
		Oid		   *p = palloc(sizeof(Oid) * 2);

		p[0] = serverid;
		p[1] = userid;
		return lappend(conns, p);
	}
}

/*
 * A subtransaction ends.  This runs while it is still the current one, so
 * its nesting level tells which marks are its own.
 */
void
s3db_xact_subxact_end(bool aborted)
{
	int			level;
	int			loglen = -1;

	if (xs == NULL)
		return;
	level = GetCurrentTransactionNestLevel();
	while (xs->subs && ((SubLevel *) linitial(xs->subs))->level >= level)
	{
		loglen = ((SubLevel *) linitial(xs->subs))->loglen;
		pfree(linitial(xs->subs));
		xs->subs = list_delete_first(xs->subs);
	}
	/* released: its entries now belong to the parent; aborted: forgotten */
	if (aborted && loglen >= 0)
		cut_log(loglen);
}

/* The transaction ended: close the spill file, forget the log. */
void
s3db_xact_forget(void)
{
	if (xs)
		s3db_spill_close(&xs->spill);
	xs = NULL;					/* its memory goes with TopTransactionContext */
}
