/*-------------------------------------------------------------------------
 *
 * s3db_fdw.h
 *		Declarations shared by the PostgreSQL side of s3db_fdw (src/fdw).
 *
 * The FDW turns SQL into requests on the object-store core (src/store) and
 * objects into tuples with the format layer (src/format).  Core objects are
 * malloc'd; every one the FDW holds is released by a memory context reset
 * callback, so an ERROR anywhere leaks nothing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_FDW_H
#define S3DB_FDW_H

#include "postgres.h"

#include "foreign/foreign.h"
#include "nodes/execnodes.h"
#include "nodes/plannodes.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "nodes/pathnodes.h"
#include "utils/hsearch.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"

#include "store/store.h"
#include "format/catalog.h"
#include "format/record.h"

#include "fdw/pg_compat.h"

/* ---- options.c ---- */

/* Everything the FDW needs to know about one foreign table. */
typedef struct S3dbTableOptions
{
	Oid			serverid;
	Oid			userid;
	char	   *resource;		/* table option "resource" (default: table name) */
} S3dbTableOptions;

/* Options of a server merged with the user mapping, ready for the store. */
typedef struct S3dbConnOptions
{
	char	   *connection_string;	/* never NULL after s3db_conn_options() */
	char	   *region;
	char	   *endpoint;
	char	   *url_style;
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;
	char	   *passphrase;
	char	   *ca_file;
	bool		verify_tls;
	int			max_inflight;
	int			max_retries;
	int			connect_timeout_ms;
	int			request_timeout_ms;
	int			metadata_limit;
	bool		weak_conditions;	/* weak_conditions 'accept' (superuser) */
	int64		cache_bytes;	/* object cache limit, 0 = off */
	/* AWS identity beyond keys (creds.c) */
	bool		use_server_identity;	/* granted by a superuser */
	bool		no_sign_request;	/* server: a public bucket */
	char	   *profile;
	char	   *role_arn;
	char	   *external_id;
	char	   *role_session_name;
} S3dbConnOptions;

extern void s3db_conn_options(Oid serverid, Oid userid, S3dbConnOptions *out);
extern HeapTuple s3db_user_mapping_tuple(Oid userid, Oid serverid);
extern void s3db_table_options(Oid relid, S3dbTableOptions *out);
extern char *s3db_column_field(Oid relid, AttrNumber attnum, const char *attname);
extern char *s3db_default_store_url(void);

/* ---- creds.c ---- */
extern void s3db_creds_init(void);
extern void s3db_creds_validate_option(DefElem *def);
extern void s3db_creds_config(Oid serverid, const S3dbConnOptions *o, s3s_config *cfg);

/* ---- connection.c ---- */

/* The store configuration for a server's options (strings borrowed from o). */
extern void s3db_store_config(Oid serverid, const S3dbConnOptions *o, s3s_config *cfg);

/*
 * A parsed s3db.json, shared by the scans that use it.  A newer catalog
 * replaces it in the connection; the old one is freed when its last scan
 * lets go of it.
 */
typedef struct S3dbCatalog
{
	s3f_catalog *cat;			/* malloc'd by the format layer */
	char	   *etag;			/* malloc'd; NULL when s3db.json is missing */
	int			refs;			/* pins by running scans */
	bool		orphaned;		/* no longer the connection's current catalog */
} S3dbCatalog;

/*
 * A connection: one store per user mapping (see connection.c) and its
 * current catalog.  Lives in CacheMemoryContext until its server or mapping
 * changes; a replaced one that the transaction used is closed at its end.
 */
typedef struct S3dbConn
{
	Oid			serverid;
	Oid			userid;			/* the mapping's user; InvalidOid for PUBLIC or none */
	Oid			umid;			/* the user mapping; InvalidOid when there is none */
	s3s_store  *store;
	uint64		probe_fingerprint;	/* where the store is (probe_shared.c) */
	S3dbConnOptions opts;		/* strings in CacheMemoryContext */
	S3dbCatalog *catalog;		/* NULL until loaded */
	TimestampTz validated_at;	/* statement start of the last revalidation */
	uint32		server_hashvalue;	/* syscache hash of the server's oid */
	uint32		mapping_hashvalue;	/* ... of the mapping's oid, 0 if none */
	bool		inflight_from_server;	/* the server sets max_inflight */
	bool		xact_used;		/* handed out in the current transaction */
	bool		invalid;		/* server or mapping changed: replace it */
} S3dbConn;

