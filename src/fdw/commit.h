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

/*
 * Apply what the transaction wrote through one connection (the finals of
 * xact.h, read a chunk at a time) and the resources it truncated.
 */
extern void s3db_commit_apply(S3dbConn *conn, Oid serverid, Oid userid, List *truncs);

#endif							/* S3DB_COMMIT_H */
