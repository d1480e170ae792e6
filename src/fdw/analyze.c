/*-------------------------------------------------------------------------
 *
 * analyze.c
 *		ANALYZE of s3db foreign tables and row estimates for the planner.
 *
 * ANALYZE lists every key of the resource (the row count, exactly, at one
 * LIST request per thousand records), keeps a reservoir sample of ids, and
 * fetches only the sampled records, concurrently.  Planning without
 * statistics asks the store for one LIST page: its size, or "more than a
 * page", is a better guess than a constant and costs one request, cached
 * per backend for a minute.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "commands/vacuum.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"
#include "utils/timestamp.h"

#include "fdw/s3db_fdw.h"

static int	s3db_acquire_sample_rows(Relation rel, int elevel, HeapTuple *rows,
									 int targrows, double *totalrows,
									 double *totaldeadrows);

bool
s3dbAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
						BlockNumber *totalpages)
{
	*func = s3db_acquire_sample_rows;
	*totalpages = 1;
	return true;
}

/* The id of a data key, or NULL. */
static const char *
data_id(const char *key, const char *prefix, size_t plen)
{
	if (strncmp(key, prefix, plen) != 0 || strchr(key + plen, '/') != NULL ||
		key[plen] == '\0')
		return NULL;
	return key + plen;
}

static void
fill_values(TupleDesc desc, S3dbColumn *cols, const char *id, s3f_record *rec,
			Datum *values, bool *nulls)
{
	for (int c = 0; c < desc->natts; c++)
	{
		S3dbColumn *col = &cols[c];

		if (TupleDescAttr(desc, c)->attisdropped)
			continue;
		if (col->attr_index == S3DB_COL_ID)
			values[c] = s3db_text_to_datum(col, id, &nulls[c]);
		else if (col->attr_index >= 0)
			values[c] = s3db_value_to_datum(col, &rec->vals[col->attr_index], &nulls[c]);
	}
}

/* The record being converted, freed with the analyze context on error. */
typedef struct RecordHolder
{
	s3f_record	rec;
	bool		live;
} RecordHolder;

static void
release_record(void *arg)
{
	RecordHolder *h = (RecordHolder *) arg;

	if (h->live)
		s3f_record_free(&h->rec);
	h->live = false;
}

