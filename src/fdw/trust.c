/*-------------------------------------------------------------------------
 *
 * trust.c
 *		Whose rights the extension's own statements run with.
 *
 * The same mechanism as a SECURITY DEFINER function with a SET clause
 * (fmgr_security_definer): the user id changes for a security-restricted
 * operation, and search_path is set at a new GUC nest level that is
 * popped on exit, or by the (sub)transaction abort on an error.  A role
 * whose schema comes first in the caller's search_path, or in an
 * ALTER DATABASE/ROLE ... SET, therefore cannot put its own "=" or
 * clock_timestamp() in front of a statement that runs with other rights.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "fdw/trust.h"

void
s3db_enter_role(Oid role, S3dbRoleSave *save)
{
	GetUserIdAndSecContext(&save->userid, &save->sec_context);
	SetUserIdAndSecContext(OidIsValid(role) ? role : save->userid,
						   save->sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save->gucnest = NewGUCNestLevel();
	(void) set_config_option("search_path", S3DB_PINNED_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

void
s3db_leave_role(const S3dbRoleSave *save)
{
	AtEOXact_GUC(true, save->gucnest);
	SetUserIdAndSecContext(save->userid, save->sec_context);
}

void
s3db_pin_session_search_path(void)
{
	/*
	 * PGC_S_OVERRIDE outranks ALTER DATABASE / ALTER ROLE ... SET, which
	 * the worker's connection applied before it got here.
	 */
	SetConfigOption("search_path", S3DB_PINNED_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
}

/* The pg_extension row of s3db_fdw: its owner and schema. */
static bool
extension_row(Oid *owner, Oid *nsp)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("s3db_fdw"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Form_pg_extension ext = (Form_pg_extension) GETSTRUCT(tup);

		*owner = ext->extowner;
		*nsp = ext->extnamespace;
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

Oid
s3db_extension_owner(void)
{
	Oid			owner,
				nsp;

	return extension_row(&owner, &nsp) ? owner : InvalidOid;
}

Oid
s3db_extension_schema(void)
{
	Oid			owner,
				nsp;

	return extension_row(&owner, &nsp) ? nsp : InvalidOid;
}

char *
s3db_extension_schema_sql(void)
{
	Oid			nsp = s3db_extension_schema();
	char	   *name = OidIsValid(nsp) ? get_namespace_name(nsp) : NULL;

	return name ? pstrdup(quote_identifier(name)) : NULL;
}

Oid
s3db_relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}
