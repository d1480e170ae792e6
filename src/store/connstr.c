/*-------------------------------------------------------------------------
 *
 * connstr.c
 *		s3db.js connection strings to a store location (spec section 1).
 *
 * s3db.js parses connection strings with the WHATWG URL parser and then
 * picks pieces apart by scheme.  Only the small subset of URL syntax that
 * those strings use matters here (scheme, userinfo, host[:port], path,
 * query, fragment), so the split is done directly; the per-scheme rules
 * (which parts are percent-decoded, defaults) follow the spec table:
 *
 *	s3://KEY:SECRET@BUCKET/PREFIX?sessionToken=..&region=..
 *		bucket decoded, prefix raw (trailing '/' kept), virtual-hosted
 *		endpoint https://s3.<region>.amazonaws.com.  s3db.js ignores
 *		?region= (always us-east-1); it is honoured here because a bucket in
 *		another region cannot be reached through the us-east-1 endpoint.
 *	http(s)://KEY:SECRET@HOST[:PORT]/BUCKET/PREFIX
 *		path style at the origin; bucket = first segment (decoded, "s3db"
 *		if absent), prefix = the remaining segments (raw)
 *	memory://BUCKET/PREFIX
 *		bucket "test-bucket" if empty, prefix segments decoded
 *	file:///abs  file://localhost/abs  file://./rel
 *		base directory (decoded), bucket "s3db", no prefix
 *
 * Decoded strings must not contain NUL or other control characters: they
 * end up in file names, Host headers and signed requests.  Error messages
 * never quote the userinfo or the session token.
 *
 * Credentials are refused where nothing would use them.  file:// and
 * memory:// stores are not signed, so keys in their userinfo (or a
 * ?sessionToken=) would be dropped without a word while the string looks
 * as if it carried an identity; s3db.js 21.6.2 refuses a file:// string
 * with userinfo too (the URL parser does), and drops the keys of a
 * memory:// string, which is the silent case refused here.
 *
 * An s3:// string without a bucket, such as "s3:///prefix", uses the
 * bucket "s3db" as s3db.js does.  With userinfo and no bucket
 * ("s3://KEY:SECRET@", "s3://KEY:SECRET@/prefix") s3db.js 21.6.2 accepts
 * nothing: the URL parser refuses credentials without a host, and its
 * error quotes the whole string, secret included.  That string is refused
 * here as well, without quoting it, rather than falling back to "s3db":
 * keys aimed at no bucket are a mistake, not a request for the default.
 *
 * A region (?region= or the region option) becomes one label of the host
 * name s3.<region>.amazonaws.com and part of the SigV4 credential scope,
 * so it is a short run of letters, digits and hyphens (s3s_region_problem)
 * wherever it comes from.
 *
 * Bucket names of s3:// and http(s):// strings must follow S3's naming
 * rules, checked here before any URL is built.  A bucket becomes part of a
 * host name with virtual-hosted addressing, so without the rules a
 * percent-encoded "127.0.0.1%3A8080%23" would choose the host and port the
 * database server connects to: the place to connect to is the endpoint,
 * which only a superuser may set.  An s3:// string takes no port for the
 * same reason.
 *
 *-------------------------------------------------------------------------
 */
#include "store/connstr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The pieces of a URL, as pointers into the (trimmed) input. */
typedef struct url_parts
{
	const char *scheme;
	size_t		scheme_len;
	const char *userinfo;		/* NULL if no '@' */
	size_t		userinfo_len;
	const char *host;			/* host[:port] */
	size_t		host_len;
	const char *path;			/* from the first '/' after the authority */
	size_t		path_len;
	const char *query;			/* after '?', NULL if none */
	size_t		query_len;
} url_parts;

