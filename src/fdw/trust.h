/*-------------------------------------------------------------------------
 *
 * trust.h
 *		Whose rights the extension's own statements run with.
 *
 * What the extension does on its own behalf (reading plugin
 * configuration, writing outbox rows, sweeping, delivering) runs as a
 * role chosen here, never as whoever happens to be the current user: the
 * extension owner for the extension's own tables, the owner of the
 * configured object for work done for that object.  Every such section
 * is a security-restricted operation with search_path pinned to
 * pg_catalog, pg_temp, so no operator, function or table a role created
 * in its own schema can be picked up by name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_TRUST_H
#define S3DB_TRUST_H

#include "postgres.h"

#define S3DB_PINNED_SEARCH_PATH "pg_catalog, pg_temp"

typedef struct S3dbRoleSave
{
	Oid			userid;
	int			sec_context;
	int			gucnest;
} S3dbRoleSave;

/*
 * Become role (InvalidOid: stay the current user) in a security-restricted
 * operation with search_path pinned, until s3db_leave_role().  On an
 * error, the transaction or subtransaction abort restores both, as for a
 * SECURITY DEFINER function.
 */
extern void s3db_enter_role(Oid role, S3dbRoleSave *save);
extern void s3db_leave_role(const S3dbRoleSave *save);

/* Pin search_path for the whole session (the background worker). */
extern void s3db_pin_session_search_path(void);

/* Owner and schema of the extension; InvalidOid when not installed here. */
extern Oid	s3db_extension_owner(void);
extern Oid	s3db_extension_schema(void);

/* The extension schema, quoted for SQL text (palloc'd); NULL if none. */
extern char *s3db_extension_schema_sql(void);

/* Owner of a relation; InvalidOid when it does not exist. */
extern Oid	s3db_relation_owner(Oid relid);

#endif							/* S3DB_TRUST_H */
