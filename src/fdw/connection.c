/*-------------------------------------------------------------------------
 *
 * connection.c
 *		Stores and catalogs cached per backend, and core errors as ereports.
 *
 * Opening a store is cheap, but the S3 backend keeps a curl multi handle
 * whose connections we want to reuse across queries, and s3db.json is
 * worth caching: it is revalidated once per statement by ETag (a HEAD on
 * S3, a stat-sized read on file://) and re-read only when it changed.
 * The cache follows the catalogs: a changed server or user mapping replaces
 * its connections on the next statement (see s3db_get_conn), a session's
 * s3db_fdw.max_inflight reaches the store, and connections replaced under a
 * transaction close when it ends.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "fdw/probe.h"
#include "fdw/s3db_fdw.h"

#define CATALOG_KEY "s3db.json"

/*
 * The cache is keyed by user mapping, as postgres_fdw's is: users that share
 * a mapping (PUBLIC, say) share a store, and a user without a mapping of the
 * server uses the server's options alone (umid = InvalidOid).  An entry
 * points at the current S3dbConn; a changed server or mapping replaces that
 * object with a new one on the next lookup, while statements and commits
 * that hold the old one keep it until the end of the transaction.
 */
typedef struct ConnKey
{
	Oid			umid;			/* InvalidOid: the server has no mapping for the user */
	Oid			serverid;
} ConnKey;

typedef struct ConnEntry
{
	ConnKey		key;
	S3dbConn   *conn;			/* current connection, NULL until opened */
} ConnEntry;

/*
 * What a transaction bound: the connection a (server, user) pair queued
 * writes through.  Later lookups of the pair in the same transaction, and
 * the commit, use it even if the server or mapping changed meanwhile, so
 * the queued writes go where the statements that made them pointed.
 */
typedef struct ConnBinding
{
	Oid			serverid;
	Oid			userid;
	S3dbConn   *conn;
} ConnBinding;

static HTAB *conn_hash = NULL;
static List *bindings = NIL;	/* of ConnBinding, in TopMemoryContext */
static List *retired = NIL;		/* replaced connections used in this transaction */

static void conn_close(S3dbConn *c);

/*
 * Syscache callback: mark the connections of a changed server or user mapping
 * (hash value 0: everything) invalid.  Nothing is closed here: a scan may be
 * using the store, and a transaction may have writes queued for it.
 */
static void
conn_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	ConnEntry  *e;

	if (conn_hash == NULL)
		return;
	hash_seq_init(&scan, conn_hash);
	while ((e = (ConnEntry *) hash_seq_search(&scan)) != NULL)
	{
		S3dbConn   *c = e->conn;

		if (c == NULL)
			continue;
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && c->server_hashvalue == hashvalue) ||
			(cacheid == USERMAPPINGOID && c->mapping_hashvalue == hashvalue))
			c->invalid = true;
	}
}

/*
 * End of a transaction: bindings end, and connections replaced or
 * invalidated while the transaction used them are closed now that nothing
 * can use them (scans' memory goes later, but only unpins catalogs, which
 * outlive their connection while pinned).
 */
static void
conn_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}
	list_free_deep(bindings);
	bindings = NIL;
	foreach(lc, retired)
		conn_close((S3dbConn *) lfirst(lc));
	list_free(retired);
	retired = NIL;
	if (conn_hash)
	{
		HASH_SEQ_STATUS scan;
		ConnEntry  *e;

		/* an invalid connection may never be asked for again: close it now */
		hash_seq_init(&scan, conn_hash);
		while ((e = (ConnEntry *) hash_seq_search(&scan)) != NULL)
		{
			if (e->conn == NULL)
				continue;
			e->conn->xact_used = false;
			if (e->conn->invalid)
			{
				conn_close(e->conn);
				e->conn = NULL;
			}
		}
	}
}

bool
s3db_cancel_requested(void *arg)
{
	return QueryCancelPending || ProcDiePending;
}

static char *
cache_strdup(const char *s)
{
	return s ? MemoryContextStrdup(CacheMemoryContext, s) : NULL;
}

static void
catalog_release(S3dbCatalog *c)
{
	s3f_catalog_free(c->cat);
	free(c->etag);
	free(c);
}

static void
catalog_drop(S3dbCatalog *c)
{
	if (c == NULL)
		return;
	if (c->refs == 0)
		catalog_release(c);
	else
		c->orphaned = true;
}

