/*-------------------------------------------------------------------------
 *
 * options.c
 *		Option validation and lookup for s3db_fdw.
 *
 * One table lists every option, where it may appear and how its value is
 * checked; the validator is driven by it, and an unknown option gets the
 * closest valid name as a hint.  Credentials are accepted only in user
 * mappings, whose options other users cannot read: a server's
 * connection_string with a user:password part is rejected with a hint to
 * move it into the user mapping, where s3db.js connection strings are
 * accepted exactly as JavaScript programs use them.
 *
 * Options that choose where the database server reads, writes or connects
 * are for the roles PostgreSQL trusts with that: a file:// directory, and
 * a server without connection_string (the embedded store under the data
 * directory), need pg_read_server_files or pg_write_server_files; an
 * endpoint (an http(s):// connection string, the "endpoint" option), a CA
 * file and unverified TLS need a superuser.  An s3:// string can reach
 * only AWS S3: its bucket name is checked against S3's rules before it is
 * used in a host name (src/store/connstr.c).  These checks apply to the
 * role defining the option; access.c checks the role using the store.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/reloptions.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "fdw/probe.h"
#include "fdw/s3db_fdw.h"
#include "store/connstr.h"

typedef enum S3dbOptKind
{
	OPT_TEXT,
	OPT_URL,					/* a connection string */
	OPT_ENDPOINT,				/* an http(s) origin */
	OPT_URL_STYLE,				/* path | virtual */
	OPT_REGION,					/* part of the AWS host name */
	OPT_INT,
	OPT_VERIFY,					/* a boolean only superusers may turn off */
	OPT_SECRET,					/* credential: never echoed */
	OPT_SUPERUSER_TEXT,			/* a local path only superusers may set */
	OPT_CRED,					/* AWS identity: checked in creds.c */
	OPT_WEAK_CONDITIONS			/* refuse | accept (superuser), see probe.c */
} S3dbOptKind;

typedef struct S3dbOption
{
	const char *name;
	Oid			context;		/* catalog in which the option may appear */
	S3dbOptKind kind;
	int			min;			/* OPT_INT bounds */
	int			max;
} S3dbOption;

static const S3dbOption s3db_options[] = {
	/* server */
	{"connection_string", ForeignServerRelationId, OPT_URL},
	{"region", ForeignServerRelationId, OPT_REGION},
	{"endpoint", ForeignServerRelationId, OPT_ENDPOINT},
	{"url_style", ForeignServerRelationId, OPT_URL_STYLE},
	{"metadata_limit", ForeignServerRelationId, OPT_INT, 256, 65536},
	{"max_inflight", ForeignServerRelationId, OPT_INT, 1, 1024},
	{"max_retries", ForeignServerRelationId, OPT_INT, 0, 20},
	{"connect_timeout", ForeignServerRelationId, OPT_INT, 100, 600000},
	{"request_timeout", ForeignServerRelationId, OPT_INT, 100, 3600000},
	{"ca_file", ForeignServerRelationId, OPT_SUPERUSER_TEXT},
	{"verify_tls", ForeignServerRelationId, OPT_VERIFY},
	{"cache_size", ForeignServerRelationId, OPT_INT, 0, 65536},
	{"no_sign_request", ForeignServerRelationId, OPT_CRED},
	{"weak_conditions", ForeignServerRelationId, OPT_WEAK_CONDITIONS},
	/* user mapping */
	{"connection_string", UserMappingRelationId, OPT_URL},
	{"access_key_id", UserMappingRelationId, OPT_SECRET},
	{"secret_access_key", UserMappingRelationId, OPT_SECRET},
	{"session_token", UserMappingRelationId, OPT_SECRET},
	{"passphrase", UserMappingRelationId, OPT_SECRET},
	{"use_server_identity", UserMappingRelationId, OPT_CRED},
	{"profile", UserMappingRelationId, OPT_CRED},
	{"role_arn", UserMappingRelationId, OPT_CRED},
	{"external_id", UserMappingRelationId, OPT_CRED},
	{"role_session_name", UserMappingRelationId, OPT_CRED},
	/* foreign table */
	{"resource", ForeignTableRelationId, OPT_TEXT},
	{"id_generator", ForeignTableRelationId, OPT_TEXT},
	{"batch_size", ForeignTableRelationId, OPT_INT, 1, 10000},
	/* column */
	{"field", AttributeRelationId, OPT_TEXT},
	{NULL, InvalidOid, OPT_TEXT}
};

