/*-------------------------------------------------------------------------
 *
 * fuzz_catalog.c
 *		libFuzzer target: the s3db.json catalog parser (catalog.c,
 *		attrmap.c, registry.c, collate.c, hash.c, codec_type.c).
 *
 * The input is the catalog text.  When it parses, every resource and
 * attribute is walked: lookups by path and by short key must find an
 * attribute with that path or key, and the definition hash and attribute
 * map are recomputed from the resource's attributes JSON.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"

#include "format/catalog.h"

static void
walk_resource(const s3f_catalog *cat, const s3f_resource *r)
{
	int			i,
				j;
	char	   *hash;
	char	  **paths = NULL;
	int			npaths = 0;
	s3s_error	err;

	FUZZ_ASSERT(r->name != NULL);
	FUZZ_ASSERT(s3f_catalog_find(cat, r->name) != NULL);
	(void) s3f_behavior_name(r->behavior);

	for (i = 0; i < r->nattrs; i++)
	{
		const s3f_attr *a = &r->attrs[i];
		const s3f_attr *f;
		s3f_typeinfo ti;

		FUZZ_ASSERT(a->path != NULL);
		f = s3f_resource_attr(r, a->path);
		FUZZ_ASSERT(f != NULL && strcmp(f->path, a->path) == 0);
		if (a->key)
		{
			f = s3f_resource_attr_by_key(r, a->key);
			FUZZ_ASSERT(f != NULL && f->key != NULL && strcmp(f->key, a->key) == 0);
		}
		(void) s3f_type_name(a->ti.type);
		if (a->def)
		{
			if (a->def_is_object)
				s3f_type_classify_object(a->def, &ti);
			else
				s3f_type_classify(a->def, &ti);
		}
	}
	for (i = 0; i < r->nparts; i++)
		for (j = 0; j < r->parts[i].nfields; j++)
		{
			FUZZ_ASSERT(r->parts[i].fields[j] != NULL);
			if (j > 0)
				(void) s3f_icu_compare(r->parts[i].fields[j - 1], r->parts[i].fields[j]);
		}
	(void) s3f_resource_attr(r, "");
	(void) s3f_resource_attr_by_key(r, "");

	if (r->attributes_json)
	{
		hash = s3f_definition_hash(r->attributes_json, s3f_behavior_name(r->behavior),
								   NULL, r->timestamps);
		free(hash);
		hash = s3f_definition_hash(r->attributes_json, NULL, "{\"p\":{\"fields\":{\"a\":\"string\"}}}",
								   !r->timestamps);
		free(hash);
		s3s_error_clear(&err);
		if (s3f_compute_map(r->attributes_json, &paths, &npaths, &err) == S3S_OK)
		{
			for (i = 0; i < npaths; i++)
				free(paths[i]);
			free(paths);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_strndup(data, size);
	s3f_catalog *cat;
	s3s_error	err;
	int			i;

	s3s_error_clear(&err);
	cat = s3f_catalog_parse(text, size, &err);
	if (cat != NULL)
	{
		for (i = 0; i < cat->nres; i++)
			walk_resource(cat, &cat->res[i]);
		(void) s3f_catalog_find(cat, "");
		s3f_catalog_free(cat);
	}
	else
		FUZZ_ASSERT(err.code != S3S_OK && err.message[0] != '\0');
	free(text);
	return 0;
}
