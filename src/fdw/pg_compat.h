/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *		Every difference between the PostgreSQL major versions s3db_fdw
 *		builds against (15, 16, 17 and 18), in one place.
 *
 * 15 is the oldest version supported.  The code is written against the
 * newest API and this header maps it down to the older versions, so call
 * sites carry no version tests and a new major version means reading one
 * file.  Each guard names the release that made the change (and the core
 * commit where cited), so it can be checked against that branch's headers.
 * PostgreSQL 16 is packaged in none of the Debian suites the test matrix
 * uses (test/matrix.sh): its guards were checked against REL_16_STABLE's
 * headers, not by a build.
 *
 * Include it after postgres.h (fdw/s3db_fdw.h does).
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_PG_COMPAT_H
#define S3DB_PG_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "s3db_fdw needs PostgreSQL 15 or later"
#endif

#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "commands/explain.h"
#include "commands/vacuum.h"
#include "common/base64.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "optimizer/pathnode.h"
#include "parser/parse_relation.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/regproc.h"

/*
 * 18 (commit 3691edfab9) replaced pg_attribute_noreturn(), written after
 * the declarator, with pg_noreturn written before the declaration.  The
 * old spelling is kept for our declarations: it is what 15 to 17 need and
 * expands to the same attribute.
 */
#ifndef pg_attribute_noreturn
#if defined(__GNUC__) || defined(__clang__)
#define pg_attribute_noreturn() __attribute__((noreturn))
#else
#define pg_attribute_noreturn()
#endif
#endif

/*
 * 18 split EXPLAIN's headers: ExplainState lives in
 * commands/explain_state.h and the ExplainProperty*() functions in
 * commands/explain_format.h; commands/explain.h no longer declares them.
 */
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif

/*
 * create_foreignscan_path() gained fdw_restrictinfo in 17 (commit
 * 9e9931d2bf, not back-patched: 16 and older fixed the bug it addresses
 * without an API change) and disabled_nodes in 18 (commit e222534679).
 * Call sites pass the 18 argument list; older versions drop what they do
 * not take.
 */
#if PG_VERSION_NUM < 170000
#define create_foreignscan_path(root, rel, target, rows, disabled_nodes, startup_cost, \
								total_cost, pathkeys, required_outer, fdw_outerpath, \
								fdw_restrictinfo, fdw_private) \
	create_foreignscan_path(root, rel, target, rows, startup_cost, total_cost, \
							pathkeys, required_outer, fdw_outerpath, fdw_private)
#elif PG_VERSION_NUM < 180000
#define create_foreignscan_path(root, rel, target, rows, disabled_nodes, startup_cost, \
								total_cost, pathkeys, required_outer, fdw_outerpath, \
								fdw_restrictinfo, fdw_private) \
	create_foreignscan_path(root, rel, target, rows, startup_cost, total_cost, \
							pathkeys, required_outer, fdw_outerpath, \
							fdw_restrictinfo, fdw_private)
#endif

/*
 * 18 made vacuum_delay_point() take is_analyze, so
 * that ANALYZE's cost delay is reported apart from VACUUM's.
 */
#if PG_VERSION_NUM < 180000
#define vacuum_delay_point(is_analyze) vacuum_delay_point()
#endif

/*
 * 18 declares pg_b64_encode()'s input as uint8 *;
 * callers cast to that, older versions take char *.
 */
#if PG_VERSION_NUM < 180000
#define pg_b64_encode(src, len, dst, dstlen) \
	pg_b64_encode((const char *) (src), len, dst, dstlen)
#endif

/*
 * 17 moved PGPROC's local transaction id into the
 * vxid struct: MyProc->lxid became MyProc->vxid.lxid.
 */
#if PG_VERSION_NUM >= 170000
#define s3db_my_lxid() (MyProc->vxid.lxid)
#else
#define s3db_my_lxid() (MyProc->lxid)
#endif

/*
 * 16 gave stringToQualifiedNameList() an escontext argument for soft
 * errors; 15 always throws.
 */
#if PG_VERSION_NUM < 160000
#define stringToQualifiedNameList(string, escontext) stringToQualifiedNameList(string)
#endif

/*
 * 16 replaced the per-catalog ACL functions
 * (pg_foreign_server_aclcheck(), pg_class_ownercheck(), ...) with
 * object_aclcheck() and object_ownercheck(), which take the catalog.  On
 * 15 they map to the per-catalog functions of the catalogs we check; any
 * other catalog is a programming error caught on the first call.
 */
#if PG_VERSION_NUM < 160000
static inline AclResult
object_aclcheck(Oid classid, Oid objectid, Oid roleid, AclMode mode)
{
	if (classid == ForeignServerRelationId)
		return pg_foreign_server_aclcheck(objectid, roleid, mode);
	if (classid == RelationRelationId)
		return pg_class_aclcheck(objectid, roleid, mode);
	elog(ERROR, "object_aclcheck() on catalog %u is not mapped for PostgreSQL 15", classid);
	return ACLCHECK_NO_PRIV;
}

static inline bool
object_ownercheck(Oid classid, Oid objectid, Oid roleid)
{
	if (classid == RelationRelationId)
		return pg_class_ownercheck(objectid, roleid);
	if (classid == ForeignServerRelationId)
		return pg_foreign_server_ownercheck(objectid, roleid);
	elog(ERROR, "object_ownercheck() on catalog %u is not mapped for PostgreSQL 15", classid);
	return false;
}
#endif

/*
 * 16 (RTEPermissionInfo) gives a ForeignScan the
 * checkAsUser of its relation; 15 keeps it in the range table entry.
 */
#if PG_VERSION_NUM >= 160000
#define s3db_scan_check_as_user(fsplan, estate) ((fsplan)->checkAsUser)
#else
#define s3db_scan_check_as_user(fsplan, estate) \
	(exec_rt_fetch((fsplan)->scan.scanrelid, (estate))->checkAsUser)
#endif

/*
 * The same move for planning and for result relations: 16 keeps a
 * relation's checkAsUser in its RTEPermissionInfo (found from the range
 * table entry) and has ExecGetResultRelCheckAsUser(); on 15 both read the
 * range table entry, a partition reached by tuple routing reading its
 * root's.
 */
#if PG_VERSION_NUM >= 160000
#define s3db_planned_check_as_user(root, rte) \
	(getRTEPermissionInfo((root)->parse->rteperminfos, (rte))->checkAsUser)
#else
#define s3db_planned_check_as_user(root, rte) ((rte)->checkAsUser)

static inline Oid
ExecGetResultRelCheckAsUser(ResultRelInfo *rinfo, EState *estate)
{
	Index		rti = rinfo->ri_RangeTableIndex;
	RangeTblEntry *rte;

	if (rti == 0 && rinfo->ri_RootResultRelInfo != NULL)
		rti = rinfo->ri_RootResultRelInfo->ri_RangeTableIndex;
	if (rti == 0)
		return GetUserId();
	rte = exec_rt_fetch(rti, estate);
	return OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
}
#endif

#endif							/* S3DB_PG_COMPAT_H */
