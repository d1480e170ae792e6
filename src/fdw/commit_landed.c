/*-------------------------------------------------------------------------
 *
 * commit_landed.c
 *		What a commit has written so far, and the error that says so.
 *
 * Changed records are not undone, so a commit can fail after part of it
 * landed.  The failure as it came would mislead: a serialization failure
 * (40001) says "retry", and a retry would apply the landed part twice.  The
 * commit (commit.c) counts what lands, per server and resource and across
 * the connections of one commit, and a failure after anything landed is
 * reported as 58000 (system_error: the store, outside PostgreSQL, is left
 * in a state PostgreSQL did not commit), which retry loops keyed on class
 * 40 do not retry, naming what landed, with the failure in the detail.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "fdw/commit.h"

static List *landed = NIL;		/* of S3dbLanded, in TopTransactionContext */
static LocalTransactionId landed_lxid = InvalidLocalTransactionId;

static LocalTransactionId
current_lxid(void)
{
	return s3db_my_lxid();
}

/* The tally of this transaction's commit (a new commit starts from zero). */
S3dbLanded *
s3db_landed_entry(const char *server, const char *resource)
{
	ListCell   *lc;
	S3dbLanded *l;
	MemoryContext old;

	if (landed_lxid != current_lxid())
	{
		landed = NIL;			/* the previous transaction's memory is gone */
		landed_lxid = current_lxid();
	}
	foreach(lc, landed)
	{
		l = (S3dbLanded *) lfirst(lc);
		if (strcmp(l->server, server) == 0 && strcmp(l->resource, resource) == 0)
			return l;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	l = palloc0(sizeof(S3dbLanded));
	l->server = pstrdup(server);
	l->resource = pstrdup(resource);
	landed = lappend(landed, l);
	MemoryContextSwitchTo(old);
	return l;
}

bool
s3db_landed_any(void)
{
	ListCell   *lc;

	if (landed_lxid != current_lxid())
		return false;
	foreach(lc, landed)
	{
		S3dbLanded *l = (S3dbLanded *) lfirst(lc);

		if (l->created || l->changed || l->deleted || l->truncated)
			return true;
	}
	return false;
}

static void
append_count(StringInfo buf, int64 n, const char *what, bool *first)
{
	if (n == 0)
		return;
	appendStringInfo(buf, "%s" INT64_FORMAT " %s", *first ? "" : ", ", n, what);
	*first = false;
}

/* "resource "a" of server "s": truncated, 2 created, 1 changed; ..." */
static char *
landed_text(void)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		any = false;

	initStringInfo(&buf);
	foreach(lc, landed)
	{
		S3dbLanded *l = (S3dbLanded *) lfirst(lc);
		bool		first = true;

		if (!(l->created || l->changed || l->deleted || l->truncated))
			continue;
		appendStringInfo(&buf, "%sresource \"%s\" of server \"%s\": ",
						 any ? "; " : "", l->resource, l->server);
		if (l->truncated)
		{
			appendStringInfoString(&buf, "truncated");
			first = false;
		}
		append_count(&buf, l->created, l->created == 1 ? "record created" : "records created", &first);
		append_count(&buf, l->changed, l->changed == 1 ? "record changed" : "records changed", &first);
		append_count(&buf, l->deleted, l->deleted == 1 ? "record deleted" : "records deleted", &first);
		any = true;
	}
	return buf.data;
}

/*
 * The commit failed with edata after writes landed: report what landed,
 * with the failure, under an SQLSTATE that does not invite a blind retry.
 */
void
s3db_raise_partial_commit(ErrorData *edata)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYSTEM_ERROR),
			 errmsg("the transaction was applied to the store only in part"),
			 errdetail("Written before the failure, and not undone: %s.  The failure: %s%s%s",
					   landed_text(), edata->message,
					   edata->detail ? "  " : "", edata->detail ? edata->detail : ""),
			 errhint("The rest of the transaction was not applied.  Check the records written before running the transaction again.")));
}
