/*-------------------------------------------------------------------------
 *
 * encode.c
 *		Records to objects: type encoding, key mapping and the placement of
 *		fields in metadata or in the JSON body per behavior (spec 6, 7, 11).
 *
 * Every present field becomes an entry: its short key, its "step 4" stored
 * string (s3f_encode) and the client-encoded metadata form of that string
 * (s3f_meta_encode).  Placement then decides per behavior which entries go
 * to the metadata and which to the body.
 *
 * Our size accounting differs from s3db.js on purpose (spec 14, writing
 * note 3): we count the bytes actually sent, the sanitized key plus the
 * client-encoded value of every metadata entry (_v and the flags
 * included), against the limit, so S3's 2 KB user-metadata limit is never
 * exceeded even for non-ASCII text.  s3db.js reads fields from metadata or
 * from a JSON body regardless of where its own accounting would have put
 * them, so the result reads back exactly.
 *
 * Stored strings that cannot live in metadata (the texts "null" and
 * "undefined", which s3db.js would read back as null/undefined) go to the
 * body in body-overflow style, _overflow=true, which s3db.js reads for
 * user-managed resources too.  truncate-data and enforce-limits resources
 * never read a body, so such values are refused there.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/catalog_int.h"
#include "format/codec_int.h"
#include "format/encode_int.h"
#include "format/metaenc.h"

#define DEFAULT_LIMIT 2047
#define OVERFLOW_BYTES 13		/* "_overflow" + "true" */
#define TRUNCATED_BYTES 14		/* "_truncated" + "true" */

typedef enum place
{
	P_META = 0,
	P_BODY,
	P_DROP
} place;

typedef struct entry
{
	char	   *bkey;			/* body member name: the short key (or path) */
	char	   *mkey;			/* sanitized metadata key */
	char	   *stored;			/* step-4 string; NULL for null */
	size_t		stored_len;
	char	   *meta;			/* client-encoded value; NULL = refused */
	size_t		size;			/* bytes of mkey + meta */
	int			attr;
	bool		cuttable;		/* stored string is the text itself */
	int			rank_int;		/* JS property order: integer-like keys first */
	unsigned long long rank_num;
	int			order;			/* insertion order */
	place		where;
} entry;

typedef struct plan
{
	entry	   *e;
	int			n;
} plan;

static void
plan_free(plan *p)
{
	int			i;

	for (i = 0; i < p->n; i++)
	{
		free(p->e[i].bkey);
		free(p->e[i].mkey);
		free(p->e[i].stored);
		free(p->e[i].meta);
	}
	free(p->e);
	p->e = NULL;
	p->n = 0;
}

void
s3f_object_out_free(s3f_object_out *o)
{
	if (o == NULL)
		return;
	s3s_meta_free(&o->meta);
	free(o->body);
	free(o->content_type);
	memset(o, 0, sizeof(*o));
}

static s3s_code
nomem(s3s_error *err)
{
	s3s_error_set(err, S3S_ERR_NOMEM, "encode", NULL, "out of memory");
	return S3S_ERR_NOMEM;
}

