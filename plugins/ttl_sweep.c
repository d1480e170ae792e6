/*-------------------------------------------------------------------------
 *
 * ttl_sweep.c
 *		The TTL sweep: expire the due records of TTL-managed foreign
 *		tables through s3db.js's expiration index.
 *
 * s3db.js's sweep looks at the last two or three cohorts only and marks a
 * cohort done the first time it scans it, so the entries that fall due
 * after that scan (the tail of every minute, hour or day) are never
 * expired.  This sweep instead lists every cohort present in the index
 * (partition=byExpiresAtCohort/ prefixes, oldest first) up to the current
 * one, and within each the entries of the table's resource.  Per entry:
 *	1. re-read the entry and the record; a record that is gone only loses
 *	   its entry, a reference whose entry moved to another cohort is stale
 *	2. recompute the expiry from the record as it is now (the TTL field
 *	   may have changed): not due yet means the entry is moved to its new
 *	   cohort if needed, and kept
 *	3. apply the action with If-Match on the ETag read, so a record changed
 *	   or expired by someone else meanwhile is left alone: hard-delete
 *	   (record and partition references), soft-delete (the configured field
 *	   and isdeleted, as s3db.js writes them), or archive (a copy with
 *	   archivedAt/archivedFrom/originalId created first; taken back if the
 *	   record could not be deleted)
 *	4. delete the entry and its reference.
 * Side effects are fenced: in the worker each one first checks that this
 * worker still leads under the epoch the sweep started with.  Two leaders
 * overlapping briefly cannot expire a record twice: only one conditional
 * write of it succeeds.
 *
 * Who sweeps when is in ttl_task.c.
 *
 * Memory: the store and the format malloc what they return, and a sweep
 * holds those results across CHECK_FOR_INTERRUPTS() (a cancel or a
 * statement timeout), pallocs and ereports.  So every request, object,
 * record and value array here is owned by a memory context (owned.c), and
 * every malloc'd string is taken into palloc'd memory at once: an ERROR
 * anywhere leaks nothing.  Each entry is processed in a context of its own,
 * reset after it, so what is owned does not pile up over a long sweep.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "plugins.h"
#include "s3db_worker.h"
#include "tasks.h"

#define COHORT_PREFIX "resource=" S3DB_TTL_INDEX "/partition=byExpiresAtCohort/"

typedef struct Sweep
{
	const S3dbTaskContext *task;	/* NULL for s3db_ttl_sweep() */
	S3dbConn   *conn;
	const s3f_resource *res;
	const s3f_resource *idx;
	const s3f_resource *archive;
	S3dbTtlConfig cfg;
	s3f_write_opts wopts;
	int64		now;
	int64		expired;
	bool		stop;			/* fence lost */
	char		error[S3DB_ERRMSG_MAX];
} Sweep;

static bool
fence(Sweep *sw)
{
	if (sw->task == NULL)
		return true;
	if (sw->task->coord != NULL &&
		s3c_fence_ok_at(sw->task->coord, sw->task->epoch, s3db_now_ms()))
		return true;
	sw->stop = true;
	return false;
}

static void
note_error(Sweep *sw, const s3s_error *err, const char *what)
{
	snprintf(sw->error, sizeof(sw->error), "%s: %s", what, err->message);
}

/*
 * One request; returns its code, err filled.  r must be owned
 * (s3db_owned_requests): the interrupt check raises while r holds the answer.
 */
static s3s_code
run1(Sweep *sw, s3s_request *r)
{
	s3s_execute(sw->conn->store, r, 1);
	CHECK_FOR_INTERRUPTS();
	return r->err.code;
}

static s3s_code
delete_key(Sweep *sw, const char *key, const char *if_match)
{
	s3s_request *r = s3db_owned_requests(1);
	s3s_code	rc;

	s3s_request_init(r, S3S_OP_DELETE, key);
	r->if_match = if_match;
	rc = run1(sw, r);
	if (rc != S3S_OK && rc != S3S_ERR_NOT_FOUND && rc != S3S_ERR_PRECONDITION)
		note_error(sw, &r->err, psprintf("could not delete %s", key));
	s3s_request_reset(r);
	return rc;
}

