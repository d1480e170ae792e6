/*-------------------------------------------------------------------------
 *
 * replicator.h
 *		Replication of SQL writes on s3db foreign tables: a transactional
 *		outbox filled by the write path, delivered by the background worker.
 *
 * replicator.c captures changes (a write observer of the FDW) into the
 * outbox tables of the extension schema,
 * in the writing transaction.  repl_deliver.c runs delivery rounds (the
 * worker task, s3db_replicate_now()); deliver_http.c sends webhooks and
 * SQS messages, deliver_sql.c applies changes to local tables and to
 * foreign tables of another s3db server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_REPLICATOR_H
#define S3DB_REPLICATOR_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "nodes/nodes.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include "tasks.h"

/* ---- capture (replicator.c): a write observer ---- */

struct S3dbWriteObserver;
extern const struct S3dbWriteObserver s3db_replicator_observer;

/* Set while changes are being delivered: they are not captured again. */
extern bool s3db_repl_delivering;

/* true once this transaction queued a change */
extern bool s3db_repl_captured_in_xact(void);

/* ---- delivery (repl_deliver.c) ---- */

/* The worker task: one round over every enabled target. */
extern long s3db_replicator_task(const S3dbTaskContext *ctx);

/* One change to deliver, read from the outbox. */
typedef struct S3dbChange
{
	int64		seq;
	int64		record_seq;
	Oid			relid;			/* the foreign table the change was made on */
	char	   *relname;
	char	   *resource;
	char	   *record_id;
	char	   *operation;		/* insert, update, delete */
	char	   *before;			/* JSON text or NULL */
	char	   *after;			/* JSON text or NULL */
	char	   *timestamp;		/* ISO 8601, UTC, milliseconds */
} S3dbChange;

/* One target, as configured. */
typedef struct S3dbTarget
{
	char	   *name;
	char	   *kind;
	char	   *target;
	char	   *options;		/* JSON object text */
	Oid			owner;			/* deliveries run as this role */
	bool		has_filter;
} S3dbTarget;

/* The s3db.js envelope {resource, action, timestamp, source, [before], data}. */
extern void s3db_repl_envelope(StringInfo buf, const S3dbChange *c, const char *source);

/* A string option of a target ("a.b" reaches nested objects), or NULL. */
extern char *s3db_repl_option(const S3dbTarget *t, const char *path);
/* Members of an object option as "name: value" strings; *ok false if not an object. */
extern List *s3db_repl_option_members(const S3dbTarget *t, const char *path, bool *ok);
extern long s3db_repl_option_long(const S3dbTarget *t, const char *path, long dflt);

/*
 * Deliverers: true on success; false with a message in err (palloc'd).
 * They may also raise errors, which the caller catches.
 */
extern bool s3db_deliver_webhook(const S3dbTarget *t, const S3dbChange *c, char **err);
extern bool s3db_deliver_sqs(const S3dbTarget *t, const S3dbChange *c, char **err);
extern bool s3db_deliver_table(const S3dbTarget *t, const S3dbChange *c, char **err);
extern bool s3db_deliver_s3db(const S3dbTarget *t, const S3dbChange *c, char **err);

/* The signed SendMessage request of an SQS target (deliver_http.c). */
typedef struct S3dbSqsRequest
{
	char	   *url;
	char	   *body;
	List	   *headers;		/* "Name: value" strings */
	char	   *canonical_request;
} S3dbSqsRequest;

extern bool s3db_sqs_build(const S3dbTarget *t, const S3dbChange *c, time_t now,
						   S3dbSqsRequest *req, char **err);

#endif							/* S3DB_REPLICATOR_H */
