/*-------------------------------------------------------------------------
 *
 * deliver_http.c
 *		Replication targets reached over HTTP: webhooks and Amazon SQS.
 *
 * webhook: POST (option method) of s3db.js's envelope to the target URL
 * with s3db.js's headers (Content-Type, User-Agent
 * s3db-webhook-replicator, option auth: {type: bearer, token} |
 * {type: basic, username, password} | {type: apikey, header, value},
 * option headers: {name: value}); any 2xx is a success.  Two headers are
 * added so that receivers can drop the duplicates at-least-once delivery
 * may bring: Idempotency-Key (s3db-<outbox seq>) and X-S3db-Record-Seq (the
 * change number of the record, increasing by one per change).
 *
 * sqs: SendMessage through the SQS query API, signed with SigV4 (service
 * "sqs"); MessageBody is the envelope with source "s3db-replicator",
 * options message_group_id and deduplication_id (true: the id
 * "<resource>:<action>:<id>:<record seq>", unique per change, so repeated
 * updates of a record are not dropped the way s3db.js's
 * "<resource>:<action>:<id>" is), region, access_key_id,
 * secret_access_key, session_token.
 *
 * Requests use libcurl's easy interface (one request at a time, a
 * timeout, option timeout in ms) and stop when the backend is asked to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <time.h>

#include "common/base64.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "executor/spi.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "fdw/pg_compat.h"
#include "fdw/trust.h"
#include "replicator.h"
#include "store/sigv4.h"

#define DEFAULT_TIMEOUT_MS 5000

PG_FUNCTION_INFO_V1(s3db_replication_sqs_request);

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

/* Abort a transfer when the backend is asked to stop. */
static int
progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending || ShutdownRequestPending) ? 1 : 0;
}

/*
 * Send one request; true on a 2xx answer.  The message never carries the
 * headers (they may hold credentials).
 */
