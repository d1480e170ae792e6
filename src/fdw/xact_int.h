/*-------------------------------------------------------------------------
 *
 * xact_int.h
 *		Internals shared by xact.c, xact_spill.c and xact_commit.c.
 *
 * xact.c owns the transaction's log of pending writes; the files beside it
 * see only what they need of it: xact_spill.c the entries as bytes and the
 * temporary file, xact_commit.c the log itself (which connections were
 * written through, which resources were truncated).  The index of records
 * and the subtransaction marks stay private to xact.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_XACT_INT_H
#define S3DB_XACT_INT_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "storage/buffile.h"
#include "utils/hsearch.h"
#include "utils/palloc.h"

#include "fdw/xact.h"

/* Where an entry lives: in memory (mem), or at a place in the spill file. */
typedef struct S3dbPlace
{
	void	   *mem;			/* S3dbPending * or S3dbSeen *, or NULL */
	int			fileno;
	off_t		off;
	uint32		len;
} S3dbPlace;

/* The temporary file of entries beyond work_mem, and where the next goes. */
typedef struct S3dbSpill
{
	BufFile    *file;			/* created at the first entry */
	int			end_file;
	off_t		end_off;
} S3dbSpill;

/* A record's entry in xact.c's index (private to xact.c). */
typedef struct RecEnt RecEnt;

/*
 * One entry of the log: a write of a record, or a TRUNCATE of a resource
 * (rec NULL, hkey "server/user/resource/").  A write's is_insert says
 * whether its record was created in this transaction (since the latest
 * truncate of its resource): later writes inherit it from the earlier ones.
 */
typedef struct LogSlot
{
	S3dbPlace	place;
	RecEnt	   *rec;			/* its record; NULL for a truncate */
	char	   *hkey;			/* the record's hash key, or the resource's */
	int			prev;			/* the record's previous write, or -1 */
	S3dbPendingOp op;
	bool		is_insert;
	CommandId	cid;			/* the command that wrote it */
} LogSlot;

/*
 * The transaction's writes, created at its first write in
 * TopTransactionContext and gone with it.
 */
typedef struct XactState
{
	LogSlot    *log;			/* writes in order */
	int			nlog;
	int			caplog;
	HTAB	   *recs;			/* RecEnt */
	HTAB	   *seen;			/* SeenEnt */
	List	   *truncs;			/* log indexes of the truncates, in order */
	List	   *subs;			/* SubLevel *, innermost first */
	List	   *names;			/* resource names and versions, one copy each */
	List	   *writers;		/* (serverid, userid) pairs that wrote, Oid[2] */
	MemoryContext index_cxt;	/* keys and index entries: packed, never freed */
	MemoryContext entry_cxt;	/* entries kept in memory, up to work_mem */
	S3dbSpill	spill;			/* entries beyond work_mem */
} XactState;

/* This transaction's log, or NULL before its first write (xact.c). */
extern XactState *s3db_xact_current(void);

/* Add (serverid, userid) to a list of Oid[2] pairs unless it is there. */
extern List *s3db_xact_add_conn(List *conns, Oid serverid, Oid userid);

/*
 * The current subtransaction is being released (its writes now belong to
 * its parent) or rolled back (its writes are forgotten).
 */
extern void s3db_xact_subxact_end(bool aborted);

/* The transaction ended: close the spill file and forget the log. */
extern void s3db_xact_forget(void);

extern void s3db_spill_write(S3dbSpill *sp, const StringInfo buf, S3dbPlace *pl);
extern char *s3db_spill_read(S3dbSpill *sp, const S3dbPlace *pl);
extern void s3db_spill_close(S3dbSpill *sp);

/* Deep copies, in CurrentMemoryContext. */
extern S3dbPending *s3db_pending_copy(const S3dbPending *p, char *resource,
									  char *version);
extern S3dbSeen *s3db_seen_copy(const S3dbSeen *s);

/* An entry as bytes, and back (into CurrentMemoryContext). */
extern void s3db_pending_serialize(StringInfo buf, const S3dbPending *p);
extern S3dbPending *s3db_pending_deserialize(const char *data, size_t len);
extern void s3db_seen_serialize(StringInfo buf, const S3dbSeen *s);
extern S3dbSeen *s3db_seen_deserialize(const char *data, size_t len);

#endif							/* S3DB_XACT_INT_H */
