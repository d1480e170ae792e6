/*-------------------------------------------------------------------------
 *
 * meta.c
 *		Small value types of the store API: metadata lists, objects,
 *		listing pages, requests and configuration defaults.
 *
 * These are plain malloc'd structures so that the FDW, the background
 * worker and the unit tests can share them without any PostgreSQL memory
 * context.  Every free function accepts a zeroed or partly filled value.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

void
s3s_meta_init(s3s_meta *m)
{
	memset(m, 0, sizeof(*m));
}

/*
 * Add an entry, or replace the value when the key is already present (an
 * object carries each metadata key once).  Returns 0, or -1 on bad input or
 * out of memory (the list is unchanged then).
 */
int
s3s_meta_add(s3s_meta *m, const char *key, const char *value)
{
	char	   *k;
	char	   *v;
	int			i;

	if (m == NULL || key == NULL || value == NULL)
		return -1;
	v = strdup(value);
	if (v == NULL)
		return -1;
	for (i = 0; i < m->n; i++)
	{
		if (strcmp(m->keys[i], key) == 0)
		{
			free(m->values[i]);
			m->values[i] = v;
			return 0;
		}
	}
	if (m->n == m->cap)
	{
		int			ncap = m->cap ? m->cap * 2 : 8;
		char	  **nk = realloc(m->keys, sizeof(char *) * ncap);
		char	  **nv;

		if (nk == NULL)
		{
			free(v);
			return -1;
		}
		m->keys = nk;
		nv = realloc(m->values, sizeof(char *) * ncap);
		if (nv == NULL)
		{
			free(v);
			return -1;
		}
		m->values = nv;
		m->cap = ncap;
	}
	k = strdup(key);
	if (k == NULL)
	{
		free(v);
		return -1;
	}
	m->keys[m->n] = k;
	m->values[m->n] = v;
	m->n++;
	return 0;
}

const char *
s3s_meta_get(const s3s_meta *m, const char *key)
{
	int			i;

	if (m == NULL || key == NULL)
		return NULL;
	for (i = 0; i < m->n; i++)
		if (strcmp(m->keys[i], key) == 0)
			return m->values[i];
	return NULL;
}

void
s3s_meta_free(s3s_meta *m)
{
	int			i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
	{
		free(m->keys[i]);
		free(m->values[i]);
	}
	free(m->keys);
	free(m->values);
	s3s_meta_init(m);
}

/*
 * Copy src into dst, which is overwritten (not freed) first.  Returns 0, or
 * -1 on out of memory with dst left empty.
 */
int
s3s_meta_copy(s3s_meta *dst, const s3s_meta *src)
{
	int			i;

	s3s_meta_init(dst);
	if (src == NULL)
		return 0;
	for (i = 0; i < src->n; i++)
	{
		if (s3s_meta_add(dst, src->keys[i], src->values[i]) != 0)
		{
			s3s_meta_free(dst);
			return -1;
		}
	}
	return 0;
}

void
s3s_object_free(s3s_object *o)
{
	if (o == NULL)
		return;
	free(o->etag);
	free(o->content_type);
	free(o->body);
	s3s_meta_free(&o->meta);
	memset(o, 0, sizeof(*o));
}

void
s3s_list_free(s3s_list *l)
{
	int			i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
	{
		free(l->entries[i].key);
		free(l->entries[i].etag);
	}
	free(l->entries);
	for (i = 0; i < l->nprefixes; i++)
		free(l->prefixes[i]);
	free(l->prefixes);
	free(l->next_token);
	memset(l, 0, sizeof(*l));
}

const char *
s3s_op_name(s3s_op op)
{
	switch (op)
	{
		case S3S_OP_HEAD:
			return "HEAD";
		case S3S_OP_GET:
			return "GET";
		case S3S_OP_PUT:
			return "PUT";
		case S3S_OP_COPY:
			return "COPY";
		case S3S_OP_DELETE:
			return "DELETE";
		case S3S_OP_DELETE_MANY:
			return "DELETE_MANY";
		case S3S_OP_LIST:
			return "LIST";
	}
	return "?";
}

void
s3s_request_init(s3s_request *r, s3s_op op, const char *key)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->key = key;
	r->range_start = -1;
	r->range_end = -1;
}

/* Release the outputs; the inputs (borrowed pointers) are kept. */
void
s3s_request_reset(s3s_request *r)
{
	if (r == NULL)
		return;
	s3s_object_free(&r->obj);
	s3s_list_free(&r->list);
	s3s_error_clear(&r->err);
	r->attempts = 0;
	r->bytes_in = 0;
	r->bytes_out = 0;
}

void
s3s_config_init(s3s_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_inflight = 48;
	c->max_retries = 5;
	c->connect_timeout_ms = 5000;
	c->request_timeout_ms = 60000;
	c->low_speed_time_s = 30;
}
