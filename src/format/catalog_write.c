/*-------------------------------------------------------------------------
 *
 * catalog_write.c
 *		Creating and redefining resources in s3db.json (spec 3.2-3.4, 5.1).
 *
 * The catalog is edited as a json-c tree so that everything we do not
 * understand (other resources, old versions, plugin registries, keys added
 * by newer s3db.js releases) is kept untouched, and printed back the way
 * JSON.stringify(obj, null, 2) prints it: two-space indent, "{}" and "[]"
 * for empty containers, JavaScript property order (integer-like keys
 * first), JavaScript number text.
 *
 * A redefinition adds a version only when the definition hash changes; the
 * schema registry keeps every existing index, gives new attribute paths
 * the next indices in map order, and burns the indices of removed paths,
 * so no short key is ever reused.
 *
 * On S3 backends s3db.js serialises catalog writers with a lock object;
 * we take the same lock there.  Everywhere we also make the catalog PUT
 * conditional on the ETag we read, so two of our writers never lose each
 * other's change.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/catalog_int.h"
#include "format/codec_int.h"
#include "format/encode_int.h"
#include "format/record.h"
#include "store/store_int.h"

#define S3DB_VERSION "21.6.2"
#define CATALOG_KEY "s3db.json"
#define CATALOG_LOCK_KEY "plugin=s3db-core/locks/namespace=metadata/s3db-metadata.json"

/* ---- JSON.stringify(o, null, 2) ---- */

static void
indent(s3f_sb *sb, int level)
{
	int			i;

	s3f_sb_putc(sb, '\n');
	for (i = 0; i < level; i++)
		s3f_sb_put(sb, "  ", 2);
}

static void
pretty(s3f_sb *sb, json_object *o, int level)
{
	switch (json_object_get_type(o))
	{
		case json_type_null:
			s3f_sb_puts(sb, "null");
			break;
		case json_type_boolean:
			s3f_sb_puts(sb, json_object_get_boolean(o) ? "true" : "false");
			break;
		case json_type_int:
			{
				char		t[32];

				snprintf(t, sizeof(t), "%lld", (long long) json_object_get_int64(o));
				s3f_sb_puts(sb, t);
				break;
			}
		case json_type_double:
			{
				char		t[64];
				double		d = json_object_get_double(o);

				if (!isfinite(d))
					s3f_sb_puts(sb, "null");
				else
				{
					s3f_js_number_to_string(d, t, sizeof(t));
					s3f_sb_puts(sb, t);
				}
				break;
			}
		case json_type_string:
			s3f_sb_json_string(sb, json_object_get_string(o),
							   (size_t) json_object_get_string_len(o));
			break;
		case json_type_array:
			{
				size_t		i,
							n = json_object_array_length(o);

				if (n == 0)
				{
					s3f_sb_puts(sb, "[]");
					break;
				}
				s3f_sb_putc(sb, '[');
				for (i = 0; i < n; i++)
				{
					if (i)
						s3f_sb_putc(sb, ',');
					indent(sb, level + 1);
					pretty(sb, json_object_array_get_idx(o, i), level + 1);
				}
				indent(sb, level);
				s3f_sb_putc(sb, ']');
				break;
			}
		case json_type_object:
			{
				s3f_member *m = NULL;
				int			i,
							n = s3f_js_members(o, &m);

				if (n < 0)
				{
					sb->oom = true;
					break;
				}
				if (n == 0)
				{
					s3f_sb_puts(sb, "{}");
					break;
				}
				s3f_sb_putc(sb, '{');
				for (i = 0; i < n; i++)
				{
					if (i)
						s3f_sb_putc(sb, ',');
					indent(sb, level + 1);
					s3f_sb_json_string(sb, m[i].key, strlen(m[i].key));
					s3f_sb_put(sb, ": ", 2);
					pretty(sb, m[i].val, level + 1);
				}
				free(m);
				indent(sb, level);
				s3f_sb_putc(sb, '}');
				break;
			}
	}
}

