/*-------------------------------------------------------------------------
 *
 * attrmap.c
 *		Attribute definitions to attribute paths and to the s3db.js key map
 *		(spec 5.1), seen the way JavaScript sees the parsed catalog.
 *
 * Two walks over the same definition object:
 *
 *	- the *map* walk reproduces s3db.js: every leaf of a plain flatten
 *	  (which descends into object-form definitions too, so {v: {type:
 *	  "string"}} contributes v.type), then the object paths, de-duplicated.
 *	  Its order decides the short keys when there is no registry.
 *
 *	- the *attribute* walk yields what a record holds: string definitions
 *	  and object-form definitions are leaves, other plain objects are
 *	  nested containers.
 *
 * An object is an object-form definition when its "type" member (or its
 * "__plugin__" member) is truthy in the JavaScript sense; this is the test
 * s3db.js applies.  Consequently a nested container that declares a sub-
 * attribute literally named "type" (address: {type: "string", street:
 * "string"}) is, for s3db.js and for us, one object-form attribute
 * "address", stored under its own key.  The registry cannot tell the two
 * readings apart (both put address.type, address.street and address in
 * the mapping), so we follow the library.
 *
 * Object members are visited in JavaScript own-key order: keys that are
 * canonical array indices first, ascending, then the rest in the order of
 * the catalog text (json-c keeps insertion order).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/catalog_int.h"
#include "format/codec.h"

/* ---- JavaScript view ---- */

/* canonical array index: "0" or [1-9][0-9]* below 2^32 - 1 */
static bool
js_array_index(const char *k, unsigned long long *v)
{
	unsigned long long n = 0;
	const char *p;

	if (k[0] == '\0' || (k[0] == '0' && k[1] != '\0'))
		return false;
	for (p = k; *p; p++)
	{
		if (*p < '0' || *p > '9' || p - k >= 10)
			return false;
		n = n * 10 + (unsigned) (*p - '0');
	}
	if (n >= 4294967295ULL)
		return false;
	*v = n;
	return true;
}

typedef struct keyed_member
{
	s3f_member	m;
	unsigned long long idx;
	int			pos;
	bool		is_index;
} keyed_member;

static int
keyed_cmp(const void *x, const void *y)
{
	const keyed_member *a = x,
			   *b = y;

	if (a->is_index != b->is_index)
		return a->is_index ? -1 : 1;
	if (a->is_index && a->idx != b->idx)
		return a->idx < b->idx ? -1 : 1;
	return a->pos - b->pos;
}

int
s3f_js_members(json_object *obj, s3f_member **out)
{
	int			n = 0,
				i = 0;
	keyed_member *k;
	s3f_member *m;

	*out = NULL;
	if (!json_object_is_type(obj, json_type_object))
		return 0;
	n = json_object_object_length(obj);
	if (n == 0)
		return 0;
	k = calloc(n, sizeof(*k));
	m = calloc(n, sizeof(*m));
	if (k == NULL || m == NULL)
	{
		free(k);
		free(m);
		return -1;
	}
	json_object_object_foreach(obj, key, val)
	{
		if (i >= n)
			break;
		k[i].m.key = key;
		k[i].m.val = val;
		k[i].pos = i;
		k[i].is_index = js_array_index(key, &k[i].idx);
		i++;
	}
	n = i;
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (i = 0; i < n; i++)
		m[i] = k[i].m;
	free(k);
	*out = m;
	return n;
}

bool
s3f_js_truthy(json_object *o)
{
	switch (json_object_get_type(o))
	{
		case json_type_null:
			return false;
		case json_type_boolean:
			return json_object_get_boolean(o);
		case json_type_int:
			return json_object_get_int64(o) != 0;
		case json_type_double:
			{
				double		d = json_object_get_double(o);

				return d == d && d != 0;
			}
		case json_type_string:
			return json_object_get_string_len(o) > 0;
		default:
			return true;		/* objects and arrays */
	}
}

char *
s3f_json_text(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
												   JSON_C_TO_STRING_NOSLASHESCAPE);

	return strdup(s ? s : "null");
}