static bool
split_url(const char *s, size_t n, url_parts *u)
{
	const char *end = s + n;
	const char *p;
	const char *auth_end;
	const char *at = NULL;

	memset(u, 0, sizeof(*u));
	p = s;
	while (p < end && (isalnum((unsigned char) *p) || *p == '+' || *p == '-' || *p == '.'))
		p++;
	if (p == s || end - p < 3 || memcmp(p, "://", 3) != 0)
		return false;
	u->scheme = s;
	u->scheme_len = (size_t) (p - s);
	p += 3;

	/* a fragment is never part of a connection string */
	for (const char *f = p; f < end; f++)
		if (*f == '#')
		{
			end = f;
			break;
		}

	auth_end = p;
	while (auth_end < end && *auth_end != '/' && *auth_end != '?')
		auth_end++;
	for (const char *q = p; q < auth_end; q++)
		if (*q == '@')
			at = q;				/* the last '@' ends the userinfo */
	if (at)
	{
		u->userinfo = p;
		u->userinfo_len = (size_t) (at - p);
		p = at + 1;
	}
	u->host = p;
	u->host_len = (size_t) (auth_end - p);
	p = auth_end;
	u->path = p;
	while (p < end && *p != '?')
		p++;
	u->path_len = (size_t) (p - u->path);
	if (p < end)
	{
		u->query = p + 1;
		u->query_len = (size_t) (end - p - 1);
	}
	return true;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

typedef enum dec_status
{
	DEC_OK,
	DEC_BAD,					/* decodes to a control character */
	DEC_NOMEM
} dec_status;

/*
 * Percent-decode n bytes (invalid escapes are kept literally, as the URL
 * standard does); with plus_space, '+' means ' ' (form encoding).
 */
static dec_status
decode(const char *s, size_t n, bool plus_space, char **out)
{
	char	   *d = malloc(n + 1);
	size_t		o = 0;

	*out = NULL;
	if (d == NULL)
		return DEC_NOMEM;
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0)
		{
			c = (unsigned char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		else if (c == '+' && plus_space)
			c = ' ';
		if (c < 0x20 || c == 0x7f)
		{
			free(d);
			return DEC_BAD;
		}
		d[o++] = (char) c;
	}
	d[o] = '\0';
	*out = d;
	return DEC_OK;
}

static char *
ndup(const char *s, size_t n)
{
	char	   *d = malloc(n + 1);

	if (d)
	{
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static bool
has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

void
s3s_location_free(s3s_location *loc)
{
	if (loc == NULL)
		return;
	free(loc->scheme);
	free(loc->bucket);
	free(loc->prefix);
	free(loc->endpoint);
	free(loc->region);
	free(loc->access_key_id);
	if (loc->secret_access_key)
		memset(loc->secret_access_key, 0, strlen(loc->secret_access_key));
	free(loc->secret_access_key);
	if (loc->session_token)
		memset(loc->session_token, 0, strlen(loc->session_token));
	free(loc->session_token);
	free(loc->base_path);
	memset(loc, 0, sizeof(*loc));
}

#define FAIL(code, ...) \
	do { s3s_error_set(err, (code), "parse", NULL, __VA_ARGS__); goto fail; } while (0)
#define DECODE(s, n, plus, dst, what) \
	do { \
		dec_status ds_ = decode((s), (n), (plus), (dst)); \
		if (ds_ == DEC_NOMEM) FAIL(S3S_ERR_NOMEM, "out of memory"); \
		if (ds_ == DEC_BAD) FAIL(S3S_ERR_INVALID, "connection string: %s contains a control character", (what)); \
	} while (0)
#define DUP(dst, s, n) \
	do { if (((dst) = ndup((s), (n))) == NULL) FAIL(S3S_ERR_NOMEM, "out of memory"); } while (0)

/*
 * NULL if r can be a region, else why not.  AWS's names are lower-case
 * ("eu-west-1"); S3-compatible servers choose their own ("garage",
 * "US-EAST"), so both cases are letters.  63 characters is the limit of a
 * DNS label.  Nothing else: a '.', '/', ':', '#', blank or line break
 * would let the name pick another host or split the signed scope.
 */
const char *
s3s_region_problem(const char *r)
{
	size_t		n = strlen(r);

	if (n == 0)
		return "a region is not empty";
	if (n > 63)
		return "a region has at most 63 characters";
	if (strspn(r, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
		return "a region consists of letters, digits and hyphens";
	return NULL;
}

/*
 * S3's bucket naming rules (general purpose buckets): 3 to 63 characters
 * of lower-case letters, digits, '.' and '-', beginning and ending with a
 * letter or digit, no two adjacent dots, not an IP address, none of the
 * prefixes and suffixes AWS reserves.  Returns NULL if the name is valid,
 * else why it is not.
 */
const char *
s3s_bucket_name_problem(const char *b)
{
	static const char *const bad_prefix[] = {"xn--", "sthree-", "amzn-s3-demo-", NULL};
	static const char *const bad_suffix[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3",
	"--table-s3", NULL};
	size_t		n = strlen(b);
	bool		only_digits_and_dots = true;

	if (n < 3 || n > 63)
		return "a bucket name has 3 to 63 characters";
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return "a bucket name consists of lower-case letters, digits, dots and hyphens";
		if (c != '.' && !(c >= '0' && c <= '9'))
			only_digits_and_dots = false;
		if (c == '.' && i + 1 < n && b[i + 1] == '.')
			return "a bucket name has no two adjacent dots";
	}
	if (!isalnum((unsigned char) b[0]) || !isalnum((unsigned char) b[n - 1]))
		return "a bucket name begins and ends with a letter or digit";
	if (only_digits_and_dots && strchr(b, '.') != NULL)
		return "a bucket name is not an IP address";
	for (int i = 0; bad_prefix[i]; i++)
		if (strncmp(b, bad_prefix[i], strlen(bad_prefix[i])) == 0)
			return "a bucket name does not begin with a prefix S3 reserves";
	for (int i = 0; bad_suffix[i]; i++)
	{
		size_t		l = strlen(bad_suffix[i]);

		if (n >= l && strcmp(b + n - l, bad_suffix[i]) == 0)
			return "a bucket name does not end with a suffix S3 reserves";
	}
	return NULL;
}

static bool
valid_port(const char *p, size_t n)
{
	if (n == 0 || n > 5)
		return n == 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char) p[i]))
			return false;
	return atoi(p) <= 65535;
}

bool
s3s_parse_location(const char *url, s3s_location *out, s3s_error *err)
{
	url_parts	u;
	size_t		n;
	const char *s;
	const char *why;
	char		scheme[16];

	memset(out, 0, sizeof(*out));
	if (url == NULL)
	{
		s3s_error_set(err, S3S_ERR_INVALID, "parse", NULL, "connection string is empty");
		return false;
	}
	/* like the URL parser, ignore leading and trailing blanks */
	s = url;
	while (*s && (unsigned char) *s <= 0x20)
		s++;
	n = strlen(s);
	while (n > 0 && (unsigned char) s[n - 1] <= 0x20)
		n--;
	if (has_ctl(s, n))
		FAIL(S3S_ERR_INVALID, "connection string contains a control character");
	if (!split_url(s, n, &u) || u.scheme_len >= sizeof(scheme))
		FAIL(S3S_ERR_INVALID, "connection string is not a URL (expected s3://, http(s)://, file:// or memory://)");
	for (size_t i = 0; i < u.scheme_len; i++)
		scheme[i] = (char) tolower((unsigned char) u.scheme[i]);
	scheme[u.scheme_len] = '\0';

	if (strcmp(scheme, "s3") && strcmp(scheme, "http") && strcmp(scheme, "https") &&
		strcmp(scheme, "file") && strcmp(scheme, "memory"))
		FAIL(S3S_ERR_INVALID, "unsupported connection string scheme \"%s\"", scheme);
	DUP(out->scheme, scheme, strlen(scheme));

	/* stores that are not signed take no credentials (see the top) */
	if ((strcmp(scheme, "file") == 0 || strcmp(scheme, "memory") == 0) && u.userinfo != NULL)
		FAIL(S3S_ERR_INVALID, "a %s:// connection string takes no credentials", scheme);

	/* credentials from the userinfo, percent-decoded */
	if (u.userinfo && u.userinfo_len > 0)
	{
		const char *colon = memchr(u.userinfo, ':', u.userinfo_len);
		size_t		ulen = colon ? (size_t) (colon - u.userinfo) : u.userinfo_len;

		DECODE(u.userinfo, ulen, false, &out->access_key_id, "the access key");
		if (colon)
			DECODE(colon + 1, u.userinfo_len - ulen - 1, false,
				   &out->secret_access_key, "the secret key");
	}

	/* ?region= and ?sessionToken= (form-decoded, like URLSearchParams) */
	if (u.query)
	{
		const char *q = u.query;
		const char *qend = u.query + u.query_len;

		while (q < qend)
		{
			const char *amp = memchr(q, '&', (size_t) (qend - q));
			const char *e = amp ? amp : qend;
			const char *eq = memchr(q, '=', (size_t) (e - q));
			size_t		klen = (size_t) ((eq ? eq : e) - q);
			const char *v = eq ? eq + 1 : e;
			size_t		vlen = (size_t) (e - v);

			if (klen == 6 && memcmp(q, "region", 6) == 0)
			{
				free(out->region);
				DECODE(v, vlen, true, &out->region, "the region");
				if ((why = s3s_region_problem(out->region)) != NULL)
					FAIL(S3S_ERR_INVALID, "connection string: invalid region: %s", why);
			}
			else if (klen == 12 && memcmp(q, "sessionToken", 12) == 0)
			{
				if (strcmp(scheme, "file") == 0 || strcmp(scheme, "memory") == 0)
					FAIL(S3S_ERR_INVALID, "a %s:// connection string takes no credentials", scheme);
				free(out->session_token);
				DECODE(v, vlen, true, &out->session_token, "the session token");
			}
			q = e + 1;
		}
	}

	if (strcmp(scheme, "s3") == 0)
	{
		size_t		hlen = u.host_len;
		const char *colon = memchr(u.host, ':', u.host_len);
		char		ep[96];

		if (colon)
			FAIL(S3S_ERR_INVALID, "an s3:// connection string has no port: the endpoint option names host and port");
		if (hlen == 0 && u.userinfo != NULL)
			FAIL(S3S_ERR_INVALID, "an s3:// connection string with credentials names its bucket after the \"@\"");
		if (hlen == 0)
			DUP(out->bucket, "s3db", 4);
		else
			DECODE(u.host, hlen, false, &out->bucket, "the bucket");
		if ((why = s3s_bucket_name_problem(out->bucket)) != NULL)
			FAIL(S3S_ERR_INVALID, "connection string: invalid bucket name: %s", why);
		DUP(out->prefix, u.path_len > 0 ? u.path + 1 : "", u.path_len > 0 ? u.path_len - 1 : 0);
		snprintf(ep, sizeof(ep), "https://s3.%s.amazonaws.com",
				 out->region ? out->region : "us-east-1");
		DUP(out->endpoint, ep, strlen(ep));
		out->path_style = false;
	}
	else if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
	{
		const char *seg;
		const char *pend = u.path + u.path_len;
		const char *slash;
		char	   *host;
		size_t		hl;
		char	   *ep;

		if (u.host_len == 0)
			FAIL(S3S_ERR_INVALID, "connection string has no host");
		{
			/* the port, if any, follows the last ':' outside brackets */
			const char *hend = u.host + u.host_len;
			const char *c = hend;

			while (c > u.host && c[-1] != ':' && c[-1] != ']')
				c--;
			if (c > u.host && c[-1] == ':' && !valid_port(c, (size_t) (hend - c)))
				FAIL(S3S_ERR_INVALID, "connection string has an invalid port");
		}
		/* origin: lower-case host, default port dropped */
		DUP(host, u.host, u.host_len);
		for (char *c = host; *c; c++)
			*c = (char) tolower((unsigned char) *c);
		hl = strlen(host);
		if (strcmp(scheme, "http") == 0 && hl > 3 && strcmp(host + hl - 3, ":80") == 0)
			host[hl - 3] = '\0';
		else if (strcmp(scheme, "https") == 0 && hl > 4 && strcmp(host + hl - 4, ":443") == 0)
			host[hl - 4] = '\0';
		for (char *c = host; *c; c++)
			if (*c == ' ' || *c == '\\' || *c == '%')
			{
				free(host);
				FAIL(S3S_ERR_INVALID, "connection string has an invalid host");
			}
		ep = malloc(strlen(scheme) + 3 + strlen(host) + 1);
		if (ep == NULL)
		{
			free(host);
			FAIL(S3S_ERR_NOMEM, "out of memory");
		}
		sprintf(ep, "%s://%s", scheme, host);
		free(host);
		out->endpoint = ep;
		out->path_style = true;

		seg = u.path_len > 0 ? u.path + 1 : u.path;
		if (seg > pend)
			seg = pend;
		slash = memchr(seg, '/', (size_t) (pend - seg));
		if (slash == NULL)
			slash = pend;
		if (slash == seg)
			DUP(out->bucket, "s3db", 4);
		else
			DECODE(seg, (size_t) (slash - seg), false, &out->bucket, "the bucket");
		if ((why = s3s_bucket_name_problem(out->bucket)) != NULL)
			FAIL(S3S_ERR_INVALID, "connection string: invalid bucket name: %s", why);
		if (slash < pend)
			DUP(out->prefix, slash + 1, (size_t) (pend - slash - 1));
		else
			DUP(out->prefix, "", 0);
	}
	else if (strcmp(scheme, "memory") == 0)
	{
		if (u.host_len == 0)
			DUP(out->bucket, "test-bucket", 11);
		else
			DECODE(u.host, u.host_len, false, &out->bucket, "the bucket");
		if (u.path_len > 1)
			DECODE(u.path + 1, u.path_len - 1, false, &out->prefix, "the prefix");
		else
			DUP(out->prefix, "", 0);
	}
	else
	{
		/* file:// */
		char	   *path;
		char	   *host = NULL;
		size_t		need;

		if (u.path_len == 0 && u.host_len == 0)
			FAIL(S3S_ERR_INVALID, "file connection string has no path");
		DECODE(u.path, u.path_len, false, &path, "the path");
		if (u.host_len > 0)
		{
			dec_status ds = decode(u.host, u.host_len, false, &host);

			if (ds != DEC_OK)
			{
				free(path);
				FAIL(ds == DEC_NOMEM ? S3S_ERR_NOMEM : S3S_ERR_INVALID,
					 "file connection string has an invalid host");
			}
		}
		if (host == NULL || strcasecmp(host, "localhost") == 0)
			out->base_path = path[0] ? path : strdup("/");
		else if (strcmp(host, ".") == 0 || strcmp(host, "..") == 0)
		{
			char		cwd[4096];

			if (getcwd(cwd, sizeof(cwd)) == NULL)
				strcpy(cwd, ".");
			need = strlen(cwd) + 1 + strlen(host) + strlen(path) + 1;
			out->base_path = malloc(need);
			if (out->base_path)
				snprintf(out->base_path, need, "%s/%s%s", cwd, host, path);
		}
		else if (strlen(host) == 1 && isalpha((unsigned char) host[0]))
		{
			/* a drive letter, as on Windows */
			need = 2 + strlen(path) + 1;
			out->base_path = malloc(need);
			if (out->base_path)
				snprintf(out->base_path, need, "%s:%s", host, path);
		}
		else
		{
			need = 2 + strlen(host) + strlen(path) + 1;
			out->base_path = malloc(need);
			if (out->base_path)
				snprintf(out->base_path, need, "//%s%s", host, path);
		}
		if (out->base_path != path)
			free(path);
		free(host);
		if (out->base_path == NULL)
			FAIL(S3S_ERR_NOMEM, "out of memory");
		DUP(out->bucket, "s3db", 4);
		DUP(out->prefix, "", 0);
	}
	return true;

fail:
	s3s_location_free(out);
	return false;
}

bool
s3s_url_has_credentials(const char *url)
{
	url_parts	u;

	if (url == NULL || !split_url(url, strlen(url), &u))
		return false;
	return u.userinfo != NULL && u.userinfo_len > 0 &&
		!(u.userinfo_len == 1 && u.userinfo[0] == ':');
}

char *
s3s_url_redact(const char *url)
{
	url_parts	u;
	size_t		n;
	char	   *out;
	char	   *o;
	const char *tok;

	if (url == NULL)
		return strdup("");
	n = strlen(url);
	if (!split_url(url, n, &u))
		return strdup(url);
	out = malloc(n + 8);
	if (out == NULL)
		return NULL;

	/*
	 * Replace everything between "://" and the last '@' before the query by
	 * "***": a secret with a raw '/' would otherwise end the authority early
	 * and leak into the path.
	 */
	{
		const char *start = u.scheme + u.scheme_len + 3;
		const char *qend = start + strcspn(start, "?#");
		const char *at = NULL;

		for (const char *c = start; c < qend; c++)
			if (*c == '@')
				at = c;
		o = out;
		memcpy(o, url, (size_t) (start - url));
		o += start - url;
		if (at)
		{
			memcpy(o, "***", 3);
			o += 3;
			strcpy(o, at);
		}
		else
			strcpy(o, start);
	}

	/* hide a session token's value too */
	tok = strstr(out, "sessionToken=");
	if (tok)
	{
		char	   *v = (char *) tok + strlen("sessionToken=");
		size_t		vlen = strcspn(v, "&#");

		memmove(v + 3, v + vlen, strlen(v + vlen) + 1);
		memcpy(v, "***", 3);
	}
	return out;
}