/* Close a connection object for good (the store, its catalog, itself). */
static void
conn_close(S3dbConn *c)
{
	if (c->store)
		s3s_close(c->store);
	c->store = NULL;
	catalog_drop(c->catalog);
	c->catalog = NULL;
	if (c->opts.passphrase)
		pfree(c->opts.passphrase);
	pfree(c);
}

/* True if the server sets max_inflight; otherwise the setting applies. */
static bool
server_sets_max_inflight(Oid serverid)
{
	ForeignServer *server = GetForeignServer(serverid);
	ListCell   *lc;

	foreach(lc, server->options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, "max_inflight") == 0)
			return true;
	return false;
}

/*
 * The store configuration of a server's options, for backends and the
 * worker alike, so that both write under the same guarantees.
 */
void
s3db_store_config(Oid serverid, const S3dbConnOptions *o, s3s_config *cfg)
{
	s3s_config_init(cfg);
	cfg->url = o->connection_string;
	cfg->region = o->region;
	cfg->endpoint = o->endpoint;
	cfg->url_style = o->url_style;
	cfg->access_key_id = o->access_key_id;
	cfg->secret_access_key = o->secret_access_key;
	cfg->session_token = o->session_token;
	cfg->ca_file = o->ca_file;
	cfg->insecure_skip_verify = !o->verify_tls;
	cfg->max_inflight = o->max_inflight;
	cfg->max_retries = o->max_retries;
	cfg->connect_timeout_ms = o->connect_timeout_ms;
	cfg->request_timeout_ms = o->request_timeout_ms;
	/* conditional writes wait for the store's probe (store/probe.h) */
	cfg->accept_weak_conditions = o->weak_conditions;
	cfg->metadata_needed = o->metadata_limit;
	s3db_creds_config(serverid, o, cfg);
}

static S3dbConn *
conn_open(Oid serverid, Oid userid, Oid umid, Oid umuser)
{
	S3dbConnOptions o;
	s3s_config	cfg;
	s3s_error	err;
	s3s_store  *store;
	S3dbConn   *c;

	s3db_conn_options(serverid, userid, &o);
	s3db_store_config(serverid, &o, &cfg);
	cfg.cancel = s3db_cancel_requested;
	/* what its probe finds is shared with other backends (probe_shared.c) */
	cfg.on_probe = s3db_probe_shared_publish;

	/* everything that may fail comes first: nothing may between s3s_open and ownership */
	c = MemoryContextAllocZero(CacheMemoryContext, sizeof(S3dbConn));
	c->opts.passphrase = cache_strdup(o.passphrase);
	c->server_hashvalue = GetSysCacheHashValue1(FOREIGNSERVEROID, ObjectIdGetDatum(serverid));
	c->mapping_hashvalue = OidIsValid(umid) ?
		GetSysCacheHashValue1(USERMAPPINGOID, ObjectIdGetDatum(umid)) : 0;
	c->inflight_from_server = server_sets_max_inflight(serverid);
	c->serverid = serverid;
	c->probe_fingerprint = s3db_probe_fingerprint(&o);
	cfg.on_probe_arg = c;

	s3s_error_clear(&err);
	store = s3s_open(&cfg, &err);
	if (store == NULL)
	{
		if (c->opts.passphrase)
			pfree(c->opts.passphrase);
		pfree(c);
		s3db_report(&err, "could not open the object store");
	}
	c->store = store;
	c->userid = umuser;
	c->umid = umid;

	/* keep only what later code reads; secrets stay inside the store */
	c->opts.connection_string = NULL;
	c->opts.metadata_limit = o.metadata_limit;
	c->opts.max_inflight = o.max_inflight;
	c->opts.cache_bytes = o.cache_bytes;
	/* another backend may have probed this place already */
	s3db_probe_shared_adopt(c);
	return c;
}

/* The user mapping (user's own, else PUBLIC) of a server, InvalidOid if none. */
static Oid
mapping_oid(Oid serverid, Oid userid, Oid *umuser)
{
	HeapTuple	tp = s3db_user_mapping_tuple(userid, serverid);
	Oid			umid = InvalidOid;

	*umuser = InvalidOid;
	if (HeapTupleIsValid(tp))
	{
		umid = ((Form_pg_user_mapping) GETSTRUCT(tp))->oid;
		*umuser = ((Form_pg_user_mapping) GETSTRUCT(tp))->umuser;
		ReleaseSysCache(tp);
	}
	return umid;
}

static ConnBinding *
find_binding(Oid serverid, Oid userid)
{
	ListCell   *lc;

	foreach(lc, bindings)
	{
		ConnBinding *b = (ConnBinding *) lfirst(lc);

		if (b->serverid == serverid && b->userid == userid)
			return b;
	}
	return NULL;
}

