/*-------------------------------------------------------------------------
 *
 * catalog_int.h
 *		Internals shared by catalog.c, attrmap.c, hash.c and record.c.
 *		Not for users of the format layer.
 *
 * json-c objects never leave these files: the public catalog and record
 * APIs speak plain C structs.  What is shared here is the JavaScript view
 * of a parsed JSON object (own-key order, truthiness), the attribute walk
 * of spec 5.1 and a small growable string buffer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_CATALOG_INT_H
#define S3DB_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "format/catalog.h"

/* Deepest attribute nesting we follow (json-c itself stops at 32). */
#define S3F_MAX_DEPTH 64

/* ---- growable string (hash.c) ---- */
typedef struct s3f_sb
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;			/* an allocation failed; data is unusable */
} s3f_sb;

extern void s3f_sb_put(s3f_sb *sb, const char *s, size_t n);
extern void s3f_sb_puts(s3f_sb *sb, const char *s);
extern void s3f_sb_putc(s3f_sb *sb, char c);
/* Append s as a JSON string literal, escaped like JS JSON.stringify. */
extern void s3f_sb_json_string(s3f_sb *sb, const char *s, size_t n);
/* Take the buffer (NUL-terminated, malloc'd), or NULL after OOM. */
extern char *s3f_sb_finish(s3f_sb *sb);

/* ---- JavaScript view of json-c objects (attrmap.c) ---- */

/* A member of an object, in JS own-key order. */
typedef struct s3f_member
{
	const char *key;
	json_object *val;
} s3f_member;

/*
 * Members of obj in JS own-key order: canonical array-index keys ("0",
 * "17", never "01") first in ascending numeric order, then the others in
 * insertion order (json-c keeps the order of the text).  Returns the count
 * and a malloc'd array in *out (NULL when empty), or -1 on OOM.
 */
extern int	s3f_js_members(json_object *obj, s3f_member **out);

/* JS truthiness of a member value (missing -> false). */
extern bool s3f_js_truthy(json_object *o);

/* JSON text of o (malloc'd, compact, '/' not escaped). */
extern char *s3f_json_text(json_object *o);

/*
 * Parse JSON text completely (trailing garbage is an error).  Returns NULL
 * and a short reason in *why on failure.
 */
extern json_object *s3f_json_parse(const char *text, size_t len, const char **why);

/* One path of the s3db.js key map (spec 5.1), in index order. */
typedef struct s3f_mappath
{
	char	   *path;
	char	   *plugin;			/* plugin name for plugin attributes, else NULL */
} s3f_mappath;

/*
 * The ordered, de-duplicated list of map paths of an attributes object:
 * leaf paths, then object paths, plugin attributes included and flagged.
 */
extern s3s_code s3f_map_paths(json_object *attrs, s3f_mappath **out, int *n,
							  s3s_error *err);
extern void s3f_map_paths_free(s3f_mappath *p, int n);

/*
 * The attribute list of a resource (leaves in definition order, then the
 * containers), without keys.
 */
extern s3s_code s3f_attrs_build(json_object *attrs, s3f_attr **out, int *n,
								s3s_error *err);
extern void s3f_attrs_free(s3f_attr *a, int n);

/* The stable JSON text of o (spec 3.3), appended to sb. */
extern void s3f_stable_json(s3f_sb *sb, json_object *o);

/* base36/base62 of a non-negative integer into buf (at least 16 bytes). */
extern void s3f_int_base36(unsigned long long v, char *buf);
extern void s3f_int_base62(unsigned long long v, char *buf);

/* ---- JSON member access shared by catalog.c and registry.c ---- */

#define S3F_MAX_INDEX 0x7fffffff

/* obj[key] when obj is an object and has it, else NULL */
static inline json_object *
s3f_jmember(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v))
		return v;
	return NULL;
}

static inline bool
s3f_is_object(json_object *o)
{
	return json_object_is_type(o, json_type_object);
}

/* an integral JSON number in [0, S3F_MAX_INDEX] */
static inline bool
s3f_json_index(json_object *o, long *out)
{
	if (json_object_is_type(o, json_type_int))
	{
		int64_t		v = json_object_get_int64(o);

		if (v < 0 || v > S3F_MAX_INDEX)
			return false;
		*out = (long) v;
		return true;
	}
	if (json_object_is_type(o, json_type_double))
	{
		double		d = json_object_get_double(o);

		if (!(d >= 0 && d <= S3F_MAX_INDEX) || d != (double) (long) d)
			return false;
		*out = (long) d;
		return true;
	}
	return false;
}

/*
 * Assign a short key to every map path (keys[i] parallel to mp) from the
 * resource's registries; fills r->burned, r->nburned and r->next_index.
 */
extern bool s3f_assign_keys(s3f_resource *r, json_object *res, json_object *ver,
							s3f_mappath *mp, int nmp, char **keys, s3s_error *err);

#endif							/* S3DB_CATALOG_INT_H */
