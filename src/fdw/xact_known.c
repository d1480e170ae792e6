/*-------------------------------------------------------------------------
 *
 * xact_known.c
 *		A record as this transaction knows it: its latest pending write,
 *		else what a scan read of it from the store (xact.c keeps both).
 *
 * UPDATE starts from this state, and the plugins compare with it; after a
 * TRUNCATE in force, what was read from the store no longer counts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fdw/s3db_fdw.h"
#include "fdw/xact.h"

/*
 * A record as this transaction knows it: its own pending version, or what a
 * scan read from the store.  S3S_ERR_NOT_FOUND when it knows neither (or
 * deleted it); a decoding error otherwise fills err.
 */
s3s_code
s3db_record_as_known(const s3f_resource *res, Oid serverid, Oid userid, const char *id,
					 const char *passphrase, s3f_record *out, s3s_error *err)
{
	S3dbPending *p = s3db_pending_lookup(serverid, userid, res->name, id, InvalidCommandId,
										   CurrentMemoryContext);
	S3dbSeen   *seen = NULL;
	s3s_meta	m;
	const char *body = NULL;
	size_t		body_len = 0;
	const char *ctype = NULL;
	s3s_code	rc;

	memset(out, 0, sizeof(*out));
	if (p && p->op == PENDING_DELETE)
		return S3S_ERR_NOT_FOUND;
	/* after a truncate, what a scan read of the store is gone */
	if (!s3db_pending_truncated(serverid, userid, res->name, InvalidCommandId))
		seen = s3db_seen_get(serverid, userid, res->name, id, CurrentMemoryContext);
	if (p)
	{
		m.n = m.cap = p->nmeta;
		m.keys = p->mkeys;
		m.values = p->mvals;
		if (p->op == PENDING_PUT)
		{
			body = p->body;
			body_len = p->body_len;
			ctype = p->content_type;
		}
		else if (seen)
		{
			/* a COPY keeps the stored body */
			body = seen->body;
			body_len = seen->body_len;
			ctype = seen->content_type;
		}
	}
	else if (seen && seen->nmeta > 0)
	{
		m.n = m.cap = seen->nmeta;
		m.keys = seen->mkeys;
		m.values = seen->mvals;
		body = seen->body;
		body_len = seen->body_len;
		ctype = seen->content_type;
	}
	else
		return S3S_ERR_NOT_FOUND;

	s3s_error_clear(err);
	rc = s3f_record_decode(res, id, &m, (const unsigned char *) body, body_len, ctype,
						   NULL, passphrase, out, err);
	if (rc != S3S_OK)
	{
		s3f_record_free(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}