PG_FUNCTION_INFO_V1(s3db_fdw_validator);

static const char *
context_name(Oid context)
{
	switch (context)
	{
		case ForeignServerRelationId:
			return "server";
		case UserMappingRelationId:
			return "user mapping";
		case ForeignTableRelationId:
			return "foreign table";
		case AttributeRelationId:
			return "column";
		default:
			return "object";
	}
}

/*
 * Unknown option: error with the closest valid option of this context as
 * a hint, or a note that the option belongs elsewhere.
 */
static void
reject_unknown_option(const char *name, Oid context)
{
	const char *best = NULL;
	int			best_dist = INT_MAX;
	const char *elsewhere = NULL;

	for (const S3dbOption *o = s3db_options; o->name; o++)
	{
		if (strcmp(o->name, name) == 0 && o->context != context)
			elsewhere = context_name(o->context);
		if (o->context == context)
		{
			int			d = varstr_levenshtein(name, strlen(name), o->name,
											   strlen(o->name), 1, 1, 1, true);

			if (d < best_dist)
			{
				best_dist = d;
				best = o->name;
			}
		}
	}

	if (elsewhere)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"%s\" is not valid for a %s", name, context_name(context)),
				 errhint("Set \"%s\" on the %s instead.", name, elsewhere)));
	if (best && best_dist <= Max(2, (int) strlen(name) / 3))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\"", name),
				 errhint("Perhaps you meant the option \"%s\".", best)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("invalid option \"%s\"", name),
			 errhint("Valid options for a %s are listed in the s3db_fdw documentation.",
					 context_name(context))));
}

static bool
may_use_local_files(void)
{
	return superuser() || has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES) ||
		has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES);
}

static void
refuse_local_files(const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to use %s", what),
			 errhint("%s", hint)));
}

static void
validate_url(const char *url, Oid context)
{
	s3s_location loc;
	s3s_error	err;

	s3s_error_clear(&err);
	if (!s3s_parse_location(url, &loc, &err))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid connection_string: %s", err.message),
				 errhint("Use s3://bucket/prefix, http(s)://host:port/bucket/prefix, file:///directory or memory://bucket/prefix.")));

	if (context == ForeignServerRelationId && s3s_url_has_credentials(url))
	{
		s3s_location_free(&loc);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("connection_string of a server must not contain credentials"),
				 errdetail("Server options are readable by every user."),
				 errhint("Put the connection string with its credentials into the user mapping, or set access_key_id and secret_access_key there.")));
	}

	if (strcmp(loc.scheme, "file") == 0 && !may_use_local_files())
	{
		s3s_location_free(&loc);
		refuse_local_files("a file:// store",
						   "Only superusers and members of pg_read_server_files or pg_write_server_files may point s3db_fdw at a local directory.");
	}
	if ((strcmp(loc.scheme, "http") == 0 || strcmp(loc.scheme, "https") == 0) && !superuser())
	{
		s3s_location_free(&loc);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to use a custom endpoint"),
				 errhint("Only superusers may point s3db_fdw at an endpoint other than AWS S3.")));
	}
	s3s_location_free(&loc);
}