json_object *
s3f_json_parse(const char *text, size_t len, const char **why)
{
	json_tokener *tok;
	json_object *o;
	enum json_tokener_error e;
	size_t		end;
	bool		flushed = false;

	*why = "out of memory";
	if (len > (size_t) 0x7fffffff)
	{
		*why = "document too large";
		return NULL;
	}
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int) len);
	e = json_tokener_get_error(tok);
	if (o == NULL && e == json_tokener_continue &&
		json_tokener_get_parse_end(tok) == len)
	{
		/* a bare top-level number waits for a terminator */
		o = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		flushed = true;
	}
	if (o == NULL)
	{
		*why = (e == json_tokener_continue) ? "unexpected end of document"
			: json_tokener_error_desc(e);
		json_tokener_free(tok);
		return NULL;
	}
	end = flushed ? len : json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; end < len; end++)
	{
		char		c = text[end];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\0')
		{
			*why = "trailing characters after the document";
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

/* ---- the map walk ---- */

typedef struct pathlist
{
	s3f_mappath *p;
	int			n;
	int			cap;
	bool		oom;
} pathlist;

static char *
join_path(const char *prefix, const char *key)
{
	size_t		a = prefix ? strlen(prefix) : 0,
				b = strlen(key);
	char	   *s = malloc(a + b + 2);

	if (s == NULL)
		return NULL;
	if (a)
	{
		memcpy(s, prefix, a);
		s[a++] = '.';
	}
	memcpy(s + a, key, b + 1);
	return s;
}

/* append path (taking ownership) unless already present */
static void
pl_add(pathlist *pl, char *path)
{
	int			i;

	if (path == NULL)
	{
		pl->oom = true;
		return;
	}
	for (i = 0; i < pl->n; i++)
		if (strcmp(pl->p[i].path, path) == 0)
		{
			free(path);
			return;
		}
	if (pl->n == pl->cap)
	{
		int			cap = pl->cap ? pl->cap * 2 : 16;
		s3f_mappath *p = realloc(pl->p, cap * sizeof(*p));

		if (p == NULL)
		{
			free(path);
			pl->oom = true;
			return;
		}
		pl->p = p;
		pl->cap = cap;
	}
	pl->p[pl->n].path = path;
	pl->p[pl->n].plugin = NULL;
	pl->n++;
}

/* flatten(attrs, {safe: true}) leaves, dropping paths containing "$$" */
static void
walk_leaves(pathlist *pl, json_object *o, const char *prefix, int depth)
{
	s3f_member *m;
	int			n,
				i;

	if (!json_object_is_type(o, json_type_object) ||
		json_object_object_length(o) == 0 || depth > S3F_MAX_DEPTH)
	{
		if (strstr(prefix ? prefix : "", "$$") == NULL)
			pl_add(pl, strdup(prefix ? prefix : ""));
		return;
	}
	n = s3f_js_members(o, &m);
	if (n < 0)
	{
		pl->oom = true;
		return;
	}
	for (i = 0; i < n && !pl->oom; i++)
	{
		char	   *path = join_path(prefix, m[i].key);

		if (path == NULL)
		{
			pl->oom = true;
			break;
		}
		walk_leaves(pl, m[i].val, path, depth + 1);
		free(path);
	}
	free(m);
}

/* extractObjectKeys: object members, recursing only under $$type "object" */
static void
walk_objects(pathlist *pl, json_object *o, const char *prefix, int depth)
{
	s3f_member *m;
	int			n,
				i;

	n = s3f_js_members(o, &m);
	if (n < 0)
	{
		pl->oom = true;
		return;
	}
	for (i = 0; i < n && !pl->oom; i++)
	{
		json_object *v = m[i].val,
				   *t;
		char	   *path;

		if (strncmp(m[i].key, "$$", 2) == 0 || !json_object_is_type(v, json_type_object))
			continue;
		path = join_path(prefix, m[i].key);
		if (path == NULL)
		{
			pl->oom = true;
			break;
		}
		pl_add(pl, strdup(path));
		if (depth < S3F_MAX_DEPTH &&
			json_object_object_get_ex(v, "$$type", &t) &&
			json_object_is_type(t, json_type_string) &&
			strcmp(json_object_get_string(t), "object") == 0)
			walk_objects(pl, v, path, depth + 1);
		free(path);
	}
	free(m);
}

/* the definition at a dotted path (getAttributeDefinition) */
static json_object *
definition_at(json_object *attrs, const char *path)
{
	char	   *copy = strdup(path),
			   *part,
			   *save = NULL;
	json_object *d = attrs;

	if (copy == NULL)
		return NULL;
	for (part = strtok_r(copy, ".", &save); part && d; part = strtok_r(NULL, ".", &save))
	{
		if (!json_object_is_type(d, json_type_object) ||
			!json_object_object_get_ex(d, part, &d))
			d = NULL;
	}
	free(copy);
	return d;
}

void
s3f_map_paths_free(s3f_mappath *p, int n)
{
	int			i;

	for (i = 0; i < n && p; i++)
	{
		free(p[i].path);
		free(p[i].plugin);
	}
	free(p);
}

s3s_code
s3f_map_paths(json_object *attrs, s3f_mappath **out, int *n, s3s_error *err)
{
	pathlist	pl = {0};
	int			i;

	*out = NULL;
	*n = 0;
	walk_leaves(&pl, attrs, NULL, 0);
	if (!pl.oom)
		walk_objects(&pl, attrs, NULL, 0);
	for (i = 0; i < pl.n && !pl.oom; i++)
	{
		json_object *d = definition_at(attrs, pl.p[i].path),
				   *plug;

		if (d && json_object_is_type(d, json_type_object) &&
			json_object_object_get_ex(d, "__plugin__", &plug) && s3f_js_truthy(plug))
		{
			pl.p[i].plugin = json_object_is_type(plug, json_type_string)
				? strdup(json_object_get_string(plug)) : s3f_json_text(plug);
			if (pl.p[i].plugin == NULL)
				pl.oom = true;
		}
	}
	if (pl.oom)
	{
		s3f_map_paths_free(pl.p, pl.n);
		s3s_error_set(err, S3S_ERR_NOMEM, "parse", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	*out = pl.p;
	*n = pl.n;
	return S3S_OK;
}

s3s_code
s3f_compute_map(const char *attributes_json, char ***paths, int *n, s3s_error *err)
{
	json_object *attrs;
	const char *why;
	s3f_mappath *mp;
	int			nmp,
				i,
				k = 0;
	s3s_code	rc;
	char	  **res;

	*paths = NULL;
	*n = 0;
	attrs = s3f_json_parse(attributes_json, strlen(attributes_json), &why);
	if (attrs == NULL || !json_object_is_type(attrs, json_type_object))
	{
		json_object_put(attrs);
		s3s_error_set(err, S3S_ERR_FORMAT, "parse", NULL,
					  "attributes are not a json object%s%s", attrs ? "" : ": ",
					  attrs ? "" : why);
		return S3S_ERR_FORMAT;
	}
	rc = s3f_map_paths(attrs, &mp, &nmp, err);
	json_object_put(attrs);
	if (rc != S3S_OK)
		return rc;
	res = calloc(nmp ? nmp : 1, sizeof(char *));
	if (res == NULL)
	{
		s3f_map_paths_free(mp, nmp);
		s3s_error_set(err, S3S_ERR_NOMEM, "parse", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	for (i = 0; i < nmp; i++)
	{
		if (mp[i].plugin)
			continue;			/* plugin attributes take p-keys (spec 5.3) */
		res[k++] = mp[i].path;
		mp[i].path = NULL;
	}
	s3f_map_paths_free(mp, nmp);
	*paths = res;
	*n = k;
	return S3S_OK;
}

/* ---- the attribute walk ---- */

typedef struct attrlist
{
	s3f_attr   *a;
	int			n;
	int			cap;
	bool		oom;
} attrlist;

static s3f_attr *
al_new(attrlist *al)
{
	if (al->n == al->cap)
	{
		int			cap = al->cap ? al->cap * 2 : 16;
		s3f_attr   *a = realloc(al->a, cap * sizeof(*a));

		if (a == NULL)
		{
			al->oom = true;
			return NULL;
		}
		al->a = a;
		al->cap = cap;
	}
	memset(&al->a[al->n], 0, sizeof(s3f_attr));
	return &al->a[al->n++];
}

static int
count_dots(const char *s)
{
	int			d = 0;

	for (; *s; s++)
		d += (*s == '.');
	return d;
}

static bool
is_object_form(json_object *v)
{
	json_object *t;

	return (json_object_object_get_ex(v, "type", &t) && s3f_js_truthy(t)) ||
		(json_object_object_get_ex(v, "__plugin__", &t) && s3f_js_truthy(t));
}

static void
walk_attrs(attrlist *leaves, attrlist *conts, json_object *o, const char *prefix,
		   int depth)
{
	s3f_member *m;
	int			n,
				i;

	n = s3f_js_members(o, &m);
	if (n < 0)
	{
		leaves->oom = true;
		return;
	}
	for (i = 0; i < n && !leaves->oom && !conts->oom; i++)
	{
		json_object *v = m[i].val;
		char	   *path;
		s3f_attr   *a;
		bool		container;

		if (strstr(m[i].key, "$$") != NULL)
			continue;			/* $$type markers and the like */
		path = join_path(prefix, m[i].key);
		if (path == NULL)
		{
			leaves->oom = true;
			break;
		}
		container = json_object_is_type(v, json_type_object) && !is_object_form(v);
		a = container ? al_new(conts) : al_new(leaves);
		if (a == NULL)
		{
			free(path);
			break;
		}
		a->path = path;
		a->depth = count_dots(path);
		if (json_object_is_type(v, json_type_string))
		{
			a->def = strdup(json_object_get_string(v));
			if (a->def)
				s3f_type_classify(a->def, &a->ti);
		}
		else
		{
			a->def = s3f_json_text(v);
			a->def_is_object = json_object_is_type(v, json_type_object);
			if (a->def != NULL && container)
			{
				memset(&a->ti, 0, sizeof(a->ti));
				a->ti.type = S3F_T_NESTED;
			}
			else if (a->def != NULL && a->def_is_object)
			{
				json_object *plug;

				s3f_type_classify_object(a->def, &a->ti);
				a->plugin = json_object_object_get_ex(v, "__plugin__", &plug) &&
					s3f_js_truthy(plug);
			}
			else if (a->def != NULL)
				s3f_type_classify(a->def, &a->ti);
		}
		if (a->def == NULL)
		{
			leaves->oom = true;
			break;
		}
		if (container && depth < S3F_MAX_DEPTH)
			walk_attrs(leaves, conts, v, path, depth + 1);
	}
	free(m);
}

void
s3f_attrs_free(s3f_attr *a, int n)
{
	int			i;

	for (i = 0; i < n && a; i++)
	{
		free(a[i].path);
		free(a[i].def);
		free(a[i].key);
	}
	free(a);
}

s3s_code
s3f_attrs_build(json_object *attrs, s3f_attr **out, int *n, s3s_error *err)
{
	attrlist	leaves = {0},
				conts = {0};

	*out = NULL;
	*n = 0;
	walk_attrs(&leaves, &conts, attrs, NULL, 0);
	if (!leaves.oom && !conts.oom && conts.n > 0)
	{
		s3f_attr   *a = realloc(leaves.a, (leaves.n + conts.n) * sizeof(*a));

		if (a == NULL)
			leaves.oom = true;
		else
		{
			memcpy(a + leaves.n, conts.a, conts.n * sizeof(*a));
			leaves.a = a;
			leaves.n += conts.n;
			free(conts.a);
			conts.a = NULL;
			conts.n = 0;
		}
	}
	if (leaves.oom || conts.oom)
	{
		s3f_attrs_free(leaves.a, leaves.n);
		s3f_attrs_free(conts.a, conts.n);
		s3s_error_set(err, S3S_ERR_NOMEM, "parse", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	*out = leaves.a;
	*n = leaves.n;
	return S3S_OK;
}
