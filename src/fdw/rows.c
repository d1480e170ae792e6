/*-------------------------------------------------------------------------
 *
 * rows.c
 *		A modified row as an s3db.js record: the values of the row merged
 *		with the record as it was (an UPDATE keeps the attributes a table
 *		does not map), encoded, given a revision so that its ETag is its
 *		own, with its partition references, and queued in the transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "fdw/modify_int.h"
#include "format/encode.h"
#include "format/metaenc.h"

void
s3db_raise_encode_error(S3dbModifyState *ms, const char *id, const s3s_error *err)
{
	if (err->code == S3S_ERR_CONSTRAINT)
		ereport(ERROR,
				(errcode(strcmp(err->s3_code, "not_null") == 0 ?
						 ERRCODE_NOT_NULL_VIOLATION : ERRCODE_CHECK_VIOLATION),
				 errmsg("%s", err->message),
				 errdetail("Record \"%s\" of resource \"%s\" (foreign table \"%s\").",
						   id, ms->res->name, ms->relname)));
	if (err->code == S3S_ERR_INVALID || err->code == S3S_ERR_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("%s", err->message),
				 errdetail("Record \"%s\" of resource \"%s\" (foreign table \"%s\").",
						   id, ms->res->name, ms->relname)));
	s3db_report(err, psprintf("could not encode record \"%s\"", id));
}

/*
 * Values of a row, parallel to the resource's attributes.  For an UPDATE,
 * base is the record as it was (decoded); attributes the table does not
 * carry keep their old values, so a table that maps only some attributes
 * never erases the others.
 */
static s3f_val *
row_values(S3dbModifyState *ms, TupleTableSlot *slot, const s3f_record *base)
{
	s3f_val    *vals = palloc0(sizeof(s3f_val) * Max(ms->res->nattrs, 1));

	if (base)
		for (int i = 0; i < ms->res->nattrs && i < base->nvals; i++)
			if (ms->res->attrs[i].ti.type != S3F_T_NESTED)
				vals[i] = base->vals[i];	/* shallow: base owns the strings */

	slot_getallattrs(slot);
	for (int c = 0; c < ms->ncols; c++)
	{
		S3dbColumn *col = &ms->cols[c];
		int			a = col->attnum - 1;

		if (col->attr_index < 0)
			continue;
		if (ms->res->attrs[col->attr_index].ti.type == S3F_T_NESTED)
		{
			/* a container column replaces everything below it */
			const char *path = ms->res->attrs[col->attr_index].path;
			size_t		plen = strlen(path);

			for (int i = 0; i < ms->res->nattrs; i++)
				if (strncmp(ms->res->attrs[i].path, path, plen) == 0 &&
					ms->res->attrs[i].path[plen] == '.')
					memset(&vals[i], 0, sizeof(s3f_val));
		}
		s3db_datum_to_value(col, slot->tts_values[a], slot->tts_isnull[a],
							&vals[col->attr_index]);
	}
	return vals;
}

/*
 * The record an UPDATE starts from: this transaction's pending version, or
 * what the scan read from the store.  False when neither is known.
 */
static bool
decode_base(S3dbModifyState *ms, const char *id, s3f_record *base)
{
	s3s_error	err;
	s3s_code	rc = s3db_record_as_known(ms->res, ms->serverid, ms->userid, id,
										  ms->wopts.passphrase, base, &err);

	if (rc == S3S_ERR_NOT_FOUND)
		return false;
	if (rc != S3S_OK)
		s3db_report(&err, psprintf("could not decode record \"%s\" of resource \"%s\"",
								   id, ms->res->name));
	return true;
}

static void queue_values(S3dbModifyState *ms, TupleTableSlot *slot, const char *id,
						 bool insert, s3f_val *vals, S3dbSeen *seen);

/*
 * A resource with timestamps: true gets what s3db.js's insert() and
 * update() write: createdAt and updatedAt on insert where the row leaves
 * them empty, updatedAt on every update unless the statement assigns it.
 * The time is the statement's, in UTC.  Returns the attributes stamped, as
 * bits of the indexes in stamped[2] (-1: none).
 */