/* ---- the change ---- */

static s3s_code
fail(s3s_error *err, s3s_code code, const char *msg, const char *arg)
{
	s3s_error_set(err, code, "catalog", NULL, msg, arg ? arg : "");
	return code;
}

static json_object *
parse_object(const char *text, size_t len)
{
	const char *why;
	json_object *o = s3f_json_parse(text, len, &why);

	if (o && !json_object_is_type(o, json_type_object))
	{
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* o[key], created as an empty object when missing or not an object */
static json_object *
child_object(json_object *o, const char *key)
{
	json_object *c = s3f_jmember(o, key);

	if (!s3f_is_object(c))
	{
		c = json_object_new_object();
		json_object_object_add(o, key, c);
	}
	return c;
}

static bool
valid_behavior(const char *b)
{
	return strcmp(b, "user-managed") == 0 || strcmp(b, "body-overflow") == 0 ||
		strcmp(b, "body-only") == 0 || strcmp(b, "truncate-data") == 0 ||
		strcmp(b, "enforce-limits") == 0;
}

/* the non-plugin map paths of an attributes object, in index order */
static s3s_code
user_paths(json_object *attrs, char ***paths, int *n, s3s_error *err)
{
	char	   *text = s3f_json_text(attrs);
	s3s_code	rc;

	if (text == NULL)
		return fail(err, S3S_ERR_NOMEM, "out of memory%s", NULL);
	rc = s3f_compute_map(text, paths, n, err);
	free(text);
	return rc;
}

static void
free_paths(char **p, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		free(p[i]);
	free(p);
}

static bool
has_path(char **p, int n, const char *path)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(p[i], path) == 0)
			return true;
	return false;
}

/*
 * Bring schemaRegistry up to the new attributes.  old_attrs (the previous
 * current version's attributes, or NULL) seeds a registry that does not
 * exist yet, so the keys of records already written stay valid.
 */
static s3s_code
update_registry(json_object *res, json_object *old_attrs, json_object *attrs,
				const char *now, s3s_error *err)
{
	json_object *reg = s3f_jmember(res, "schemaRegistry"),
			   *mapping,
			   *burned;
	char	  **paths = NULL;
	int			n = 0,
				i;
	long		next = 0,
				idx;
	s3s_code	rc;

	if (!s3f_is_object(reg))
	{
		reg = json_object_new_object();
		json_object_object_add(reg, "nextIndex", json_object_new_int(0));
		json_object_object_add(reg, "mapping", json_object_new_object());
		json_object_object_add(reg, "burned", json_object_new_array());
		json_object_object_add(res, "schemaRegistry", reg);
		if (old_attrs)
		{
			rc = user_paths(old_attrs, &paths, &n, err);
			if (rc != S3S_OK)
				return rc;
			for (i = 0; i < n; i++)
				json_object_object_add(s3f_jmember(reg, "mapping"), paths[i],
									   json_object_new_int(i));
			json_object_object_add(reg, "nextIndex", json_object_new_int(n));
			free_paths(paths, n);
			paths = NULL;
		}
	}
	mapping = child_object(reg, "mapping");
	burned = s3f_jmember(reg, "burned");
	if (!json_object_is_type(burned, json_type_array))
	{
		burned = json_object_new_array();
		json_object_object_add(reg, "burned", burned);
	}

	/* next index: never below anything used or burned */
	if (s3f_json_index(s3f_jmember(reg, "nextIndex"), &idx))
		next = idx;
	{
		json_object_object_foreach(mapping, k, v)
		{
			(void) k;
			if (s3f_json_index(v, &idx) && idx >= next)
				next = idx + 1;
		}
	}
	for (i = 0; i < (int) json_object_array_length(burned); i++)
		if (s3f_json_index(s3f_jmember(json_object_array_get_idx(burned, i), "index"), &idx) &&
			idx >= next)
			next = idx + 1;

	rc = user_paths(attrs, &paths, &n, err);
	if (rc != S3S_OK)
		return rc;

	/* burn the paths that vanished */
	{
		s3f_member *m = NULL;
		int			nm = s3f_js_members(mapping, &m);

		for (i = 0; i < nm; i++)
		{
			json_object *b;

			if (has_path(paths, n, m[i].key))
				continue;
			b = json_object_new_object();
			json_object_object_add(b, "index", json_object_get(m[i].val));
			json_object_object_add(b, "attribute", json_object_new_string(m[i].key));
			json_object_object_add(b, "burnedAt", json_object_new_string(now));
			json_object_object_add(b, "reason", json_object_new_string("removed"));
			json_object_array_add(burned, b);
		}
		for (i = 0; i < nm; i++)
			if (!has_path(paths, n, m[i].key))
			{
				char	   *k = strdup(m[i].key);

				if (k)
				{
					json_object_object_del(mapping, k);
					free(k);
				}
			}
		free(m);
	}
	/* new paths take the next indices */
	for (i = 0; i < n; i++)
		if (s3f_jmember(mapping, paths[i]) == NULL)
			json_object_object_add(mapping, paths[i], json_object_new_int64(next++));
	json_object_object_add(reg, "nextIndex", json_object_new_int64(next));
	free_paths(paths, n);
	return S3S_OK;
}

