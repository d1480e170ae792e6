/*-------------------------------------------------------------------------
 *
 * modify_int.h
 *		The state of a modifying statement, shared by modify.c (the FDW
 *		callbacks) and rows.c (rows to queued writes).
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_MODIFY_INT_H
#define S3DB_MODIFY_INT_H

#include "postgres.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "format/encode.h"
#include "fdw/observer.h"

typedef struct S3dbModifyState
{
	MemoryContext cxt;
	MemoryContext row_cxt;
	S3dbConn   *conn;
	S3dbCatalog *cat;
	const s3f_resource *res;
	Oid			serverid;
	Oid			userid;
	char	   *relname;
	S3dbStrategy strategy;
	int			ncols;
	S3dbColumn *cols;			/* every live column */
	int			id_col;			/* index into cols, -1 if none */
	int			content_col;
	int			mime_col;
	AttrNumber	rowid_attno;	/* junk attribute in the subplan's output */
	s3f_write_opts wopts;
	char	   *id_generator;	/* table option, or the resource's */
	s3f_incremental incr;
	bool		have_incr;
	int			batch_size;
	S3dbObservers *observers;	/* write observers; NULL when none applies */
	S3dbWriteTarget target;		/* what the observers were told */
	Relation	rel;
	bool		sets_updated_at;	/* this UPDATE assigns "updatedAt" itself */
	bool		do_nothing;		/* INSERT ... ON CONFLICT DO NOTHING */
	HTAB	   *changed;		/* ids this UPDATE/DELETE changed, or NULL */
	HTAB	   *prefetched;		/* ON CONFLICT: ids of the batch looked up */
	MemoryContext prefetch_cxt;
} S3dbModifyState;

/* rows.c */
extern void s3db_raise_encode_error(S3dbModifyState *ms, const char *id,
									const s3s_error *err) pg_attribute_noreturn();
extern char *s3db_new_id(S3dbModifyState *ms);
extern char *s3db_queue_row(S3dbModifyState *ms, TupleTableSlot *slot, const char *id,
							bool insert, bool update);
extern void s3db_returning_row(S3dbModifyState *ms, TupleTableSlot *slot, const char *id,
							   S3dbSeen *seen);

/* conflict.c */
extern bool s3db_conflict_do_nothing(OnConflictAction action, Relation rel);
extern bool s3db_conflict_skip(S3dbModifyState *ms, const char *id);
extern void s3db_conflict_prefetch(S3dbModifyState *ms, TupleTableSlot **slots, int nslots);
extern void s3db_conflict_at_commit(const char *resource, const char *id);

#endif							/* S3DB_MODIFY_INT_H */
