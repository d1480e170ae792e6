/*-------------------------------------------------------------------------
 *
 * record.c
 *		Objects to records: the read algorithm of spec 8.2.
 *
 * A record's fields come from the object's metadata (client-encoded,
 * spec 6.5) and, for body-overflow, body-only and user-managed resources,
 * from a JSON body.  Bodies come in several shapes (spec 7, 14):
 *
 *	{"<shortkey>": "<stored string>", ...}	body-overflow, user-managed
 *											insert overflow, enforce-limits
 *	{"<shortkey>": ..., "_v": "v1"}			body-only, maybe renamed by _map
 *	{"<attribute>": <logical JSON value>}	user-managed updates, nested
 *											objects included
 *
 * Metadata wins over the body for the same attribute.  Stored strings from
 * the body are type-decoded without the metadata string layer; logical
 * JSON values go to s3f_decode_json_value().  Nothing is decoded that the
 * caller did not ask for: collecting a field costs a pointer, decoding a
 * secret costs a PBKDF2.
 *
 * Unlike s3db.js we do not turn strings that look like JSON into objects,
 * and we return the exact stored values (spec 6.4).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format/catalog_int.h"
#include "format/metaenc.h"
#include "format/record.h"

typedef enum raw_src
{
	RAW_NONE = 0,
	RAW_META,					/* stored string from metadata (decoded 6.5) */
	RAW_NULL,					/* explicit null */
	RAW_BODY_STR,				/* stored string from a body member */
	RAW_BODY_JSON				/* logical JSON value from a body member */
} raw_src;

typedef struct raw_val
{
	raw_src		src;
	char	   *s;
	size_t		len;
} raw_val;

typedef struct dctx
{
	const s3f_resource *res;
	raw_val    *raw;			/* parallel to res->attrs */
	bool	   *need;			/* collect this attribute's raw value */
	json_object *pluginmap;		/* per-object _pluginmap {attr: key} */
	json_object *objmap;		/* per-object _map {attr: key} (body-only) */
	bool		oom;
} dctx;

bool
s3f_behavior_uses_body(s3f_behavior b)
{
	return b == S3F_B_BODY_OVERFLOW || b == S3F_B_BODY_ONLY || b == S3F_B_USER_MANAGED;
}

void
s3f_record_free(s3f_record *r)
{
	int			i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nvals && r->vals; i++)
		s3f_val_free(&r->vals[i]);
	free(r->vals);
	free(r->id);
	free(r->version);
	free(r->content_type);
	for (i = 0; i < r->nextra; i++)
	{
		free(r->extra_keys[i]);
		free(r->extra_values[i]);
	}
	free(r->extra_keys);
	free(r->extra_values);
	memset(r, 0, sizeof(*r));
}

/* ---- key lookups ---- */

static int
attr_index(const s3f_resource *res, const s3f_attr *a)
{
	return a ? (int) (a - res->attrs) : -1;
}

/* the attribute whose name maps to key in a per-object map {attr: key} */
static int
lookup_objmap(const s3f_resource *res, json_object *map, const char *key)
{
	if (map == NULL)
		return -1;
	json_object_object_foreach(map, attr, k)
	{
		if (json_object_is_type(k, json_type_string) &&
			strcasecmp(json_object_get_string(k), key) == 0)
			return attr_index(res, s3f_resource_attr(res, attr));
	}
	return -1;
}

/* metadata/body short key -> attribute: _pluginmap first, then the catalog */
static int
lookup_key(const dctx *c, const char *key)
{
	int			i = lookup_objmap(c->res, c->pluginmap, key);

	if (i >= 0)
		return i;
	return attr_index(c->res, s3f_resource_attr_by_key(c->res, key));
}