/* Every key (or, with a delimiter, every common prefix) under a prefix. */
static List *
list_all(Sweep *sw, const char *prefix, const char *delimiter, bool *ok)
{
	List	   *out = NIL;
	S3dbPager	pg;
	const s3s_list *page;

	/* errors end the listing and are noted, not raised */
	s3db_pager_start(&pg, sw->conn, prefix, delimiter, NULL);
	while ((page = s3db_pager_next(&pg)) != NULL)
	{
		if (delimiter)
			for (int i = 0; i < page->nprefixes; i++)
				out = lappend(out, pstrdup(page->prefixes[i]));
		else
			for (int i = 0; i < page->n; i++)
				out = lappend(out, pstrdup(page->entries[i].key));
	}
	*ok = pg.err.code == S3S_OK;
	if (!*ok)
		note_error(sw, &pg.err, psprintf("could not list %s", prefix));
	return out;
}

/* PUT an encoded record and its partition references. */
static s3s_code
put_record(Sweep *sw, const s3f_resource *res, const char *id, const s3f_val *vals,
		   bool create, const char *if_match)
{
	s3f_object_out *o = s3db_owned_object_out();
	s3s_error	err;
	s3s_request *r = s3db_owned_requests(1);
	s3s_code	rc;
	char	   *key = s3db_take_string(s3f_key_data(res->name, id));
	char	   *rev = NULL;
	char	   *ref_keys[1] = {"_v"};
	char	   *ref_values[1] = {(char *) (res->current_version ? res->current_version : "v1")};
	s3s_meta	ref_meta;
	ListCell   *lc;

	s3s_error_clear(&err);
	if (s3f_record_encode(res, vals, &sw->wopts, o, &err) != S3S_OK)
	{
		s3f_object_out_free(o);
		note_error(sw, &err, psprintf("could not encode record \"%s\" of resource \"%s\"",
									  id, res->name));
		return err.code;
	}

	/*
	 * references first: a reference without its record is skipped by
	 * readers.  Their metadata is only read by the store, so it points at
	 * these arrays instead of being malloc'd for each reference.
	 */
	ref_meta.n = ref_meta.cap = 1;
	ref_meta.keys = ref_keys;
	ref_meta.values = ref_values;
	foreach(lc, s3db_record_markers(res, vals, id))
	{
		s3s_request_init(r, S3S_OP_PUT, (char *) lfirst(lc));
		r->meta = &ref_meta;
		rc = run1(sw, r);
		if (rc != S3S_OK)
			note_error(sw, &r->err, "could not write a partition reference");
		s3s_request_reset(r);
		if (rc != S3S_OK)
		{
			s3f_object_out_free(o);
			return rc;
		}
	}
	s3s_request_init(r, S3S_OP_PUT, key);
	r->meta = &o->meta;
	r->body = (const unsigned char *) o->body;
	r->body_len = o->body_len;
	r->content_type = o->content_type;
	if (o->body == NULL)
	{
		/* a distinct ETag per version, as the FDW's own writes carry */
		char	   *rid = s3db_take_string(s3f_random_id(16));

		s3s_meta_add(&o->meta, "_rev", rid);
		rev = psprintf("{\"_rev\":\"%s\"}", rid);
		r->meta = &o->meta;
		r->body = (const unsigned char *) rev;
		r->body_len = strlen(rev);
		r->content_type = "application/json";
	}
	r->if_none_match = create;
	r->if_match = if_match;
	rc = run1(sw, r);
	if (rc != S3S_OK && rc != S3S_ERR_PRECONDITION && rc != S3S_ERR_NOT_FOUND)
		note_error(sw, &r->err, psprintf("could not write record \"%s\" of resource \"%s\"",
										 id, res->name));
	s3s_request_reset(r);
	s3f_object_out_free(o);
	return rc;
}

static void
delete_markers(Sweep *sw, List *keys, List *keep)
{
	ListCell   *lc;

	foreach(lc, keys)
	{
		bool		kept = false;
		ListCell   *lk;

		foreach(lk, keep)
			kept |= strcmp((char *) lfirst(lk), (char *) lfirst(lc)) == 0;
		if (!kept)
			delete_key(sw, (char *) lfirst(lc), NULL);
	}
}

/*
 * GET and decode a record; NOT_FOUND when it is gone.  *rec is owned by the
 * current memory context; it holds the record only when S3S_OK is returned.
 */