/*
 * Make the store follow s3db_fdw.max_inflight when the server does not set
 * max_inflight itself: a SET in the session applies to the next request.
 */
static void
conn_apply_settings(S3dbConn *c)
{
	if (!c->inflight_from_server && c->opts.max_inflight != s3db_max_inflight)
	{
		s3s_set_max_inflight(c->store, s3db_max_inflight);
		c->opts.max_inflight = s3db_max_inflight;
	}
	s3s_set_cancel(c->store, s3db_cancel_requested, NULL);
}

/*
 * The connection for a user of a server, opened or reopened as needed.  A
 * connection whose server or mapping changed is replaced, unless this
 * transaction queued writes through it (see ConnBinding); one used earlier
 * in the transaction is closed at its end, not now, since a running scan or
 * a cursor may still be reading through it.
 */
S3dbConn *
s3db_get_conn(Oid serverid, Oid userid)
{
	ConnKey		key;
	ConnEntry  *e;
	ConnBinding *b;
	Oid			umuser;
	bool		found;

	if (conn_hash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(ConnKey);
		ctl.entrysize = sizeof(ConnEntry);
		conn_hash = hash_create("s3db_fdw connections", 8, &ctl,
								HASH_ELEM | HASH_BLOBS);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, conn_inval_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, conn_inval_callback, (Datum) 0);
		RegisterXactCallback(conn_xact_callback, NULL);
	}

	b = find_binding(serverid, userid);
	if (b != NULL)
	{
		s3db_check_store_access(b->conn, userid, false);
		conn_apply_settings(b->conn);
		return b->conn;
	}

	memset(&key, 0, sizeof(key));
	key.umid = mapping_oid(serverid, userid, &umuser);
	key.serverid = serverid;
	e = hash_search(conn_hash, &key, HASH_ENTER, &found);
	if (!found)
		e->conn = NULL;
	if (e->conn != NULL && e->conn->invalid)
	{
		S3dbConn   *old = e->conn;

		e->conn = NULL;
		if (old->xact_used)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

			retired = lappend(retired, old);
			MemoryContextSwitchTo(oldcxt);
		}
		else
			conn_close(old);
	}
	if (e->conn == NULL)
		e->conn = conn_open(serverid, userid, key.umid, umuser);
	e->conn->xact_used = true;
	/* at every use, not only at open: a revoked privilege counts at once */
	s3db_check_store_access(e->conn, userid, false);
	conn_apply_settings(e->conn);
	return e->conn;
}

/*
 * Bind a connection to (server, user) for the rest of the transaction: it is
 * about to queue writes.  Called by every statement that may queue writes.
 */
void
s3db_conn_bind(S3dbConn *conn, Oid serverid, Oid userid)
{
	MemoryContext old;
	ConnBinding *b;

	if (find_binding(serverid, userid) != NULL)
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	b = palloc(sizeof(ConnBinding));
	b->serverid = serverid;
	b->userid = userid;
	b->conn = conn;
	bindings = lappend(bindings, b);
	MemoryContextSwitchTo(old);
}

/*
 * The connection that queued a transaction's writes, as it was, even if the
 * server or user mapping was altered or dropped later in the transaction:
 * the writes go where the statements that made them pointed.
 */
S3dbConn *
s3db_get_conn_for_commit(Oid serverid, Oid userid)
{
	ConnBinding *b = find_binding(serverid, userid);

	/* the statements that queued the writes checked the access */
	if (b != NULL)
	{
		conn_apply_settings(b->conn);
		return b->conn;
	}
	return s3db_get_conn(serverid, userid);
}

/*
 * Load s3db.json if it is new or changed since the last statement.  A
 * missing catalog is an empty one, as for s3db.js.  The responses are owned
 * by the current memory context until the new catalog is complete, so a
 * cancel or an error at any point leaks nothing.
 */