/* the highest N of the "vN" version names */
static long
max_version(json_object *versions)
{
	long		max = 0;

	if (!s3f_is_object(versions))
		return 0;
	json_object_object_foreach(versions, k, v)
	{
		(void) v;
		if (k[0] == 'v' && k[1] >= '0' && k[1] <= '9')
		{
			char	   *end;
			long		n = strtol(k + 1, &end, 10);

			if (*end == '\0' && n > max)
				max = n;
		}
	}
	return max;
}

static void
add_timestamps(json_object *attrs, json_object *parts)
{
	json_object *f;

	if (s3f_jmember(attrs, "createdAt") == NULL)
		json_object_object_add(attrs, "createdAt", json_object_new_string("datetime|optional"));
	if (s3f_jmember(attrs, "updatedAt") == NULL)
		json_object_object_add(attrs, "updatedAt", json_object_new_string("datetime|optional"));
	if (s3f_jmember(parts, "byCreatedDate") == NULL)
	{
		f = json_object_new_object();
		json_object_object_add(f, "createdAt", json_object_new_string("date|maxlength:10"));
		json_object_object_add(parts, "byCreatedDate", json_object_new_object());
		json_object_object_add(s3f_jmember(parts, "byCreatedDate"), "fields", f);
	}
	if (s3f_jmember(parts, "byUpdatedDate") == NULL)
	{
		f = json_object_new_object();
		json_object_object_add(f, "updatedAt", json_object_new_string("date|maxlength:10"));
		json_object_object_add(parts, "byUpdatedDate", json_object_new_object());
		json_object_object_add(s3f_jmember(parts, "byUpdatedDate"), "fields", f);
	}
}

