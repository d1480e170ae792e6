/*-------------------------------------------------------------------------
 *
 * xact_commit.c
 *		Driving the commit of a transaction's writes from PostgreSQL's
 *		transaction callbacks.
 *
 * xact.c keeps what a transaction wrote and the rules of the log
 * (visibility, savepoints, spilling to disk); this file decides when, and
 * through which connections, it reaches the stores; commit.c applies what
 * was written through one connection.
 *
 * The writes are applied at pre-commit, not at commit: an error there
 * still aborts the transaction, so a write that fails (a conflict, a
 * stalled store) fails the transaction; once PostgreSQL has committed,
 * nothing can turn a failed write into a rollback any more.  Writes are
 * kept and committed per user mapping, so the connections the log was
 * written through are applied one after the other, in the order first
 * written, each with the resources truncated through it.  A store has no
 * prepared state to hold writes in, and writes applied at PREPARE could
 * not be undone by ROLLBACK PREPARED: a transaction that has written
 * cannot be prepared.
 *
 * The end of a subtransaction and of the transaction are passed on to
 * xact.c, which owns the subtransaction marks and the log's memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/proc.h"
#include "utils/timeout.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"
#include "fdw/xact_int.h"
#include "fdw/commit.h"

/*
 * Apply the log through each connection it was written with, in the order
 * first written, with the resources truncated through that connection.
 */
static void
apply_all(XactState *xs)
{
	List	   *conns = NIL;
	ListCell   *lc;

	/* the connections involved */
	for (int i = 0; i < xs->nlog; i++)
	{
		unsigned	s,
					u;

		sscanf(xs->log[i].hkey, "%u/%u/", &s, &u);
		conns = s3db_xact_add_conn(conns, s, u);
	}

	foreach(lc, conns)
	{
		Oid			serverid = ((Oid *) lfirst(lc))[0];
		Oid			userid = ((Oid *) lfirst(lc))[1];
		List	   *truncs = NIL;
		ListCell   *lc2;
		ListCell   *lc3;

		foreach(lc2, xs->truncs)
		{
			const char *key = xs->log[lfirst_int(lc2)].hkey;
			unsigned	s,
						u;
			int			off = 0;

			sscanf(key, "%u/%u/%n", &s, &u, &off);
			if (s == serverid && u == userid)
			{
				/* the key is "server/user/resource/" */
				char	   *r = pstrdup(key + off);

				if (r[0] && r[strlen(r) - 1] == '/')
					r[strlen(r) - 1] = '\0';
				/* a resource truncated twice is emptied once */
				foreach(lc3, truncs)
					if (strcmp((char *) lfirst(lc3), r) == 0)
						break;
				if (lc3 == NULL)
					truncs = lappend(truncs, r);
			}
		}
		s3db_commit_apply(s3db_get_conn_for_commit(serverid, userid), serverid, userid, truncs);
	}
}

/*
 * PostgreSQL turns statement_timeout off before it commits, but our commit
 * does the transaction's I/O: arm the timer again for it, so a COMMIT
 * stuck on a stalled store is cancelled like any statement.
 */
static void
pre_commit(void)
{
	XactState  *xs = s3db_xact_current();
	bool		armed = false;

	if (xs == NULL || xs->nlog == 0)
		return;
	if (StatementTimeout > 0 && !get_timeout_active(STATEMENT_TIMEOUT))
	{
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
		armed = true;
	}
	apply_all(xs);
	if (armed)
		disable_timeout(STATEMENT_TIMEOUT, false);
}

static void
xact_callback(XactEvent event, void *arg)
{
	XactState  *xs = s3db_xact_current();

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			pre_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (xs && xs->nlog > 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that has written to s3db_fdw foreign tables")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			s3db_xact_forget();
			break;
	}
}

static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_COMMIT_SUB || event == SUBXACT_EVENT_ABORT_SUB)
		s3db_xact_subxact_end(event == SUBXACT_EVENT_ABORT_SUB);
}

void
s3db_xact_init(void)
{
	RegisterXactCallback(xact_callback, NULL);
	RegisterSubXactCallback(subxact_callback, NULL);
}