S3dbCatalog *
s3db_conn_catalog(S3dbConn *conn)
{
	TimestampTz now = GetCurrentStatementStartTimestamp();
	s3s_object *head;
	s3s_error	err;
	s3s_code	rc;
	S3dbCatalog *nc;
	s3f_catalog *cat;
	char	   *etag = NULL;

	if (conn->catalog && conn->validated_at == now)
		return conn->catalog;

	head = s3db_owned_object();
	s3s_error_clear(&err);
	rc = s3s_head(conn->store, CATALOG_KEY, head, &err);
	CHECK_FOR_INTERRUPTS();
	if (rc != S3S_OK && rc != S3S_ERR_NOT_FOUND)
		s3db_report(&err, "could not read s3db.json");
	if (conn->catalog)
	{
		const char *old = conn->catalog->etag;
		bool		same = (rc == S3S_ERR_NOT_FOUND) ? old == NULL :
			(old != NULL && head->etag != NULL && strcmp(old, head->etag) == 0);

		if (same)
		{
			s3s_object_free(head);
			conn->validated_at = now;
			return conn->catalog;
		}
	}
	s3s_object_free(head);

	if (rc == S3S_ERR_NOT_FOUND)
		cat = s3f_catalog_parse("{\"version\":\"1\",\"resources\":{}}", 30, &err);
	else
	{
		s3s_object *obj = s3db_owned_object();

		rc = s3s_get(conn->store, CATALOG_KEY, obj, &err);
		CHECK_FOR_INTERRUPTS();
		if (rc == S3S_ERR_NOT_FOUND)
			cat = s3f_catalog_parse("{\"version\":\"1\",\"resources\":{}}", 30, &err);
		else if (rc != S3S_OK)
			s3db_report(&err, "could not read s3db.json");
		else
		{
			cat = s3f_catalog_parse((const char *) obj->body, obj->body_len, &err);
			/* the ETag moves into the catalog */
			etag = obj->etag;
			obj->etag = NULL;
		}
		s3s_object_free(obj);
	}
	if (cat == NULL)
	{
		free(etag);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("could not parse s3db.json: %s", err.message),
				 errhint("The catalog of the store is corrupt; s3db.js keeps a backup as s3db.json.corrupted.<time>.backup when it repairs one.")));
	}
	nc = calloc(1, sizeof(S3dbCatalog));
	if (nc == NULL)
	{
		s3f_catalog_free(cat);
		free(etag);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	nc->cat = cat;
	nc->etag = etag;

	catalog_drop(conn->catalog);
	conn->catalog = nc;
	conn->validated_at = now;
	return nc;
}

static void
catalog_unpin(void *arg)
{
	S3dbCatalog *c = (S3dbCatalog *) arg;

	if (--c->refs == 0 && c->orphaned)
		catalog_release(c);
}

/*
 * Pin the current catalog for the lifetime of a memory context (a scan's),
 * so a reload by another statement cannot free it underneath.
 */
S3dbCatalog *
s3db_catalog_pin(S3dbConn *conn, MemoryContext cxt)
{
	MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	S3dbCatalog *c = s3db_conn_catalog(conn);

	c->refs++;
	cb->func = catalog_unpin;
	cb->arg = c;
	MemoryContextRegisterResetCallback(cxt, cb);
	return c;
}

const s3f_resource *
s3db_find_resource(S3dbCatalog *cat, const char *name, const char *relname)
{
	const s3f_resource *r = s3f_catalog_find(cat->cat, name);

	if (r == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 errmsg("resource \"%s\" of foreign table \"%s\" does not exist in s3db.json",
						name, relname),
				 errhint("Check the table's \"resource\" option, or run IMPORT FOREIGN SCHEMA to see the resources of the store.")));
	return r;
}

/*
 * Run a batch of requests.  Interrupts are honoured first, so a cancelled
 * batch raises the usual "canceling statement" error; the outputs of the
 * batch are released before the error leaves, whoever owns the requests
 * (releasing them is idempotent).
 */