static void
stamp_timestamps(S3dbModifyState *ms, s3f_val *vals, bool insert, TimestampTz now,
				 int stamped[2])
{
	stamped[0] = stamped[1] = -1;
	if (!ms->res->timestamps)
		return;
	for (int i = 0; i < ms->res->nattrs; i++)
	{
		const char *path = ms->res->attrs[i].path;
		bool		created = strcmp(path, "createdAt") == 0;

		if (!created && strcmp(path, "updatedAt") != 0)
			continue;
		if (insert ? (vals[i].kind != S3F_MISSING && vals[i].kind != S3F_NULL)
			: (created || ms->sets_updated_at))
			continue;
		s3db_timestamp_to_value(now, &vals[i]);
		stamped[created ? 0 : 1] = i;
	}
}

/*
 * The stamped values in the row itself, for RETURNING, AFTER triggers and
 * the replication outbox: the row is stored anew as a virtual tuple of
 * copied values (a foreign table's slot holds a heap tuple).
 */
static void
stamp_slot(S3dbModifyState *ms, TupleTableSlot *slot, TimestampTz now, const int stamped[2])
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	Datum	   *values;
	bool	   *isnull;
	bool		any = false;

	if (stamped[0] < 0 && stamped[1] < 0)
		return;
	slot_getallattrs(slot);
	values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	isnull = palloc(sizeof(bool) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		isnull[i] = slot->tts_isnull[i];
		values[i] = isnull[i] ? (Datum) 0 :
			datumCopy(slot->tts_values[i], att->attbyval, att->attlen);
	}
	for (int c = 0; c < ms->ncols; c++)
	{
		S3dbColumn *col = &ms->cols[c];
		s3f_val		v;

		if (col->attr_index < 0 ||
			(col->attr_index != stamped[0] && col->attr_index != stamped[1]))
			continue;
		s3db_timestamp_to_value(now, &v);
		isnull[col->attnum - 1] = false;
		values[col->attnum - 1] = col->typid == TIMESTAMPTZOID ? TimestampTzGetDatum(now) :
			OidInputFunctionCall(col->typinput, v.str, col->typioparam, col->typmod);
		any = true;
	}
	if (!any)
		return;
	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, sizeof(Datum) * desc->natts);
	memcpy(slot->tts_isnull, isnull, sizeof(bool) * desc->natts);
	ExecStoreVirtualTuple(slot);
	ExecMaterializeSlot(slot);
}

char *
s3db_new_id(S3dbModifyState *ms)
{
	s3s_error	err;

	if (ms->have_incr)
	{
		double		first;

		s3s_error_clear(&err);
		if (s3f_sequence_next(ms->conn->store, ms->res->name, &ms->incr, 1, &first, &err) != S3S_OK)
			s3db_report(&err, psprintf("could not allocate an id for resource \"%s\"",
									   ms->res->name));
		return s3db_take_string(s3f_incremental_format(&ms->incr, first));
	}
	else
		return s3db_take_string(s3f_random_id(ms->res->id_size > 0 ? ms->res->id_size : 22));
}

/* Fill a pending write from an encoded object (copies into palloc memory). */
static void
pending_from_object(S3dbPending *p, const s3f_object_out *o)
{
	p->nmeta = o->meta.n;
	p->mkeys = s3db_copy_strings(o->meta.keys, o->meta.n);
	p->mvals = s3db_copy_strings(o->meta.values, o->meta.n);
	p->body = s3db_copy_bytes(o->body, o->body_len);
	p->body_len = o->body_len;
	p->content_type = o->content_type ? pstrdup(o->content_type) : NULL;
}

/*
 * Give a record without a body a tiny JSON body {"_rev":"<random>"} (and
 * the same _rev in metadata).  An S3 ETag is the MD5 of the body, so
 * without it every metadata-only version of a record would have the same
 * ETag and If-Match could not tell that someone else changed it.  s3db.js
 * drops "_" members when reading, and readers skip such a body (the size
 * tells it holds nothing else).
 */
