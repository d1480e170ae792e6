/*-------------------------------------------------------------------------
 *
 * creds_json.c
 *		The credential documents of EC2 instance metadata and of ECS / EKS
 *		container endpoints, read with json-c.
 *
 * Both serve {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
 * IMDS adds "Code" ("Success" when the role could be assumed).  A
 * credential_process prints the same with "SessionToken" and "Version": 1.  An
 * Expiration that cannot be read makes the document unusable: treating it
 * as "never expires" would keep dead credentials forever.
 *
 *-------------------------------------------------------------------------
 */
#include "store/creds_int.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static const char *
member(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * process: a credential_process document, {"Version": 1, "AccessKeyId",
 * "SecretAccessKey", "SessionToken", "Expiration"}, where a missing
 * Expiration means long-term keys.
 */
static bool
parse_doc(const char *body, size_t len, bool process, s3s_credentials *out, s3s_error *err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc;
	const char *code, *akid, *secret, *token, *exp;
	bool		nomem = false;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (tok == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
		return false;
	}
	doc = json_tokener_parse_ex(tok, body, (int) len);
	json_tokener_free(tok);
	if (doc == NULL || !json_object_is_type(doc, json_type_object))
	{
		s3s_error_set(err, S3S_ERR_PROTOCOL, "credentials", NULL,
					  "the credential endpoint did not answer with a JSON object");
		goto done;
	}
	if (process)
	{
		struct json_object *v;

		if (!json_object_object_get_ex(doc, "Version", &v) ||
			!json_object_is_type(v, json_type_int) || json_object_get_int(v) != 1)
		{
			s3s_error_set(err, S3S_ERR_PROTOCOL, "credentials", NULL,
						  "credential_process did not print a document of Version 1");
			goto done;
		}
	}
	code = process ? NULL : member(doc, "Code");
	if (code && strcmp(code, "Success") != 0)
	{
		char		safe[64];

		/* a short status word; keep only harmless characters */
		size_t		i;

		for (i = 0; code[i] && i < sizeof(safe) - 1; i++)
			safe[i] = (code[i] >= 0x20 && code[i] < 0x7f) ? code[i] : '?';
		safe[i] = '\0';
		s3s_error_set(err, S3S_ERR_ACCESS, "credentials", NULL,
					  "the credential endpoint reported \"%s\"", safe);
		goto done;
	}
	akid = member(doc, "AccessKeyId");
	secret = member(doc, "SecretAccessKey");
	token = member(doc, process ? "SessionToken" : "Token");
	exp = member(doc, "Expiration");
	if (akid == NULL || secret == NULL || akid[0] == '\0' || secret[0] == '\0')
	{
		s3s_error_set(err, S3S_ERR_PROTOCOL, "credentials", NULL,
					  "the credential document lacks AccessKeyId or SecretAccessKey");
		goto done;
	}
	if (exp != NULL && !s3s_creds_parse_time(exp, &out->expiration))
	{
		s3s_error_set(err, S3S_ERR_PROTOCOL, "credentials", NULL,
					  "the credential document has an unreadable Expiration");
		goto done;
	}
	out->access_key_id = s3s_creds_dup(akid, &nomem);
	out->secret_access_key = s3s_creds_dup(secret, &nomem);
	out->session_token = (token && token[0]) ? s3s_creds_dup(token, &nomem) : NULL;
	if (nomem)
	{
		s3s_credentials_free(out);
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
		goto done;
	}
	ok = true;
done:
	if (doc)
		json_object_put(doc);
	return ok;
}

bool
s3s_creds_parse_json(const char *body, size_t len, s3s_credentials *out, s3s_error *err)
{
	return parse_doc(body, len, false, out, err);
}

bool
s3s_creds_parse_process(const char *body, size_t len, s3s_credentials *out, s3s_error *err)
{
	return parse_doc(body, len, true, out, err);
}
