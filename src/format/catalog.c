/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		Parsing s3db.json (spec 3) into plain C structs.
 *
 * For each resource the current version is resolved the way s3db.js does
 * on connect: a missing currentVersion means "v1", a current version that
 * does not exist falls back to the first version present, and a resource
 * whose current version has no attributes object is dropped.  Its
 * attributes become a flat list of paths with types and short keys: from
 * schemaRegistry (authoritative), or assigned as s3db.js would when the
 * registry lacks a path (next free index, spec 5.1); plugin attributes take
 * their keys from pluginSchemaRegistry or the hash of spec 5.3.
 *
 * A catalog that is not JSON, or whose top level has the wrong shape, is
 * refused with S3S_ERR_FORMAT; inner damage is healed or the resource
 * skipped, as s3db.js does, except where guessing would decode records
 * wrongly (an unknown behavior, a registry index that is not an integer).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format/catalog_int.h"

static const char *const behavior_names[] = {
	"user-managed", "body-overflow", "body-only", "truncate-data", "enforce-limits"
};

const char *
s3f_behavior_name(s3f_behavior b)
{
	if ((int) b < 0 || (int) b >= (int) (sizeof(behavior_names) / sizeof(behavior_names[0])))
		return "user-managed";
	return behavior_names[b];
}

static bool
behavior_parse(const char *s, s3f_behavior *out)
{
	int			i;

	for (i = 0; i < (int) (sizeof(behavior_names) / sizeof(behavior_names[0])); i++)
		if (strcmp(s, behavior_names[i]) == 0)
		{
			*out = (s3f_behavior) i;
			return true;
		}
	return false;
}

/* String(v) for a scalar, NULL for anything else */
static char *
scalar_text(json_object *o)
{
	if (json_object_is_type(o, json_type_string))
		return strdup(json_object_get_string(o));
	if (json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double) ||
		json_object_is_type(o, json_type_boolean))
		return s3f_json_text(o);
	return NULL;
}

#define FAIL(...) do { s3s_error_set(err, S3S_ERR_FORMAT, "parse", "s3db.json", __VA_ARGS__); goto fail; } while (0)
#define OOM() do { s3s_error_set(err, S3S_ERR_NOMEM, "parse", "s3db.json", "out of memory"); goto fail; } while (0)

/* ---- partitions ---- */

static int
icu_sort_fields(const void *x, const void *y)
{
	return s3f_icu_compare(*(char *const *) x, *(char *const *) y);
}

static bool
parse_partitions(s3f_resource *r, json_object *parts, s3s_error *err)
{
	s3f_member *m = NULL;
	int			n,
				i;

	n = s3f_js_members(parts, &m);
	if (n < 0)
		OOM();
	r->parts = calloc(n ? n : 1, sizeof(s3f_partition));
	if (r->parts == NULL)
		OOM();
	for (i = 0; i < n; i++)
	{
		json_object *fields = s3f_jmember(m[i].val, "fields");
		s3f_partition *p;
		s3f_member *fm = NULL;
		int			nf,
					j;
		char	  **names;

		if (!s3f_is_object(fields) || json_object_object_length(fields) == 0)
			continue;			/* nothing to key on; s3db.js writes no refs */
		nf = s3f_js_members(fields, &fm);
		if (nf <= 0)
		{
			free(fm);
			if (nf < 0)
				OOM();
			continue;
		}
		p = &r->parts[r->nparts++];
		p->name = strdup(m[i].key);
		p->fields = calloc(nf, sizeof(char *));
		p->rules = calloc(nf, sizeof(char *));
		names = calloc(nf, sizeof(char *));
		if (!p->name || !p->fields || !p->rules || !names)
		{
			free(fm);
			free(names);
			OOM();
		}
		for (j = 0; j < nf; j++)
			names[j] = (char *) fm[j].key;
		qsort(names, nf, sizeof(char *), icu_sort_fields);
		for (j = 0; j < nf; j++)
		{
			json_object *rule = s3f_jmember(fields, names[j]);

			p->fields[j] = strdup(names[j]);
			p->rules[j] = json_object_is_type(rule, json_type_string)
				? strdup(json_object_get_string(rule)) : s3f_json_text(rule);
			p->nfields = j + 1;
			if (!p->fields[j] || !p->rules[j])
			{
				free(fm);
				free(names);
				OOM();
			}
		}
		free(fm);
		free(names);
	}
	free(m);
	return true;

fail:
	free(m);
	return false;
}

/* ---- resources ---- */

