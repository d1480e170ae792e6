/*-------------------------------------------------------------------------
 *
 * observer.h
 *		Write observers: the one interface between the FDW's write path
 *		and whatever wants to see its changes (the TTL, audit and
 *		replication plugins).
 *
 * A module registers an observer once, when the library loads.  For each
 * writing statement on a foreign table the FDW asks every observer
 * whether it wants the table (begin); an interested one then sees each
 * row change twice: "record" with the record's values before the write
 * is queued (so the previous state is still what the transaction buffer
 * or the scan holds), and "row" with the old and new rows as JSON once
 * it is queued.  TRUNCATE reaches the observers that ask for it as a
 * delete of every record the transaction sees.
 *
 * The callbacks run as the extension owner, in a security-restricted
 * operation with search_path pinned: this file applies that, for every
 * observer alike.  Anything they need of the writing user comes in the
 * S3dbWriteTarget (caller); the rows are turned into JSON before the
 * switch, with the caller's rights.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_OBSERVER_H
#define S3DB_OBSERVER_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/relcache.h"

#include "fdw/s3db_fdw.h"
#include "format/encode.h"

/* One writing statement on one foreign table. */
typedef struct S3dbWriteTarget
{
	Relation	rel;
	S3dbConn   *conn;
	const s3f_resource *res;
	Oid			serverid;
	Oid			userid;			/* whose user mapping the writes use (the owner
								 * of a view written through, else caller) */
	Oid			caller;			/* the current user of the statement */
	const s3f_write_opts *wopts;
	bool		truncate;		/* a TRUNCATE, not INSERT/UPDATE/DELETE */
} S3dbWriteTarget;

typedef struct S3dbWriteObserver
{
	const char *name;

	/*
	 * Per-statement state, or NULL when the observer does not want this
	 * table.  *want_rows: it wants "row" calls (with JSON rows).
	 */
	void	   *(*begin) (const S3dbWriteTarget *t, bool *want_rows);

	/* vals: the new values (NULL for a delete); may be NULL */
	void		(*record) (void *state, CmdType op, const char *id, const s3f_val *vals);

	/* before/after: the rows as JSON text, NULL when there is none; may be NULL */
	void		(*row) (void *state, CmdType op, const char *id,
						const char *before, const char *after);
} S3dbWriteObserver;

extern void s3db_register_write_observer(const S3dbWriteObserver *obs);

/* ---- what the write path calls (modify.c, rows.c) ---- */

typedef struct S3dbObservers S3dbObservers;

/* NULL when no observer wants the table. */
extern S3dbObservers *s3db_observers_begin(const S3dbWriteTarget *t);
extern bool s3db_observers_want_rows(const S3dbObservers *o);
extern void s3db_observers_record(S3dbObservers *o, CmdType op, const char *id,
								  const s3f_val *vals);

/*
 * The row change once queued: newslot (insert, update), the old row from
 * oldslot (delete: what RETURNING would see) or, for an update, from the
 * whole-row junk attribute of planSlot.
 */
extern void s3db_observers_row(S3dbObservers *o, CmdType op, const char *id,
							   TupleTableSlot *newslot, TupleTableSlot *oldslot,
							   ResultRelInfo *rinfo, TupleTableSlot *planSlot);

/* TRUNCATE of rel, before it is queued (the records can still be read). */
extern void s3db_observers_truncate(Relation rel, const S3dbTableOptions *topts);

#endif							/* S3DB_OBSERVER_H */
