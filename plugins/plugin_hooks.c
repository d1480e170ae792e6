/*-------------------------------------------------------------------------
 *
 * plugin_hooks.c
 *		What the FDW's write path calls so that the TTL and audit plugins
 *		add their objects to the same commit as the change.
 *
 * s3db_plugins_begin() runs once per writing statement: it reads the
 * plugin configuration of the table and, if a plugin applies, makes sure
 * its resource exists in s3db.json.  s3db_plugins_row() runs for each row
 * before the row's own write is queued:
 *	- TTL: an INSERT gets its index entry (an upsert, as s3db.js does); an
 *	  UPDATE that moves the expiry time rewrites it (the stale partition
 *	  reference of the old cohort is deleted at commit); a DELETE deletes
 *	  it.
 *	- audit: one plg_audits record with the state before and after.
 * Both run as src/fdw/observer.c calls observers: as the extension owner
 * (who may read s3db_fdw_ttl and s3db_fdw_audit; the writer need not),
 * with search_path pinned.  The audit record names the writing user.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"
#include "utils/rel.h"

#include "fdw/observer.h"
#include "plugins.h"
#include "replicator.h"
#include "s3db_worker.h"

/* s3db.js 21.6.2 TTLPlugin's index resource (attribute order = registry order) */
const char *const s3db_ttl_index_attributes =
"{\"resourceName\":\"string|required\",\"recordId\":\"string|required\","
"\"expiresAtCohort\":\"string|required\",\"expiresAtTimestamp\":\"number|required\","
"\"granularity\":\"string|required\",\"createdAt\":\"datetime\"}";
const char *const s3db_ttl_index_partitions =
"{\"byExpiresAtCohort\":{\"fields\":{\"expiresAtCohort\":\"string\"}}}";

/* s3db.js 21.6.2 AuditPlugin's resource */
const char *const s3db_audit_attributes =
"{\"id\":\"string|required\",\"resourceName\":\"string|required\","
"\"operation\":\"string|required\",\"recordId\":\"string|required\","
"\"userId\":\"string|optional\",\"timestamp\":\"datetime|required\","
"\"createdAt\":\"dateonly|required\",\"oldData\":\"string|optional\","
"\"newData\":\"string|optional\",\"partition\":\"string|optional\","
"\"partitionValues\":\"string|optional\",\"metadata\":\"string|optional\"}";
const char *const s3db_audit_partitions =
"{\"byDate\":{\"fields\":{\"createdAt\":\"dateonly\"}},"
"\"byResource\":{\"fields\":{\"resourceName\":\"string\"}}}";

typedef struct S3dbPluginState
{
	S3dbConn   *conn;
	const s3f_resource *res;
	Oid			serverid;
	Oid			userid;
	Oid			caller;
	s3f_write_opts wopts;
	bool		ttl;
	S3dbTtlConfig ttl_cfg;
	const s3f_resource *ttl_index;
	bool		audit;
	const s3f_resource *audit_res;
} S3dbPluginState;

static void *
plugins_begin(const S3dbWriteTarget *t, bool *want_rows)
{
	S3dbPluginState *ps;
	S3dbTtlConfig cfg;
	bool		ttl,
				audit;
	Relation	rel = t->rel;
	S3dbConn   *conn = t->conn;
	const s3f_resource *res = t->res;

	*want_rows = false;
	/* the plugins' own resources are never indexed or audited */
	if (t->truncate || strcmp(res->name, S3DB_AUDIT_RESOURCE) == 0 ||
		strcmp(res->name, S3DB_TTL_INDEX) == 0)
		return NULL;
	ttl = s3db_ttl_config(RelationGetRelid(rel), &cfg);
	audit = s3db_audit_enabled(RelationGetRelid(rel));
	if (!ttl && !audit)
		return NULL;

	ps = palloc0(sizeof(S3dbPluginState));
	ps->conn = conn;
	ps->res = res;
	ps->serverid = t->serverid;
	ps->userid = t->userid;
	ps->caller = t->caller;
	ps->wopts = *t->wopts;
	ps->ttl = ttl;
	ps->ttl_cfg = cfg;
	ps->audit = audit;
	if (ttl)
		s3db_plugin_resource(conn, CurrentMemoryContext, S3DB_TTL_INDEX,
							 s3db_ttl_index_attributes, NULL, s3db_ttl_index_partitions,
							 &ps->ttl_index);
	if (audit)
		s3db_plugin_resource(conn, CurrentMemoryContext, S3DB_AUDIT_RESOURCE,
							 s3db_audit_attributes, "body-overflow", s3db_audit_partitions,
							 &ps->audit_res);
	return ps;
}

