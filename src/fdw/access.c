/*-------------------------------------------------------------------------
 *
 * access.c
 *		Who may read and write a store, checked each time one is used.
 *
 * A file:// store is a directory of the database server's file system,
 * and a server without connection_string is one too: the embedded store
 * under the data directory, shared by every database of the cluster.
 * PostgreSQL reserves reading and writing server files to the roles
 * pg_read_server_files and pg_write_server_files (COPY, file_fdw,
 * pg_read_file), and so does s3db_fdw, at two moments:
 *
 *	- when the option is defined (the validator, options.c): only a role
 *	  with one of those privileges may name a file:// directory, or leave a
 *	  server without connection_string;
 *	- when the store is used (here): the user a statement runs as for the
 *	  foreign table (the user whose mapping is used: the current user, or
 *	  the owner of a view or of a SECURITY DEFINER function in between)
 *	  needs pg_read_server_files to read and pg_write_server_files too to
 *	  write.
 *
 * file_fdw checks only the first: the file is fixed by a table option, so
 * granting SELECT on that table hands out that file and nothing else.
 * USAGE on an s3db_fdw server hands out the whole directory instead (any
 * role with it can define tables over every resource in it and write
 * them), and the embedded store is the same directory for every server
 * that names no store; so the use is checked too, against the user whose
 * rights the statement runs with, re-checked at every statement so that a
 * revoked membership takes effect at once.  S3 and memory:// stores need
 * nothing here: the bucket's credentials (the user mapping) bound them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"

#include "fdw/s3db_fdw.h"

void
s3db_check_store_access(S3dbConn *conn, Oid userid, bool for_write)
{
	const char *what = NULL;
	const char *role = NULL;

	if (conn->store == NULL || s3s_store_kind(conn->store) != S3S_KIND_FILE)
		return;
	if (!has_privs_of_role(userid, ROLE_PG_READ_SERVER_FILES))
	{
		what = "read from";
		role = "pg_read_server_files";
	}
	else if (for_write && !has_privs_of_role(userid, ROLE_PG_WRITE_SERVER_FILES))
	{
		what = "write to";
		role = "pg_write_server_files";
	}
	if (what == NULL)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s the file:// store of server \"%s\"",
					what, GetForeignServer(conn->serverid)->servername),
			 errdetail("The statement uses the store as role \"%s\", which does not have the privileges of %s.",
					   GetUserNameFromId(userid, false), role),
			 errhint("A server without connection_string uses the embedded file:// store under the data directory. "
					 "Reading a file:// store needs the privileges of pg_read_server_files, writing also those of pg_write_server_files.")));
}
