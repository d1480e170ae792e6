/*-------------------------------------------------------------------------
 *
 * plugin_util.c
 *		Helpers shared by the TTL and audit plugins: plugin resources in
 *		s3db.json, records queued in the transaction buffer, records as
 *		JSON, times.
 *
 * Plugin objects are ordinary s3db.js records of plugin resources
 * (plg_ttl_expiration_index, plg_audits), so they are encoded with the
 * same format layer as user records and go through the same transaction
 * buffer: a plugin object is written in the commit of the change that
 * caused it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json.h>
#include <time.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fdw/xact.h"
#include "plugins.h"

int
s3db_attr_index(const s3f_resource *r, const char *path)
{
	for (int i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].path, path) == 0)
			return i;
	return -1;
}

S3dbCatalog *
s3db_plugin_resource(S3dbConn *conn, MemoryContext cxt, const char *name,
					 const char *attributes_json, const char *behavior,
					 const char *partitions_json, const s3f_resource **out)
{
	S3dbCatalog *cat = s3db_conn_catalog(conn);
	s3s_error	err;

	if (s3f_catalog_find(cat->cat, name) == NULL)
	{
		/*
		 * A resource definition is not transactional: it is written now,
		 * under s3db.js's metadata lock, and is harmless if the change that
		 * needed it rolls back.  Two writers creating it at once produce
		 * the same definition (same hash), so no second version appears.
		 */
		s3s_error_clear(&err);
		if (s3f_catalog_update(conn->store, name, attributes_json, behavior,
							   partitions_json, false, 0, &err) != S3S_OK)
			s3db_report(&err, psprintf("could not create resource \"%s\" in s3db.json", name));
		conn->validated_at = 0;
	}
	cat = s3db_catalog_pin(conn, cxt);
	*out = s3f_catalog_find(cat->cat, name);
	if (*out == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 errmsg("resource \"%s\" is missing from s3db.json after it was created", name)));
	return cat;
}

List *
s3db_record_markers(const s3f_resource *res, const s3f_val *vals, const char *id)
{
	List	   *keys = NIL;
	s3f_val    *norm;
	s3s_error	err;

	if (res->nparts == 0)
		return NIL;
	/* owned: the normalised copies are held across lappend(), which may fail */
	norm = s3db_owned_vals(res->nattrs);
	s3s_error_clear(&err);
	if (s3f_record_normalize(res, vals, norm, &err) != S3S_OK)
	{
		s3f_vals_free(norm, res->nattrs);
		s3db_report(&err, psprintf("could not encode record \"%s\" of resource \"%s\"",
								   id, res->name));
	}
	for (int i = 0; i < res->nparts; i++)
	{
		char	   *k = s3db_take_string(s3f_partition_key(res, &res->parts[i], norm, id));

		if (k)
			keys = lappend(keys, k);
	}
	s3f_vals_free(norm, res->nattrs);
	return keys;
}

/* A "seen" entry without an ETag, so that commit deletes stale markers. */
static void
note_stale(Oid serverid, Oid userid, const char *resource, const char *id, List *stale)
{
	S3dbSeen	seen;

	if (stale == NIL || s3db_seen_exists(serverid, userid, resource, id))
		return;
	memset(&seen, 0, sizeof(seen));
	seen.etag = "";
	seen.markers = stale;
	s3db_seen_put(serverid, userid, resource, id, &seen);
}

void
s3db_queue_record(Oid serverid, Oid userid, const s3f_resource *res, const char *id,
				  const s3f_val *vals, const s3f_write_opts *wopts, bool is_insert,
				  List *stale_markers)
{
	/* owned: the encoded object is held while it is copied into palloc'd memory */
	s3f_object_out *o = s3db_owned_object_out();
	s3s_error	err;
	S3dbPending p;

	s3s_error_clear(&err);
	if (s3f_record_encode(res, vals, wopts, o, &err) != S3S_OK)
	{
		s3f_object_out_free(o);
		s3db_report(&err, psprintf("could not encode record \"%s\" of resource \"%s\"",
								   id, res->name));
	}
	memset(&p, 0, sizeof(p));
	p.op = PENDING_PUT;
	p.serverid = serverid;
	p.userid = userid;
	p.resource = res->name;
	p.id = (char *) id;
	p.key = s3db_take_string(s3f_key_data(res->name, id));
	p.is_insert = is_insert;
	p.version = res->current_version;
	p.nmeta = o->meta.n;
	p.mkeys = palloc(sizeof(char *) * Max(o->meta.n, 1));
	p.mvals = palloc(sizeof(char *) * Max(o->meta.n, 1));
	for (int i = 0; i < o->meta.n; i++)
	{
		p.mkeys[i] = pstrdup(o->meta.keys[i]);
		p.mvals[i] = pstrdup(o->meta.values[i]);
	}
	if (o->body)
	{
		p.body = palloc(o->body_len + 1);
		memcpy(p.body, o->body, o->body_len);
		p.body[o->body_len] = '\0';
		p.body_len = o->body_len;
	}
	p.content_type = o->content_type ? pstrdup(o->content_type) : NULL;
	s3f_object_out_free(o);
	p.markers = s3db_record_markers(res, vals, id);
	if (!is_insert)
		note_stale(serverid, userid, res->name, id, stale_markers);
	s3db_pending_add(&p);
}