static s3s_code
read_record(Sweep *sw, const s3f_resource *res, const char *id, s3f_record **rec,
			char **etag)
{
	s3s_object *obj = s3db_owned_object();
	s3s_error	err;
	s3s_code	rc;
	char	   *key = s3db_take_string(s3f_key_data(res->name, id));

	*rec = s3db_owned_record();
	rc = s3s_get(sw->conn->store, key, obj, &err);
	CHECK_FOR_INTERRUPTS();
	if (rc == S3S_OK)
	{
		rc = s3f_record_decode(res, id, &obj->meta, obj->body, obj->body_len,
							   obj->content_type, NULL, sw->wopts.passphrase, *rec, &err);
		*etag = obj->etag ? pstrdup(obj->etag) : NULL;
	}
	s3s_object_free(obj);
	if (rc != S3S_OK)
		s3f_record_free(*rec);
	if (rc != S3S_OK && rc != S3S_ERR_NOT_FOUND)
		note_error(sw, &err, psprintf("could not read record \"%s\" of resource \"%s\"",
									  id, res->name));
	return rc;
}

static const char *
str_of(const s3f_resource *res, const s3f_record *rec, const char *path)
{
	int			i = s3db_attr_index(res, path);

	if (i < 0 || i >= rec->nvals || rec->vals[i].kind != S3F_STR)
		return NULL;
	return rec->vals[i].str;
}

/* A shallow copy of a record's leaf values, to be changed and encoded. */
static s3f_val *
leaf_copy(const s3f_resource *res, const s3f_record *rec)
{
	s3f_val    *v = palloc0(sizeof(s3f_val) * Max(res->nattrs, 1));

	for (int i = 0; i < res->nattrs && i < rec->nvals; i++)
		if (res->attrs[i].ti.type != S3F_T_NESTED)
			v[i] = rec->vals[i];
	return v;
}

/* Apply the action to a due record; true when it expired here. */
static bool
expire(Sweep *sw, const char *id, const s3f_record *rec, const char *etag)
{
	List	   *markers = s3db_record_markers(sw->res, rec->vals, id);
	char		iso[40];

	s3db_iso_ms(s3db_now_ms(), iso, sizeof(iso));
	if (strcmp(sw->cfg.action, "soft-delete") == 0)
	{
		s3f_val    *v = leaf_copy(sw->res, rec);
		int			f = s3db_attr_index(sw->res, sw->cfg.soft_delete_field);
		int			d = s3db_attr_index(sw->res, "isdeleted");
		s3f_val    *marks;		/* the two new values: [0] field, [1] isdeleted */
		s3s_code	rc;

		if (f < 0)
		{
			snprintf(sw->error, sizeof(sw->error),
					 "resource \"%s\" has no attribute \"%s\" to mark records deleted",
					 sw->res->name, sw->cfg.soft_delete_field);
			return false;
		}
		/* v is shallow (rec owns its strings); the new ones are owned here */
		marks = s3db_owned_vals(2);
		s3db_val_str(&marks[0], iso);
		s3db_val_str(&marks[1], "true");
		v[f] = marks[0];
		if (d >= 0)
			v[d] = marks[1];
		rc = put_record(sw, sw->res, id, v, false, etag);
		if (rc == S3S_OK)
			delete_markers(sw, markers, s3db_record_markers(sw->res, v, id));
		s3f_vals_free(marks, 2);
		return rc == S3S_OK;
	}
	if (strcmp(sw->cfg.action, "archive") == 0)
	{
		const s3f_resource *ar = sw->archive;
		s3f_val    *v;
		s3f_val    *extra;
		char	   *aid;
		s3s_code	rc;

		if (ar == NULL)
		{
			snprintf(sw->error, sizeof(sw->error), "archive resource \"%s\" does not exist",
					 sw->cfg.archive_resource);
			return false;
		}
		v = palloc0(sizeof(s3f_val) * Max(ar->nattrs, 1));
		for (int i = 0; i < ar->nattrs; i++)
		{
			int			s = s3db_attr_index(sw->res, ar->attrs[i].path);

			if (s >= 0 && s < rec->nvals && ar->attrs[i].ti.type != S3F_T_NESTED &&
				strcmp(ar->attrs[i].path, "id") != 0)
				v[i] = rec->vals[s];
		}
		extra = s3db_owned_vals(3);		/* v is shallow but for these */
		s3db_val_str(&extra[0], iso);
		s3db_val_str(&extra[1], sw->res->name);
		s3db_val_str(&extra[2], id);
		{
			const char *names[3] = {"archivedAt", "archivedFrom", "originalId"};

			for (int k = 0; k < 3; k++)
			{
				int			i = s3db_attr_index(ar, names[k]);

				if (i >= 0)
					v[i] = extra[k];
			}
		}
		aid = s3db_take_string(s3f_random_id(ar->id_size > 0 ? ar->id_size : 22));
		rc = put_record(sw, ar, aid, v, true, NULL);
		if (rc == S3S_OK)
		{
			rc = delete_key(sw, psprintf("resource=%s/data/id=%s", sw->res->name, id), etag);
			if (rc != S3S_OK)
			{
				/* someone else changed or expired it: take the copy back */
				delete_key(sw, psprintf("resource=%s/data/id=%s", ar->name, aid), NULL);
				delete_markers(sw, s3db_record_markers(ar, v, aid), NIL);
			}
			else
				delete_markers(sw, markers, NIL);
		}
		s3f_vals_free(extra, 3);
		return rc == S3S_OK;
	}
	/* hard-delete */
	if (delete_key(sw, psprintf("resource=%s/data/id=%s", sw->res->name, id), etag) != S3S_OK)
		return false;
	delete_markers(sw, markers, NIL);
	return true;
}

