/*-------------------------------------------------------------------------
 *
 * probe.h
 *		Checking, before the first write, that a server's store honours
 *		write conditions (src/store/probe.h), and saying so in SQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_FDW_PROBE_H
#define S3DB_FDW_PROBE_H

#include "fdw/s3db_fdw.h"
#include "nodes/parsenodes.h"

/*
 * Before a commit writes through conn: have its store probed unless it was
 * (store/probe.h), and raise an error naming the server if it does not keep
 * the promises writes rely on.  The store refuses conditional writes on its
 * own in that case; this only says so before anything is attempted, in the
 * server's terms.
 */
extern void s3db_probe_before_write(S3dbConn *conn, Oid serverid);

/*
 * Probe results shared between backends (probe_shared.c), when s3db_fdw is
 * preloaded: set up shared memory (from _PG_init), the key of a
 * connection's store, adopting a fresh result for a new connection, and the
 * store callback that publishes one.
 */
extern void s3db_probe_shared_init(void);
extern uint64 s3db_probe_fingerprint(const S3dbConnOptions *o);
extern void s3db_probe_shared_adopt(S3dbConn *c);
extern void s3db_probe_shared_publish(void *arg, const struct s3s_probe_result *res);

/* Validate the server option weak_conditions (options.c). */
extern void s3db_validate_weak_conditions(DefElem *def);

#endif							/* S3DB_FDW_PROBE_H */
