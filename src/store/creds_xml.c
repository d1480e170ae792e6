/*-------------------------------------------------------------------------
 *
 * creds_xml.c
 *		STS replies, read with libxml2.
 *
 * AssumeRole and AssumeRoleWithWebIdentity answer
 * <...Response><...Result><Credentials><AccessKeyId/><SecretAccessKey/>
 * <SessionToken/><Expiration/></Credentials>...; errors are
 * <ErrorResponse><Error><Code/><Message/></Error>.  Elements are found by
 * local name wherever they are, as the namespaces differ between STS and
 * its look-alikes.  The parser never loads external entities or a DTD.
 *
 *-------------------------------------------------------------------------
 */
#include "store/creds_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

static xmlNodePtr
find(xmlNodePtr n, const char *name)
{
	for (; n; n = n->next)
	{
		xmlNodePtr	r;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *) n->name, name) == 0)
			return n;
		if ((r = find(n->children, name)) != NULL)
			return r;
	}
	return NULL;
}

/* text of the first element called name below root (malloc'd) or NULL */
static char *
text_of(xmlNodePtr root, const char *name)
{
	xmlNodePtr	n = find(root, name);
	xmlChar    *c;
	char	   *s;

	if (n == NULL || (c = xmlNodeGetContent(n)) == NULL)
		return NULL;
	s = strdup((const char *) c);
	xmlFree(c);
	return s;
}

static xmlDocPtr
parse(const char *body, size_t len)
{
	if (len > 1024 * 1024)
		return NULL;
	return xmlReadMemory(body, (int) len, "sts.xml", NULL,
						 XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
						 XML_PARSE_NOWARNING);
}

static void
wipe_free(char *s)
{
	if (s)
	{
		memset(s, 0, strlen(s));
		free(s);
	}
}

bool
s3s_creds_parse_sts(const char *body, size_t len, s3s_credentials *out, s3s_error *err)
{
	xmlDocPtr	doc = parse(body, len);
	xmlNodePtr	creds;
	char	   *exp = NULL;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (doc == NULL)
	{
		s3s_error_set(err, S3S_ERR_PROTOCOL, "STS", NULL, "STS answered with unreadable XML");
		return false;
	}
	creds = find(xmlDocGetRootElement(doc), "Credentials");
	if (creds == NULL)
	{
		s3s_error_set(err, S3S_ERR_PROTOCOL, "STS", NULL, "the STS reply has no Credentials");
		goto done;
	}
	out->access_key_id = text_of(creds->children, "AccessKeyId");
	out->secret_access_key = text_of(creds->children, "SecretAccessKey");
	out->session_token = text_of(creds->children, "SessionToken");
	exp = text_of(creds->children, "Expiration");
	if (out->access_key_id == NULL || out->secret_access_key == NULL ||
		out->session_token == NULL || exp == NULL ||
		!s3s_creds_parse_time(exp, &out->expiration))
	{
		s3s_credentials_free(out);
		s3s_error_set(err, S3S_ERR_PROTOCOL, "STS", NULL,
					  "the STS reply lacks a key, secret, session token or expiration");
		goto done;
	}
	ok = true;
done:
	wipe_free(exp);
	xmlFreeDoc(doc);
	return ok;
}

/* keep printable ASCII only: the text goes into an error message */
static void
copy_printable(char *dst, size_t dstlen, const char *src)
{
	size_t		i;

	if (dstlen == 0)
		return;
	for (i = 0; src && src[i] && i < dstlen - 1; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : ' ';
	dst[i] = '\0';
}

void
s3s_creds_parse_sts_error(const char *body, size_t len, char *code, size_t codelen,
						  char *msg, size_t msglen)
{
	xmlDocPtr	doc = parse(body, len);
	char	   *c = NULL;
	char	   *m = NULL;

	if (codelen)
		code[0] = '\0';
	if (msglen)
		msg[0] = '\0';
	if (doc == NULL)
		return;
	c = text_of(xmlDocGetRootElement(doc), "Code");
	m = text_of(xmlDocGetRootElement(doc), "Message");
	copy_printable(code, codelen, c);
	copy_printable(msg, msglen, m);
	free(c);
	free(m);
	xmlFreeDoc(doc);
}
