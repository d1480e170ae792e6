/*-------------------------------------------------------------------------
 *
 * owned.c
 *		Core objects owned by a memory context.
 *
 * The core (src/store, src/format) mallocs what it returns: response
 * bodies, listings, metadata.  An ERROR unwinds the stack with longjmp, so a
 * core object held in a local variable when a statement fails, is cancelled
 * or times out would never be freed.  postgres_fdw ties its PGresults to
 * memory contexts for the same reason.  Here the object itself is palloc'd
 * in the current memory context together with a reset callback that frees
 * what the core put into it: resetting or deleting the context (which
 * PostgreSQL does for every statement's and transaction's contexts on
 * abort) releases it, and an explicit release before that is harmless
 * because the core's release functions leave the object empty.
 *
 * Use these for objects held across anything that may raise an ERROR
 * (CHECK_FOR_INTERRUPTS included); a context that lives as long as the
 * backend never resets, so the current context must be a statement's or a
 * transaction's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "fdw/s3db_fdw.h"
#include "format/encode.h"

typedef struct OwnedRequests
{
	MemoryContextCallback cb;
	int			n;
	s3s_request reqs[FLEXIBLE_ARRAY_MEMBER];
} OwnedRequests;

static void
release_requests(void *arg)
{
	OwnedRequests *o = (OwnedRequests *) arg;

	for (int i = 0; i < o->n; i++)
		s3s_request_reset(&o->reqs[i]);
}

/*
 * n zeroed requests whose outputs are released when the current memory
 * context is reset or deleted.  The caller still s3s_request_init()s them.
 */
s3s_request *
s3db_owned_requests(int n)
{
	OwnedRequests *o = palloc0(offsetof(OwnedRequests, reqs) +
							   sizeof(s3s_request) * Max(n, 1));

	o->n = n;
	o->cb.func = release_requests;
	o->cb.arg = o;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &o->cb);
	return o->reqs;
}

typedef struct OwnedObject
{
	MemoryContextCallback cb;
	s3s_object	obj;
} OwnedObject;

static void
release_object(void *arg)
{
	s3s_object_free(&((OwnedObject *) arg)->obj);
}

/* An empty object, freed like s3db_owned_requests' requests. */
s3s_object *
s3db_owned_object(void)
{
	OwnedObject *o = palloc0(sizeof(OwnedObject));

	o->cb.func = release_object;
	o->cb.arg = o;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &o->cb);
	return &o->obj;
}

/*
 * A palloc'd copy of a string the core malloc'd, which is freed here, also
 * when the copy cannot be made (out of memory raises only after the free).
 * NULL stays NULL.
 */
char *
s3db_take_string(char *s)
{
	char	   *r;
	size_t		len;

	if (s == NULL)
		return NULL;
	len = strlen(s) + 1;
	r = MemoryContextAllocExtended(CurrentMemoryContext, len, MCXT_ALLOC_NO_OOM);
	if (r != NULL)
		memcpy(r, s, len);
	free(s);
	if (r == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return r;
}

typedef struct OwnedVals
{
	MemoryContextCallback cb;
	int			n;
	s3f_val		vals[FLEXIBLE_ARRAY_MEMBER];
} OwnedVals;

static void
release_vals(void *arg)
{
	OwnedVals  *o = (OwnedVals *) arg;

	s3f_vals_free(o->vals, o->n);
}

/*
 * n empty values whose contents (the strings and items the core mallocs
 * into them) are freed like s3db_owned_requests' requests.  Only values the
 * array owns may be stored in it: a shallow copy of someone else's value
 * would be freed twice.
 */
s3f_val *
s3db_owned_vals(int n)
{
	OwnedVals  *o = palloc0(offsetof(OwnedVals, vals) + sizeof(s3f_val) * Max(n, 1));

	o->n = n;
	o->cb.func = release_vals;
	o->cb.arg = o;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &o->cb);
	return o->vals;
}

typedef struct OwnedRecord
{
	MemoryContextCallback cb;
	s3f_record	rec;
} OwnedRecord;

static void
release_record(void *arg)
{
	s3f_record_free(&((OwnedRecord *) arg)->rec);
}

/* An empty record, freed like s3db_owned_requests' requests. */
s3f_record *
s3db_owned_record(void)
{
	OwnedRecord *o = palloc0(sizeof(OwnedRecord));

	o->cb.func = release_record;
	o->cb.arg = o;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &o->cb);
	return &o->rec;
}

typedef struct OwnedObjectOut
{
	MemoryContextCallback cb;
	s3f_object_out out;
} OwnedObjectOut;

static void
release_object_out(void *arg)
{
	s3f_object_out_free(&((OwnedObjectOut *) arg)->out);
}

/* An empty encoded object, freed like s3db_owned_requests' requests. */
s3f_object_out *
s3db_owned_object_out(void)
{
	OwnedObjectOut *o = palloc0(sizeof(OwnedObjectOut));

	o->cb.func = release_object_out;
	o->cb.arg = o;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &o->cb);
	return &o->out;
}
