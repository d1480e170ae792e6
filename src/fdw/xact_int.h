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
#include "storage/buffile.h"

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
