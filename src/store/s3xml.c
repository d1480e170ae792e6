/*-------------------------------------------------------------------------
 *
 * s3xml.c
 *		Reading S3 XML replies and writing DeleteObjects requests (libxml2).
 *
 * The documents are small and flat, so each reply is parsed into a tree
 * and walked by local element name.  Parsing options exclude network
 * access, DTD loading and entity substitution: a hostile or broken server
 * can make a reply fail to parse, but cannot make us fetch or expand
 * anything.
 *
 *-------------------------------------------------------------------------
 */
#include "store/s3xml.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

static xmlDocPtr
read_doc(const char *doc, size_t len)
{
	if (doc == NULL || len == 0 || len > S3XML_MAX_DOC || len > INT_MAX)
		return NULL;
	/*
	 * S3 replies are UTF-8.  Naming the encoding stops libxml2 from guessing
	 * UTF-16 or UCS-4 from the first bytes: a failed conversion is reported
	 * on stderr (the server log) whatever XML_PARSE_NOERROR says.
	 */
	return xmlReadMemory(doc, (int) len, "reply.xml", "UTF-8", PARSE_OPTIONS);
}

static bool
named(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE &&
		strcmp((const char *) n->name, name) == 0;
}

static xmlNodePtr
child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* The text of a child element, malloc'd ("" if empty), NULL if absent. */
static char *
child_text(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	c = child(parent, name);
	xmlChar    *t;
	char	   *s;

	if (c == NULL)
		return NULL;
	t = xmlNodeGetContent(c);
	s = strdup(t ? (const char *) t : "");
	xmlFree(t);
	return s;
}

/* Copy a child's text into a fixed buffer (truncated, "" if absent). */
static void
child_copy(xmlNodePtr parent, const char *name, char *dst, size_t size)
{
	char	   *s = child_text(parent, name);

	dst[0] = '\0';
	if (s)
	{
		snprintf(dst, size, "%s", s);
		free(s);
	}
}

int64_t
s3xml_iso8601_ms(const char *s)
{
	struct tm	tm;
	int			y,
				mo,
				d,
				h,
				mi,
				sec,
				ms = 0;
	int			used = 0;
	time_t		t;

	if (s == NULL)
		return 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
		return 0;
	s += used;
	if (*s == '.')
	{
		int			digits = 0;

		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*s - '0');
		while (digits > 0 && digits < 3)
		{
			ms *= 10;
			digits++;
		}
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t) -1)
		return 0;
	return (int64_t) t * 1000 + ms;
}

char *
s3xml_unquote(const char *s)
{
	size_t		n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
	{
		char	   *d = malloc(n - 1);

		if (d)
		{
			memcpy(d, s + 1, n - 2);
			d[n - 2] = '\0';
		}
		return d;
	}
	return strdup(s);
}

static void
fill_error(xmlNodePtr e, s3xml_error *out)
{
	char	   *t;

	child_copy(e, "Code", out->code, sizeof(out->code));
	child_copy(e, "Message", out->message, sizeof(out->message));
	child_copy(e, "RequestId", out->request_id, sizeof(out->request_id));
	child_copy(e, "Region", out->region, sizeof(out->region));
	child_copy(e, "Endpoint", out->endpoint, sizeof(out->endpoint));
	t = child_text(e, "ServerTime");
	out->server_time_ms = s3xml_iso8601_ms(t);
	free(t);
}

bool
s3xml_parse_error(const char *doc, size_t len, s3xml_error *out)
{
	xmlDocPtr	d = read_doc(doc, len);
	xmlNodePtr	root;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return false;
	root = xmlDocGetRootElement(d);
	if (named(root, "Error"))
	{
		fill_error(root, out);
		ok = true;
	}
	xmlFreeDoc(d);
	return ok;
}

static bool
grow(void **arr, int n, int *cap, size_t elem)
{
	void	   *p;
	int			ncap;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, (size_t) ncap * elem);
	if (p == NULL)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