s3s_code
s3f_catalog_put_resource(const char *catalog_text, size_t len,
						 const char *name, const char *attributes_json,
						 const char *behavior, const char *partitions_json,
						 bool timestamps, int id_size,
						 char **out, s3s_error *err)
{
	json_object *root = NULL,
			   *attrs = NULL,
			   *parts = NULL,
			   *resources,
			   *res,
			   *versions,
			   *cur = NULL,
			   *ver;
	char		now[40],
				vname[32];
	char	   *attrs_text = NULL,
			   *parts_text = NULL,
			   *hash = NULL;
	s3s_code	rc = S3S_OK;
	s3f_sb		sb = {0};
	const char *cv = NULL;
	bool		is_new;

	*out = NULL;
	s3s_error_clear(err);
	s3f_now_iso(now, sizeof(now));
	if (!s3f_valid_id(name, err) || strchr(name, '/') || strchr(name, '='))
		return fail(err, S3S_ERR_INVALID, "invalid resource name \"%.100s\"", name);
	behavior = behavior ? behavior : "user-managed";
	if (!valid_behavior(behavior))
		return fail(err, S3S_ERR_INVALID, "unknown behavior \"%.64s\"", behavior);
	if (id_size <= 0)
		id_size = 22;

	attrs = parse_object(attributes_json ? attributes_json : "", attributes_json ? strlen(attributes_json) : 0);
	if (attrs == NULL || json_object_object_length(attrs) == 0)
	{
		rc = fail(err, S3S_ERR_INVALID, "attributes must be a non-empty JSON object%s", NULL);
		goto done;
	}
	parts = partitions_json ? parse_object(partitions_json, strlen(partitions_json))
		: json_object_new_object();
	if (parts == NULL)
	{
		rc = fail(err, S3S_ERR_INVALID, "partitions must be a JSON object%s", NULL);
		goto done;
	}
	if (timestamps)
		add_timestamps(attrs, parts);
	attrs_text = s3f_json_text(attrs);
	parts_text = s3f_json_text(parts);
	if (attrs_text == NULL || parts_text == NULL ||
		(hash = s3f_definition_hash(attrs_text, behavior, parts_text, timestamps)) == NULL)
	{
		rc = fail(err, S3S_ERR_NOMEM, "out of memory%s", NULL);
		goto done;
	}

	if (catalog_text && len > 0)
	{
		root = parse_object(catalog_text, len);
		if (root == NULL)
		{
			rc = fail(err, S3S_ERR_FORMAT, "s3db.json is not a JSON object%s", NULL);
			goto done;
		}
	}
	else
		root = json_object_new_object();
	if (s3f_jmember(root, "version") == NULL)
		json_object_object_add(root, "version", json_object_new_string("1"));
	json_object_object_add(root, "s3dbVersion", json_object_new_string(S3DB_VERSION));
	json_object_object_add(root, "lastUpdated", json_object_new_string(now));
	resources = child_object(root, "resources");

	res = s3f_jmember(resources, name);
	is_new = !s3f_is_object(res);
	if (is_new)
	{
		res = json_object_new_object();
		json_object_object_add(res, "currentVersion", json_object_new_string("v1"));
		json_object_object_add(res, "partitions", json_object_new_object());
		json_object_object_add(res, "createdBy", json_object_new_string("user"));
		json_object_object_add(res, "versions", json_object_new_object());
		json_object_object_add(resources, name, res);
	}
	versions = child_object(res, "versions");
	if (!is_new && json_object_is_type(s3f_jmember(res, "currentVersion"), json_type_string))
	{
		cv = json_object_get_string(s3f_jmember(res, "currentVersion"));
		cur = s3f_jmember(versions, cv);
	}
	if (s3f_is_object(cur) &&
		json_object_is_type(s3f_jmember(cur, "hash"), json_type_string) &&
		strcmp(json_object_get_string(s3f_jmember(cur, "hash")), hash) == 0)
	{
		/* same definition: no new version; a missing registry is filled in */
		json_object *ca = s3f_jmember(cur, "attributes");

		if (!s3f_is_object(s3f_jmember(res, "schemaRegistry")) && s3f_is_object(ca))
		{
			rc = update_registry(res, ca, ca, now, err);
			if (rc != S3S_OK)
				goto done;
		}
		goto print;
	}

	snprintf(vname, sizeof(vname), "v%ld", max_version(versions) + 1);
	ver = json_object_new_object();
	json_object_object_add(ver, "hash", json_object_new_string(hash));
	json_object_object_add(ver, "attributes", json_object_get(attrs));
	json_object_object_add(ver, "behavior", json_object_new_string(behavior));
	json_object_object_add(ver, "timestamps", json_object_new_boolean(timestamps));
	json_object_object_add(ver, "partitions", json_object_get(parts));
	json_object_object_add(ver, "paranoid", json_object_new_boolean(1));
	json_object_object_add(ver, "allNestedObjectsOptional", json_object_new_boolean(1));
	json_object_object_add(ver, "autoDecrypt", json_object_new_boolean(1));
	json_object_object_add(ver, "cache", json_object_new_boolean(0));
	json_object_object_add(ver, "hooks", json_object_new_object());
	json_object_object_add(ver, "idSize", json_object_new_int(id_size));
	json_object_object_add(ver, "idGenerator", json_object_new_string("default"));
	json_object_object_add(ver, "createdAt", json_object_new_string(now));

	rc = update_registry(res, s3f_is_object(cur) ? s3f_jmember(cur, "attributes") : NULL,
						 attrs, now, err);
	if (rc != S3S_OK)
	{
		json_object_put(ver);
		goto done;
	}
	json_object_object_add(versions, vname, ver);
	json_object_object_add(res, "currentVersion", json_object_new_string(vname));
	json_object_object_add(res, "partitions", json_object_get(parts));
	if (s3f_jmember(res, "createdBy") == NULL)
		json_object_object_add(res, "createdBy", json_object_new_string("user"));
	if (!s3f_is_object(s3f_jmember(res, "pluginSchemaRegistry")))
		json_object_object_add(res, "pluginSchemaRegistry", json_object_new_object());

print:
	pretty(&sb, root, 0);
	*out = s3f_sb_finish(&sb);
	if (*out == NULL)
		rc = fail(err, S3S_ERR_NOMEM, "out of memory%s", NULL);
done:
	json_object_put(root);
	json_object_put(attrs);
	json_object_put(parts);
	free(attrs_text);
	free(parts_text);
	free(hash);
	return rc;
}

