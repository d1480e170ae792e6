/*-------------------------------------------------------------------------
 *
 * registry.c
 *		Short metadata keys of a resource's attributes (spec 5): the
 *		schemaRegistry, the legacy per-version map and plugin keys.
 *
 * The registry is authoritative: a path it maps keeps its index forever.
 * A path it lacks gets the next free index in the order of spec 5.1, as
 * s3db.js assigns (and persists) it on connect, never an index that is in
 * use or burned.  Plugin attributes take the string key stored in
 * pluginSchemaRegistry, else 'p' + three base62 digits of the SHA-256 of
 * "plugin:attribute", with a counter appended on collision (spec 5.3).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "format/catalog_int.h"

#define FAIL(...) do { s3s_error_set(err, S3S_ERR_FORMAT, "parse", "s3db.json", __VA_ARGS__); goto fail; } while (0)
#define OOM() do { s3s_error_set(err, S3S_ERR_NOMEM, "parse", "s3db.json", "out of memory"); goto fail; } while (0)

static void
plugin_hash_key(const char *plugin, const char *attr, char out[8])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t		lp = strlen(plugin),
				la = strlen(attr);
	char	   *in = malloc(lp + la + 2);
	char		b62[16],
				pad[40];
	size_t		n;
	int			i;

	memset(md, 0, sizeof(md));
	if (in)
	{
		memcpy(in, plugin, lp);
		in[lp] = ':';
		memcpy(in + lp + 1, attr, la + 1);
		EVP_Digest(in, lp + la + 1, md, &mdlen, EVP_sha256(), NULL);
		free(in);
	}
	s3f_int_base62(((unsigned long) md[0] << 24) | ((unsigned long) md[1] << 16) |
				   ((unsigned long) md[2] << 8) | md[3], b62);
	n = strlen(b62);
	snprintf(pad, sizeof(pad), "%s%s", n >= 3 ? "" : (n == 2 ? "0" : "00"), b62);
	out[0] = 'p';
	for (i = 0; i < 3; i++)
	{
		char		c = pad[i];

		out[1 + i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
	}
	out[4] = '\0';
}

/* ---- keys ---- */

typedef struct keyset
{
	char	  **k;
	int			n;
	int			cap;
} keyset;

static bool
keyset_has(const keyset *s, const char *k)
{
	int			i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->k[i], k) == 0)
			return true;
	return false;
}

static bool
keyset_add(keyset *s, const char *k)
{
	if (s->n == s->cap)
	{
		int			cap = s->cap ? s->cap * 2 : 16;
		char	  **p = realloc(s->k, cap * sizeof(char *));

		if (p == NULL)
			return false;
		s->k = p;
		s->cap = cap;
	}
	if ((s->k[s->n] = strdup(k)) == NULL)
		return false;
	s->n++;
	return true;
}

static void
keyset_free(keyset *s)
{
	int			i;

	for (i = 0; i < s->n; i++)
		free(s->k[i]);
	free(s->k);
}


/*
 * Assign a short key to every map path (keys[i] parallel to mp) and fill
 * the resource's registry view (burned, next_index).
 */