extern S3dbConn *s3db_get_conn(Oid serverid, Oid userid);
extern S3dbConn *s3db_get_conn_for_commit(Oid serverid, Oid userid);
extern void s3db_conn_bind(S3dbConn *conn, Oid serverid, Oid userid);

/* ---- access.c ---- */

/*
 * Raise an ERROR unless userid may read (and with for_write, write) the
 * connection's store: file:// stores need pg_read_server_files to read,
 * and pg_write_server_files as well to write.
 */
extern void s3db_check_store_access(S3dbConn *conn, Oid userid, bool for_write);
extern S3dbCatalog *s3db_conn_catalog(S3dbConn *conn);
extern S3dbCatalog *s3db_catalog_pin(S3dbConn *conn, MemoryContext cxt);
extern const s3f_resource *s3db_find_resource(S3dbCatalog *cat, const char *name,
											  const char *relname);

/* Report a core error as an ereport(ERROR); never returns. */
extern void s3db_report(const s3s_error *err, const char *what) pg_attribute_noreturn();

/* Cancel hook for the store: true once a cancel or termination is pending. */
extern bool s3db_cancel_requested(void *arg);

/* Run requests; raise an ERROR for failures other than the allowed codes. */
extern void s3db_execute(S3dbConn *conn, s3s_request *reqs, int n);

/*
 * Paging through every key (or common prefix) under a prefix:
 *
 *		s3db_pager_start(&pg, conn, prefix, NULL, "could not list ...");
 *		while ((page = s3db_pager_next(&pg)) != NULL)
 *			... page->entries[0 .. page->n) ...
 *
 * A failed LIST is reported with the "what" text; with what = NULL it ends
 * the paging instead, leaving the error in pg.err.  A page stays valid
 * until the next call; s3db_pager_end() releases it when the caller stops
 * early.
 */
typedef struct S3dbPager
{
	S3dbConn   *conn;
	const char *prefix;
	const char *delimiter;
	const char *what;
	s3s_request *req;			/* owned by the memory context of the start */
	bool		have_req;
	bool		done;
	char	   *token;
	s3s_error	err;
} S3dbPager;

extern void s3db_pager_start(S3dbPager *pg, S3dbConn *conn, const char *prefix,
							 const char *delimiter, const char *what);
extern const s3s_list *s3db_pager_next(S3dbPager *pg);
extern void s3db_pager_end(S3dbPager *pg);

/* ---- owned.c: core objects released with a memory context ---- */
extern s3s_request *s3db_owned_requests(int n);
extern s3s_object *s3db_owned_object(void);
extern char *s3db_take_string(char *s);
extern s3f_val *s3db_owned_vals(int n);
extern s3f_record *s3db_owned_record(void);
extern struct s3f_object_out *s3db_owned_object_out(void);

/* ---- convert.c ---- */

typedef struct S3dbColumn
{
	AttrNumber	attnum;
	char	   *name;
	char	   *field;			/* attribute path, "id", "$content", "$content_type" */
	int			attr_index;		/* index into resource->attrs, or a S3DB_COL_* */
	Oid			typid;
	int32		typmod;
	Oid			typinput;
	Oid			typioparam;
	Oid			typoutput;
	bool		typisvarlena;
	Oid			elemtype;		/* for arrays */
	Oid			eleminput;
	Oid			elemioparam;
	int16		elemlen;
	bool		elembyval;
	char		elemalign;
	FmgrInfo	inflinfo;
	FmgrInfo	elemflinfo;
} S3dbColumn;

#define S3DB_COL_ID				(-1)
#define S3DB_COL_CONTENT		(-2)
#define S3DB_COL_CONTENT_TYPE	(-3)
#define S3DB_COL_UNKNOWN		(-4)	/* field not in the resource: NULL */

extern void s3db_column_init(S3dbColumn *col, Relation rel, AttrNumber attnum,
							 const s3f_resource *res);