static void
add_revision(S3dbPending *p)
{
	char	   *r = s3db_take_string(s3f_random_id(16));
	int			n = p->nmeta;

	p->mkeys = repalloc(p->mkeys, sizeof(char *) * (n + 1));
	p->mvals = repalloc(p->mvals, sizeof(char *) * (n + 1));
	p->mkeys[n] = pstrdup("_rev");
	p->mvals[n] = pstrdup(r);
	p->nmeta = n + 1;
	p->body = psprintf("{\"_rev\":\"%s\"}", r);
	p->body_len = strlen(p->body);
	p->content_type = pstrdup("application/json");
}

/* Partition reference keys of a record's new state. */
static List *
marker_keys(S3dbModifyState *ms, const s3f_val *vals, const char *id)
{
	List	   *keys = NIL;
	s3f_val    *norm;
	s3s_error	err;

	if (ms->res->nparts == 0)
		return NIL;

	/*
	 * References carry the values as stored: trimmed, flattened, rounded.
	 * The normalised copies are malloc'd by the core and held across
	 * lappend(), which may fail, so the array is owned by the row's context.
	 */
	norm = s3db_owned_vals(ms->res->nattrs);
	s3s_error_clear(&err);
	if (s3f_record_normalize(ms->res, vals, norm, &err) != S3S_OK)
	{
		s3f_vals_free(norm, ms->res->nattrs);
		s3db_raise_encode_error(ms, id, &err);
	}
	for (int i = 0; i < ms->res->nparts; i++)
	{
		char	   *k = s3db_take_string(s3f_partition_key(ms->res, &ms->res->parts[i],
															norm, id));

		if (k)
			keys = lappend(keys, k);
	}
	s3f_vals_free(norm, ms->res->nattrs);
	return keys;
}

/*
 * Encode the row in the slot and queue it.  Returns the id written.
 */
char *
s3db_queue_row(S3dbModifyState *ms, TupleTableSlot *slot, const char *id, bool insert,
		  bool update)
{
	s3f_record	base;
	volatile bool have_base;
	s3f_val    *vals;
	S3dbSeen   *seen = insert ? NULL :
		s3db_seen_get(ms->serverid, ms->userid, ms->res->name, id, CurrentMemoryContext);
	TimestampTz now = GetCurrentStatementStartTimestamp();
	int			stamped[2];

	memset(&base, 0, sizeof(base));
	have_base = update && ms->strategy != STRATEGY_REPLACE &&
		decode_base(ms, id, &base);
	PG_TRY();
	{
		vals = row_values(ms, slot, have_base ? &base : NULL);
		stamp_timestamps(ms, vals, !update, now, stamped);
		/* observers see the record before its write is queued */
		s3db_observers_record(ms->observers, update ? CMD_UPDATE : CMD_INSERT, id, vals);
		queue_values(ms, slot, id, insert, vals, seen);
		stamp_slot(ms, slot, now, stamped);
	}
	PG_FINALLY();
	{
		if (have_base)
			s3f_record_free(&base);
	}
	PG_END_TRY();
	return pstrdup(id);
}