bool
s3f_assign_keys(s3f_resource *r, json_object *res, json_object *ver,
			s3f_mappath *mp, int nmp, char **keys, s3s_error *err)
{
	json_object *reg = s3f_jmember(res, "schemaRegistry"),
			   *mapping = s3f_jmember(reg, "mapping"),
			   *burned = s3f_jmember(reg, "burned"),
			   *legacy = s3f_jmember(ver, "map"),
			   *preg = s3f_jmember(res, "pluginSchemaRegistry"),
			   *v;
	long		next = 0,
				maxidx = -1,
				idx;
	keyset		used = {0};
	int			i;
	char		buf[16];

	if (!s3f_is_object(mapping))
		mapping = NULL;
	if (!s3f_is_object(legacy))
		legacy = NULL;
	if (!s3f_is_object(preg))
		preg = NULL;

	if (mapping)
	{
		json_object_object_foreach(mapping, attr, iv)
		{
			if (!s3f_json_index(iv, &idx))
				FAIL("resource \"%s\": schemaRegistry index of \"%.100s\" is not a non-negative integer",
					 r->name, attr);
			if (idx > maxidx)
				maxidx = idx;
		}
	}
	if (json_object_is_type(burned, json_type_array))
	{
		size_t		nb = json_object_array_length(burned),
					j;

		r->burned = calloc(nb ? nb : 1, sizeof(s3f_burned));
		if (r->burned == NULL)
			OOM();
		for (j = 0; j < nb; j++)
		{
			json_object *e = json_object_array_get_idx(burned, j);
			json_object *ai = s3f_jmember(e, "attribute");

			if (!s3f_json_index(s3f_jmember(e, "index"), &idx))
				continue;
			if (idx > maxidx)
				maxidx = idx;
			s3f_int_base36((unsigned long long) idx, buf);
			r->burned[r->nburned].key = strdup(buf);
			r->burned[r->nburned].attribute =
				json_object_is_type(ai, json_type_string) ? strdup(json_object_get_string(ai)) : strdup("");
			r->nburned++;
			if (!r->burned[r->nburned - 1].key || !r->burned[r->nburned - 1].attribute)
				OOM();
		}
	}
	if (s3f_json_index(s3f_jmember(reg, "nextIndex"), &idx))
		next = idx;
	if (next <= maxidx)
		next = maxidx + 1;

	/* plugin keys already taken, across plugins, burned ones included */
	if (preg)
	{
		json_object_object_foreach(preg, pname, pr)
		{
			json_object *pm = s3f_jmember(pr, "mapping"),
					   *pb = s3f_jmember(pr, "burned");

			(void) pname;
			if (s3f_is_object(pm))
			{
				json_object_object_foreach(pm, a, k)
				{
					(void) a;
					if (json_object_is_type(k, json_type_string) &&
						!keyset_add(&used, json_object_get_string(k)))
						OOM();
				}
			}
			if (json_object_is_type(pb, json_type_array))
			{
				size_t		j;

				for (j = 0; j < json_object_array_length(pb); j++)
				{
					json_object *k = s3f_jmember(json_object_array_get_idx(pb, j), "key");

					if (json_object_is_type(k, json_type_string) &&
						!keyset_add(&used, json_object_get_string(k)))
						OOM();
				}
			}
		}
	}

	for (i = 0; i < nmp; i++)
	{
		const char *path = mp[i].path;

		if (mp[i].plugin)
		{
			json_object *pk = s3f_jmember(s3f_jmember(s3f_jmember(preg, mp[i].plugin), "mapping"), path);
			char		base[8],
						cand[32];
			int			counter = 1;

			if (json_object_is_type(pk, json_type_string) && json_object_get_string_len(pk) > 0)
			{
				keys[i] = strdup(json_object_get_string(pk));
				if (keys[i] == NULL)
					OOM();
				continue;
			}
			plugin_hash_key(mp[i].plugin, path, base);
			snprintf(cand, sizeof(cand), "%s", base);
			while (keyset_has(&used, cand))
				snprintf(cand, sizeof(cand), "%s%d", base, counter++);
			if (!keyset_add(&used, cand) || (keys[i] = strdup(cand)) == NULL)
				OOM();
			continue;
		}
		if (legacy && (v = s3f_jmember(legacy, path)) != NULL)
		{
			const char *s = json_object_get_string(v);
			size_t		j;

			if (!json_object_is_type(v, json_type_string) || s[0] == '\0')
				FAIL("resource \"%s\": schema map contains non-base36 keys", r->name);
			for (j = 0; s[j]; j++)
				if (!((s[j] >= '0' && s[j] <= '9') || (s[j] >= 'a' && s[j] <= 'z')))
					FAIL("resource \"%s\": schema map contains non-base36 keys", r->name);
			keys[i] = strdup(s);
		}
		else if (mapping && (v = s3f_jmember(mapping, path)) != NULL && s3f_json_index(v, &idx))
		{
			s3f_int_base36((unsigned long long) idx, buf);
			keys[i] = strdup(buf);
		}
		else
		{
			if (next > S3F_MAX_INDEX)
				FAIL("resource \"%s\": schemaRegistry is full", r->name);
			s3f_int_base36((unsigned long long) next++, buf);
			keys[i] = strdup(buf);
		}
		if (keys[i] == NULL)
			OOM();
	}
	r->next_index = (int) next;
	keyset_free(&used);
	return true;

fail:
	keyset_free(&used);
	return false;
}