static int
s3db_acquire_sample_rows(Relation rel, int elevel, HeapTuple *rows, int targrows,
						 double *totalrows, double *totaldeadrows)
{
	S3dbTableOptions topts;
	S3dbConn   *conn;
	S3dbCatalog *cat;
	const s3f_resource *res;
	TupleDesc	desc = RelationGetDescr(rel);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "s3db_fdw analyze",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	char	  **sample = palloc(sizeof(char *) * Max(targrows, 1));
	int			nsample = 0;
	double		seen = 0;
	S3dbPager	pg;
	const s3s_list *page;
	char	   *prefix;
	size_t		plen;
	ReservoirStateData rstate;
	S3dbColumn *cols;
	bool	   *wanted;
	int			nrows = 0;
	RecordHolder *holder = palloc0(sizeof(RecordHolder));
	MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));

	cb->func = release_record;
	cb->arg = holder;
	MemoryContextRegisterResetCallback(cxt, cb);

	s3db_table_options(RelationGetRelid(rel), &topts);
	conn = s3db_get_conn(topts.serverid, topts.userid);
	cat = s3db_catalog_pin(conn, cxt);
	res = s3db_find_resource(cat, topts.resource, RelationGetRelationName(rel));
	{
		char	   *dp = s3db_take_string(s3f_prefix_data(res->name));

		prefix = psprintf("%sid=", dp);
	}
	plen = strlen(prefix);

	/* list everything: the count, and a reservoir sample of ids */
	reservoir_init_selection_state(&rstate, targrows);
	s3db_pager_start(&pg, conn, prefix, NULL, psprintf("could not list resource \"%s\"", res->name));
	while ((page = s3db_pager_next(&pg)) != NULL)
	{
		for (int i = 0; i < page->n; i++)
		{
			const char *id = data_id(page->entries[i].key, prefix, plen);

			if (id == NULL)
				continue;
			/* Algorithm R: every id ends up in the sample with equal chance */
			if (nsample < targrows)
				sample[nsample++] = pstrdup(id);
			else
			{
				double		j = sampler_random_fract(&rstate.randstate) * (seen + 1);

				if (j < targrows)
					sample[(int) j] = pstrdup(id);
			}
			seen++;
		}
		vacuum_delay_point(true);
	}

	/* fetch and decode the sample */
	cols = palloc0(sizeof(S3dbColumn) * Max(desc->natts, 1));
	wanted = palloc(sizeof(bool) * Max(res->nattrs, 1));
	for (int a = 0; a < res->nattrs; a++)
		wanted[a] = true;
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			s3db_column_init(&cols[i], rel, i + 1, res);

	for (int off = 0; off < nsample; off += 256)
	{
		int			n = Min(256, nsample - off);
		s3s_request *reqs = s3db_owned_requests(n);

		for (int i = 0; i < n; i++)
		{
			s3s_request_init(&reqs[i], S3S_OP_GET,
							 s3db_take_string(s3f_key_data(res->name, sample[off + i])));
		}
		s3db_execute(conn, reqs, n);
		for (int i = 0; i < n; i++)
		{
			s3f_record *recp = &holder->rec;
			s3s_error	err;
			Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
			bool	   *nulls = palloc(sizeof(bool) * desc->natts);
			const char *id = sample[off + i];

			if (reqs[i].err.code != S3S_OK)
				continue;		/* deleted since the listing, or unreadable */
			memset(recp, 0, sizeof(*recp));
			holder->live = true;
			s3s_error_clear(&err);
			if (s3f_record_decode(res, id, &reqs[i].obj.meta, reqs[i].obj.body,
								  reqs[i].obj.body_len, reqs[i].obj.content_type, wanted,
								  conn->opts.passphrase, recp, &err) != S3S_OK)
			{
				/* a record that cannot be decoded is not a sample row */
				release_record(holder);
				ereport(elevel,
						(errmsg("skipping record \"%s\" of resource \"%s\": %s",
								id, res->name, err.message)));
				continue;
			}
			memset(nulls, true, sizeof(bool) * desc->natts);
			fill_values(desc, cols, id, recp, values, nulls);
			release_record(holder);
			MemoryContextSwitchTo(old);
			rows[nrows++] = heap_form_tuple(desc, values, nulls);
			MemoryContextSwitchTo(cxt);
		}
		for (int i = 0; i < n; i++)
			s3s_request_reset(&reqs[i]);
		vacuum_delay_point(true);
	}

	MemoryContextSwitchTo(old);
	*totalrows = seen;
	*totaldeadrows = 0;
	ereport(elevel,
			(errmsg("\"%s\": resource \"%s\" has %.0f records, %d rows in sample",
					RelationGetRelationName(rel), res->name, seen, nrows)));
	MemoryContextDelete(cxt);
	return nrows;
}

/* ---------------------------------------------------------------------
 * Row estimates without statistics
 * ---------------------------------------------------------------------
 */
typedef struct CountEnt
{
	char		key[NAMEDATALEN * 3];
	double		rows;
	TimestampTz at;
} CountEnt;

static HTAB *counts = NULL;

/*
 * Roughly how many records a resource has: the size of one LIST page, or
 * ten pages' worth when there is more than one.  Cached for a minute.
 */
double
s3db_estimate_rows(S3dbConn *conn, const char *resource)
{
	char		key[NAMEDATALEN * 3];
	CountEnt   *e;
	bool		found;
	TimestampTz now = GetCurrentTimestamp();
	s3s_request r;
	char	   *dp;
	char	   *prefix;
	double		rows;

	if (counts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(key);
		ctl.entrysize = sizeof(CountEnt);
		counts = hash_create("s3db_fdw row estimates", 16, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	snprintf(key, sizeof(key), "%u/%u/%s", conn->serverid, conn->userid, resource);
	e = hash_search(counts, key, HASH_ENTER, &found);
	if (found && now - e->at < 60 * USECS_PER_SEC)
		return e->rows;

	dp = s3db_take_string(s3f_prefix_data(resource));
	prefix = psprintf("%sid=", dp);
	s3s_request_init(&r, S3S_OP_LIST, NULL);
	r.prefix = prefix;
	s3db_execute(conn, &r, 1);
	if (r.err.code != S3S_OK)
		rows = 1000;			/* the scan will report the error */
	else
		rows = r.list.truncated ? 10.0 * Max(r.list.n, 1) : r.list.n;
	s3s_request_reset(&r);
	e->rows = Max(rows, 1);
	e->at = now;
	return e->rows;
}