/* Encode the values of a row and queue the write. */
static void
queue_values(S3dbModifyState *ms, TupleTableSlot *slot, const char *id, bool insert,
			 s3f_val *vals, S3dbSeen *seen)
{
	s3f_object_out *out;
	s3s_error	err;
	s3s_code	rc;
	S3dbPending p;
	bool		content = ms->content_col >= 0 &&
		!slot->tts_isnull[ms->cols[ms->content_col].attnum - 1];

	/*
	 * The encoded object is malloc'd by the core and held until it has been
	 * copied into the pending write, across pallocs and lookups that may
	 * fail: the row's context owns it.
	 */
	out = s3db_owned_object_out();
	s3s_error_clear(&err);
	if (content)
	{
		S3dbColumn *cc = &ms->cols[ms->content_col];
		bytea	   *b = DatumGetByteaPP(slot->tts_values[cc->attnum - 1]);
		char	   *mime = NULL;

		if (ms->mime_col >= 0 && !slot->tts_isnull[ms->cols[ms->mime_col].attnum - 1])
			mime = TextDatumGetCString(slot->tts_values[ms->cols[ms->mime_col].attnum - 1]);
		rc = s3f_record_encode_content(ms->res, vals, (unsigned char *) VARDATA_ANY(b),
									   VARSIZE_ANY_EXHDR(b), mime, &ms->wopts, out, &err);
	}
	else
		rc = s3f_record_encode(ms->res, vals, &ms->wopts, out, &err);
	if (rc != S3S_OK)
	{
		s3f_object_out_free(out);
		s3db_raise_encode_error(ms, id, &err);
	}

	memset(&p, 0, sizeof(p));
	p.serverid = ms->serverid;
	p.userid = ms->userid;
	p.resource = ms->res->name;
	p.id = (char *) id;
	p.key = s3db_take_string(s3f_key_data(ms->res->name, id));
	p.is_insert = insert;
	p.if_absent = insert && ms->do_nothing;
	if (insert && !ms->do_nothing)
	{
		/* a later write of a record an ON CONFLICT DO NOTHING created */
		S3dbPending *prev = s3db_pending_lookup(ms->serverid, ms->userid, ms->res->name,
												id, InvalidCommandId, CurrentMemoryContext);

		p.if_absent = prev != NULL && prev->op != PENDING_DELETE && prev->if_absent;
	}
	p.version = ms->res->current_version;
	p.op = PENDING_PUT;
	pending_from_object(&p, out);
	s3f_object_out_free(out);
	if (p.body == NULL)
		add_revision(&p);

	/*
	 * patch: a record that lives entirely in metadata, or whose body is
	 * binary content the table does not carry, keeps its body: COPY the
	 * object onto itself with the new metadata.
	 */
	if (!insert && ms->strategy == STRATEGY_PATCH && seen && seen->has_content && !content)
	{
		p.op = PENDING_COPY;
		if (seen->has_content && seen->content_meta != NIL)
		{
			int			extra = list_length(seen->content_meta) / 2;
			ListCell   *lc;
			int			i = p.nmeta;

			p.mkeys = repalloc(p.mkeys, sizeof(char *) * (p.nmeta + extra));
			p.mvals = repalloc(p.mvals, sizeof(char *) * (p.nmeta + extra));
			foreach(lc, seen->content_meta)
			{
				p.mkeys[i] = (char *) lfirst(lc);
				lc = lnext(seen->content_meta, lc);
				p.mvals[i++] = (char *) lfirst(lc);
			}
			p.nmeta = i;
		}
	}
	else if (!insert && seen && seen->has_content && !content && ms->content_col < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot update record \"%s\" of resource \"%s\" without its binary content",
						id, ms->res->name),
				 errhint("Add a bytea column with OPTIONS (field '$content') to the foreign table.")));

	p.markers = marker_keys(ms, vals, id);
	s3db_pending_add(&p);
}

/* Fill a slot with the columns of a record about to be deleted. */
void
s3db_returning_row(S3dbModifyState *ms, TupleTableSlot *slot, const char *id, S3dbSeen *seen)
{
	s3f_record	base;
	bool		have;

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	memset(&base, 0, sizeof(base));
	have = decode_base(ms, id, &base);
	PG_TRY();
	{
		for (int c = 0; c < ms->ncols; c++)
		{
			S3dbColumn *col = &ms->cols[c];
			int			a = col->attnum - 1;

			if (col->attr_index == S3DB_COL_ID)
				slot->tts_values[a] = s3db_text_to_datum(col, id, &slot->tts_isnull[a]);
			else if (have && col->attr_index >= 0)
				slot->tts_values[a] = s3db_value_to_datum(col, &base.vals[col->attr_index],
														  &slot->tts_isnull[a]);
		}
	}
	PG_FINALLY();
	{
		if (have)
			s3f_record_free(&base);
	}
	PG_END_TRY();
	ExecStoreVirtualTuple(slot);
}