void
s3db_execute(S3dbConn *conn, s3s_request *reqs, int n)
{
	s3s_execute(conn->store, reqs, n);
	PG_TRY();
	{
		CHECK_FOR_INTERRUPTS();
	}
	PG_CATCH();
	{
		for (int i = 0; i < n; i++)
			s3s_request_reset(&reqs[i]);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

void
s3db_pager_start(S3dbPager *pg, S3dbConn *conn, const char *prefix, const char *delimiter,
				 const char *what)
{
	memset(pg, 0, sizeof(*pg));
	pg->conn = conn;
	pg->prefix = prefix;
	pg->delimiter = delimiter;
	pg->what = what;
	/* the page being read is owned: callers may raise between pages */
	pg->req = s3db_owned_requests(1);
	s3s_error_clear(&pg->err);
}

void
s3db_pager_end(S3dbPager *pg)
{
	if (pg->have_req)
		s3s_request_reset(pg->req);
	pg->have_req = false;
	pg->done = true;
}

const s3s_list *
s3db_pager_next(S3dbPager *pg)
{
	s3s_request *r = pg->req;

	if (pg->done)
		return NULL;
	if (pg->have_req)
	{
		/* the token of the page just consumed leads to the next one */
		pg->token = r->list.truncated && r->list.next_token ? pstrdup(r->list.next_token) : NULL;
		s3s_request_reset(r);
		pg->have_req = false;
		if (pg->token == NULL)
		{
			pg->done = true;
			return NULL;
		}
	}
	s3s_request_init(r, S3S_OP_LIST, NULL);
	r->prefix = pg->prefix;
	r->delimiter = pg->delimiter;
	r->continuation = pg->token;
	pg->have_req = true;
	s3db_execute(pg->conn, r, 1);
	if (r->err.code != S3S_OK)
	{
		pg->err = r->err;
		s3db_pager_end(pg);
		if (pg->what)
			s3db_report(&pg->err, pg->what);
		return NULL;
	}
	return &r->list;
}

/* ---------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------
 */
static int
sqlstate_for(s3s_code code)
{
	switch (code)
	{
		case S3S_ERR_NOT_FOUND:
			return ERRCODE_FDW_TABLE_NOT_FOUND;
		case S3S_ERR_PRECONDITION:
			return ERRCODE_T_R_SERIALIZATION_FAILURE;
		case S3S_ERR_ACCESS:
			return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
		case S3S_ERR_REDIRECT:
		case S3S_ERR_NETWORK:
		case S3S_ERR_TLS:
		case S3S_ERR_TIMEOUT:
			return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
		case S3S_ERR_CANCELLED:
			return ERRCODE_QUERY_CANCELED;
		case S3S_ERR_PROTOCOL:
			return ERRCODE_FDW_REPLY_HANDLE;
		case S3S_ERR_INVALID:
			return ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE;
		case S3S_ERR_FORMAT:
			return ERRCODE_FDW_INVALID_STRING_FORMAT;
		case S3S_ERR_NOMEM:
			return ERRCODE_FDW_OUT_OF_MEMORY;
		case S3S_ERR_UNSAFE:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		default:
			return ERRCODE_FDW_ERROR;
	}
}

static const char *
hint_for(const s3s_error *err)
{
	switch (err->code)
	{
		case S3S_ERR_ACCESS:
			return "Check access_key_id and secret_access_key in the user mapping, and the bucket policy.";
		case S3S_ERR_REDIRECT:
			return "Set the server's \"region\" option to the bucket's region.";
		case S3S_ERR_NETWORK:
		case S3S_ERR_TIMEOUT:
			return "Check that the object store is reachable; the request was retried with backoff.";
		case S3S_ERR_SERVER:
			return "The object store kept failing after retries; try again later.";
		case S3S_ERR_UNSAFE:
			if (strcmp(err->s3_code, "metadata") == 0)
				return "Lower the server option metadata_limit; s3db_check_store() shows what the store keeps.";
			return "s3db_check_store() shows what the store honours; a superuser may accept weaker guarantees with the server option weak_conditions 'accept'.";
		case S3S_ERR_TLS:
			return "Name the CA that signed the store's certificate in the server option \"ca_file\", and reach the store by a host name the certificate lists.";
		default:
			return NULL;
	}
}

void
s3db_report(const s3s_error *err, const char *what)
{
	StringInfoData detail;
	const char *hint = hint_for(err);

	initStringInfo(&detail);
	/* decoding errors name record and field in the message already */
	if (err->code == S3S_ERR_FORMAT)
		;
	else if (err->op[0])
		appendStringInfo(&detail, "Operation %s", err->op);
	if (err->key[0] && err->code != S3S_ERR_FORMAT)
		appendStringInfo(&detail, "%s\"%s\"", detail.len ? " on " : "Key ", err->key);
	if (err->http_status)
		appendStringInfo(&detail, "%sHTTP status %d", detail.len ? ", " : "", err->http_status);
	if (err->s3_code[0] && err->code != S3S_ERR_UNSAFE)
		appendStringInfo(&detail, "%s%s", detail.len ? ", " : "", err->s3_code);
	if (err->request_id[0])
		appendStringInfo(&detail, "%srequest id %s", detail.len ? ", " : "", err->request_id);
	if (detail.len)
		appendStringInfoChar(&detail, '.');

	ereport(ERROR,
			(errcode(sqlstate_for(err->code)),
			 errmsg("%s: %s", what, err->message[0] ? err->message : s3s_code_name(err->code)),
			 detail.len ? errdetail_internal("%s", detail.data) : 0,
			 hint ? errhint("%s", hint) : 0));
}
