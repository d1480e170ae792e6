/*-------------------------------------------------------------------------
 *
 * repl_options.c
 *		The options of a replication target, a JSON object, read with
 *		json-c.
 *
 * Kept apart from the files that include utils/builtins.h, whose
 * json_object() SQL function clashes with json-c's type name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json-c/json.h>

#include "replicator.h"

/* Walk a dotted path in a target's options; a borrowed json-c object. */
static json_object *
option_obj(json_object *root, const char *path)
{
	char	   *p = pstrdup(path);
	char	   *save = NULL;
	json_object *cur = root;

	for (char *tok = strtok_r(p, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
	{
		json_object *next = NULL;

		if (!json_object_is_type(cur, json_type_object) ||
			!json_object_object_get_ex(cur, tok, &next))
			cur = NULL;
		else
			cur = next;
	}
	pfree(p);
	return cur;
}

char *
s3db_repl_option(const S3dbTarget *t, const char *path)
{
	json_object *root = json_tokener_parse(t->options ? t->options : "{}");
	json_object *o;
	char	   *r = NULL;

	if (root == NULL)
		return NULL;
	o = option_obj(root, path);
	if (o && !json_object_is_type(o, json_type_null))
		r = pstrdup(json_object_is_type(o, json_type_string) ?
					json_object_get_string(o) :
					json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return r;
}


/* Members of an object option as "name: value" strings (headers). */
List *
s3db_repl_option_members(const S3dbTarget *t, const char *path, bool *ok)
{
	json_object *root = json_tokener_parse(t->options ? t->options : "{}");
	json_object *o;
	List	   *r = NIL;

	*ok = true;
	if (root == NULL)
		return NIL;
	o = option_obj(root, path);
	if (o && json_object_is_type(o, json_type_object))
	{
		json_object_object_foreach(o, key, val)
		{
			const char *v = json_object_get_string(val);

			r = lappend(r, psprintf("%s: %s", key, v ? v : ""));
		}
	}
	else if (o && !json_object_is_type(o, json_type_null))
		*ok = false;
	json_object_put(root);
	return r;
}