static void
validate_option(DefElem *def, const S3dbOption *opt)
{
	const char *val = defGetString(def);

	switch (opt->kind)
	{
		case OPT_URL:
			validate_url(val, opt->context);
			break;
		case OPT_ENDPOINT:
			if (strncmp(val, "http://", 7) != 0 && strncmp(val, "https://", 8) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, val),
						 errhint("An endpoint is an http:// or https:// origin.")));
			if (!superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied to set option \"%s\"", def->defname),
						 errhint("Only superusers may point s3db_fdw at an endpoint other than AWS S3.")));
			break;
		case OPT_REGION:
			/*
			 * It becomes part of the host name s3.<region>.amazonaws.com and
			 * of the SigV4 credential scope.  The store checks it again when
			 * it opens; checking here makes a bad value fail when defined.
			 */
			if (s3s_region_problem(val) != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, val),
						 errhint("A region is an AWS region name such as \"eu-west-1\".")));
			break;
		case OPT_URL_STYLE:
			if (strcmp(val, "path") != 0 && strcmp(val, "virtual") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, val),
						 errhint("Valid values are \"path\" and \"virtual\".")));
			break;
		case OPT_INT:
			{
				char	   *end;
				long		v;

				errno = 0;
				v = strtol(val, &end, 10);
				if (errno != 0 || end == val || *end != '\0' || v < opt->min || v > opt->max)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, val),
							 errhint("Valid values are integers from %d to %d.", opt->min, opt->max)));
				break;
			}
		case OPT_VERIFY:
			/* every user mapping's credentials would go to an unverified peer */
			if (!defGetBoolean(def) && !superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied to set option \"%s\" to false", def->defname),
						 errhint("Only superusers may turn off TLS verification.")));
			break;
		case OPT_SECRET:
			if (val[0] == '\0' && strcmp(opt->name, "passphrase") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", def->defname)));
			break;
		case OPT_SUPERUSER_TEXT:
			if (!superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied to set option \"%s\"", def->defname),
						 errhint("Only superusers may set this option.")));
			break;
		case OPT_CRED:
			s3db_creds_validate_option(def);
			break;
		case OPT_WEAK_CONDITIONS:
			s3db_validate_weak_conditions(def);
			break;
		case OPT_TEXT:
			if (val[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", def->defname)));
			if (strcmp(opt->name, "resource") == 0 &&
				strpbrk(val, "/\\=%") != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid resource name \"%s\"", val),
						 errdetail("Resource names must not contain \"/\", \"\\\", \"=\" or \"%%\".")));
			break;
	}
}

/*
 * Validate the options given to a CREATE/ALTER of a server, user mapping,
 * foreign table or column.
 */
Datum
s3db_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			context = PG_GETARG_OID(1);
	ListCell   *lc;
	List	   *seen = NIL;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const S3dbOption *opt = NULL;

		for (const S3dbOption *o = s3db_options; o->name; o++)
		{
			if (o->context == context && strcmp(o->name, def->defname) == 0)
			{
				opt = o;
				break;
			}
		}
		if (opt == NULL)
			reject_unknown_option(def->defname, context);

		if (list_member(seen, makeString(def->defname)))
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("option \"%s\" specified more than once", def->defname)));
		seen = lappend(seen, makeString(def->defname));

		validate_option(def, opt);
	}

	/*
	 * A server without connection_string is the embedded store, a
	 * directory of the database server: it needs what a file:// string
	 * needs.  (A user mapping without one uses its server's store, which
	 * was checked when the server was defined.)
	 */
	if (context == ForeignServerRelationId &&
		!list_member(seen, makeString("connection_string")) && !may_use_local_files())
		refuse_local_files("the embedded store",
						   "A server without connection_string uses the embedded store, a directory under the data directory, which only superusers and members of pg_read_server_files or pg_write_server_files may use. Name the store with the connection_string option.");

	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------
 * Lookup
 * ---------------------------------------------------------------------
 */

/* The embedded default store: a directory under the data directory. */
char *
s3db_default_store_url(void)
{
	return psprintf("file://%s/s3db_fdw", DataDir);
}

/*
 * The syscache tuple of the user mapping for (userid, serverid), falling
 * back to PUBLIC's, as GetUserMapping() does but without an error when there
 * is none (the embedded store needs no mapping): check it with
 * HeapTupleIsValid and release it with ReleaseSysCache.
 */
HeapTuple
s3db_user_mapping_tuple(Oid userid, Oid serverid)
{
	HeapTuple	tp;

	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
						 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							 ObjectIdGetDatum(serverid));
	return tp;
}

/* The options of that user mapping; NIL when there is none. */
static List *
user_mapping_options(Oid userid, Oid serverid)
{
	HeapTuple	tp = s3db_user_mapping_tuple(userid, serverid);
	List	   *result = NIL;

	if (HeapTupleIsValid(tp))
	{
		bool		isnull;
		Datum		d = SysCacheGetAttr(USERMAPPINGUSERSERVER, tp,
										Anum_pg_user_mapping_umoptions, &isnull);

		if (!isnull)
			result = untransformRelOptions(d);
		ReleaseSysCache(tp);
	}
	return result;
}

