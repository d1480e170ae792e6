/*-------------------------------------------------------------------------
 *
 * tasks.c
 *		The table of plugin tasks and the loop that runs them.
 *
 * Each plugin adds one line to the table.  Errors a task raises are
 * caught here as a last resort (logged, transaction aborted), so one
 * broken task cannot take the worker down with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "tasks.h"
#include "replicator.h"
#include "plugins.h"

static const S3dbTask tasks[] = {
	/* {"name", function}, one line per plugin */
	{"replicator", s3db_replicator_task},	/* every worker: its own outbox */
	{"ttl", s3db_ttl_task},
	{NULL, NULL}
};

long
s3db_run_tasks(const S3dbTaskContext *ctx, long max_delay)
{
	/* volatile: modified between PG_TRY's setjmp and a longjmp back */
	volatile long delay = max_delay;

	for (const S3dbTask *volatile t = tasks; t->name; t++)
	{
		MemoryContext cxt = CurrentMemoryContext;
		volatile long d = max_delay;

		PG_TRY();
		{
			d = t->run(ctx);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			if (IsTransactionState())
				AbortCurrentTransaction();
			ereport(LOG,
					(errmsg("s3db_fdw task \"%s\" failed: %s", t->name, edata->message)));
			FreeErrorData(edata);
		}
		PG_END_TRY();
		if (d > 0 && d < delay)
			delay = d;
	}
	return delay;
}
