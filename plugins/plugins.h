/*-------------------------------------------------------------------------
 *
 * plugins.h
 *		The TTL and audit plugins: their write observer, and the helpers
 *		the two plugins share.
 *
 * The plugins see writes through src/fdw/observer.h: a statement that
 * writes to a foreign table asks once whether the table is TTL-managed
 * (s3db_fdw_ttl) or audited (s3db_fdw_audit).  For each row they see the
 * record before the row's own write is queued and queue their objects (an entry
 * of plg_ttl_expiration_index, a record of plg_audits) in the same
 * transaction buffer, so they reach the store in the same commit as the
 * change, or not at all.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_PLUGINS_H
#define S3DB_PLUGINS_H

#include "postgres.h"

#include "nodes/nodes.h"
#include "utils/relcache.h"

#include "fdw/s3db_fdw.h"
#include "fdw/trust.h"
#include "format/encode.h"
#include "tasks.h"

#define S3DB_TTL_INDEX "plg_ttl_expiration_index"
#define S3DB_AUDIT_RESOURCE "plg_audits"

/* Register the write observers of the plugins (plugin_hooks.c). */
extern void s3db_plugins_register(void);

/* ---- shared helpers (plugin_util.c) ---- */

/* Namespace of the extension, InvalidOid when it is not installed here. */
#define s3db_ext_namespace() s3db_extension_schema()

/* Index of an attribute path in a resource, -1 if absent. */
extern int	s3db_attr_index(const s3f_resource *r, const char *path);

/*
 * The catalog of a connection with a plugin resource defined: created in
 * s3db.json (under s3db.js's lock, registry rules kept) when missing.
 * Pins the catalog for cxt; *out receives the resource.
 */
extern S3dbCatalog *s3db_plugin_resource(S3dbConn *conn, MemoryContext cxt,
										 const char *name, const char *attributes_json,
										 const char *behavior, const char *partitions_json,
										 const s3f_resource **out);

/* Encode vals of res and queue the write in the transaction buffer. */
extern void s3db_queue_record(Oid serverid, Oid userid, const s3f_resource *res,
							  const char *id, const s3f_val *vals,
							  const s3f_write_opts *wopts, bool is_insert,
							  List *stale_markers);

/* Queue a delete of a record (no condition), and of stale markers. */
extern void s3db_queue_delete(Oid serverid, Oid userid, const char *resource,
							  const char *id, List *stale_markers);

/* Partition reference keys of a record (palloc'd strings). */
extern List *s3db_record_markers(const s3f_resource *res, const s3f_val *vals,
								 const char *id);

/* The record as JSON text (palloc'd), attributes by path, id first;
 * secret attributes are left out. */
extern char *s3db_record_json(const s3f_resource *res, const char *id,
							  const s3f_val *vals);

/*
 * The state of a record before this row's write: this transaction's
 * pending version, or what the scan read.  False when neither is known.
 */
extern bool s3db_record_before(const s3f_resource *res, Oid serverid, Oid userid,
							   const char *id, const char *passphrase, s3f_record *out);

/* "2026-11-25T18:01:02.345Z" */
extern void s3db_iso_ms(int64 ms, char *buf, size_t len);

/* Epoch ms of a value: a number (ms) or a date/time text; false if neither. */
extern bool s3db_value_ms(const s3f_val *v, int64 *ms);

/* Set a string / number value (malloc'd contents, free with s3f_val_free). */
extern void s3db_val_str(s3f_val *v, const char *s);
extern void s3db_val_num(s3f_val *v, double d);

/* ---- TTL (ttl.c) ---- */

typedef enum S3dbTtlGranularity
{
	TTL_MINUTE,
	TTL_HOUR,
	TTL_DAY,
	TTL_WEEK
} S3dbTtlGranularity;

extern const char *s3db_ttl_granularity_name(S3dbTtlGranularity g);
/* s3db.js's rule: from the TTL in seconds; no TTL = day */
extern S3dbTtlGranularity s3db_ttl_granularity(bool has_ttl, double ttl_s);
/* The UTC cohort label of a time; buf of at least 24 bytes. */
extern void s3db_ttl_cohort(S3dbTtlGranularity g, int64 ms, char *buf, size_t len);

/* One row of s3db_fdw_ttl. */
typedef struct S3dbTtlConfig
{
	Oid			relid;
	bool		has_ttl;
	double		ttl_s;
	char	   *field;			/* NULL = insertion time */
	char	   *action;			/* hard-delete, soft-delete, archive */
	char	   *soft_delete_field;
	char	   *archive_resource;
	S3dbTtlGranularity granularity;
} S3dbTtlConfig;

/* The enabled configuration of a table; false when there is none. */
extern bool s3db_ttl_config(Oid relid, S3dbTtlConfig *out);

/*
 * Expiry time of a record under a configuration.  base_fallback is used
 * when the record has no usable base time (insertion time); false when
 * there is none at all.
 */
extern bool s3db_ttl_expiry(const S3dbTtlConfig *cfg, const s3f_resource *res,
							const s3f_val *vals, int64 base_fallback, int64 *expires);

/*
 * The index entry of a record: its values for the index resource, owned by
 * the current memory context (s3db_owned_vals), s3f_vals_free() optional.
 */
extern s3f_val *s3db_ttl_entry_vals(const s3f_resource *idx, const S3dbTtlConfig *cfg,
									const char *resource, const char *record_id,
									int64 expires, int64 now_ms);

extern char *s3db_ttl_entry_id(const char *resource, const char *record_id);

/* Sweep one table (ttl_sweep.c); task NULL = no fencing. */
extern int64 s3db_ttl_sweep_relation(Oid relid, const S3dbTaskContext *task,
									 char *errbuf, size_t errlen);

/* The worker task (ttl_task.c): the leader sweeps every enabled table. */
extern long s3db_ttl_task(const S3dbTaskContext *ctx);

/* ---- audit (audit.c) ---- */

extern bool s3db_audit_enabled(Oid relid);
extern void s3db_audit_row(const s3f_resource *audit, const s3f_resource *res,
						   Oid serverid, Oid userid, Oid caller,
						   const s3f_write_opts *wopts,
						   CmdType op, const char *id,
						   const s3f_val *before, const s3f_val *after);

/* The definitions s3db.js creates these resources with. */
extern const char *const s3db_ttl_index_attributes;
extern const char *const s3db_ttl_index_partitions;
extern const char *const s3db_audit_attributes;
extern const char *const s3db_audit_partitions;

#endif							/* S3DB_PLUGINS_H */
