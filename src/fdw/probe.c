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
 * without any error.
 *
 * The store layer keeps that from happening on every path: a store object
 * takes no conditional write before it was probed, and none after a probe
 * that found it wanting (src/store/gate.c).  The answer lives as long as
 * the connection's store, which is opened anew when the server or user
 * mapping changes, since the options may point somewhere else then.  This
 * file is the SQL side of it: the commit asks first, so that a refusal
 * names the server and comes before anything is attempted; the server
 * option weak_conditions 'accept', which only a superuser may set, lets
 * writes go to a store that honours less (the conditions it does honour
 * are still sent, in the ETag spelling it accepts); and
 * s3db_check_store(server) probes on demand and shows the result.
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

#include "fdw/probe.h"
#include "store/probe.h"

PG_FUNCTION_INFO_V1(s3db_check_store);

void
s3db_probe_before_write(S3dbConn *conn, Oid serverid)
{
	s3s_probe_result res;
	s3s_conditions cond;
	s3s_error	err;
	s3s_code	code;
	char		problems[256];

	code = s3s_check_writes(conn->store, false, &err);
	if (code == S3S_OK)
		return;
	if (code != S3S_ERR_UNSAFE)
	{
		/* a cancel or timeout is reported as PostgreSQL reports it */
		CHECK_FOR_INTERRUPTS();
		s3db_report(&err, "could not check whether the object store honours conditional writes");
	}
	s3s_write_gate(conn->store, &res);
	if (res.meta_accepted < res.meta_wanted)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the object store of server \"%s\" does not accept %d bytes of user metadata",
						GetForeignServer(serverid)->servername, res.meta_wanted),
				 res.meta_accepted > 0 ?
				 errhint("Set the server option metadata_limit to %d.", res.meta_accepted) : 0));
	s3s_probe_conditions(&res, &cond);
	s3s_probe_describe(&res, &cond, problems, sizeof(problems));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("the object store of server \"%s\" does not honour conditional writes",
					GetForeignServer(serverid)->servername),
			 errdetail("%s, so a concurrent change could be overwritten without an error.",
					   problems),
			 errhint("A superuser may accept weaker guarantees with the server option weak_conditions 'accept'.")));
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
	add_row(rsinfo, capability, s3s_cap_name(c),
			c == S3S_CAP_HONOURED || c == S3S_CAP_NOT_NEEDED);
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
	s3s_probe_result res;
	s3s_conditions cond;
	s3s_error	err;
	s3s_code	code;
	s3s_gate	gate;
	S3dbConn   *conn;
	bool		safe;
	bool		meta_ok;
	AclResult	acl;

	acl = object_aclcheck(ForeignServerRelationId, server->serverid, GetUserId(), ACL_USAGE);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FOREIGN_SERVER, server->servername);

	InitMaterializedSRF(fcinfo, 0);
	conn = s3db_get_conn(server->serverid, GetUserId());
	code = s3s_check_writes(conn->store, true, &err);
	if (code != S3S_OK && code != S3S_ERR_UNSAFE)
	{
		CHECK_FOR_INTERRUPTS();
		s3db_report(&err, "could not check whether the object store honours conditional writes");
	}
	gate = s3s_write_gate(conn->store, &res);
	safe = s3s_probe_conditions(&res, &cond);
	meta_ok = res.meta_accepted >= res.meta_wanted;

	add_cap(rsinfo, "PUT If-None-Match: *", res.put_if_none_match);
	add_cap(rsinfo, "PUT If-Match \"etag\"", res.put_if_match[S3S_SPELL_QUOTED]);
	add_cap(rsinfo, "PUT If-Match etag", res.put_if_match[S3S_SPELL_BARE]);
	add_cap(rsinfo, "COPY x-amz-copy-source-if-match \"etag\"", res.copy_if_match[S3S_SPELL_QUOTED]);
	add_cap(rsinfo, "COPY x-amz-copy-source-if-match etag", res.copy_if_match[S3S_SPELL_BARE]);
	add_cap(rsinfo, "DELETE If-Match \"etag\"", res.delete_if_match[S3S_SPELL_QUOTED]);
	add_cap(rsinfo, "DELETE If-Match etag", res.delete_if_match[S3S_SPELL_BARE]);
	add_row(rsinfo, "user metadata",
			psprintf("%d of %d bytes", meta_ok ? res.meta_wanted : res.meta_accepted,
					 res.meta_wanted),
			meta_ok);
	add_row(rsinfo, "ETag spelling", cond.if_match_unquoted ? "bare" : "quoted", true);
	if (!meta_ok)
		add_row(rsinfo, "writes", "refused: metadata_limit too large", false);
	else if (safe)
		add_row(rsinfo, "writes", "allowed", true);
	else if (gate == S3S_GATE_WEAK)
		add_row(rsinfo, "writes", "allowed with weak_conditions 'accept'", false);
	else
		add_row(rsinfo, "writes", "refused: conditions not honoured", false);
	return (Datum) 0;
}