static s3s_code constraint(s3s_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* a record that breaks a limit: S3S_ERR_CONSTRAINT, s3_code "check" */
static s3s_code
constraint(s3s_error *err, const char *fmt,...)
{
	va_list		ap;

	s3s_error_set(err, S3S_ERR_CONSTRAINT, "encode", NULL, "%s", "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	snprintf(err->s3_code, sizeof(err->s3_code), "check");
	return S3S_ERR_CONSTRAINT;
}

/* canonical array index ("0", "17", not "017"): JS orders these first */
static bool
array_index(const char *k, unsigned long long *v)
{
	unsigned long long n = 0;
	const char *p = k;

	if (*p == '\0' || (*p == '0' && p[1] != '\0'))
		return false;
	for (; *p; p++)
	{
		if (*p < '0' || *p > '9' || n > 429496729ULL)
			return false;
		n = n * 10 + (unsigned long long) (*p - '0');
	}
	if (n >= 4294967295ULL)
		return false;
	*v = n;
	return true;
}

static int
js_order_cmp(const entry *a, const entry *b)
{
	if (a->rank_int != b->rank_int)
		return a->rank_int - b->rank_int;
	if (a->rank_int == 0 && a->rank_num != b->rank_num)
		return a->rank_num < b->rank_num ? -1 : 1;
	return a->order - b->order;
}

static int
size_cmp(const void *x, const void *y)
{
	const entry *a = *(entry *const *) x,
			   *b = *(entry *const *) y;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return js_order_cmp(a, b);
}

static int
js_cmp(const void *x, const void *y)
{
	return js_order_cmp(*(entry *const *) x, *(entry *const *) y);
}

static bool
cuttable_type(const s3f_typeinfo *t)
{
	return t->type == S3F_T_STRING || t->type == S3F_T_ANY ||
		(t->type == S3F_T_FORM_SCALAR && t->form_scalar_kind == S3F_T_STRING);
}

static s3s_code
add_entry(plan *p, const char *key, int attr, char *stored, size_t stored_len,
		  bool cuttable, s3s_error *err)
{
	entry	   *e;
	entry	   *ne = realloc(p->e, (p->n + 1) * sizeof(entry));

	if (ne == NULL)
	{
		free(stored);
		return nomem(err);
	}
	p->e = ne;
	e = &p->e[p->n];
	memset(e, 0, sizeof(*e));
	e->attr = attr;
	e->stored = stored;
	e->stored_len = stored_len;
	e->cuttable = cuttable;
	e->order = p->n;
	e->bkey = strdup(key);
	e->mkey = s3f_meta_key(key);
	e->meta = stored ? s3f_meta_encode(stored, stored_len) : strdup("null");
	p->n++;
	if (e->bkey == NULL || e->mkey == NULL)
		return nomem(err);
	e->rank_int = array_index(e->bkey, &e->rank_num) ? 0 : 1;
	e->size = strlen(e->mkey) + (e->meta ? strlen(e->meta) : 0);
	return S3S_OK;
}

/* type-encode every present value of a normalised record */
static s3s_code
build_plan(const s3f_resource *res, const s3f_val *vals, const char *passphrase,
		   plan *p, s3s_error *err)
{
	int			i;

	for (i = 0; i < res->nattrs; i++)
	{
		const s3f_attr *a = &res->attrs[i];
		const s3f_val *v = &vals[i];
		const char *key = a->key ? a->key : a->path;
		char	   *stored = NULL;
		s3s_code	rc;
		s3s_error	e;

		if (v->kind == S3F_MISSING)
			continue;
		if (v->kind == S3F_NULL)
			rc = add_entry(p, key, i, NULL, 0, false, err);
		else if (a->ti.type == S3F_T_NESTED)
		{
			if (v->kind != S3F_JSON || v->str == NULL)
				continue;
			stored = strdup("{}");
			if (stored == NULL)
				return nomem(err);
			rc = add_entry(p, key, i, stored, 2, false, err);
		}
		else
		{
			s3s_error_clear(&e);
			rc = s3f_encode(&a->ti, v, passphrase, &stored, &e);
			if (rc != S3S_OK)
			{
				s3s_error_set(err, rc, "encode", NULL, "field \"%.100s\": %s", a->path,
							  e.message);
				return rc;
			}
			rc = add_entry(p, key, i, stored, strlen(stored),
						   cuttable_type(&a->ti), err);
		}
		if (rc != S3S_OK)
			return rc;
	}
	return S3S_OK;
}

/* JSON text of a map {path: key} of the plugin (or the user) attributes */
static char *
map_json(const s3f_resource *res, bool plugins)
{
	s3f_buf		b = {0};
	int			i,
				n = 0;
	int		   *idx = calloc(res->nattrs ? res->nattrs : 1, sizeof(int));

	if (idx == NULL)
		return NULL;
	for (i = 0; i < res->nattrs; i++)
		if (res->attrs[i].key && res->attrs[i].plugin == plugins)
			idx[n++] = i;
	if (!plugins)
	{
		/* index order of the registry */
		int			j,
					k;

		for (j = 1; j < n; j++)
			for (k = j; k > 0; k--)
			{
				const char *ka = res->attrs[idx[k - 1]].key,
						   *kb = res->attrs[idx[k]].key;
				int			t;

				if (strlen(ka) < strlen(kb) || (strlen(ka) == strlen(kb) && strcmp(ka, kb) <= 0))
					break;
				t = idx[k];
				idx[k] = idx[k - 1];
				idx[k - 1] = t;
			}
	}
	s3f_buf_putc(&b, '{');
	for (i = 0; i < n; i++)
	{
		const s3f_attr *a = &res->attrs[idx[i]];

		if (i)
			s3f_buf_putc(&b, ',');
		s3f_json_quote(&b, a->path, strlen(a->path));
		s3f_buf_putc(&b, ':');
		s3f_json_quote(&b, a->key, strlen(a->key));
	}
	s3f_buf_putc(&b, '}');
	free(idx);
	if (n == 0 && plugins)
	{
		free(s3f_buf_finish(&b, NULL));
		return strdup("");
	}
	return s3f_buf_finish(&b, NULL);
}

static bool
meta_add_encoded(s3s_meta *m, const char *key, const char *text)
{
	char	   *enc = s3f_meta_encode(text, strlen(text));
	bool		ok = enc != NULL && s3s_meta_add(m, key, enc) == 0;

	free(enc);
	return ok;
}

/* the JSON body of the entries placed there, plus _v if asked */
static char *
body_json(plan *p, const char *version, size_t *len)
{
	entry	  **order = calloc(p->n ? p->n : 1, sizeof(entry *));
	s3f_buf		b = {0};
	int			i,
				n = 0;

	if (order == NULL)
		return NULL;
	for (i = 0; i < p->n; i++)
		if (p->e[i].where == P_BODY)
			order[n++] = &p->e[i];
	qsort(order, n, sizeof(entry *), js_cmp);
	s3f_buf_putc(&b, '{');
	for (i = 0; i < n; i++)
	{
		if (i)
			s3f_buf_putc(&b, ',');
		s3f_json_quote(&b, order[i]->bkey, strlen(order[i]->bkey));
		s3f_buf_putc(&b, ':');
		if (order[i]->stored)
			s3f_json_quote(&b, order[i]->stored, order[i]->stored_len);
		else
			s3f_buf_puts(&b, "null");
	}
	if (version)
	{
		if (n)
			s3f_buf_putc(&b, ',');
		s3f_buf_puts(&b, "\"_v\":");
		s3f_json_quote(&b, version, strlen(version));
	}
	s3f_buf_putc(&b, '}');
	free(order);
	return s3f_buf_finish(&b, len);
}

/* the longest prefix of e's text whose metadata form fits in avail bytes */
static bool
cut_entry(entry *e, size_t avail)
{
	size_t		lo = 0,
				hi = e->stored_len,
				best = 0;
	char	   *meta = NULL;

	while (lo <= hi)
	{
		size_t		mid = lo + (hi - lo) / 2,
					m = mid;
		char	   *enc;

		while (m > 0 && ((unsigned char) e->stored[m] & 0xC0) == 0x80)
			m--;
		enc = s3f_meta_encode(e->stored, m);
		if (enc && strlen(enc) <= avail)
		{
			best = m > best ? m : best;
			lo = mid + 1;
		}
		else
		{
			if (mid == 0)
			{
				free(enc);
				break;
			}
			hi = mid - 1;
		}
		free(enc);
	}
	for (;;)
	{
		meta = s3f_meta_encode(e->stored, best);
		if (meta && strlen(meta) <= avail)
			break;
		free(meta);
		meta = NULL;
		if (best == 0)
			return false;
		do
			best--;
		while (best > 0 && ((unsigned char) e->stored[best] & 0xC0) == 0x80);
	}
	free(e->meta);
	e->meta = meta;
	e->stored[best] = '\0';
	e->stored_len = best;
	e->size = strlen(e->mkey) + strlen(meta);
	return true;
}

/* admit the smallest entries into budget bytes; the rest go to rest */
static s3s_code
admit_smallest(plan *p, long budget, place rest, bool truncate, bool *changed,
			   s3s_error *err)
{
	entry	  **order = calloc(p->n ? p->n : 1, sizeof(entry *));
	long		total = 0;
	int			i,
				n = 0;
	bool		full = false;

	if (order == NULL)
		return nomem(err);
	for (i = 0; i < p->n; i++)
	{
		if (p->e[i].meta == NULL)
		{
			p->e[i].where = P_BODY;
			*changed = true;
		}
		else
			order[n++] = &p->e[i];
	}
	qsort(order, n, sizeof(entry *), size_cmp);
	for (i = 0; i < n; i++)
	{
		entry	   *e = order[i];

		if (!full && total + (long) e->size <= budget)
		{
			e->where = P_META;
			total += (long) e->size;
			continue;
		}
		*changed = true;
		if (!full && truncate)
		{
			long		avail = budget - total - (long) strlen(e->mkey);

			full = true;
			if (e->cuttable && avail >= 0 && cut_entry(e, (size_t) avail))
			{
				e->where = P_META;
				total += (long) e->size;
				continue;
			}
		}
		full = true;
		e->where = rest;
	}
	free(order);
	return S3S_OK;
}

static int
limit_of(const s3f_write_opts *opts)
{
	return opts && opts->metadata_limit > 0 ? opts->metadata_limit : DEFAULT_LIMIT;
}

static const char *
passphrase_of(const s3f_write_opts *opts)
{
	return opts && opts->passphrase ? opts->passphrase : "secret";
}

/* the first entry refused by the metadata layer, or NULL */
static const entry *
refused(const plan *p)
{
	int			i;

	for (i = 0; i < p->n; i++)
		if (p->e[i].meta == NULL)
			return &p->e[i];
	return NULL;
}

static s3s_code
place_entries(const s3f_resource *res, plan *p, int limit, bool *overflow,
			  bool *truncated, bool *full_body, size_t pmsize, s3s_error *err)
{
	size_t		vsize = 2 + strlen(res->current_version),
				sum = 0;
	const entry *bad = refused(p);
	int			i;

	for (i = 0; i < p->n; i++)
	{
		p->e[i].where = P_META;
		if (p->e[i].meta)
			sum += p->e[i].size;
	}

	switch (res->behavior)
	{
		case S3F_B_USER_MANAGED:
			if (bad == NULL && vsize + sum <= (size_t) limit)
				return S3S_OK;
			if (bad && vsize + sum + OVERFLOW_BYTES + pmsize <= (size_t) limit)
			{
				for (i = 0; i < p->n; i++)
					if (p->e[i].meta == NULL)
						p->e[i].where = P_BODY;
				*overflow = true;
				return S3S_OK;
			}
			for (i = 0; i < p->n; i++)
				p->e[i].where = P_BODY;
			*full_body = true;
			return S3S_OK;

		case S3F_B_BODY_OVERFLOW:
			if (bad == NULL && vsize + sum + pmsize <= (size_t) limit)
				return S3S_OK;
			*overflow = true;
			return admit_smallest(p, (long) limit - (long) (vsize + pmsize + OVERFLOW_BYTES),
								  P_BODY, false, overflow, err);

		case S3F_B_BODY_ONLY:
			for (i = 0; i < p->n; i++)
				p->e[i].where = P_BODY;
			*full_body = true;
			return S3S_OK;

		case S3F_B_TRUNCATE_DATA:
		case S3F_B_ENFORCE_LIMITS:
			if (bad)
				return constraint(err, "field \"%.100s\": the value cannot be stored in metadata, "
								  "and a %s resource has no body",
								  res->attrs[bad->attr].path, s3f_behavior_name(res->behavior));
			if (vsize + sum <= (size_t) limit)
				return S3S_OK;
			if (res->behavior == S3F_B_ENFORCE_LIMITS)
				return constraint(err, "record metadata of %zu bytes exceeds the limit of %d bytes",
								  vsize + sum, limit);
			*truncated = true;
			return admit_smallest(p, (long) limit - (long) (vsize + TRUNCATED_BYTES),
								  P_DROP, true, truncated, err);
	}
	return S3S_OK;
}

s3s_code
s3f_record_encode(const s3f_resource *res, const s3f_val *vals,
				  const s3f_write_opts *opts, s3f_object_out *out, s3s_error *err)
{
	s3f_val    *norm;
	plan		p = {0};
	s3s_code	rc;
	bool		overflow = false,
				truncated = false,
				full_body = false;
	char	   *pm = NULL,
			   *pm_enc = NULL;
	size_t		pmsize = 0;
	int			i;
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	s3s_meta_init(&out->meta);
	s3s_error_clear(err);
	norm = calloc(res->nattrs ? res->nattrs : 1, sizeof(s3f_val));
	if (norm == NULL)
		return nomem(err);
	rc = s3f_record_normalize(res, vals, norm, err);
	if (rc != S3S_OK)
	{
		free(norm);
		return rc;
	}
	rc = build_plan(res, norm, passphrase_of(opts), &p, err);
	s3f_vals_free(norm, res->nattrs);
	free(norm);
	if (rc != S3S_OK)
		goto done;

	/* _pluginmap: body-overflow always, the others when a body is written */
	pm = map_json(res, true);
	if (pm == NULL)
	{
		rc = nomem(err);
		goto done;
	}
	if (pm[0])
	{
		pm_enc = s3f_meta_encode(pm, strlen(pm));
		if (pm_enc == NULL)
		{
			rc = nomem(err);
			goto done;
		}
		pmsize = strlen("_pluginmap") + strlen(pm_enc);
	}

	rc = place_entries(res, &p, limit_of(opts), &overflow, &truncated, &full_body,
					   pmsize, err);
	if (rc != S3S_OK)
		goto done;

	for (i = 0; i < p.n && ok; i++)
		if (p.e[i].where == P_META)
			ok = s3s_meta_add(&out->meta, p.e[i].mkey, p.e[i].meta) == 0;
	ok = ok && meta_add_encoded(&out->meta, "_v", res->current_version);
	if (ok && overflow)
		ok = s3s_meta_add(&out->meta, "_overflow", "true") == 0;
	if (ok && truncated)
		ok = s3s_meta_add(&out->meta, "_truncated", "true") == 0;
	if (ok && res->behavior == S3F_B_BODY_ONLY)
	{
		char	   *map = map_json(res, false);

		ok = map != NULL && meta_add_encoded(&out->meta, "_map", map);
		free(map);
	}
	if (ok && pm_enc && (overflow || full_body || res->behavior == S3F_B_BODY_OVERFLOW))
		ok = s3s_meta_add(&out->meta, "_pluginmap", pm_enc) == 0;
	if (ok && (overflow || full_body))
	{
		out->body = body_json(&p, full_body ? res->current_version : NULL, &out->body_len);
		out->content_type = strdup("application/json");
		ok = out->body != NULL && out->content_type != NULL;
	}
	out->truncated = truncated;
	if (!ok)
		rc = nomem(err);

done:
	plan_free(&p);
	free(pm);
	free(pm_enc);
	if (rc != S3S_OK)
		s3f_object_out_free(out);
	return rc;
}

s3s_code
s3f_record_encode_content(const s3f_resource *res, const s3f_val *vals,
						  const unsigned char *content, size_t len,
						  const char *mime, const s3f_write_opts *opts,
						  s3f_object_out *out, s3s_error *err)
{
	s3f_val    *norm;
	plan		p = {0};
	s3s_code	rc;
	const entry *bad;
	char		lenbuf[32];
	size_t		total;
	int			i;
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	s3s_meta_init(&out->meta);
	s3s_error_clear(err);
	if (mime == NULL || mime[0] == '\0')
		mime = "application/octet-stream";
	norm = calloc(res->nattrs ? res->nattrs : 1, sizeof(s3f_val));
	if (norm == NULL)
		return nomem(err);
	rc = s3f_record_normalize(res, vals, norm, err);
	if (rc != S3S_OK)
	{
		free(norm);
		return rc;
	}
	rc = build_plan(res, norm, passphrase_of(opts), &p, err);
	s3f_vals_free(norm, res->nattrs);
	free(norm);
	if (rc != S3S_OK)
		goto done;

	/* the body is the content: every field must live in metadata */
	if ((bad = refused(&p)) != NULL)
	{
		rc = constraint(err, "field \"%.100s\": the value cannot be stored in metadata "
						"next to binary content", res->attrs[bad->attr].path);
		goto done;
	}
	for (i = 0; i < p.n && ok; i++)
		ok = s3s_meta_add(&out->meta, p.e[i].mkey, p.e[i].meta) == 0;
	snprintf(lenbuf, sizeof(lenbuf), "%zu", len);
	ok = ok && meta_add_encoded(&out->meta, "_v", res->current_version) &&
		s3s_meta_add(&out->meta, "_hascontent", "true") == 0 &&
		meta_add_encoded(&out->meta, "_mimetype", mime) &&
		s3s_meta_add(&out->meta, "_contentlength", lenbuf) == 0;
	if (!ok)
	{
		rc = nomem(err);
		goto done;
	}
	total = 0;
	for (i = 0; i < out->meta.n; i++)
		total += strlen(out->meta.keys[i]) + strlen(out->meta.values[i]);
	if (total > (size_t) limit_of(opts))
	{
		rc = constraint(err, "record metadata of %zu bytes exceeds the limit of %d bytes",
						total, limit_of(opts));
		goto done;
	}
	out->body = malloc(len ? len : 1);
	out->content_type = strdup(mime);
	if (out->body == NULL || out->content_type == NULL)
	{
		rc = nomem(err);
		goto done;
	}
	if (len)
		memcpy(out->body, content, len);
	out->body_len = len;

done:
	plan_free(&p);
	if (rc != S3S_OK)
		s3f_object_out_free(out);
	return rc;
}
