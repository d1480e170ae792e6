/*-------------------------------------------------------------------------
 *
 * probe.c
 *		Writing only to stores that keep the promises writes rely on.
 *
 * A commit creates records with If-None-Match: * and changes or deletes
 * them with If-Match on the ETag it read; that is what turns a concurrent
 * writer's change into a unique violation or a serialization failure
 * instead of a lost update.  Not every S3 server enforces these
 * conditions (Ceph radosgw 18 deletes whatever If-Match says and refuses
 * a quoted ETag on PUT), and a store that ignores them loses updates
 * without any error.  So before the first commit through a connection
 * writes, the store is asked (src/store/probe.c, a few requests under
 * plugin=s3db_fdw/probe/) and the answer is kept for the life of the
 * backend, or until the server or user mapping changes: the options may
 * point somewhere else then.
 *
 * A store that does not honour every condition is written to only when a
 * superuser said so with the server option weak_conditions 'accept'; then
 * the conditions it does honour are still sent, in the ETag spelling it
 * accepts, and those it refuses outright are left out.  A store that does
 * not take the user metadata metadata_limit asks for is refused always:
 * records would fail to write one by one.
 *
 * s3db_check_store(server) runs the probe on demand and shows its result.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_foreign_server.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "fdw/probe.h"
#include "store/probe.h"

PG_FUNCTION_INFO_V1(s3db_check_store);

typedef struct ProbeKey
{
	Oid			serverid;
	Oid			userid;
} ProbeKey;

typedef struct ProbeEntry
{
	ProbeKey	key;			/* hash key */
	bool		valid;
	s3s_probe_result res;
} ProbeEntry;

static HTAB *probe_hash = NULL;

static void
forget_all(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	ProbeEntry *e;

	if (probe_hash == NULL)
		return;
	hash_seq_init(&scan, probe_hash);
	while ((e = (ProbeEntry *) hash_seq_search(&scan)) != NULL)
		e->valid = false;
}

static ProbeEntry *
entry_for(Oid serverid, Oid userid)
{
	ProbeKey	key;
	bool		found;
	ProbeEntry *e;

	if (probe_hash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(ProbeKey);
		ctl.entrysize = sizeof(ProbeEntry);
		probe_hash = hash_create("s3db_fdw store probes", 8, &ctl, HASH_ELEM | HASH_BLOBS);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, forget_all, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, forget_all, (Datum) 0);
	}
	memset(&key, 0, sizeof(key));
	key.serverid = serverid;
	key.userid = userid;
	e = hash_search(probe_hash, &key, HASH_ENTER, &found);
	if (!found)
		e->valid = false;
	return e;
}

/* The probe result for conn, from this backend's cache unless forced. */
static const s3s_probe_result *
probe(S3dbConn *conn, Oid serverid, Oid userid, bool force)
{
	ProbeEntry *e = entry_for(serverid, userid);
	s3s_probe_result res;
	s3s_error	err;

	if (e->valid && !force)
		return &e->res;
	if (s3s_probe(conn->store, conn->opts.metadata_limit, &res, &err) != S3S_OK)
	{
		/* a cancel or timeout is reported as PostgreSQL reports it */
		CHECK_FOR_INTERRUPTS();
		s3db_report(&err, "could not check whether the object store honours conditional writes");
	}
	e->res = res;
	e->valid = true;
	return &e->res;
}

static bool
weak_accepted(Oid serverid)
{
	ListCell   *lc;

	foreach(lc, GetForeignServer(serverid)->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "weak_conditions") == 0)
			return strcmp(defGetString(def), "accept") == 0;
	}
	return false;
}

/* "If-Match on DELETE is ignored; ..." for the error detail. */
static char *
describe_problems(const s3s_probe_result *res, const s3s_conditions *cond)
{
	StringInfoData buf;
	int			s = cond->if_match_unquoted ? S3S_SPELL_BARE : S3S_SPELL_QUOTED;

	initStringInfo(&buf);
	if (res->put_if_none_match != S3S_CAP_HONOURED)
		appendStringInfo(&buf, "If-None-Match on PUT is %s; ", s3s_cap_name(res->put_if_none_match));
	if (res->put_if_match[s] != S3S_CAP_HONOURED)
		appendStringInfo(&buf, "If-Match on PUT is %s; ", s3s_cap_name(res->put_if_match[s]));
	if (res->delete_if_match[s] != S3S_CAP_HONOURED)
		appendStringInfo(&buf, "If-Match on DELETE is %s; ", s3s_cap_name(res->delete_if_match[s]));
	if (buf.len >= 2)
		buf.data[buf.len - 2] = '\0';
	return buf.data;
}