/* The partition reference of an index entry in a given cohort. */
static List *
entry_marker(S3dbPluginState *ps, const char *eid, int64 expires)
{
	s3f_val    *vals = s3db_ttl_entry_vals(ps->ttl_index, &ps->ttl_cfg, ps->res->name,
										   "x", expires, 0);
	List	   *m = s3db_record_markers(ps->ttl_index, vals, eid);

	s3f_vals_free(vals, ps->ttl_index->nattrs);
	return m;
}

static void
ttl_row(S3dbPluginState *ps, CmdType op, const char *id, const s3f_val *before,
		const s3f_val *vals)
{
	int64		now = s3db_now_ms();
	char	   *eid = s3db_ttl_entry_id(ps->res->name, id);
	int64		old_exp = 0;
	bool		had_old = before != NULL &&
		s3db_ttl_expiry(&ps->ttl_cfg, ps->res, before, 0, &old_exp);
	int64		exp;
	s3f_val    *ev;

	if (op == CMD_DELETE)
	{
		s3db_queue_delete(ps->serverid, ps->userid, ps->ttl_index->name, eid,
						  had_old ? entry_marker(ps, eid, old_exp) : NIL);
		return;
	}
	/* insertion time for a new record; an update keeps the entry's base */
	if (!s3db_ttl_expiry(&ps->ttl_cfg, ps->res, vals, op == CMD_INSERT ? now : 0, &exp))
		return;					/* no usable base time: s3db.js skips it too */
	if (op == CMD_UPDATE && had_old && old_exp == exp)
		return;
	ev = s3db_ttl_entry_vals(ps->ttl_index, &ps->ttl_cfg, ps->res->name, id, exp, now);
	s3db_queue_record(ps->serverid, ps->userid, ps->ttl_index, eid, ev, &ps->wopts, false,
					  had_old ? entry_marker(ps, eid, old_exp) : NIL);
	s3f_vals_free(ev, ps->ttl_index->nattrs);
}

static void
plugins_record(void *state, CmdType op, const char *id, const s3f_val *vals)
{
	S3dbPluginState *ps = (S3dbPluginState *) state;
	s3f_record	before;
	volatile bool have_before = false;

	if (ps == NULL)
		return;
	memset(&before, 0, sizeof(before));
	if (op != CMD_INSERT)
		have_before = s3db_record_before(ps->res, ps->serverid, ps->userid, id,
										 ps->wopts.passphrase, &before);
	PG_TRY();
	{
		if (ps->ttl)
			ttl_row(ps, op, id, have_before ? before.vals : NULL, vals);
		if (ps->audit)
			s3db_audit_row(ps->audit_res, ps->res, ps->serverid, ps->userid, ps->caller,
						   &ps->wopts, op, id, have_before ? before.vals : NULL, vals);
	}
	PG_FINALLY();
	{
		if (have_before)
			s3f_record_free(&before);
	}
	PG_END_TRY();
}

static const S3dbWriteObserver plugins_observer = {
	"ttl and audit", plugins_begin, plugins_record, NULL
};

void
s3db_plugins_register(void)
{
	s3db_register_write_observer(&plugins_observer);
	s3db_register_write_observer(&s3db_replicator_observer);
}