/* ---- on the store ---- */

static s3s_code
run1(s3s_store *st, s3s_request *r, s3s_error *err)
{
	s3s_execute(st, r, 1);
	if (r->err.code != S3S_OK)
		*err = r->err;
	return r->err.code;
}

static s3s_code
put_doc(s3s_store *st, const char *key, const char *body, bool if_none_match,
		const char *if_match, s3s_error *err)
{
	s3s_request r;
	s3s_meta	none;
	s3s_code	rc;

	s3s_meta_init(&none);
	s3s_request_init(&r, S3S_OP_PUT, key);
	r.meta = &none;
	r.body = (const unsigned char *) body;
	r.body_len = strlen(body);
	r.content_type = "application/json";
	r.if_none_match = if_none_match;
	r.if_match = if_match;
	rc = run1(st, &r, err);
	s3s_request_reset(&r);
	return rc;
}

/*
 * s3db.js's metadata lock (spec 3.4 step 1): create it; when it exists,
 * take it over once it has expired, else retry twice after 100 and 200 ms.
 */
static s3s_code
catalog_lock(s3s_store *st, char *lock_id, size_t idlen, s3s_error *err)
{
	char		host[128] = "";
	char	   *rnd = s3f_random_id(9);
	int			attempt;
	s3s_code	rc = S3S_ERR_TIMEOUT;

	if (rnd == NULL)
		return fail(err, S3S_ERR_NOMEM, "out of memory%s", NULL);
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "%s", rnd);
	snprintf(lock_id, idlen, "lock-holder-%ld-%lld-%s", (long) getpid(),
			 (long long) s3f_now_ms(), rnd);
	free(rnd);
	for (attempt = 0; attempt < 3; attempt++)
	{
		char		body[512];
		int64_t		now = s3f_now_ms();
		s3s_object	o;
		s3s_error	e;
		json_object *lock;
		json_object *exp;
		const char *why;

		snprintf(body, sizeof(body),
				 "{\"lockId\":\"%s\",\"holderId\":\"holder-%.100s\",\"acquiredAt\":%lld,"
				 "\"expiresAt\":%lld,\"_expiresAt\":%lld}",
				 lock_id, host, (long long) now, (long long) (now + 30000),
				 (long long) (now + 90000));
		rc = put_doc(st, CATALOG_LOCK_KEY, body, true, NULL, err);
		if (rc != S3S_ERR_PRECONDITION)
			return rc;
		memset(&o, 0, sizeof(o));
		rc = s3s_get(st, CATALOG_LOCK_KEY, &o, &e);
		if (rc == S3S_ERR_NOT_FOUND)
			continue;
		if (rc != S3S_OK)
		{
			s3s_object_free(&o);
			*err = e;
			return rc;
		}
		lock = s3f_json_parse((const char *) (o.body ? o.body : (unsigned char *) ""),
							  o.body_len, &why);
		exp = s3f_jmember(lock, "expiresAt");
		if (lock == NULL || !(json_object_is_type(exp, json_type_int) ||
							  json_object_is_type(exp, json_type_double)) ||
			json_object_get_double(exp) <= (double) s3f_now_ms())
		{
			rc = put_doc(st, CATALOG_LOCK_KEY, body, false, o.etag, err);
			json_object_put(lock);
			s3s_object_free(&o);
			if (rc != S3S_ERR_PRECONDITION)
				return rc;
			continue;
		}
		json_object_put(lock);
		s3s_object_free(&o);
		if (attempt < 2)
			s3f_sleep_ms(100L << attempt);
	}
	s3s_error_set(err, S3S_ERR_TIMEOUT, "PUT", CATALOG_LOCK_KEY, "catalog lock busy");
	return S3S_ERR_TIMEOUT;
}