static void
drop_entry(Sweep *sw, const char *eid, const char *refkey)
{
	char	   *k = s3db_take_string(s3f_key_data(S3DB_TTL_INDEX, eid));

	delete_key(sw, k, NULL);	/* a missing entry is fine */
	delete_key(sw, refkey, NULL);
}

static void
process_entry(Sweep *sw, const char *label, const char *refkey, const char *eid)
{
	s3f_record *entry;
	s3f_record *rec;
	char	   *etag = NULL;
	char	   *eetag = NULL;
	const char *rid;
	const char *ecohort;
	const char *ername;
	int64		ets = 0;
	int64		exp;
	int			ti;
	s3s_code	rc;

	rc = read_record(sw, sw->idx, eid, &entry, &eetag);
	if (rc == S3S_ERR_NOT_FOUND)
	{
		if (fence(sw))
			delete_key(sw, refkey, NULL);	/* a reference without its entry */
		return;
	}
	if (rc != S3S_OK)
		return;
	rid = str_of(sw->idx, entry, "recordId");
	ecohort = str_of(sw->idx, entry, "expiresAtCohort");
	ername = str_of(sw->idx, entry, "resourceName");
	ti = s3db_attr_index(sw->idx, "expiresAtTimestamp");
	if (ti >= 0 && ti < entry->nvals)
		(void) s3db_value_ms(&entry->vals[ti], &ets);
	if (rid == NULL || ername == NULL || strcmp(ername, sw->res->name) != 0)
	{
		s3f_record_free(entry);
		return;					/* another resource's entry: not ours to touch */
	}
	if (ecohort == NULL || strcmp(ecohort, label) != 0)
	{
		/* the entry moved to another cohort: this reference is stale */
		if (fence(sw))
			delete_key(sw, refkey, NULL);
		s3f_record_free(entry);
		return;
	}
	rid = pstrdup(rid);
	s3f_record_free(entry);

	rc = read_record(sw, sw->res, rid, &rec, &etag);
	if (rc == S3S_ERR_NOT_FOUND)
	{
		if (fence(sw))
			drop_entry(sw, eid, refkey);
		return;
	}
	if (rc != S3S_OK)
		return;

	/* the record as it is now decides; the entry's time is the fallback */
	if (!s3db_ttl_expiry(&sw->cfg, sw->res, rec->vals, 0, &exp))
		exp = ets;
	if (sw->now < exp)
	{
		char		cohort[32];

		s3db_ttl_cohort(sw->cfg.granularity, exp, cohort, sizeof(cohort));
		if (exp != ets && fence(sw))
		{
			/* postponed: move the entry to its cohort */
			s3f_val    *ev = s3db_ttl_entry_vals(sw->idx, &sw->cfg, sw->res->name, rid,
												 exp, s3db_now_ms());

			if (put_record(sw, sw->idx, eid, ev, false, NULL) == S3S_OK &&
				strcmp(cohort, label) != 0)
				delete_key(sw, refkey, NULL);
			s3f_vals_free(ev, sw->idx->nattrs);
		}
	}
	else if (strcmp(sw->cfg.action, "soft-delete") == 0 &&
			 (((ti = s3db_attr_index(sw->res, sw->cfg.soft_delete_field)) >= 0 &&
			   ti < rec->nvals && rec->vals[ti].kind != S3F_MISSING &&
			   rec->vals[ti].kind != S3F_NULL) ||
			  (str_of(sw->res, rec, "isdeleted") &&
			   strcmp(str_of(sw->res, rec, "isdeleted"), "true") == 0)))
	{
		/* already soft-deleted (by us or by s3db.js): only the entry goes */
		if (fence(sw))
			drop_entry(sw, eid, refkey);
	}
	else if (fence(sw) && expire(sw, rid, rec, etag))
	{
		drop_entry(sw, eid, refkey);
		sw->expired++;
	}
	s3f_record_free(rec);
}

