/*-------------------------------------------------------------------------
 *
 * probe.h
 *		Checking, before the first write, that a server's store honours
 *		write conditions (src/store/probe.h), per backend and connection.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_FDW_PROBE_H
#define S3DB_FDW_PROBE_H

#include "fdw/s3db_fdw.h"
#include "nodes/parsenodes.h"

/*
 * Probe conn's store unless this backend already did, raise an error if it
 * does not keep the promises writes rely on (unless the server accepts weak
 * conditions), and set the store to send conditions as it accepts them.
 */
extern void s3db_probe_before_write(S3dbConn *conn, Oid serverid, Oid userid);

/* Validate the server option weak_conditions (options.c). */
extern void s3db_validate_weak_conditions(DefElem *def);

#endif							/* S3DB_FDW_PROBE_H */