/* a per-object JSON map from a metadata value, or NULL */
static json_object *
parse_meta_map(const char *stored)
{
	char	   *txt = NULL;
	size_t		len = 0;
	json_object *o;
	const char *why;

	if (s3f_meta_decode(stored, &txt, &len) != S3F_META_STRING || txt == NULL)
	{
		free(txt);
		return NULL;
	}
	o = s3f_json_parse(txt, len, &why);
	free(txt);
	if (o && !json_object_is_type(o, json_type_object))
	{
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* ---- collecting raw values ---- */

static void
set_raw(dctx *c, int i, raw_src src, const char *s, size_t len)
{
	raw_val    *r;

	if (i < 0 || !c->need[i] || c->raw[i].src != RAW_NONE)
		return;					/* unwanted, or metadata already won */
	r = &c->raw[i];
	r->src = src;
	if (s)
	{
		r->s = malloc(len + 1);
		if (r->s == NULL)
		{
			c->oom = true;
			r->src = RAW_NONE;
			return;
		}
		memcpy(r->s, s, len);
		r->s[len] = '\0';
		r->len = len;
	}
}

/* a body member under a short key: stored string, or a logical JSON value */
static void
put_short(dctx *c, int i, json_object *v)
{
	if (i < 0 || !c->need[i] || c->raw[i].src != RAW_NONE)
		return;
	if (json_object_is_type(v, json_type_string))
		set_raw(c, i, RAW_BODY_STR, json_object_get_string(v),
				(size_t) json_object_get_string_len(v));
	else if (v == NULL || json_object_is_type(v, json_type_null))
		set_raw(c, i, RAW_NULL, NULL, 0);
	else
	{
		char	   *t = s3f_json_text(v);

		if (t == NULL)
			c->oom = true;
		else
			set_raw(c, i, RAW_BODY_JSON, t, strlen(t));
		free(t);
	}
}

/* a body member under its full attribute name: logical values, flattened */
static void
put_full(dctx *c, int i, json_object *v, int depth)
{
	const s3f_attr *a = &c->res->attrs[i];

	if (a->ti.type == S3F_T_NESTED && json_object_is_type(v, json_type_object) &&
		json_object_object_length(v) > 0 && depth < S3F_MAX_DEPTH)
	{
		json_object_object_foreach(v, k, cv)
		{
			size_t		n = strlen(a->path) + strlen(k) + 2;
			char	   *path = malloc(n);
			int			ci;

			if (path == NULL)
			{
				c->oom = true;
				return;
			}
			snprintf(path, n, "%s.%s", a->path, k);
			ci = attr_index(c->res, s3f_resource_attr(c->res, path));
			free(path);
			if (ci >= 0)
				put_full(c, ci, cv, depth + 1);
		}
		return;
	}
	if (!c->need[i] || c->raw[i].src != RAW_NONE)
		return;
	if (v == NULL || json_object_is_type(v, json_type_null))
		set_raw(c, i, RAW_NULL, NULL, 0);
	else
	{
		char	   *t = s3f_json_text(v);

		if (t == NULL)
			c->oom = true;
		else
			set_raw(c, i, RAW_BODY_JSON, t, strlen(t));
		free(t);
	}
}

static bool
add_extra(s3f_record *out, const char *key, const char *val)
{
	char	  **k = realloc(out->extra_keys, (out->nextra + 1) * sizeof(char *));
	char	  **v;

	if (k == NULL)
		return false;
	out->extra_keys = k;
	v = realloc(out->extra_values, (out->nextra + 1) * sizeof(char *));
	if (v == NULL)
		return false;
	out->extra_values = v;
	k[out->nextra] = strdup(key);
	v[out->nextra] = strdup(val);
	if (!k[out->nextra] || !v[out->nextra])
	{
		free(k[out->nextra]);
		free(v[out->nextra]);
		return false;
	}
	out->nextra++;
	return true;
}

static bool
collect_meta(dctx *c, const s3s_meta *meta, s3f_record *out)
{
	int			e;

	for (e = 0; meta && e < meta->n; e++)
	{
		const char *k = meta->keys[e],
				   *v = meta->values[e];
		char	   *txt = NULL;
		size_t		len = 0;
		s3f_meta_kind kind;
		int			i;

		if (k == NULL || v == NULL)
			continue;
		if (k[0] == '_')
		{
			bool		want = strcmp(k, "_v") == 0 || strcmp(k, "_hascontent") == 0 ||
				strcmp(k, "_mimetype") == 0 || strcmp(k, "_contentlength") == 0;

			if (!want)
				continue;		/* _map, _pluginmap, flags and junk */
			kind = s3f_meta_decode(v, &txt, &len);
			if (kind == S3F_META_STRING && txt)
			{
				if (strcmp(k, "_v") == 0 && out->version == NULL)
				{
					out->version = txt;
					txt = NULL;
				}
				else if (strcmp(k, "_hascontent") == 0)
					out->has_content = strcmp(txt, "true") == 0;
				else if (strcmp(k, "_mimetype") == 0 && out->content_type == NULL)
				{
					out->content_type = txt;
					txt = NULL;
				}
				else if (strcmp(k, "_contentlength") == 0)
					out->content_length = strtoll(txt, NULL, 10);
			}
			free(txt);
			continue;
		}
		if (strcmp(k, "id") == 0)
			continue;			/* junk copy of the id (patch, setContent) */
		i = lookup_key(c, k);
		if (i < 0)
		{
			kind = s3f_meta_decode(v, &txt, &len);
			if (kind != S3F_META_UNDEFINED &&
				!add_extra(out, k, kind == S3F_META_NULL ? "null" : (txt ? txt : "")))
				c->oom = true;
			free(txt);
			continue;
		}
		if (!c->need[i] || c->raw[i].src != RAW_NONE)
			continue;
		kind = s3f_meta_decode(v, &txt, &len);
		if (kind == S3F_META_STRING)
		{
			c->raw[i].src = RAW_META;
			c->raw[i].s = txt ? txt : strdup("");
			c->raw[i].len = txt ? len : 0;
			if (c->raw[i].s == NULL)
				c->oom = true;
		}
		else
		{
			free(txt);
			if (kind == S3F_META_NULL)
				c->raw[i].src = RAW_NULL;
		}
	}
	return !c->oom;
}

/*
 * Merge the members of a JSON body.  Returns false, with *why set, when the
 * body looks like a JSON object but does not parse: the fields it should
 * carry would otherwise vanish without a word.
 */
static bool
collect_body(dctx *c, const unsigned char *body, size_t body_len, const char **why)
{
	json_object *o;
	size_t		p = 0;

	while (p < body_len && (body[p] == ' ' || body[p] == '\n' || body[p] == '\r' ||
							body[p] == '\t'))
		p++;
	if (p == body_len || body[p] != '{')
		return true;			/* empty, or binary content */
	o = s3f_json_parse((const char *) body, body_len, why);
	if (o == NULL || !json_object_is_type(o, json_type_object))
	{
		json_object_put(o);
		if (*why == NULL)
			*why = "not a JSON object";
		return false;
	}
	json_object_object_foreach(o, name, v)
	{
		int			i = -1;

		if (name[0] == '_')
			continue;
		if (c->res->behavior == S3F_B_BODY_ONLY && c->objmap)
			i = lookup_objmap(c->res, c->objmap, name);
		if (i < 0)
			i = lookup_key(c, name);
		if (i >= 0)
		{
			put_short(c, i, v);
			continue;
		}
		i = attr_index(c->res, s3f_resource_attr(c->res, name));
		if (i >= 0)
			put_full(c, i, v, 0);
	}
	json_object_put(o);
	return true;
}

/* ---- decoding and assembling ---- */

static s3s_code
decode_leaf(dctx *c, int i, const char *id, const char *passphrase, s3f_val *out,
			s3s_error *err)
{
	const s3f_attr *a = &c->res->attrs[i];
	raw_val    *r = &c->raw[i];
	s3s_error	e;
	s3s_code	rc;

	memset(out, 0, sizeof(*out));
	switch (r->src)
	{
		case RAW_NONE:
			return S3S_OK;
		case RAW_NULL:
			out->kind = S3F_NULL;
			return S3S_OK;
		case RAW_BODY_JSON:
			if (strcmp(r->s, "null") == 0)
			{
				out->kind = S3F_NULL;
				return S3S_OK;
			}
			s3s_error_clear(&e);
			rc = s3f_decode_json_value(&a->ti, r->s, passphrase, out, &e);
			break;
		default:
			s3s_error_clear(&e);
			rc = s3f_decode(&a->ti, r->s, r->len, passphrase, out, &e);
			break;
	}
	if (rc == S3S_OK)
		return S3S_OK;
	s3f_val_free(out);
	memset(out, 0, sizeof(*out));
	if (rc == S3S_ERR_NOMEM)
		s3s_error_set(err, rc, "decode", id, "out of memory");
	else
		s3s_error_set(err, S3S_ERR_FORMAT, "decode", id, "field \"%.100s\" (%.80s): %s",
					  a->path, a->def ? a->def : "?",
					  e.message[0] ? e.message : "cannot decode the stored value");
	return err ? err->code : rc;
}

/* is child a direct member of container parent? */
static bool
is_child(const s3f_attr *parent, const s3f_attr *child)
{
	size_t		n = strlen(parent->path);

	return child->depth == parent->depth + 1 &&
		strncmp(child->path, parent->path, n) == 0 && child->path[n] == '.';
}

/*
 * The JSON of container i from its decoded members; falls back to what is
 * stored under the container's own key ("{}" for an empty object, "null").
 * Returns the kind (S3F_MISSING, S3F_NULL or S3F_JSON); *json is malloc'd
 * for S3F_JSON.
 */
static s3f_kind
assemble(dctx *c, s3f_val *vals, int i, char **json, int depth)
{
	const s3f_resource *res = c->res;
	const s3f_attr *p = &res->attrs[i];
	s3f_sb		sb = {0};
	int			j,
				members = 0;

	*json = NULL;
	s3f_sb_putc(&sb, '{');
	for (j = 0; j < res->nattrs && depth < S3F_MAX_DEPTH; j++)
	{
		const s3f_attr *ch = &res->attrs[j];
		const char *name;
		char	   *text = NULL;

		if (!is_child(p, ch))
			continue;
		if (ch->ti.type == S3F_T_NESTED)
		{
			s3f_kind	k = assemble(c, vals, j, &text, depth + 1);

			if (k == S3F_MISSING)
				continue;
			if (k == S3F_NULL)
				text = strdup("null");
		}
		else if (vals[j].kind == S3F_MISSING)
			continue;
		else if (vals[j].kind == S3F_NULL)
			text = strdup("null");
		else
			text = s3f_val_to_json(&vals[j]);
		if (text == NULL)
		{
			sb.oom = true;
			break;
		}
		name = ch->path + strlen(p->path) + 1;
		if (members++)
			s3f_sb_putc(&sb, ',');
		s3f_sb_json_string(&sb, name, strlen(name));
		s3f_sb_putc(&sb, ':');
		s3f_sb_puts(&sb, text);
		free(text);
	}
	s3f_sb_putc(&sb, '}');
	if (members > 0 || sb.oom)
	{
		*json = s3f_sb_finish(&sb);
		if (*json == NULL)
			c->oom = true;
		return *json ? S3F_JSON : S3F_MISSING;
	}
	free(s3f_sb_finish(&sb));

	/* no members: the container's own key */
	switch (c->raw[i].src)
	{
		case RAW_NULL:
			return S3F_NULL;
		case RAW_META:
		case RAW_BODY_STR:
		case RAW_BODY_JSON:
			{
				const char *why;
				json_object *o = s3f_json_parse(c->raw[i].s, c->raw[i].len, &why);
				bool		obj = json_object_is_type(o, json_type_object);

				if (o && json_object_is_type(o, json_type_null))
				{
					json_object_put(o);
					return S3F_NULL;
				}
				if (obj)
					*json = s3f_json_text(o);
				json_object_put(o);
				if (obj && *json == NULL)
					c->oom = true;
				return *json ? S3F_JSON : S3F_MISSING;
			}
		default:
			return S3F_MISSING;
	}
}

s3s_code
s3f_record_decode(const s3f_resource *res, const char *id,
				  const s3s_meta *meta,
				  const unsigned char *body, size_t body_len,
				  const char *content_type,
				  const bool *wanted, const char *passphrase,
				  s3f_record *out, s3s_error *err)
{
	dctx		c = {0};
	int			i,
				j,
				n = res->nattrs;
	s3s_code	rc = S3S_OK;

	memset(out, 0, sizeof(*out));
	s3s_error_clear(err);
	out->id = strdup(id ? id : "");
	out->nvals = n;
	out->vals = calloc(n ? n : 1, sizeof(s3f_val));
	c.res = res;
	c.raw = calloc(n ? n : 1, sizeof(raw_val));
	c.need = calloc(n ? n : 1, sizeof(bool));
	if (!out->id || !out->vals || !c.raw || !c.need)
		goto oom;

	/* what to collect: wanted attributes, and every member of a wanted container */
	for (i = 0; i < n; i++)
		c.need[i] = wanted ? wanted[i] : true;
	for (i = 0; wanted && i < n; i++)
	{
		size_t		len = strlen(res->attrs[i].path);

		if (!wanted[i] || res->attrs[i].ti.type != S3F_T_NESTED)
			continue;
		for (j = 0; j < n; j++)
			if (strncmp(res->attrs[j].path, res->attrs[i].path, len) == 0 &&
				res->attrs[j].path[len] == '.')
				c.need[j] = true;
	}

	if (meta)
	{
		const char *pm = NULL,
				   *om = NULL;

		for (i = 0; i < meta->n; i++)
		{
			if (meta->keys[i] && strcmp(meta->keys[i], "_pluginmap") == 0)
				pm = meta->values[i];
			else if (meta->keys[i] && strcmp(meta->keys[i], "_map") == 0)
				om = meta->values[i];
		}
		if (pm)
			c.pluginmap = parse_meta_map(pm);
		if (om && res->behavior == S3F_B_BODY_ONLY)
			c.objmap = parse_meta_map(om);
	}
	if (!collect_meta(&c, meta, out))
		goto oom;
	if (out->content_type == NULL && content_type)
		out->content_type = strdup(content_type);
	if (out->has_content && out->content_length == 0)
		out->content_length = (int64_t) body_len;

	if (body && body_len > 0 && !out->has_content && s3f_behavior_uses_body(res->behavior))
	{
		const char *why = NULL;

		if (!collect_body(&c, body, body_len, &why) && !c.oom)
		{
			s3s_error_set(err, S3S_ERR_FORMAT, "decode", out->id,
						  "the JSON body of the record is malformed: %s", why);
			rc = S3S_ERR_FORMAT;
			goto done;
		}
	}
	if (c.oom)
		goto oom;

	/* decode the leaves, then build the containers from them */
	for (i = 0; i < n; i++)
	{
		if (!c.need[i] || res->attrs[i].ti.type == S3F_T_NESTED)
			continue;
		rc = decode_leaf(&c, i, out->id, passphrase, &out->vals[i], err);
		if (rc != S3S_OK)
			goto done;
	}
	for (i = 0; i < n; i++)
	{
		char	   *json = NULL;
		s3f_kind	k;

		if (!c.need[i] || (wanted && !wanted[i]) || res->attrs[i].ti.type != S3F_T_NESTED)
			continue;
		k = assemble(&c, out->vals, i, &json, 0);
		if (c.oom)
			goto oom;
		if (k == S3F_JSON)
		{
			out->vals[i].kind = S3F_JSON;
			out->vals[i].str = json;
			out->vals[i].len = strlen(json);
		}
		else
			out->vals[i].kind = k;
	}
	/* members decoded only for a container stay out of the result */
	for (i = 0; wanted && i < n; i++)
		if (!wanted[i])
		{
			s3f_val_free(&out->vals[i]);
			memset(&out->vals[i], 0, sizeof(s3f_val));
		}
	goto done;

oom:
	s3s_error_set(err, S3S_ERR_NOMEM, "decode", id, "out of memory");
	rc = S3S_ERR_NOMEM;
done:
	for (i = 0; c.raw && i < n; i++)
		free(c.raw[i].s);
	free(c.raw);
	free(c.need);
	json_object_put(c.pluginmap);
	json_object_put(c.objmap);
	if (rc != S3S_OK)
		s3f_record_free(out);
	return rc;
}

/* ---- HEAD first, GET when needed ---- */

static const char *
meta_get(const s3s_meta *m, const char *key)
{
	int			i;

	for (i = 0; m && key && i < m->n; i++)
		if (m->keys[i] && strcasecmp(m->keys[i], key) == 0)
			return m->values[i];
	return NULL;
}

/* the attribute's value is somewhere in the metadata */
static bool
in_meta(const s3f_resource *res, const s3s_meta *meta, json_object *pluginmap, int i)
{
	const s3f_attr *a = &res->attrs[i];
	json_object *k;

	if (a->key && meta_get(meta, a->key))
		return true;
	if (pluginmap && json_object_object_get_ex(pluginmap, a->path, &k) &&
		json_object_is_type(k, json_type_string) &&
		meta_get(meta, json_object_get_string(k)))
		return true;
	return false;
}

bool
s3f_record_needs_body(const s3f_resource *res, const s3s_meta *meta,
					  int64_t size, const char *content_type,
					  const bool *wanted)
{
	const char *hc,
			   *pm;
	json_object *pluginmap = NULL;
	bool		need = false;
	int			i,
				j;

	if (!s3f_behavior_uses_body(res->behavior) || size <= 0)
		return false;
	hc = meta_get(meta, "_hascontent");
	if (hc && strcmp(hc, "true") == 0)
		return false;			/* the body is binary content */
	if (res->behavior == S3F_B_BODY_ONLY)
		return true;
	{
		/* a body that is only our revision marker {"_rev":"..."} holds no field */
		const char *rev = meta_get(meta, "_rev");

		if (rev && size == (int64_t) (strlen(rev) + strlen("{\"_rev\":\"\"}")))
			return false;
	}
	if (content_type && content_type[0] &&
		strncasecmp(content_type, "application/json", 16) != 0)
		return false;
	pm = meta_get(meta, "_pluginmap");
	if (pm)
		pluginmap = parse_meta_map(pm);
	for (i = 0; i < res->nattrs && !need; i++)
	{
		const s3f_attr *a = &res->attrs[i];

		if (wanted && !wanted[i])
			continue;
		if (a->ti.type != S3F_T_NESTED)
		{
			need = !in_meta(res, meta, pluginmap, i);
			continue;
		}
		if (in_meta(res, meta, pluginmap, i))
			continue;			/* stored whole ("{}") under its own key */
		for (j = 0; j < res->nattrs && !need; j++)
		{
			size_t		len = strlen(a->path);

			if (res->attrs[j].ti.type != S3F_T_NESTED &&
				strncmp(res->attrs[j].path, a->path, len) == 0 &&
				res->attrs[j].path[len] == '.')
				need = !in_meta(res, meta, pluginmap, j);
		}
	}
	json_object_put(pluginmap);
	return need;
}