/* Granularity of a cohort label, by its form; false if it is none of them. */
static bool
label_granularity(const char *label, S3dbTtlGranularity *g)
{
	size_t		n = strlen(label);

	if (n == 8 && label[4] == '-' && label[5] == 'W')
		*g = TTL_WEEK;
	else if (n == 16 && label[10] == 'T')
		*g = TTL_MINUTE;
	else if (n == 13 && label[10] == 'T')
		*g = TTL_HOUR;
	else if (n == 10 && label[4] == '-')
		*g = TTL_DAY;
	else
		return false;
	return true;
}

static void
sweep_table(Sweep *sw)
{
	bool		ok;
	List	   *cohorts = list_all(sw, COHORT_PREFIX, "/", &ok);
	ListCell   *lc;
	MemoryContext entry_cxt = AllocSetContextCreate(CurrentMemoryContext,
													"s3db_fdw ttl entry",
													ALLOCSET_DEFAULT_SIZES);

	foreach(lc, cohorts)
	{
		char	   *p = (char *) lfirst(lc);
		const char *eq = strstr(p, "expiresAtCohort=");
		char	   *label;
		char		cur[32];
		S3dbTtlGranularity g;
		List	   *refs;
		ListCell   *lr;

		if (sw->stop || eq == NULL)
			continue;
		label = pstrdup(eq + strlen("expiresAtCohort="));
		if (label[0] && label[strlen(label) - 1] == '/')
			label[strlen(label) - 1] = '\0';
		if (!label_granularity(label, &g))
			continue;
		s3db_ttl_cohort(g, sw->now, cur, sizeof(cur));
		if (strcmp(label, cur) > 0)
			continue;			/* a future cohort */
		refs = list_all(sw, psprintf("%sid=%s:", p, sw->res->name), NULL, &ok);
		foreach(lr, refs)
		{
			MemoryContext old;
			char	   *eid;

			if (sw->stop)
				break;
			old = MemoryContextSwitchTo(entry_cxt);
			eid = s3db_take_string(s3f_key_id((char *) lfirst(lr)));
			if (eid)
				process_entry(sw, label, (char *) lfirst(lr), eid);
			MemoryContextSwitchTo(old);
			MemoryContextReset(entry_cxt);
		}
	}
	MemoryContextDelete(entry_cxt);
}

/* Sweep one table; returns the number expired, error text in errbuf. */
int64
s3db_ttl_sweep_relation(Oid relid, const S3dbTaskContext *task, char *errbuf, size_t errlen)
{
	Sweep		sw;
	S3dbTableOptions topts;
	S3dbCatalog *cat;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "s3db_fdw ttl sweep",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	memset(&sw, 0, sizeof(sw));
	sw.task = task;
	if (!s3db_ttl_config(relid, &sw.cfg))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("foreign table \"%s\" has no enabled TTL configuration",
						get_rel_name(relid)),
				 errhint("Add a row for it to s3db_fdw_ttl.")));
	s3db_table_options(relid, &topts);
	sw.conn = s3db_get_conn(topts.serverid, topts.userid);
	sw.wopts.metadata_limit = sw.conn->opts.metadata_limit;
	sw.wopts.passphrase = sw.conn->opts.passphrase;
	sw.now = s3db_now_ms();
	cat = s3db_catalog_pin(sw.conn, cxt);
	sw.res = s3db_find_resource(cat, topts.resource, get_rel_name(relid));
	sw.idx = s3f_catalog_find(cat->cat, S3DB_TTL_INDEX);
	if (sw.cfg.archive_resource)
		sw.archive = s3f_catalog_find(cat->cat, sw.cfg.archive_resource);
	if (sw.idx != NULL)
		sweep_table(&sw);
	strlcpy(errbuf, sw.error, errlen);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return sw.expired;
}

