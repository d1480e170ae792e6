/*-------------------------------------------------------------------------
 *
 * s3db_fdw.c
 *		Entry points of s3db_fdw: module initialisation and the FDW handler.
 *
 * The work is done in src/fdw (PostgreSQL side), src/format (the s3db.js
 * storage format) and src/store (object stores).  This file only wires the
 * callbacks together and defines the extension-wide settings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "foreign/fdwapi.h"
#include "utils/guc.h"

#include "fdw/probe.h"
#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "plugins/plugins.h"
#include "plugins/s3db_worker.h"

PG_MODULE_MAGIC;

int			s3db_max_inflight = 48;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(s3db_fdw_handler);

void
_PG_init(void)
{
	s3db_xact_init();
	s3db_worker_init();
	/* the plugins see writes through the FDW's write observers */
	s3db_plugins_register();
	s3db_creds_init();
	s3db_probe_shared_init();

	DefineCustomIntVariable("s3db_fdw.max_inflight",
							"Default number of object-store requests a backend keeps in flight.",
							"A server's max_inflight option overrides it.",
							&s3db_max_inflight,
							48, 1, 1024,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("s3db_fdw.enable_pushdown",
							 "Lets the planner select records by id or partition from the query's conditions.",
							 "Off, every scan lists the whole resource and every condition is checked locally.",
							 &s3db_enable_pushdown,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("s3db_fdw");
}

Datum
s3db_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = s3dbGetForeignRelSize;
	routine->GetForeignPaths = s3dbGetForeignPaths;
	routine->GetForeignPlan = s3dbGetForeignPlan;
	routine->BeginForeignScan = s3dbBeginForeignScan;
	routine->IterateForeignScan = s3dbIterateForeignScan;
	routine->ReScanForeignScan = s3dbReScanForeignScan;
	routine->EndForeignScan = s3dbEndForeignScan;
	routine->ExplainForeignScan = s3dbExplainForeignScan;
	routine->ImportForeignSchema = s3dbImportForeignSchema;
	routine->AnalyzeForeignTable = s3dbAnalyzeForeignTable;

	routine->AddForeignUpdateTargets = s3dbAddForeignUpdateTargets;
	routine->PlanForeignModify = s3dbPlanForeignModify;
	routine->BeginForeignModify = s3dbBeginForeignModify;
	routine->ExecForeignInsert = s3dbExecForeignInsert;
	routine->ExecForeignBatchInsert = s3dbExecForeignBatchInsert;
	routine->GetForeignModifyBatchSize = s3dbGetForeignModifyBatchSize;
	routine->ExecForeignUpdate = s3dbExecForeignUpdate;
	routine->ExecForeignDelete = s3dbExecForeignDelete;
	routine->EndForeignModify = s3dbEndForeignModify;
	routine->BeginForeignInsert = s3dbBeginForeignInsert;
	routine->EndForeignInsert = s3dbEndForeignInsert;
	routine->ExplainForeignModify = s3dbExplainForeignModify;
	routine->IsForeignRelUpdatable = s3dbIsForeignRelUpdatable;
	routine->ExecForeignTruncate = s3dbExecForeignTruncate;

	PG_RETURN_POINTER(routine);
}
