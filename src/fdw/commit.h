/*-------------------------------------------------------------------------
 *
 * commit.h
 *		Applying pending writes at commit (commit.c), called by
 *		xact_commit.c, fed by xact.c.
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

/* What the commit of this transaction has written so far (commit_landed.c). */
typedef struct S3dbLanded
{
	char	   *server;
	char	   *resource;
	int64		created;
	int64		changed;
	int64		deleted;
	bool		truncated;
} S3dbLanded;

/* The tally of a server's resource (a new transaction starts from zero). */
extern S3dbLanded *s3db_landed_entry(const char *server, const char *resource);
extern bool s3db_landed_any(void);

/* The commit failed with edata after writes landed: say what landed. */
extern void s3db_raise_partial_commit(ErrorData *edata) pg_attribute_noreturn();

#endif							/* S3DB_COMMIT_H */
