/*-------------------------------------------------------------------------
 *
 * commit.h
 *		Applying pending writes at commit (commit.c), fed by xact.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_COMMIT_H
#define S3DB_COMMIT_H

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"

/* The final state of one record: its first and last write in the log. */
typedef struct S3dbFinal
{
	S3dbPending *first;
	S3dbPending *last;
	S3dbSeen   *seen;			/* what the store held when read, or NULL */
} S3dbFinal;

/* Apply the final states (S3dbFinal *) and truncated resources of one store. */
extern void s3db_commit_apply(S3dbConn *conn, List *finals, List *truncs);

#endif							/* S3DB_COMMIT_H */