static void
resource_free(s3f_resource *r)
{
	int			i,
				j;

	free(r->name);
	free(r->current_version);
	free(r->id_generator);
	s3f_attrs_free(r->attrs, r->nattrs);
	for (i = 0; i < r->nparts; i++)
	{
		for (j = 0; j < r->parts[i].nfields; j++)
		{
			free(r->parts[i].fields[j]);
			free(r->parts[i].rules[j]);
		}
		free(r->parts[i].name);
		free(r->parts[i].fields);
		free(r->parts[i].rules);
	}
	free(r->parts);
	for (i = 0; i < r->nburned; i++)
	{
		free(r->burned[i].attribute);
		free(r->burned[i].key);
	}
	free(r->burned);
	free(r->attributes_json);
	free(r->hash);
	for (i = 0; i < r->nversions; i++)
		free(r->versions[i]);
	free(r->versions);
	memset(r, 0, sizeof(*r));
}

/*
 * Returns 1 when r was filled, 0 when the resource is skipped (as s3db.js
 * drops it), -1 on error.
 */
static int
parse_resource(const char *name, json_object *res, s3f_resource *r, s3s_error *err)
{
	json_object *versions = s3f_jmember(res, "versions"),
			   *cv = s3f_jmember(res, "currentVersion"),
			   *ver = NULL,
			   *attrs,
			   *v,
			   *parts;
	s3f_member *vm = NULL;
	int			nv = 0,
				i;
	s3f_mappath *mp = NULL;
	int			nmp = 0;
	char	  **keys = NULL;
	char	   *vparts_json = NULL;

	memset(r, 0, sizeof(*r));
	if (!s3f_is_object(res))
		return 0;
	if ((r->name = strdup(name)) == NULL)
		OOM();

	if (!s3f_is_object(versions))
		versions = NULL;
	nv = s3f_js_members(versions, &vm);
	if (nv < 0)
		OOM();
	if (cv != NULL && s3f_js_truthy(cv) && !json_object_is_type(cv, json_type_string))
		FAIL("resource \"%s\": currentVersion is not a string", name);
	r->current_version = strdup(cv && s3f_js_truthy(cv) ? json_object_get_string(cv) : "v1");
	if (r->current_version == NULL)
		OOM();
	ver = s3f_jmember(versions, r->current_version);
	if (ver == NULL && nv > 0)
	{
		free(r->current_version);
		if ((r->current_version = strdup(vm[0].key)) == NULL)
			OOM();
		ver = vm[0].val;
	}
	attrs = s3f_jmember(ver, "attributes");
	if (!s3f_is_object(ver) || !s3f_is_object(attrs))
	{
		free(vm);
		resource_free(r);
		return 0;
	}
	r->versions = calloc(nv, sizeof(char *));
	if (r->versions == NULL)
		OOM();
	for (i = 0; i < nv; i++)
	{
		if ((r->versions[i] = strdup(vm[i].key)) == NULL)
			OOM();
		r->nversions++;
	}
	free(vm);
	vm = NULL;

	/* behavior and flags of the current version */
	r->behavior = S3F_B_USER_MANAGED;
	v = s3f_jmember(ver, "behavior");
	if (v && s3f_js_truthy(v) &&
		(!json_object_is_type(v, json_type_string) ||
		 !behavior_parse(json_object_get_string(v), &r->behavior)))
		FAIL("resource \"%s\": unknown behavior \"%.64s\"", name, json_object_get_string(v));
	r->timestamps = s3f_js_truthy(s3f_jmember(ver, "timestamps"));
	v = s3f_jmember(ver, "paranoid");
	r->paranoid = v ? s3f_js_truthy(v) : true;
	r->id_size = 22;
	{
		long		n;

		v = s3f_jmember(ver, "idGenerator");
		if (v && !json_object_is_type(v, json_type_string) && s3f_json_index(v, &n) && n >= 1)
		{
			r->id_size = n > 1024 ? 1024 : (int) n;
			r->id_generator = strdup("default");
		}
		else if (json_object_is_type(v, json_type_string))
			r->id_generator = strdup(json_object_get_string(v));
		else
			r->id_generator = strdup("default");
		if (s3f_json_index(s3f_jmember(ver, "idSize"), &n) && n >= 1)
			r->id_size = n > 1024 ? 1024 : (int) n;
		if (r->id_generator == NULL)
			OOM();
	}

	/* attributes, their map paths and keys */
	if ((r->attributes_json = s3f_json_text(attrs)) == NULL)
		OOM();
	if (s3f_attrs_build(attrs, &r->attrs, &r->nattrs, err) != S3S_OK)
		goto fail;
	if (s3f_map_paths(attrs, &mp, &nmp, err) != S3S_OK)
		goto fail;
	keys = calloc(nmp ? nmp : 1, sizeof(char *));
	if (keys == NULL)
		OOM();
	if (!s3f_assign_keys(r, res, ver, mp, nmp, keys, err))
		goto fail;
	for (i = 0; i < r->nattrs; i++)
	{
		int			j;

		for (j = 0; j < nmp; j++)
			if (keys[j] && strcmp(mp[j].path, r->attrs[i].path) == 0)
			{
				r->attrs[i].key = keys[j];
				keys[j] = NULL;
				break;
			}
	}

	/* partitions: the resource's, else the current version's */
	parts = s3f_jmember(res, "partitions");
	if (!s3f_is_object(parts))
		parts = s3f_jmember(ver, "partitions");
	if (s3f_is_object(parts) && !parse_partitions(r, parts, err))
		goto fail;

	/* the hash: as stored, else computed */
	v = s3f_jmember(ver, "hash");
	if (json_object_is_type(v, json_type_string))
		r->hash = strdup(json_object_get_string(v));
	else
	{
		json_object *vp = s3f_jmember(ver, "partitions");

		if (s3f_is_object(vp) && (vparts_json = s3f_json_text(vp)) == NULL)
			OOM();
		r->hash = s3f_definition_hash(r->attributes_json, s3f_behavior_name(r->behavior),
									  vparts_json, r->timestamps);
	}
	if (r->hash == NULL)
		OOM();

	free(vparts_json);
	for (i = 0; i < nmp; i++)
		free(keys[i]);
	free(keys);
	s3f_map_paths_free(mp, nmp);
	return 1;

fail:
	free(vm);
	free(vparts_json);
	for (i = 0; keys && i < nmp; i++)
		free(keys[i]);
	free(keys);
	s3f_map_paths_free(mp, nmp);
	resource_free(r);
	return -1;
}