bool
s3xml_parse_list(const s3s_store *st, const char *doc, size_t len,
				 s3s_list *out, char *errmsg, size_t errlen)
{
	xmlDocPtr	d = read_doc(doc, len);
	xmlNodePtr	root;
	int			cap = 0,
				pcap = 0;
	char	   *t;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
	{
		snprintf(errmsg, errlen, "unparsable list reply");
		return false;
	}
	root = xmlDocGetRootElement(d);
	if (!named(root, "ListBucketResult"))
	{
		snprintf(errmsg, errlen, "list reply is not a ListBucketResult");
		xmlFreeDoc(d);
		return false;
	}
	for (xmlNodePtr c = root->children; c; c = c->next)
	{
		if (named(c, "Contents"))
		{
			char	   *full = child_text(c, "Key");
			char	   *logical = full ? s3s_logical_key(st, full) : NULL;
			s3s_list_entry *e;

			free(full);
			if (logical == NULL)
				continue;		/* outside our prefix (or no key) */
			if (!grow((void **) &out->entries, out->n, &cap, sizeof(s3s_list_entry)))
			{
				free(logical);
				goto nomem;
			}
			e = &out->entries[out->n++];
			memset(e, 0, sizeof(*e));
			e->key = logical;
			t = child_text(c, "ETag");
			e->etag = t ? s3xml_unquote(t) : NULL;
			free(t);
			t = child_text(c, "Size");
			e->size = t ? strtoll(t, NULL, 10) : 0;
			free(t);
			t = child_text(c, "LastModified");
			e->last_modified = s3xml_iso8601_ms(t);
			free(t);
		}
		else if (named(c, "CommonPrefixes"))
		{
			char	   *full = child_text(c, "Prefix");
			char	   *logical = full ? s3s_logical_key(st, full) : NULL;

			free(full);
			if (logical == NULL)
				continue;
			if (!grow((void **) &out->prefixes, out->nprefixes, &pcap, sizeof(char *)))
			{
				free(logical);
				goto nomem;
			}
			out->prefixes[out->nprefixes++] = logical;
		}
		else if (named(c, "IsTruncated"))
		{
			xmlChar    *v = xmlNodeGetContent(c);

			out->truncated = v != NULL && strcmp((const char *) v, "true") == 0;
			xmlFree(v);
		}
		else if (named(c, "NextContinuationToken"))
		{
			xmlChar    *v = xmlNodeGetContent(c);

			free(out->next_token);
			out->next_token = strdup(v ? (const char *) v : "");
			xmlFree(v);
			if (out->next_token == NULL)
				goto nomem;
		}
	}
	xmlFreeDoc(d);
	if (out->truncated && (out->next_token == NULL || out->next_token[0] == '\0'))
	{
		snprintf(errmsg, errlen, "truncated list reply without a continuation token");
		s3s_list_free(out);
		return false;
	}
	if (!out->truncated)
	{
		free(out->next_token);
		out->next_token = NULL;
	}
	return true;

nomem:
	xmlFreeDoc(d);
	s3s_list_free(out);
	snprintf(errmsg, errlen, "out of memory");
	return false;
}

int
s3xml_parse_delete(const char *doc, size_t len, s3xml_error *first,
				   char *key, size_t keylen)
{
	xmlDocPtr	d = read_doc(doc, len);
	xmlNodePtr	root;
	int			nerr = 0;

	memset(first, 0, sizeof(*first));
	if (keylen > 0)
		key[0] = '\0';
	if (d == NULL)
		return -1;
	root = xmlDocGetRootElement(d);
	if (!named(root, "DeleteResult"))
	{
		xmlFreeDoc(d);
		return -1;
	}
	for (xmlNodePtr c = root->children; c; c = c->next)
	{
		if (!named(c, "Error"))
			continue;
		if (nerr++ == 0)
		{
			fill_error(c, first);
			child_copy(c, "Key", key, keylen);
		}
	}
	xmlFreeDoc(d);
	return nerr;
}

bool
s3xml_parse_copy(const char *doc, size_t len, char **etag, int64_t *last_modified_ms)
{
	xmlDocPtr	d = read_doc(doc, len);
	xmlNodePtr	root;
	char	   *t;
	bool		ok = false;

	*etag = NULL;
	*last_modified_ms = 0;
	if (d == NULL)
		return false;
	root = xmlDocGetRootElement(d);
	if (named(root, "CopyObjectResult"))
	{
		t = child_text(root, "ETag");
		*etag = t ? s3xml_unquote(t) : NULL;
		free(t);
		t = child_text(root, "LastModified");
		*last_modified_ms = s3xml_iso8601_ms(t);
		free(t);
		ok = true;
	}
	xmlFreeDoc(d);
	return ok;
}

char *
s3xml_delete_body(const char *const *full_keys, int n, size_t *len)
{
	xmlDocPtr	d = xmlNewDoc((const xmlChar *) "1.0");
	xmlNodePtr	root;
	xmlChar    *mem = NULL;
	int			size = 0;
	char	   *out = NULL;

	*len = 0;
	if (d == NULL)
		return NULL;
	root = xmlNewNode(NULL, (const xmlChar *) "Delete");
	if (root == NULL)
		goto done;
	xmlDocSetRootElement(d, root);
	if (xmlNewNs(root, (const xmlChar *) "http://s3.amazonaws.com/doc/2006-03-01/", NULL) == NULL)
		goto done;
	for (int i = 0; i < n; i++)
	{
		xmlNodePtr	obj = xmlNewChild(root, NULL, (const xmlChar *) "Object", NULL);

		/* xmlNewTextChild escapes the key's text */
		if (obj == NULL ||
			xmlNewTextChild(obj, NULL, (const xmlChar *) "Key", (const xmlChar *) full_keys[i]) == NULL)
			goto done;
	}
	xmlDocDumpMemoryEnc(d, &mem, &size, "UTF-8");
	if (mem != NULL && size > 0)
	{
		out = malloc((size_t) size + 1);
		if (out)
		{
			memcpy(out, mem, (size_t) size);
			out[size] = '\0';
			*len = (size_t) size;
		}
	}
done:
	if (mem)
		xmlFree(mem);
	xmlFreeDoc(d);
	return out;
}