extern Datum s3db_value_to_datum(S3dbColumn *col, const s3f_val *v, bool *isnull);
extern Datum s3db_text_to_datum(S3dbColumn *col, const char *text, bool *isnull);
extern void s3db_datum_to_value(S3dbColumn *col, Datum d, bool isnull, s3f_val *v);
extern void s3db_timestamp_to_value(TimestampTz ts, s3f_val *v);

/* ---- modify.c ---- */
typedef enum S3dbStrategy
{
	STRATEGY_INSERT,
	STRATEGY_REPLACE,
	STRATEGY_PATCH,
	STRATEGY_UPDATE,
	STRATEGY_DELETE
} S3dbStrategy;

extern void s3dbAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
										RangeTblEntry *target_rte, Relation target_relation);
extern int	s3dbIsForeignRelUpdatable(Relation rel);
extern bool s3db_update_is_replace(PlannerInfo *root, Index relid, Relation rel,
								   List *update_colnos);
extern List *s3dbPlanForeignModify(PlannerInfo *root, ModifyTable *plan,
								   Index resultRelation, int subplan_index);
extern void s3dbBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
								   List *fdw_private, int subplan_index, int eflags);
extern TupleTableSlot *s3dbExecForeignInsert(EState *estate, ResultRelInfo *rinfo,
											 TupleTableSlot *slot, TupleTableSlot *planSlot);
extern TupleTableSlot **s3dbExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo,
												   TupleTableSlot **slots,
												   TupleTableSlot **planSlots, int *numSlots);
extern int	s3dbGetForeignModifyBatchSize(ResultRelInfo *rinfo);
extern TupleTableSlot *s3dbExecForeignUpdate(EState *estate, ResultRelInfo *rinfo,
											 TupleTableSlot *slot, TupleTableSlot *planSlot);
extern TupleTableSlot *s3dbExecForeignDelete(EState *estate, ResultRelInfo *rinfo,
											 TupleTableSlot *slot, TupleTableSlot *planSlot);
extern void s3dbEndForeignModify(EState *estate, ResultRelInfo *rinfo);
extern void s3dbBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo);
extern void s3dbEndForeignInsert(EState *estate, ResultRelInfo *rinfo);
extern void s3dbExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
									 List *fdw_private, int subplan_index,
									 ExplainState *es);
extern void s3dbExecForeignTruncate(List *rels, DropBehavior behavior, bool restart_seqs);

/* ---- cache.c ---- */
/* strhash.c: dynahash tables keyed by strings; entries begin with char *key */
extern HTAB *s3db_strhash_create(const char *name, Size entrysize, MemoryContext cxt);
extern void *s3db_strhash_lookup(HTAB *h, const char *key, HASHACTION action, bool *found,
								 MemoryContext keycxt);
extern void s3db_strhash_remove(HTAB *h, void *entry);

extern bool s3db_cache_get(S3dbConn *conn, const char *key, const char *etag, int64 size,
						   int64 last_modified, bool need_body, s3s_object *out);
extern void s3db_cache_put(S3dbConn *conn, const char *key, const s3s_object *obj,
						   bool has_body, const char *etag, int64 size,
						   int64 last_modified);
extern void s3db_cache_forget(S3dbConn *conn, const char *key);

/* ---- analyze.c ---- */
extern bool s3dbAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
									BlockNumber *totalpages);
extern double s3db_estimate_rows(S3dbConn *conn, const char *resource);

/* ---- import.c ---- */
extern List *s3dbImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid);
extern const char *s3db_sql_type_for(const s3f_attr *attr);

/* ---- plan.c / scan.c ---- */
extern void s3dbGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid);
extern void s3dbGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid);
/* The column that reads the record id, 0 if none. */
extern AttrNumber s3db_id_column(Relation rel);
extern ForeignScan *s3dbGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
									   Oid foreigntableid, ForeignPath *best_path,
									   List *tlist, List *scan_clauses, Plan *outer_plan);
extern void s3dbBeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *s3dbIterateForeignScan(ForeignScanState *node);
extern void s3dbReScanForeignScan(ForeignScanState *node);
extern void s3dbEndForeignScan(ForeignScanState *node);
extern void s3dbExplainForeignScan(ForeignScanState *node, ExplainState *es);

/* GUCs */
extern int	s3db_max_inflight;
extern bool s3db_enable_pushdown;

#endif							/* S3DB_FDW_H */
