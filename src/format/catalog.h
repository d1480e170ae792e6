/*-------------------------------------------------------------------------
 *
 * catalog.h
 *		The s3db.json catalog (spec section 3) and the attribute map
 *		(spec section 5).
 *
 * s3f_catalog_parse() turns the catalog text into plain C structs; nothing
 * of json-c leaks out of catalog.c.  For each resource it resolves the
 * current version's attributes into a flat list of paths with their types
 * and short metadata keys (from schemaRegistry, or computed as s3db.js
 * does when there is no registry), plus the partitions and behavior.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_CATALOG_H
#define S3DB_CATALOG_H

#include <stdbool.h>

#include "format/codec.h"
#include "store/s3err.h"

typedef enum s3f_behavior
{
	S3F_B_USER_MANAGED = 0,		/* the default */
	S3F_B_BODY_OVERFLOW,
	S3F_B_BODY_ONLY,
	S3F_B_TRUNCATE_DATA,
	S3F_B_ENFORCE_LIMITS
} s3f_behavior;

extern const char *s3f_behavior_name(s3f_behavior b);

/* One attribute path of the current version. */
typedef struct s3f_attr
{
	char	   *path;			/* dotted path: "profile.city" */
	char	   *def;			/* the definition: a string, or JSON text */
	bool		def_is_object;	/* object-form {type:..} or nested container */
	s3f_typeinfo ti;			/* ti.type == S3F_T_NESTED for containers */
	char	   *key;			/* short metadata key ("0", "a", "pnhj"), or NULL */
	bool		plugin;			/* plugin-owned attribute */
	int			depth;			/* number of dots in path */
} s3f_attr;

typedef struct s3f_partition
{
	char	   *name;
	int			nfields;
	char	  **fields;			/* sorted in ICU order (key order of references) */
	char	  **rules;			/* rule strings, parallel to fields */
} s3f_partition;

/* A registry entry whose index was burned (attribute removed). */
typedef struct s3f_burned
{
	char	   *attribute;
	char	   *key;			/* base36 of the index */
} s3f_burned;

typedef struct s3f_resource
{
	char	   *name;
	char	   *current_version;	/* "v1" */
	s3f_behavior behavior;
	bool		timestamps;
	bool		paranoid;
	int			id_size;		/* default 22 */
	char	   *id_generator;	/* "default", "custom", "incremental", ... */
	int			nattrs;
	s3f_attr   *attrs;			/* leaves first in definition order, then containers */
	int			nparts;
	s3f_partition *parts;
	int			nburned;
	s3f_burned *burned;
	int			next_index;		/* schemaRegistry.nextIndex */
	char	   *attributes_json;	/* current version's attributes, as JSON text */
	char	   *hash;			/* "sha256:..." of the current version */
	int			nversions;
	char	  **versions;		/* version names present ("v1", "v2") */
} s3f_resource;

typedef struct s3f_catalog
{
	char	   *version;		/* "1" */
	char	   *s3db_version;	/* "21.6.2" */
	int			nres;
	s3f_resource *res;			/* sorted by name */
} s3f_catalog;

/*
 * Parse s3db.json.  On failure returns NULL with err->code S3S_ERR_FORMAT and
 * a message naming what is wrong (and the resource, if any).  A resource whose
 * current version has no attributes is skipped, as s3db.js does.
 */
extern s3f_catalog *s3f_catalog_parse(const char *text, size_t len, s3s_error *err);
extern void s3f_catalog_free(s3f_catalog *c);

extern const s3f_resource *s3f_catalog_find(const s3f_catalog *c, const char *name);

/* Look up an attribute by path or by short key (NULL if none). */
extern const s3f_attr *s3f_resource_attr(const s3f_resource *r, const char *path);
extern const s3f_attr *s3f_resource_attr_by_key(const s3f_resource *r, const char *key);

/*
 * Compute the s3db.js attribute map for a definition object when there is
 * no schemaRegistry (spec 5.1).  attributes_json is the JSON text of the
 * attributes object; on success *paths receives n malloc'd paths in index
 * order.  Exposed for tests.
 */
extern s3s_code s3f_compute_map(const char *attributes_json, char ***paths, int *n,
								s3s_error *err);

/*
 * ICU root collation order of ASCII partition field names (Appendix D);
 * strcmp-like result.
 */
extern int	s3f_icu_compare(const char *a, const char *b);

/* stableJSON + SHA-256 catalog hash (spec 3.3), malloc'd "sha256:<hex>". */
extern char *s3f_definition_hash(const char *attributes_json, const char *behavior,
								 const char *partitions_json, bool timestamps);

#endif							/* S3DB_CATALOG_H */