static void
catalog_unlock(s3s_store *st, const char *lock_id)
{
	s3s_object	o;
	s3s_error	e;
	json_object *lock;
	json_object *id;
	const char *why;

	memset(&o, 0, sizeof(o));
	if (s3s_get(st, CATALOG_LOCK_KEY, &o, &e) != S3S_OK)
	{
		s3s_object_free(&o);
		return;
	}
	lock = s3f_json_parse((const char *) (o.body ? o.body : (unsigned char *) ""),
						  o.body_len, &why);
	id = s3f_jmember(lock, "lockId");
	if (json_object_is_type(id, json_type_string) &&
		strcmp(json_object_get_string(id), lock_id) == 0)
	{
		s3s_request r;

		s3s_request_init(&r, S3S_OP_DELETE, CATALOG_LOCK_KEY);
		s3s_execute(st, &r, 1);
		s3s_request_reset(&r);
	}
	json_object_put(lock);
	s3s_object_free(&o);
}

s3s_code
s3f_catalog_update(s3s_store *st, const char *name,
				   const char *attributes_json, const char *behavior,
				   const char *partitions_json, bool timestamps,
				   int id_size, s3s_error *err)
{
	bool		locked = false;
	char		lock_id[160];
	s3s_code	rc = S3S_OK;
	int			attempt;

	s3s_error_clear(err);
	if (s3s_store_kind(st) == S3S_KIND_S3)
	{
		rc = catalog_lock(st, lock_id, sizeof(lock_id), err);
		if (rc != S3S_OK)
			return rc;
		locked = true;
	}
	/* GET, change, PUT conditionally; another writer in between: again */
	for (attempt = 0; attempt < 5; attempt++)
	{
		s3s_object	o;
		char	   *text = NULL;

		memset(&o, 0, sizeof(o));
		rc = s3s_get(st, CATALOG_KEY, &o, err);
		if (rc != S3S_OK && rc != S3S_ERR_NOT_FOUND)
		{
			s3s_object_free(&o);
			break;
		}
		rc = s3f_catalog_put_resource(rc == S3S_OK ? (const char *) o.body : NULL,
									  rc == S3S_OK ? o.body_len : 0, name, attributes_json,
									  behavior, partitions_json, timestamps, id_size,
									  &text, err);
		if (rc == S3S_OK)
			rc = put_doc(st, CATALOG_KEY, text, o.etag == NULL, o.etag, err);
		free(text);
		s3s_object_free(&o);
		if (rc != S3S_ERR_PRECONDITION)
			break;
		s3f_sleep_ms(20L << attempt);
	}
	if (locked)
		catalog_unlock(st, lock_id);
	return rc;
}
