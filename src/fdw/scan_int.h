/*-------------------------------------------------------------------------
 *
 * scan_int.h
 *		The state of a foreign scan, shared by scan.c (the executor
 *		callbacks, tuples, EXPLAIN) and fetch.c (where records come from).
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_SCAN_INT_H
#define S3DB_SCAN_INT_H

#include "postgres.h"

#include "nodes/execnodes.h"
#include "utils/hsearch.h"

#include "fdw/s3db_fdw.h"

typedef enum FetchMode
{
	FETCH_NONE,					/* ids only: LIST is enough */
	FETCH_HEAD,					/* metadata only */
	FETCH_HEAD_THEN_GET,		/* metadata, GET when a needed field is in the body */
	FETCH_GET					/* always the whole object */
} FetchMode;


typedef struct S3dbScanState
{
	MemoryContext cxt;			/* owns everything below; reset frees core results */
	MemoryContext tuple_cxt;	/* reset per row */
	MemoryContext rescan_cxt;	/* reset per rescan: ids, prefixes, id sets */
	S3dbConn   *conn;
	S3dbCatalog *cat;
	const s3f_resource *res;
	char	   *relname;

	int			ncols;
	S3dbColumn *cols;			/* needed columns only */
	bool	   *wanted;			/* per resource attribute */
	FetchMode	mode;
	int			batch_size;		/* the most records a batch fetches */
	int			batch_want;		/* this batch's size: ramps up under a LIMIT */
	int			limit_hint;		/* LIMIT of a single-table query, 0 = none */

	/* direct fetch by id */
	bool		direct;
	List	   *id_states;		/* ExprStates */
	List	   *id_kinds;
	char	  **ids;			/* palloc'd, sorted, unique */
	int			nids;
	int			id_pos;

	/* listing: the data prefix, or the prefixes of a partition */
	char	  **prefixes;		/* "resource=R/data/id=" or ".../partition=P/f=v/id=" */
	int			nprefixes;
	int			prefix_idx;
	const s3f_partition *part;	/* partition listed, or NULL */
	List	   *part_fields;	/* field index of each expression */
	HTAB	   *listed;			/* ids already returned (partitions may repeat them) */
	bool		prefixes_ready;
	s3s_list	page;			/* current page (malloc'd by the store) */
	int			page_pos;
	bool		have_page;
	bool		list_done;		/* the current page is the prefix's last */
	s3s_list	next_page;		/* prefetched with the previous batch */
	bool		have_next;

	/* current batch */
	s3s_request *reqs;			/* palloc'd array of batch_size + 1 */
	char	  **batch_ids;		/* palloc'd per batch in batch_cxt */
	s3s_list_entry *batch_list;	/* the listing entry of each id, or NULL (direct) */
	int64		cache_hits;
	int			nreqs;
	int			pos;
	MemoryContext batch_cxt;
	int64		head_then_get;	/* HEADs that needed a GET */
	int64		heads;

	/* for EXPLAIN ANALYZE */
	s3s_stats	stats_start;
	s3s_stats	stats_end;
	bool		stats_done;
	int64		records;

	/* this transaction's pending writes */
	Oid			serverid;
	Oid			userid;
	bool		for_modify;		/* remember ETags and references for writes */
	bool		modify_reads_all;	/* ... and every attribute (UPDATE merges) */
	CommandId	cid;			/* its snapshot's: it sees the writes of earlier commands */
	bool		truncated;		/* the resource was truncated in this transaction */
	HTAB	   *emitted;		/* ids served from pending writes while listing */
	List	   *tail;			/* pending inserts still to return after listing */
	bool		tail_ready;

	/* error context */
	const char *cur_id;
	const char *cur_col;
	const char *cur_value;
} S3dbScanState;

/* fetch.c */
extern void s3db_release_batch(S3dbScanState *st);
extern void s3db_evaluate_ids(S3dbScanState *st, ExprContext *econtext);
extern void s3db_evaluate_partition_prefixes(S3dbScanState *st, ExprContext *econtext);
extern bool s3db_fill_batch(S3dbScanState *st);

#endif							/* S3DB_SCAN_INT_H */