static int
int_option(DefElem *def)
{
	return (int) strtol(defGetString(def), NULL, 10);
}

void
s3db_conn_options(Oid serverid, Oid userid, S3dbConnOptions *out)
{
	ForeignServer *server = GetForeignServer(serverid);
	List	   *all = list_concat(list_copy(server->options),
								  user_mapping_options(userid, serverid));
	ListCell   *lc;

	memset(out, 0, sizeof(*out));
	out->verify_tls = true;
	out->max_inflight = s3db_max_inflight;
	out->max_retries = 5;
	out->connect_timeout_ms = 5000;
	out->request_timeout_ms = 60000;
	out->metadata_limit = 2047;

	/* user mapping options come last, so they win */
	foreach(lc, all)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *n = def->defname;

		if (strcmp(n, "connection_string") == 0)
			out->connection_string = defGetString(def);
		else if (strcmp(n, "region") == 0)
			out->region = defGetString(def);
		else if (strcmp(n, "endpoint") == 0)
			out->endpoint = defGetString(def);
		else if (strcmp(n, "url_style") == 0)
			out->url_style = defGetString(def);
		else if (strcmp(n, "access_key_id") == 0)
			out->access_key_id = defGetString(def);
		else if (strcmp(n, "secret_access_key") == 0)
			out->secret_access_key = defGetString(def);
		else if (strcmp(n, "session_token") == 0)
			out->session_token = defGetString(def);
		else if (strcmp(n, "passphrase") == 0)
			out->passphrase = defGetString(def);
		else if (strcmp(n, "ca_file") == 0)
			out->ca_file = defGetString(def);
		else if (strcmp(n, "verify_tls") == 0)
			out->verify_tls = defGetBoolean(def);
		else if (strcmp(n, "max_inflight") == 0)
			out->max_inflight = int_option(def);
		else if (strcmp(n, "max_retries") == 0)
			out->max_retries = int_option(def);
		else if (strcmp(n, "connect_timeout") == 0)
			out->connect_timeout_ms = int_option(def);
		else if (strcmp(n, "request_timeout") == 0)
			out->request_timeout_ms = int_option(def);
		else if (strcmp(n, "metadata_limit") == 0)
			out->metadata_limit = int_option(def);
		else if (strcmp(n, "weak_conditions") == 0)
			out->weak_conditions = strcmp(defGetString(def), "accept") == 0;
		else if (strcmp(n, "cache_size") == 0)
			out->cache_bytes = (int64) int_option(def) * 1024 * 1024;
		else if (strcmp(n, "use_server_identity") == 0)
			out->use_server_identity = defGetBoolean(def);
		else if (strcmp(n, "no_sign_request") == 0)
			out->no_sign_request = defGetBoolean(def);
		else if (strcmp(n, "profile") == 0)
			out->profile = defGetString(def);
		else if (strcmp(n, "role_arn") == 0)
			out->role_arn = defGetString(def);
		else if (strcmp(n, "external_id") == 0)
			out->external_id = defGetString(def);
		else if (strcmp(n, "role_session_name") == 0)
			out->role_session_name = defGetString(def);
	}
	if (out->connection_string == NULL)
		out->connection_string = s3db_default_store_url();
}

void
s3db_table_options(Oid relid, S3dbTableOptions *out)
{
	ForeignTable *table = GetForeignTable(relid);
	ListCell   *lc;

	out->serverid = table->serverid;
	out->userid = GetUserId();
	out->resource = NULL;
	foreach(lc, table->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "resource") == 0)
			out->resource = defGetString(def);
	}
	if (out->resource == NULL)
		out->resource = get_rel_name(relid);
}

/* The attribute path a column reads: its "field" option or its name. */
char *
s3db_column_field(Oid relid, AttrNumber attnum, const char *attname)
{
	List	   *options = GetForeignColumnOptions(relid, attnum);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "field") == 0)
			return defGetString(def);
	}
	return pstrdup(attname);
}