static int
resource_cmp(const void *a, const void *b)
{
	return strcmp(((const s3f_resource *) a)->name, ((const s3f_resource *) b)->name);
}

s3f_catalog *
s3f_catalog_parse(const char *text, size_t len, s3s_error *err)
{
	json_object *root,
			   *resources,
			   *v;
	const char *why;
	s3f_catalog *c = NULL;
	s3f_member *m = NULL;
	int			n,
				i;

	if (text == NULL)
		FAIL("s3db.json is empty");
	root = s3f_json_parse(text, len, &why);
	if (root == NULL)
		FAIL("s3db.json is not valid json: %s", why);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
	{
		json_object_put(root);
		OOM();
	}
	if (!s3f_is_object(root))
	{
		json_object_put(root);
		FAIL("s3db.json is not a json object");
	}
	v = s3f_jmember(root, "version");
	c->version = scalar_text(v);
	if (c->version == NULL)
		c->version = strdup("1");
	v = s3f_jmember(root, "s3dbVersion");
	c->s3db_version = scalar_text(v);
	if (c->s3db_version == NULL)
		c->s3db_version = strdup("");
	if (!c->version || !c->s3db_version)
	{
		json_object_put(root);
		OOM();
	}

	resources = s3f_jmember(root, "resources");
	if (resources != NULL && !json_object_is_type(resources, json_type_null) &&
		!s3f_is_object(resources))
	{
		json_object_put(root);
		FAIL("s3db.json: \"resources\" is not an object");
	}
	n = s3f_js_members(resources, &m);
	if (n < 0)
	{
		json_object_put(root);
		OOM();
	}
	c->res = calloc(n ? n : 1, sizeof(s3f_resource));
	if (c->res == NULL)
	{
		free(m);
		json_object_put(root);
		OOM();
	}
	for (i = 0; i < n; i++)
	{
		int			rc = parse_resource(m[i].key, m[i].val, &c->res[c->nres], err);

		if (rc < 0)
		{
			free(m);
			json_object_put(root);
			goto fail;
		}
		if (rc > 0)
			c->nres++;
	}
	free(m);
	json_object_put(root);
	qsort(c->res, c->nres, sizeof(s3f_resource), resource_cmp);
	return c;

fail:
	s3f_catalog_free(c);
	return NULL;
}

void
s3f_catalog_free(s3f_catalog *c)
{
	int			i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nres; i++)
		resource_free(&c->res[i]);
	free(c->res);
	free(c->version);
	free(c->s3db_version);
	free(c);
}

const s3f_resource *
s3f_catalog_find(const s3f_catalog *c, const char *name)
{
	int			lo = 0,
				hi;

	if (c == NULL || name == NULL)
		return NULL;
	hi = c->nres - 1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			cmp = strcmp(c->res[mid].name, name);

		if (cmp == 0)
			return &c->res[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

const s3f_attr *
s3f_resource_attr(const s3f_resource *r, const char *path)
{
	int			i;

	if (r == NULL || path == NULL)
		return NULL;
	for (i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].path, path) == 0)
			return &r->attrs[i];
	return NULL;
}

const s3f_attr *
s3f_resource_attr_by_key(const s3f_resource *r, const char *key)
{
	int			i;

	if (r == NULL || key == NULL)
		return NULL;
	for (i = 0; i < r->nattrs; i++)
		if (r->attrs[i].key && strcasecmp(r->attrs[i].key, key) == 0)
			return &r->attrs[i];
	return NULL;
}
