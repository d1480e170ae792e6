/*-------------------------------------------------------------------------
 *
 * creds_file.c
 *		Profiles of the AWS shared credentials and config files.
 *
 * The credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/credentials) names sections "[name]"; the config file
 * (AWS_CONFIG_FILE, else ~/.aws/config) names them "[profile name]",
 * except "[default]".  A setting in the credentials file wins over the
 * same setting in the config file, as in the SDKs.  Comments start with
 * '#' or ';'; indented lines are sub-settings (s3 = ...) and are skipped.
 * A missing file is an empty one.
 *
 *-------------------------------------------------------------------------
 */
#include "store/creds_int.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
wipe_free(char *s)
{
	if (s)
	{
		memset(s, 0, strlen(s));
		free(s);
	}
}

void
s3s_profile_free(s3s_profile *p)
{
	free(p->access_key_id);
	wipe_free(p->secret_access_key);
	wipe_free(p->session_token);
	free(p->role_arn);
	free(p->source_profile);
	free(p->external_id);
	free(p->role_session_name);
	free(p->region);
	free(p->credential_process);
	memset(p, 0, sizeof(*p));
}

static char *
trim(char *s)
{
	char	   *e;

	while (*s && isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

/* path of a shared file: the variable, else ~/.aws/<name> (malloc'd) */
static char *
file_path(const char *var, const char *name)
{
	const char *v = getenv(var);
	const char *home = getenv("HOME");
	char	   *path;

	if (v && v[0])
		return strdup(v);
	if (home == NULL || home[0] == '\0')
	{
		struct passwd *pw = getpwuid(geteuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (home == NULL)
		return NULL;
	path = malloc(strlen(home) + strlen(name) + 8);
	if (path)
		sprintf(path, "%s/.aws/%s", home, name);
	return path;
}

static bool
set_once(char **slot, const char *value, bool *nomem)
{
	if (*slot != NULL)
		return true;			/* the credentials file was read first */
	*slot = s3s_creds_dup(value, nomem);
	return !*nomem;
}

/* Read one file's section for the profile into out (unset fields only). */
static bool
read_file(const char *path, const char *profile, bool config, s3s_profile *out,
		  s3s_error *err)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	bool		in = false;
	bool		nomem = false;

	if (f == NULL)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			return true;
		s3s_error_set(err, S3S_ERR_IO, "credentials", NULL,
					  "could not read the shared AWS %s file: %s",
					  config ? "config" : "credentials", strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *s;
		char	   *eq;

		if (line[0] == ' ' || line[0] == '\t')
			continue;			/* sub-setting or continuation */
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
		{
			char	   *end = strchr(s, ']');
			char	   *name;

			if (end == NULL)
			{
				in = false;
				continue;
			}
			*end = '\0';
			name = trim(s + 1);
			if (config && strcmp(name, "default") != 0)
			{
				if (strncmp(name, "profile", 7) != 0 || !isspace((unsigned char) name[7]))
				{
					in = false;
					continue;
				}
				name = trim(name + 8);
			}
			in = strcmp(name, profile) == 0;
			if (in)
				out->found = true;
			continue;
		}
		if (!in || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		{
			char	   *key = trim(s);
			char	   *val = trim(eq + 1);
			bool		ok = true;

			if (strcmp(key, "aws_access_key_id") == 0)
				ok = set_once(&out->access_key_id, val, &nomem);
			else if (strcmp(key, "aws_secret_access_key") == 0)
				ok = set_once(&out->secret_access_key, val, &nomem);
			else if (strcmp(key, "aws_session_token") == 0)
				ok = set_once(&out->session_token, val, &nomem);
			else if (strcmp(key, "role_arn") == 0)
				ok = set_once(&out->role_arn, val, &nomem);
			else if (strcmp(key, "source_profile") == 0)
				ok = set_once(&out->source_profile, val, &nomem);
			else if (strcmp(key, "external_id") == 0)
				ok = set_once(&out->external_id, val, &nomem);
			else if (strcmp(key, "role_session_name") == 0)
				ok = set_once(&out->role_session_name, val, &nomem);
			else if (strcmp(key, "region") == 0)
				ok = set_once(&out->region, val, &nomem);
			else if (strcmp(key, "credential_process") == 0)
				ok = set_once(&out->credential_process, val, &nomem);
			if (!ok)
				break;
		}
	}
	memset(line, 0, sizeof(line));
	fclose(f);
	if (nomem)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL, "out of memory");
		return false;
	}
	return true;
}

bool
s3s_profile_load(const char *name, s3s_profile *out, s3s_error *err)
{
	char	   *cred = file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char	   *conf = file_path("AWS_CONFIG_FILE", "config");
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	if (cred)
		ok = read_file(cred, name, false, out, err);
	if (ok && conf)
		ok = read_file(conf, name, true, out, err);
	free(cred);
	free(conf);
	if (!ok)
		s3s_profile_free(out);
	return ok;
}
