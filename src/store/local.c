/*-------------------------------------------------------------------------
 *
 * local.c
 *		Listing pages and small helpers shared by the file:// and memory://
 *		backends.
 *
 * The lister implements ListObjectsV2 semantics over keys supplied in byte
 * order: keys must start with the prefix and sort after start-after and the
 * continuation point; with a delimiter, keys sharing the part up to the
 * first delimiter after the prefix fold into one common prefix; a page holds
 * at most max_keys items (keys plus common prefixes, at most 1000).
 *
 * The continuation token is private to the local backends: "k" followed by
 * the last full key returned, or "p" followed by the last common prefix
 * returned (everything below it is skipped on the next page).  Callers treat
 * it as opaque.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/local.h"

#define LIST_DEFAULT_MAX 1000

static bool
starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Replace *slot with a copy of s when s sorts after it. */
static bool
raise_after(char **slot, const char *s)
{
	char	   *c;

	if (*slot != NULL && strcmp(*slot, s) >= 0)
		return true;
	c = strdup(s);
	if (c == NULL)
		return false;
	free(*slot);
	*slot = c;
	return true;
}

static void
lister_free(s3s_lister *l)
{
	free(l->prefix);
	free(l->after);
	free(l->skip_prefix);
	free(l->last);
	l->prefix = l->after = l->skip_prefix = l->last = NULL;
}

bool
s3s_lister_begin(s3s_lister *l, s3s_store *st, s3s_request *r)
{
	memset(l, 0, sizeof(*l));
	l->st = st;
	l->out = &r->list;
	l->max_keys = r->max_keys <= 0 || r->max_keys > LIST_DEFAULT_MAX ?
		LIST_DEFAULT_MAX : r->max_keys;
	l->delimiter = r->delimiter && r->delimiter[0] ? r->delimiter : NULL;
	l->prefix = s3s_full_key(st, r->prefix ? r->prefix : "");
	if (l->prefix == NULL)
		goto nomem;
	if (r->start_after && r->start_after[0])
	{
		char	   *sa = s3s_full_key(st, r->start_after);

		if (sa == NULL)
			goto nomem;
		l->after = sa;
	}
	if (r->continuation && r->continuation[0])
	{
		const char *t = r->continuation;

		if (t[0] != 'k' && t[0] != 'p')
		{
			s3s_error_set(&r->err, S3S_ERR_INVALID, "LIST", r->prefix,
						  "invalid continuation token");
			lister_free(l);
			return false;
		}
		if (!raise_after(&l->after, t + 1))
			goto nomem;
		if (t[0] == 'p' && (l->skip_prefix = strdup(t + 1)) == NULL)
			goto nomem;
	}
	return true;

nomem:
	s3s_error_set(&r->err, S3S_ERR_NOMEM, "LIST", r->prefix, "out of memory");
	lister_free(l);
	return false;
}

const char *
s3s_lister_seek(const s3s_lister *l)
{
	if (l->after != NULL && strcmp(l->after, l->prefix) > 0)
		return l->after;
	return l->prefix;
}

s3s_lister_verdict
s3s_lister_want(const s3s_lister *l, const char *full)
{
	if (!starts_with(full, l->prefix))
		return strcmp(full, l->prefix) > 0 ? S3S_LISTER_STOP : S3S_LISTER_SKIP;
	if (l->after != NULL && strcmp(full, l->after) <= 0)
		return S3S_LISTER_SKIP;
	if (l->skip_prefix != NULL && starts_with(full, l->skip_prefix))
		return S3S_LISTER_SKIP;
	if (l->done)
		return S3S_LISTER_STOP;
	return S3S_LISTER_TAKE;
}

bool
s3s_lister_want_subtree(const s3s_lister *l, const char *dirprefix)
{
	if (l->done)
		return false;
	/* the subtree and the listing prefix must overlap */
	if (!starts_with(dirprefix, l->prefix) && !starts_with(l->prefix, dirprefix))
		return false;
	/* every key below lies at or before the resume point */
	if (l->after != NULL && strcmp(l->after, dirprefix) > 0 &&
		!starts_with(l->after, dirprefix))
		return false;
	/* the whole subtree folds into a common prefix already returned */
	if (l->skip_prefix != NULL && starts_with(dirprefix, l->skip_prefix))
		return false;
	return true;
}

static bool
set_last(s3s_lister *l, char kind, const char *full)
{
	size_t		n = strlen(full);
	char	   *t = malloc(n + 2);

	if (t == NULL)
		return false;
	t[0] = kind;
	memcpy(t + 1, full, n + 1);
	free(l->last);
	l->last = t;
	return true;
}