void
s3db_probe_before_write(S3dbConn *conn, Oid serverid, Oid userid)
{
	const s3s_probe_result *res = probe(conn, serverid, userid, false);
	s3s_conditions cond;

	if (!s3s_probe_conditions(res, &cond) && !weak_accepted(serverid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the object store of server \"%s\" does not honour conditional writes",
						GetForeignServer(serverid)->servername),
				 errdetail("%s, so a concurrent change could be overwritten without an error.",
						   describe_problems(res, &cond)),
				 errhint("A superuser may accept weaker guarantees with the server option weak_conditions 'accept'.")));
	if (res->meta_accepted < res->meta_wanted)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the object store of server \"%s\" does not accept %d bytes of user metadata",
						GetForeignServer(serverid)->servername, res->meta_wanted),
				 res->meta_accepted > 0 ?
				 errhint("Set the server option metadata_limit to %d.", res->meta_accepted) : 0));
	s3s_set_conditions(conn->store, &cond);
}

void
s3db_validate_weak_conditions(DefElem *def)
{
	const char *val = defGetString(def);

	if (strcmp(val, "refuse") != 0 && strcmp(val, "accept") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, val),
				 errhint("Valid values are \"refuse\" and \"accept\".")));
	/* every user of the server would risk lost updates */
	if (strcmp(val, "accept") == 0 && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set option \"%s\" to \"accept\"", def->defname),
				 errhint("Only superusers may accept weaker write guarantees.")));
}

static void
add_row(ReturnSetInfo *rsinfo, const char *capability, const char *result, bool ok)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(capability);
	values[1] = CStringGetTextDatum(result);
	values[2] = BoolGetDatum(ok);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static void
add_cap(ReturnSetInfo *rsinfo, const char *capability, s3s_cap c)
{
	add_row(rsinfo, capability, s3s_cap_name(c), c == S3S_CAP_HONOURED);
}

/*
 * s3db_check_store(server name) returns table(capability, result, ok):
 * probes the server's store now (as the current user) and shows what it
 * honours and whether s3db_fdw will write there.
 */
Datum
s3db_check_store(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForeignServer *server = GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)), false);
	const s3s_probe_result *res;
	s3s_conditions cond;
	S3dbConn   *conn;
	bool		safe;
	bool		meta_ok;
	AclResult	acl;

	acl = object_aclcheck(ForeignServerRelationId, server->serverid, GetUserId(), ACL_USAGE);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FOREIGN_SERVER, server->servername);

	InitMaterializedSRF(fcinfo, 0);
	conn = s3db_get_conn(server->serverid, GetUserId());
	res = probe(conn, server->serverid, GetUserId(), true);
	safe = s3s_probe_conditions(res, &cond);
	meta_ok = res->meta_accepted >= res->meta_wanted;

	add_cap(rsinfo, "PUT If-None-Match: *", res->put_if_none_match);
	add_cap(rsinfo, "PUT If-Match \"etag\"", res->put_if_match[S3S_SPELL_QUOTED]);
	add_cap(rsinfo, "PUT If-Match etag", res->put_if_match[S3S_SPELL_BARE]);
	add_cap(rsinfo, "DELETE If-Match \"etag\"", res->delete_if_match[S3S_SPELL_QUOTED]);
	add_cap(rsinfo, "DELETE If-Match etag", res->delete_if_match[S3S_SPELL_BARE]);
	add_row(rsinfo, "user metadata",
			psprintf("%d of %d bytes", meta_ok ? res->meta_wanted : res->meta_accepted,
					 res->meta_wanted),
			meta_ok);
	add_row(rsinfo, "ETag spelling", cond.if_match_unquoted ? "bare" : "quoted", true);
	if (!meta_ok)
		add_row(rsinfo, "writes", "refused: metadata_limit too large", false);
	else if (safe)
		add_row(rsinfo, "writes", "allowed", true);
	else if (weak_accepted(server->serverid))
		add_row(rsinfo, "writes", "allowed with weak_conditions 'accept'", false);
	else
		add_row(rsinfo, "writes", "refused: conditions not honoured", false);
	return (Datum) 0;
}
