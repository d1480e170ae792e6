/*-------------------------------------------------------------------------
 *
 * xact_int.h
 *		Internals shared by xact.c and xact_spill.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_XACT_INT_H
#define S3DB_XACT_INT_H

#include "postgres.h"

#include "lib/stringinfo.h"

#include "fdw/xact.h"

/* An entry as bytes, and back (into CurrentMemoryContext). */
extern void s3db_pending_serialize(StringInfo buf, const S3dbPending *p);
extern S3dbPending *s3db_pending_deserialize(const char *data, size_t len);
extern void s3db_seen_serialize(StringInfo buf, const S3dbSeen *s);
extern S3dbSeen *s3db_seen_deserialize(const char *data, size_t len);

#endif							/* S3DB_XACT_INT_H */