bool
s3s_lister_add(s3s_lister *l, const char *full, const char *etag,
			   int64_t size, int64_t last_modified)
{
	s3s_list   *out = l->out;
	const char *rest = full + strlen(l->prefix);
	const char *d = l->delimiter ? strstr(rest, l->delimiter) : NULL;

	if (out->n + out->nprefixes >= l->max_keys)
	{
		out->truncated = true;
		l->done = true;
		return true;
	}
	if (d != NULL)
	{
		size_t		cplen = (size_t) (d - full) + strlen(l->delimiter);
		char	   *cp = strndup(full, cplen);
		char	   *logical;

		if (cp == NULL)
			return false;
		logical = s3s_logical_key(l->st, cp);
		if (logical == NULL)
		{
			free(cp);
			return false;
		}
		if (out->nprefixes == l->cap_prefixes)
		{
			int			ncap = l->cap_prefixes ? l->cap_prefixes * 2 : 16;
			char	  **np = realloc(out->prefixes, sizeof(char *) * ncap);

			if (np == NULL)
			{
				free(cp);
				free(logical);
				return false;
			}
			out->prefixes = np;
			l->cap_prefixes = ncap;
		}
		out->prefixes[out->nprefixes++] = logical;
		free(l->skip_prefix);
		l->skip_prefix = cp;
		return set_last(l, 'p', cp);
	}
	else
	{
		s3s_list_entry *e;
		char	   *logical = s3s_logical_key(l->st, full);
		char	   *et = NULL;

		if (logical == NULL)
			return false;
		if (etag != NULL && (et = strdup(etag)) == NULL)
		{
			free(logical);
			return false;
		}
		if (out->n == l->cap_entries)
		{
			int			ncap = l->cap_entries ? l->cap_entries * 2 : 16;
			s3s_list_entry *ne = realloc(out->entries, sizeof(s3s_list_entry) * ncap);

			if (ne == NULL)
			{
				free(logical);
				free(et);
				return false;
			}
			out->entries = ne;
			l->cap_entries = ncap;
		}
		e = &out->entries[out->n++];
		e->key = logical;
		e->etag = et;
		e->size = size;
		e->last_modified = last_modified;
		return set_last(l, 'k', full);
	}
}

bool
s3s_lister_end(s3s_lister *l, bool ok)
{
	if (ok && l->out->truncated && l->last != NULL)
	{
		l->out->next_token = l->last;
		l->last = NULL;
	}
	lister_free(l);
	return ok;
}

/*
 * Resolve a GET's byte range against an object of total bytes; S3 answers
 * 416 InvalidRange when the range starts at or past the end.
 */
bool
s3s_local_range(s3s_request *r, size_t total, size_t *off, size_t *len)
{
	size_t		end;

	if (r->range_start < 0)
	{
		*off = 0;
		*len = total;
		return true;
	}
	if ((uint64_t) r->range_start >= (uint64_t) total)
	{
		s3s_error_set(&r->err, S3S_ERR_CLIENT, "GET", r->key,
					  "requested range is not satisfiable");
		r->err.http_status = 416;
		strcpy(r->err.s3_code, "InvalidRange");
		return false;
	}
	end = total - 1;
	if (r->range_end >= 0 && (uint64_t) r->range_end < (uint64_t) end)
		end = (size_t) r->range_end;
	*off = (size_t) r->range_start;
	*len = end - *off + 1;
	return true;
}

bool
s3s_local_etag_match(const char *stored, const char *cond)
{
	size_t		n;

	if (stored == NULL || cond == NULL)
		return false;
	if (strcmp(cond, "*") == 0)
		return true;
	if (cond[0] == 'W' && cond[1] == '/')
		cond += 2;
	n = strlen(cond);
	if (n >= 2 && cond[0] == '"' && cond[n - 1] == '"')
	{
		cond++;
		n -= 2;
	}
	return strlen(stored) == n && strncasecmp(stored, cond, n) == 0;
}

int
s3s_local_meta_lower(s3s_meta *dst, const s3s_meta *src)
{
	int			i;

	s3s_meta_init(dst);
	if (src == NULL)
		return 0;
	for (i = 0; i < src->n; i++)
	{
		char	   *k = strdup(src->keys[i]);
		char	   *p;
		int			rc;

		if (k == NULL)
		{
			s3s_meta_free(dst);
			return -1;
		}
		for (p = k; *p; p++)
			*p = (char) tolower((unsigned char) *p);
		rc = s3s_meta_add(dst, k, src->values[i]);
		free(k);
		if (rc != 0)
		{
			s3s_meta_free(dst);
			return -1;
		}
	}
	return 0;
}

int64_t
s3s_local_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
s3s_local_format_iso(int64_t ms, char out[32])
{
	time_t		secs = (time_t) (ms / 1000);
	struct tm	tm;

	if (ms < 0 || gmtime_r(&secs, &tm) == NULL)
	{
		strcpy(out, "1970-01-01T00:00:00.000Z");
		return;
	}
	if (tm.tm_year + 1900 > 9999 ||
		strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
	{
		strcpy(out, "1970-01-01T00:00:00.000Z");
		return;
	}
	out[19] = '.';
	out[20] = (char) ('0' + (ms % 1000) / 100);
	out[21] = (char) ('0' + (ms % 100) / 10);
	out[22] = (char) ('0' + ms % 10);
	out[23] = 'Z';
	out[24] = '\0';
}

int64_t
s3s_local_parse_iso(const char *s)
{
	struct tm	tm;
	int			y,
				mo,
				d,
				h,
				mi,
				sec,
				consumed = 0;
	int64_t		frac = 0;
	time_t		t;

	if (s == NULL)
		return 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6 ||
		consumed == 0)
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return 0;
	s += consumed;
	if (*s == '.')
	{
		int			digits = 0;

		for (s++; isdigit((unsigned char) *s); s++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*s - '0');
		while (digits++ < 3)
			frac *= 10;
	}
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
	return (int64_t) t * 1000 + frac;
}