void
s3db_queue_delete(Oid serverid, Oid userid, const char *resource, const char *id,
				  List *stale_markers)
{
	S3dbPending p;
	bool		was_insert = false;

	memset(&p, 0, sizeof(p));
	p.op = PENDING_DELETE;
	p.serverid = serverid;
	p.userid = userid;
	p.resource = (char *) resource;
	p.id = (char *) id;
	p.key = s3db_take_string(s3f_key_data(resource, id));
	(void) s3db_pending_state(serverid, userid, resource, id, NULL, &was_insert);
	p.is_insert = was_insert;
	note_stale(serverid, userid, resource, id, stale_markers);
	s3db_pending_add(&p);
}

/* Set a dotted path in a JSON object, creating the containers on the way. */
static void
json_set_path(struct json_object *root, const char *path, struct json_object *v)
{
	char	   *copy = pstrdup(path);
	char	   *seg = copy;
	char	   *dot;
	struct json_object *cur = root;

	while ((dot = strchr(seg, '.')) != NULL)
	{
		struct json_object *next;

		*dot = '\0';
		if (!json_object_object_get_ex(cur, seg, &next) ||
			!json_object_is_type(next, json_type_object))
		{
			next = json_object_new_object();
			json_object_object_add(cur, seg, next);
		}
		cur = next;
		seg = dot + 1;
	}
	json_object_object_add(cur, seg, v);
	pfree(copy);
}

char *
s3db_record_json(const s3f_resource *res, const char *id, const s3f_val *vals)
{
	struct json_object *root = json_object_new_object();
	char	   *result;

	if (root == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	json_object_object_add(root, "id", json_object_new_string(id));
	for (int i = 0; vals && i < res->nattrs; i++)
	{
		char	   *txt;
		struct json_object *jv;

		if (vals[i].kind == S3F_MISSING || strcmp(res->attrs[i].path, "id") == 0)
			continue;
		/* a secret never leaves its record in clear text: it is left out */
		if (res->attrs[i].ti.type == S3F_T_SECRET)
			continue;
		/* containers are rebuilt from their leaves; keep only {} or null */
		if (res->attrs[i].ti.type == S3F_T_NESTED && vals[i].kind != S3F_NULL &&
			!(vals[i].kind == S3F_JSON && vals[i].str && strcmp(vals[i].str, "{}") == 0))
			continue;
		txt = s3f_val_to_json(&vals[i]);
		jv = txt ? json_tokener_parse(txt) : NULL;
		if (txt && jv == NULL && strcmp(txt, "null") != 0)
			jv = json_object_new_string(txt);
		free(txt);
		json_set_path(root, res->attrs[i].path, jv);
	}
	result = pstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
													 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return result;
}

bool
s3db_record_before(const s3f_resource *res, Oid serverid, Oid userid, const char *id,
				   const char *passphrase, s3f_record *out)
{
	s3s_error	err;

	return s3db_record_as_known(res, serverid, userid, id, passphrase, out, &err) == S3S_OK;
}

void
s3db_iso_ms(int64 ms, char *buf, size_t len)
{
	time_t		s = (time_t) (ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int			frac = (int) (ms - (int64) s * 1000);
	struct tm	tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64
days_from_civil(int y, int m, int d)
{
	int			era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64) era * 146097 + (int64) doe - 719468;
}

/*
 * Date/time texts as s3db.js values hold them: ISO 8601 with "T" or a
 * space, optional fraction, "Z" or a numeric offset, or a date alone
 * (midnight UTC, like new Date("2024-01-15")).
 */
static bool
parse_time(const char *s, int64 *ms)
{
	int			y,
				mo,
				d,
				h = 0,
				mi = 0,
				n = 0;
	double		sec = 0;
	const char *p;
	int64		off_min = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	p = s + 10;
	if (*p == 'T' || *p == ' ')
	{
		int			m2 = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m2) != 2)
			return false;
		p += 1 + m2;
		if (*p == ':')
		{
			char	   *end;

			sec = strtod(p + 1, &end);
			p = end;
		}
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-')
		{
			int			oh = 0,
						om = 0,
						sign = *p == '-' ? -1 : 1;

			p++;
			if (sscanf(p, "%2d:%2d", &oh, &om) < 1 && sscanf(p, "%2d%2d", &oh, &om) < 1)
				return false;
			off_min = sign * (oh * 60 + om);
			p += strlen(p);
		}
	}
	if (*p != '\0' || h > 24 || mi > 59 || sec < 0 || sec >= 61)
		return false;
	*ms = days_from_civil(y, mo, d) * 86400000 + (int64) h * 3600000 +
		(int64) mi * 60000 + (int64) (sec * 1000 + 0.5) - off_min * 60000;
	return true;
}

bool
s3db_value_ms(const s3f_val *v, int64 *ms)
{
	if (v == NULL)
		return false;
	if (v->kind == S3F_NUM)
	{
		if (!(v->num > -8.64e15 && v->num < 8.64e15))
			return false;
		*ms = (int64) v->num;
		return true;
	}
	if (v->kind == S3F_STR && v->str)
		return parse_time(v->str, ms);
	return false;
}

void
s3db_val_str(s3f_val *v, const char *s)
{
	memset(v, 0, sizeof(*v));
	s3f_val_set_str(v, S3F_STR, s, strlen(s));
}

void
s3db_val_num(s3f_val *v, double d)
{
	s3f_val_set_num(v, d, NULL);	/* JavaScript's String(d) */
}
