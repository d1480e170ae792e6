/*-------------------------------------------------------------------------
 *
 * creds.c
 *		The FDW side of AWS credentials: who may use the database server's
 *		own AWS identity, the options that name a role or profile, and the
 *		superuser-only endpoint overrides.
 *
 * The server's identity (its environment, shared AWS files, web identity,
 * container or instance role: src/store/creds.h) belongs to the database
 * server, not to any role in it.  As postgres_fdw guards the server's own
 * credentials with password_required, a user mapping may use that
 * identity only when a superuser set use_server_identity 'true' on it;
 * because the validator sees a mapping's whole option list, a plain role
 * cannot alter such a mapping afterwards either.  A mapping of an S3 store
 * with neither keys nor that grant fails with an error that says so,
 * instead of sending unsigned requests nobody asked for; public buckets
 * take the server option no_sign_request 'true'.
 *
 * The endpoints of instance metadata, the ECS container agent and STS can
 * be moved (private endpoints, test stand-ins) by superuser-only settings:
 * whoever moves them receives the server's credentials.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "fdw/s3db_fdw.h"
#include "store/connstr.h"
#include "store/creds.h"

static char *imds_endpoint = NULL;
static char *sts_endpoint = NULL;
static char *ecs_endpoint = NULL;

static bool
check_endpoint(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (strncmp(*newval, "http://", 7) != 0 && strncmp(*newval, "https://", 8) != 0)
	{
		GUC_check_errdetail("An endpoint is an http:// or https:// origin.");
		return false;
	}
	return true;
}

void
s3db_creds_init(void)
{
	DefineCustomStringVariable("s3db_fdw.imds_endpoint",
							   "Origin of the EC2 instance metadata service.",
							   "Empty: AWS_EC2_METADATA_SERVICE_ENDPOINT of the server process, else http://169.254.169.254.",
							   &imds_endpoint, "", PGC_SUSET, 0,
							   check_endpoint, NULL, NULL);
	DefineCustomStringVariable("s3db_fdw.sts_endpoint",
							   "Origin of AWS STS, for roles and web identity.",
							   "Empty: AWS_ENDPOINT_URL_STS of the server process, else the regional STS endpoint.",
							   &sts_endpoint, "", PGC_SUSET, 0,
							   check_endpoint, NULL, NULL);
	DefineCustomStringVariable("s3db_fdw.ecs_endpoint",
							   "Origin of the ECS container credential endpoint for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.",
							   "Empty: http://169.254.170.2.",
							   &ecs_endpoint, "", PGC_SUSET, 0,
							   check_endpoint, NULL, NULL);
}

static bool
valid_session_name(const char *s)
{
	size_t		n = strlen(s);

	if (n < 2 || n > 64)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char) *s) || strchr("+=,.@_-", *s) != NULL))
			return false;
	return true;
}

static void
bad_value(DefElem *def, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"%s\"", def->defname),
			 errhint("%s", hint)));
}

/* Validate one of the credential options (see options.c). */
void
s3db_creds_validate_option(DefElem *def)
{
	const char *name = def->defname;
	const char *val = defGetString(def);

	if (strcmp(name, "use_server_identity") == 0)
	{
		if (defGetBoolean(def) && !superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to set option \"%s\"", name),
					 errdetail("The database server's own AWS identity belongs to the server, not to a role."),
					 errhint("Only a superuser may let a user mapping use it.")));
	}
	else if (strcmp(name, "no_sign_request") == 0)
		(void) defGetBoolean(def);
	else if (strcmp(name, "profile") == 0)
	{
		if (val[0] == '\0' || strpbrk(val, "[]\r\n") != NULL)
			bad_value(def, "A profile is the name of a section of the shared AWS credentials or config file.");
		if (!superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to set option \"%s\"", name),
					 errhint("Only a superuser may choose a profile of the database server's AWS files.")));
	}
	else if (strcmp(name, "role_arn") == 0)
	{
		if (strncmp(val, "arn:", 4) != 0 || strlen(val) > 2048 || strpbrk(val, "\r\n ") != NULL)
			bad_value(def, "A role is named by its ARN, such as arn:aws:iam::123456789012:role/reader.");
	}
	else if (strcmp(name, "external_id") == 0)
	{
		if (strlen(val) < 2 || strlen(val) > 1224)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"%s\"", name),
					 errhint("An external id has 2 to 1224 characters.")));
	}
	else if (strcmp(name, "role_session_name") == 0)
	{
		if (!valid_session_name(val))
			bad_value(def, "A role session name has 2 to 64 letters, digits or characters of +=,.@_-.");
	}
}

static const char *
guc_or_null(const char *v)
{
	return (v && v[0]) ? v : NULL;
}

/*
 * Fill cfg->creds from the merged options of (serverid, its user mapping),
 * or fail when an S3 store would have no credentials.  The options struct
 * is palloc'd in the current memory context: s3s_open() copies what it
 * keeps.
 */
void
s3db_creds_config(Oid serverid, const S3dbConnOptions *o, s3s_config *cfg)
{
	s3s_cred_options *co;
	s3s_location loc;
	s3s_error	err;
	bool		s3;
	bool		keys;

	s3s_error_clear(&err);
	if (!s3s_parse_location(o->connection_string, &loc, &err))
		return;					/* s3s_open reports it */
	s3 = strcmp(loc.scheme, "s3") == 0 || strcmp(loc.scheme, "http") == 0 ||
		strcmp(loc.scheme, "https") == 0;
	keys = (o->access_key_id && o->access_key_id[0]) ||
		(loc.access_key_id && loc.access_key_id[0]);
	s3s_location_free(&loc);
	if (!s3)
		return;

	if (!keys && !o->use_server_identity && !o->no_sign_request)
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("user mapping for server \"%s\" has no AWS credentials",
						GetForeignServer(serverid)->servername),
				 errdetail("Only a superuser can let a user mapping use the database server's own AWS identity."),
				 errhint("Set access_key_id and secret_access_key in the user mapping, or have a superuser set use_server_identity 'true' on it.")));
	if (!keys && o->no_sign_request && !o->use_server_identity)
		return;					/* a public bucket: unsigned requests */

	co = palloc0(sizeof(s3s_cred_options));
	co->use_chain = o->use_server_identity;
	co->profile = o->profile;
	co->role_arn = o->role_arn;
	co->external_id = o->external_id;
	co->role_session_name = o->role_session_name;
	co->imds_endpoint = guc_or_null(imds_endpoint);
	co->sts_endpoint = guc_or_null(sts_endpoint);
	co->ecs_endpoint = guc_or_null(ecs_endpoint);
	co->timeout_ms = Min(o->connect_timeout_ms * 2, 10000);
	cfg->creds = co;
}
