/*-------------------------------------------------------------------------
 *
 * xact.h
 *		Writes collected during a transaction and applied at commit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_XACT_H
#define S3DB_XACT_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/palloc.h"

#include "store/s3err.h"

typedef enum S3dbPendingOp
{
	PENDING_PUT,				/* write the whole object */
	PENDING_COPY,				/* replace metadata, keep the stored body */
	PENDING_DELETE
} S3dbPendingOp;

/*
 * One write of one record.  An entry the caller queues is copied; one the
 * caller gets back lives in transaction memory, or, once the transaction's
 * writes outgrew work_mem, is read back from a temporary file into the
 * memory context the caller names.
 */
typedef struct S3dbPending
{
	S3dbPendingOp op;
	Oid			serverid;
	Oid			userid;
	char	   *resource;
	char	   *id;
	char	   *key;			/* resource=R/data/id=ID */
	bool		is_insert;		/* the record must not exist yet */
	bool		if_absent;		/* ON CONFLICT DO NOTHING: if it does, skip it */
	int			nmeta;
	char	  **mkeys;
	char	  **mvals;
	char	   *body;
	size_t		body_len;
	char	   *content_type;
	char	   *version;		/* _v, for partition references */
	List	   *markers;		/* partition reference keys of the new state */
} S3dbPending;

/* The object a pending write puts: metadata, body, content type. */
typedef struct S3dbPayload
{
	int			nmeta;
	char	  **mkeys;
	char	  **mvals;
	char	   *body;
	size_t		body_len;
	char	   *content_type;
} S3dbPayload;

/* The payload of a pending write (pointers into the entry). */
extern void s3db_pending_payload(const S3dbPending *p, S3dbPayload *out);

/* What a scan for UPDATE/DELETE saw of a record in the store. */
typedef struct S3dbSeen
{
	char	   *etag;
	bool		has_body;		/* size > 0 */
	bool		has_content;	/* binary content (spec 11) */
	char	   *version;
	List	   *markers;		/* partition reference keys of the stored state */
	List	   *content_meta;	/* _hascontent/_mimetype/_contentlength key, value, ... */
	/* the object as read, so an UPDATE keeps the attributes it does not set */
	int			nmeta;
	char	  **mkeys;
	char	  **mvals;
	char	   *body;			/* NULL when only a HEAD was needed */
	size_t		body_len;
	char	   *content_type;
} S3dbSeen;

extern void s3db_xact_init(void);

/*
 * The latest pending write of a record in this transaction made by a
 * command before "before" (a scan's snapshot->curcid; InvalidCommandId:
 * every write), or NULL; an entry kept on disk is read back into cxt.
 */
extern S3dbPending *s3db_pending_lookup(Oid serverid, Oid userid, const char *resource,
										const char *id, CommandId before, MemoryContext cxt);

/*
 * Whether the transaction wrote the record, and if so its latest operation
 * and whether its first write created it; reads nothing back.
 */
extern bool s3db_pending_state(Oid serverid, Oid userid, const char *resource,
							   const char *id, S3dbPendingOp *op, bool *is_insert);

/* Queue a write (copied). */
extern void s3db_pending_add(const S3dbPending *p);

/*
 * Ids of the records this transaction created in a resource and has not
 * deleted again, in the order first written.
 */
extern List *s3db_pending_new_ids(Oid serverid, Oid userid, const char *resource,
								  CommandId before);

/* Has the resource been truncated in this transaction (by a command before "before")? */
extern bool s3db_pending_truncated(Oid serverid, Oid userid, const char *resource,
								   CommandId before);
extern void s3db_pending_truncate(Oid serverid, Oid userid, const char *resource);

/*
 * Remember / recall what the store held when a record was read for writing
 * (the first read counts); s3db_seen_get reads an entry kept on disk back
 * into cxt.
 */
extern void s3db_seen_put(Oid serverid, Oid userid, const char *resource,
						  const char *id, const S3dbSeen *seen);
extern S3dbSeen *s3db_seen_get(Oid serverid, Oid userid, const char *resource,
							   const char *id, MemoryContext cxt);
extern bool s3db_seen_exists(Oid serverid, Oid userid, const char *resource,
							 const char *id);

/*
 * The final state of each record a transaction wrote through one
 * connection, a chunk at a time in the order first written: its latest
 * write, what the store held when it was read (or NULL), and whether its
 * first write created it.  Records created and deleted again are skipped.
 */
typedef struct S3dbFinal
{
	S3dbPending *last;
	S3dbSeen   *seen;
	bool		is_insert;
} S3dbFinal;

typedef struct S3dbFinalScan
{
	Oid			serverid;
	Oid			userid;
	int			pos;			/* next log index to look at */
} S3dbFinalScan;

extern void s3db_finals_begin(S3dbFinalScan *fs, Oid serverid, Oid userid);
/* Up to max finals into out[], entries read into cxt; 0 at the end. */
extern int	s3db_finals_next(S3dbFinalScan *fs, S3dbFinal *out, int max, MemoryContext cxt);

/* A record as this transaction knows it (pending version, else as read). */
struct s3f_resource;
struct s3f_record;
extern s3s_code s3db_record_as_known(const struct s3f_resource *res, Oid serverid,
									 Oid userid, const char *id, const char *passphrase,
									 struct s3f_record *out, s3s_error *err);

/* Number of pending writes (for EXPLAIN ANALYZE and tests). */
extern int	s3db_pending_count(void);

/* Copies into CurrentMemoryContext (xact_spill.c). */
extern char **s3db_copy_strings(char *const *from, int n);
extern char *s3db_copy_bytes(const char *from, size_t len);

#endif							/* S3DB_XACT_H */