static bool
http_send(const char *method, const char *url, List *headers, const char *body,
		  long timeout_ms, char **err)
{
	CURL	   *h = curl_easy_init();
	struct curl_slist *hl = NULL;
	char		ebuf[CURL_ERROR_SIZE];
	CURLcode	rc;
	long		status = 0;
	ListCell   *lc;

	if (h == NULL)
	{
		*err = pstrdup("could not initialise libcurl");
		return false;
	}
	foreach(lc, headers)
		hl = curl_slist_append(hl, (char *) lfirst(lc));
	hl = curl_slist_append(hl, "Expect:");
	ebuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	CHECK_FOR_INTERRUPTS();

	if (rc != CURLE_OK)
	{
		*err = psprintf("request failed: %s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
		return false;
	}
	if (status < 200 || status > 299)
	{
		*err = psprintf("HTTP status %ld", status);
		return false;
	}
	return true;
}

bool
s3db_deliver_webhook(const S3dbTarget *t, const S3dbChange *c, char **err)
{
	StringInfoData body;
	List	   *headers = NIL;
	char	   *method = s3db_repl_option(t, "method");
	char	   *auth = s3db_repl_option(t, "auth.type");
	char	   *custom = s3db_repl_option(t, "headers");

	initStringInfo(&body);
	s3db_repl_envelope(&body, c, "s3db-webhook-replicator");
	headers = lappend(headers, "Content-Type: application/json");
	headers = lappend(headers, "User-Agent: s3db-webhook-replicator");
	headers = lappend(headers, psprintf("Idempotency-Key: s3db-%lld", (long long) c->seq));
	headers = lappend(headers, psprintf("X-S3db-Record-Seq: %lld", (long long) c->record_seq));
	if (auth && strcmp(auth, "bearer") == 0)
	{
		char	   *token = s3db_repl_option(t, "auth.token");

		headers = lappend(headers, psprintf("Authorization: Bearer %s", token ? token : ""));
	}
	else if (auth && strcmp(auth, "basic") == 0)
	{
		char	   *user = s3db_repl_option(t, "auth.username");
		char	   *pass = s3db_repl_option(t, "auth.password");
		char	   *plain = psprintf("%s:%s", user ? user : "", pass ? pass : "");
		int			len = pg_b64_enc_len(strlen(plain));
		char	   *b64 = palloc(len + 1);
		int			n = pg_b64_encode((const uint8 *) plain, strlen(plain), b64, len);

		b64[Max(n, 0)] = '\0';
		headers = lappend(headers, psprintf("Authorization: Basic %s", b64));
	}
	else if (auth && strcmp(auth, "apikey") == 0)
	{
		char	   *name = s3db_repl_option(t, "auth.header");
		char	   *value = s3db_repl_option(t, "auth.value");

		headers = lappend(headers, psprintf("%s: %s", name ? name : "X-API-Key", value ? value : ""));
	}
	else if (auth)
	{
		*err = psprintf("unknown auth type \"%s\" (bearer, basic or apikey)", auth);
		return false;
	}
	if (custom)
	{
		bool		ok;

		headers = list_concat(headers, s3db_repl_option_members(t, "headers", &ok));
		if (!ok)
		{
			*err = pstrdup("option headers must be a JSON object");
			return false;
		}
	}
	return http_send(method ? method : "POST", t->target, headers, body.data,
					 s3db_repl_option_long(t, "timeout", DEFAULT_TIMEOUT_MS), err);
}

/* ---------------------------------------------------------------------
 * SQS
 * ---------------------------------------------------------------------
 */

static void
form_add(StringInfo buf, const char *name, const char *value)
{
	char	   *e = s3s_uri_encode(value, strlen(value), false);

	if (e == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	appendStringInfo(buf, "%s%s=%s", buf->len ? "&" : "", name, e);
	free(e);
}

bool
s3db_sqs_build(const S3dbTarget *t, const S3dbChange *c, time_t now,
			   S3dbSqsRequest *req, char **err)
{
	CURLU	   *u = curl_url();
	char	   *host = NULL;
	char	   *path = NULL;
	char	   *port = NULL;
	char	   *scheme = NULL;
	char	   *region = s3db_repl_option(t, "region");
	char	   *akid = s3db_repl_option(t, "access_key_id");
	char	   *secret = s3db_repl_option(t, "secret_access_key");
	char	   *token = s3db_repl_option(t, "session_token");
	char	   *group = s3db_repl_option(t, "message_group_id");
	char	   *dedup = s3db_repl_option(t, "deduplication_id");
	StringInfoData env;
	StringInfoData body;
	char		amz_date[17];
	char		payload_hash[65];
	char	   *hosthdr;
	s3s_sigv4_kv hdrs[4];
	int			nh = 0;
	s3s_sigv4_input in;
	s3s_sigv4_output out;
	bool		ok;

	if (u == NULL ||
		curl_url_set(u, CURLUPART_URL, t->target, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK)
	{
		if (u)
			curl_url_cleanup(u);
		*err = pstrdup("the queue URL does not parse");
		return false;
	}
	(void) curl_url_get(u, CURLUPART_PORT, &port, 0);
	hosthdr = port ? psprintf("%s:%s", host, port) : pstrdup(host);
	req->url = psprintf("%s://%s%s", scheme, hosthdr, path);
	if (region == NULL)
	{
		/* sqs.<region>.amazonaws.com */
		if (strncmp(host, "sqs.", 4) == 0 && strchr(host + 4, '.'))
			region = pnstrdup(host + 4, strchr(host + 4, '.') - (host + 4));
		else
			region = pstrdup("us-east-1");
	}
	path = pstrdup(path);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	if (akid == NULL || secret == NULL)
	{
		*err = pstrdup("options access_key_id and secret_access_key are required");
		return false;
	}

	initStringInfo(&env);
	s3db_repl_envelope(&env, c, "s3db-replicator");
	initStringInfo(&body);
	form_add(&body, "Action", "SendMessage");
	form_add(&body, "MessageBody", env.data);
	if (group)
		form_add(&body, "MessageGroupId", group);
	if (dedup && strcmp(dedup, "true") == 0)
		form_add(&body, "MessageDeduplicationId",
				 psprintf("%s:%s:%s:%lld", c->resource, c->operation, c->record_id,
						  (long long) c->record_seq));
	form_add(&body, "Version", "2012-11-05");
	req->body = body.data;

	s3s_sigv4_amz_date(now, amz_date);
	s3s_sha256_hex(body.data, body.len, payload_hash);
	hdrs[nh++] = (s3s_sigv4_kv) {"content-type", "application/x-www-form-urlencoded; charset=utf-8"};
	hdrs[nh++] = (s3s_sigv4_kv) {"host", hosthdr};
	hdrs[nh++] = (s3s_sigv4_kv) {"x-amz-date", amz_date};
	if (token)
		hdrs[nh++] = (s3s_sigv4_kv) {"x-amz-security-token", token};
	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.path = path[0] ? path : "/";
	in.headers = hdrs;
	in.nheaders = nh;
	in.payload_hash = payload_hash;
	in.access_key_id = akid;
	in.secret_access_key = secret;
	in.region = region;
	in.service = "sqs";
	in.amz_date = amz_date;
	memset(&out, 0, sizeof(out));
	ok = s3s_sigv4_sign(&in, &out);
	if (!ok)
	{
		*err = pstrdup("could not sign the request");
		return false;
	}
	req->headers = NIL;
	for (int i = 0; i < nh; i++)
		if (strcmp(hdrs[i].name, "host") != 0)	/* libcurl sends Host */
			req->headers = lappend(req->headers, psprintf("%s: %s", hdrs[i].name, hdrs[i].value));
	req->headers = lappend(req->headers, psprintf("Authorization: %s", out.authorization));
	req->canonical_request = pstrdup(out.canonical_request);
	s3s_sigv4_output_free(&out);
	return true;
}

bool
s3db_deliver_sqs(const S3dbTarget *t, const S3dbChange *c, char **err)
{
	S3dbSqsRequest req;

	if (!s3db_sqs_build(t, c, time(NULL), &req, err))
		return false;
	return http_send("POST", req.url, req.headers, req.body,
					 s3db_repl_option_long(t, "timeout", DEFAULT_TIMEOUT_MS), err);
}

/*
 * s3db_replication_sqs_request(target, seq, at): the request an SQS target
 * would send for an outbox change at a given time, without sending it.
 */
Datum
s3db_replication_sqs_request(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		seq = PG_GETARG_INT64(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	Oid			nsp = s3db_extension_schema();
	S3dbRoleSave save;
	char	   *schema;
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		values[2];
	S3dbTarget	t;
	S3dbChange	c;
	S3dbSqsRequest req;
	char	   *err = NULL;
	TupleDesc	desc;
	Datum		out[5];
	bool		nulls[5] = {false, false, false, false, false};
	Datum	   *hd;
	int			n = 0;
	ListCell   *lc;
	MemoryContext cxt = CurrentMemoryContext;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!OidIsValid(nsp))
		elog(ERROR, "s3db_fdw is not installed");
	schema = pstrdup(quote_identifier(get_namespace_name(nsp)));
	values[0] = CStringGetTextDatum(name);
	values[1] = Int64GetDatum(seq);

	/* with the caller's rights (its targets), search_path pinned */
	s3db_enter_role(InvalidOid, &save);
	SPI_connect();
	if (SPI_execute_with_args(psprintf("SELECT t.name, t.kind, t.target, t.options::text, "
									   " o.record_seq, o.relname, o.resource, o.record_id, o.operation, "
									   " o.before::text, o.after::text, "
									   " to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
									   "FROM %s.s3db_fdw_replication_targets t, %s.s3db_fdw_replication_outbox o "
									   "WHERE t.name OPERATOR(pg_catalog.=) $1 "
									   "AND o.seq OPERATOR(pg_catalog.=) $2", schema, schema),
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the outbox");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no target \"%s\" or no outbox change %lld", name, (long long) seq)));
#define V(i) SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, (i))
	MemoryContextSwitchTo(cxt);
	t.name = V(1);
	t.kind = V(2);
	t.target = V(3);
	t.options = V(4);
	c.seq = seq;
	c.record_seq = atoll(V(5));
	c.relname = V(6);
	c.resource = V(7);
	c.record_id = V(8);
	c.operation = V(9);
	c.before = V(10);
	c.after = V(11);
	c.timestamp = V(12);
#undef V
	SPI_finish();
	s3db_leave_role(&save);
	MemoryContextSwitchTo(cxt);

	if (!s3db_sqs_build(&t, &c, (time_t) timestamptz_to_time_t(at), &req, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("replication target \"%s\": %s", name, err)));
	hd = palloc(sizeof(Datum) * Max(list_length(req.headers), 1));
	foreach(lc, req.headers)
		hd[n++] = CStringGetTextDatum((char *) lfirst(lc));
	out[0] = CStringGetTextDatum("POST");
	out[1] = CStringGetTextDatum(req.url);
	out[2] = PointerGetDatum(construct_array(hd, n, TEXTOID, -1, false, TYPALIGN_INT));
	out[3] = CStringGetTextDatum(req.body);
	out[4] = CStringGetTextDatum(req.canonical_request);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), out, nulls)));
}
