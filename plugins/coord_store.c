/*-------------------------------------------------------------------------
 *
 * coord_store.c
 *		Where the coordinator lives: the store of the foreign server named
 *		by s3db_fdw.coordinator_server, and the coordinator settings.
 *
 * The background worker runs as the bootstrap superuser, not as a user
 * with a user mapping, so it reads the server with the credentials of the
 * server owner's user mapping (or the PUBLIC one), exactly what the owner
 * would get in a query.  The SQL function listing the live workers uses
 * the same identity, so that it shows what the worker sees whoever calls
 * it; it reads only the coordinator's worker records.
 *
 * Changes to a server or its user mapping are noticed by comparing a hash
 * of every option between ticks, so the worker keeps no copy of a secret
 * outside the store it opened.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "foreign/foreign.h"
#include "miscadmin.h"

#include "s3db_worker.h"

/*
 * FNV-1a over a string and a terminator byte, so that ("ab", "c") and
 * ("a", "bc") differ; NULL hashes unlike "".
 */
static uint64
hash_str(uint64 h, const char *s)
{
	const uint64 prime = UINT64CONST(0x100000001b3);

	if (s == NULL)
		return (h ^ 0xff) * prime;
	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * prime;
	return (h ^ 0xfe) * prime;
}

static uint64
hash_int(uint64 h, int64 v)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long) v);
	return hash_str(h, buf);
}

bool
s3db_coord_resolve(const char *server_name, S3dbCoordTarget *out,
				   char *errbuf, size_t errlen)
{
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	const S3dbConnOptions *o;
	uint64		h = UINT64CONST(0xcbf29ce484222325);

	memset(out, 0, sizeof(*out));
	server = GetForeignServerByName(server_name, true);
	if (server == NULL)
	{
		snprintf(errbuf, errlen, "server \"%s\" does not exist in database \"%s\"",
				 server_name, s3db_worker_dbname());
		return false;
	}
	fdw = GetForeignDataWrapper(server->fdwid);
	if (strcmp(fdw->fdwname, "s3db_fdw") != 0)
	{
		snprintf(errbuf, errlen, "server \"%s\" does not use the s3db_fdw foreign data wrapper",
				 server_name);
		return false;
	}
	out->serverid = server->serverid;
	out->userid = server->owner;
	s3db_conn_options(server->serverid, server->owner, &out->opts);

	o = &out->opts;
	h = hash_int(h, out->serverid);
	h = hash_str(h, o->connection_string);
	h = hash_str(h, o->region);
	h = hash_str(h, o->endpoint);
	h = hash_str(h, o->url_style);
	h = hash_str(h, o->access_key_id);
	h = hash_str(h, o->secret_access_key);
	h = hash_str(h, o->session_token);
	h = hash_str(h, o->ca_file);
	h = hash_int(h, o->use_server_identity);
	h = hash_int(h, o->no_sign_request);
	h = hash_str(h, o->profile);
	h = hash_str(h, o->role_arn);
	h = hash_str(h, o->external_id);
	h = hash_str(h, o->role_session_name);
	h = hash_int(h, o->verify_tls);
	h = hash_int(h, o->max_inflight);
	h = hash_int(h, o->max_retries);
	h = hash_int(h, o->connect_timeout_ms);
	h = hash_int(h, o->request_timeout_ms);
	/* a changed write guarantee needs a new store, probed afresh */
	h = hash_int(h, o->weak_conditions);
	h = hash_int(h, o->metadata_limit);
	out->fingerprint = h;
	return true;
}

void
s3db_coord_store_config(const S3dbCoordTarget *t, s3s_config *cfg)
{
	s3db_store_config(t->serverid, &t->opts, cfg);
	/* a tick is a handful of sequential requests: no wide window needed */
	cfg->max_inflight = Min(t->opts.max_inflight, 8);
}

void
s3db_coord_config(s3c_config *cfg, const char *worker_id)
{
	s3c_config_init(cfg);
	cfg->ns = s3db_coordinator_namespace[0] ? s3db_coordinator_namespace : NULL;
	cfg->worker_id = worker_id;
	cfg->plugin_name = "s3db_fdw";
	cfg->lease_ms = s3db_lease_ms;
	cfg->heartbeat_ms = s3db_heartbeat_ms;
	/* spread the ticks of many workers, but never past a fifth of a beat */
	cfg->jitter_ms = Min(1000, s3db_heartbeat_ms / 5);
	cfg->breaker_failures = s3db_breaker_failures;
	cfg->breaker_reset_ms = s3db_breaker_reset_ms;
}
