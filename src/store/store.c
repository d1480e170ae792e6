/*-------------------------------------------------------------------------
 *
 * store.c
 *		The object-store dispatcher: open a store from a connection string,
 *		validate request batches, count them and hand them to the backend.
 *
 * The backends (s3.c, fs.c, mem.c) only see requests that passed the
 * checks here, so argument validation lives in one place.  This file also
 * holds the helpers every backend needs: joining the key prefix, the
 * cancel hook, random bytes and MD5.
 *
 *-------------------------------------------------------------------------
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "store/store_int.h"

/* S3 refuses keys longer than this many bytes. */
#define S3S_MAX_KEY_LEN 1024
/* DeleteObjects takes at most this many keys. */
#define S3S_MAX_DELETE_KEYS 1000

/* Build the description shown in messages; never includes credentials. */
static char *
build_describe(const s3s_location *loc, const s3s_config *cfg)
{
	const char *prefix = loc->prefix ? loc->prefix : "";
	char	   *ep = NULL;
	char	   *out;
	size_t		len;
	int			n;

	if (strcmp(loc->scheme, "file") == 0)
	{
		len = strlen(loc->base_path ? loc->base_path : "") + strlen(prefix) + 32;
		out = malloc(len);
		if (out == NULL)
			return NULL;
		n = snprintf(out, len, "file base=%s prefix=%s",
					 loc->base_path ? loc->base_path : "", prefix);
	}
	else if (strcmp(loc->scheme, "memory") == 0)
	{
		len = strlen(loc->bucket ? loc->bucket : "") + strlen(prefix) + 32;
		out = malloc(len);
		if (out == NULL)
			return NULL;
		n = snprintf(out, len, "memory bucket=%s prefix=%s",
					 loc->bucket ? loc->bucket : "", prefix);
	}
	else
	{
		const char *endpoint = cfg->endpoint ? cfg->endpoint : loc->endpoint;

		/* an endpoint option could carry userinfo: redact it */
		if (endpoint != NULL)
		{
			ep = s3s_url_redact(endpoint);
			if (ep == NULL)
				return NULL;
		}
		len = strlen(loc->bucket ? loc->bucket : "") + strlen(prefix) +
			strlen(ep ? ep : "") + 48;
		out = malloc(len);
		if (out == NULL)
		{
			free(ep);
			return NULL;
		}
		n = snprintf(out, len, "s3 bucket=%s prefix=%s endpoint=%s",
					 loc->bucket ? loc->bucket : "", prefix, ep ? ep : "");
		free(ep);
	}
	if (n < 0)
	{
		free(out);
		return NULL;
	}
	return out;
}

s3s_store *
s3s_open(const s3s_config *cfg, s3s_error *err)
{
	s3s_store  *st;

	s3s_error_clear(err);
	if (cfg == NULL || cfg->url == NULL || cfg->url[0] == '\0')
	{
		s3s_error_set(err, S3S_ERR_INVALID, "open", NULL, "no store url given");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "open", NULL, "out of memory");
		return NULL;
	}
	if (!s3s_parse_location(cfg->url, &st->loc, err))
	{
		free(st);
		return NULL;
	}
	if (st->loc.scheme == NULL)
		goto bad_scheme;
	if (strcmp(st->loc.scheme, "s3") == 0 || strcmp(st->loc.scheme, "http") == 0 ||
		strcmp(st->loc.scheme, "https") == 0)
	{
		st->backend = &s3s_backend_s3;
		st->kind = S3S_KIND_S3;
	}
	else if (strcmp(st->loc.scheme, "file") == 0)
	{
		st->backend = &s3s_backend_fs;
		st->kind = S3S_KIND_FILE;
	}
	else if (strcmp(st->loc.scheme, "memory") == 0)
	{
		st->backend = &s3s_backend_mem;
		st->kind = S3S_KIND_MEMORY;
	}
	else
		goto bad_scheme;

	st->describe = build_describe(&st->loc, cfg);
	if (st->describe == NULL)
	{
		s3s_error_set(err, S3S_ERR_NOMEM, "open", NULL, "out of memory");
		s3s_location_free(&st->loc);
		free(st);
		return NULL;
	}
	st->cancel = cfg->cancel;
	st->cancel_arg = cfg->cancel_arg;
	st->max_inflight = cfg->max_inflight > 0 ? cfg->max_inflight : 48;
	st->gate = S3S_GATE_UNCHECKED;
	st->accept_weak = cfg->accept_weak_conditions;
	st->meta_needed = cfg->metadata_needed > 0 ? cfg->metadata_needed : 0;
	st->on_probe = cfg->on_probe;
	st->on_probe_arg = cfg->on_probe_arg;
	if (!st->backend->open(st, cfg, err))
	{
		if (err != NULL && err->code == S3S_OK)
			s3s_error_set(err, S3S_ERR_INVALID, "open", NULL,
						  "could not open %s store", st->backend->name);
		free(st->describe);
		s3s_location_free(&st->loc);
		free(st);
		return NULL;
	}
	return st;

bad_scheme:
	s3s_error_set(err, S3S_ERR_INVALID, "open", NULL,
				  "unsupported store url scheme \"%s\"",
				  st->loc.scheme ? st->loc.scheme : "");
	s3s_location_free(&st->loc);
	free(st);
	return NULL;
}

void
s3s_close(s3s_store *st)
{
	if (st == NULL)
		return;
	if (st->backend != NULL && st->backend->close != NULL)
		st->backend->close(st);
	s3s_location_free(&st->loc);
	free(st->describe);
	free(st);
}

s3s_kind
s3s_store_kind(const s3s_store *st)
{
	return st->kind;
}

const char *
s3s_store_describe(const s3s_store *st)
{
	return st->describe;
}

void
s3s_set_cancel(s3s_store *st, s3s_cancel_fn fn, void *arg)
{
	st->cancel = fn;
	st->cancel_arg = arg;
}

void
s3s_set_max_inflight(s3s_store *st, int n)
{
	st->max_inflight = n > 0 ? n : 48;
}

int
s3s_get_max_inflight(const s3s_store *st)
{
	return st->max_inflight;
}

bool
s3s_cancelled(s3s_store *st)
{
	return st->cancel != NULL && st->cancel(st->cancel_arg);
}

static bool
key_ok(const char *key)
{
	return key != NULL && key[0] != '\0' && strlen(key) <= S3S_MAX_KEY_LEN;
}

/*
 * Check a request's inputs; on failure fill r->err and return false.  Only
 * what every backend relies on is checked here; backends add their own
 * rules (the file backend refuses keys that are not safe paths).
 */
static bool
validate_request(s3s_request *r)
{
	const char *op = s3s_op_name(r->op);
	int			i;

	if ((int) r->op < (int) S3S_OP_HEAD || (int) r->op > (int) S3S_OP_LIST)
	{
		s3s_error_set(&r->err, S3S_ERR_INVALID, "?", NULL, "unknown request type %d", (int) r->op);
		return false;
	}
	switch (r->op)
	{
		case S3S_OP_HEAD:
		case S3S_OP_GET:
		case S3S_OP_PUT:
		case S3S_OP_COPY:
		case S3S_OP_DELETE:
			if (!key_ok(r->key))
			{
				s3s_error_set(&r->err, S3S_ERR_INVALID, op, r->key,
							  "object key must be 1 to %d bytes long", S3S_MAX_KEY_LEN);
				return false;
			}
			break;
		default:
			break;
	}
	if (r->op == S3S_OP_GET)
	{
		if (r->range_start < -1 || r->range_end < -1 ||
			(r->range_start == -1 && r->range_end != -1) ||
			(r->range_end != -1 && r->range_end < r->range_start))
		{
			s3s_error_set(&r->err, S3S_ERR_INVALID, op, r->key, "invalid byte range");
			return false;
		}
	}
	if (r->op == S3S_OP_PUT && r->body == NULL && r->body_len > 0)
	{
		s3s_error_set(&r->err, S3S_ERR_INVALID, op, r->key, "body length without a body");
		return false;
	}
	if (r->op == S3S_OP_COPY && !key_ok(r->copy_source))
	{
		s3s_error_set(&r->err, S3S_ERR_INVALID, op, r->key, "copy source key missing or too long");
		return false;
	}
	if ((r->op == S3S_OP_PUT || r->op == S3S_OP_COPY) && r->meta != NULL)
	{
		for (i = 0; i < r->meta->n; i++)
		{
			if (r->meta->keys[i] == NULL || r->meta->keys[i][0] == '\0' ||
				r->meta->values[i] == NULL)
			{
				s3s_error_set(&r->err, S3S_ERR_INVALID, op, r->key, "empty metadata key or value");
				return false;
			}
		}
	}
	if (r->op == S3S_OP_DELETE_MANY)
	{
		if (r->nkeys < 0 || r->nkeys > S3S_MAX_DELETE_KEYS ||
			(r->nkeys > 0 && r->keys == NULL))
		{
			s3s_error_set(&r->err, S3S_ERR_INVALID, op, NULL,
						  "delete batch must have 0 to %d keys", S3S_MAX_DELETE_KEYS);
			return false;
		}
		for (i = 0; i < r->nkeys; i++)
		{
			if (!key_ok(r->keys[i]))
			{
				s3s_error_set(&r->err, S3S_ERR_INVALID, op, r->keys[i],
							  "object key must be 1 to %d bytes long", S3S_MAX_KEY_LEN);
				return false;
			}
		}
	}
	if (r->op == S3S_OP_LIST && r->max_keys < 0)
	{
		s3s_error_set(&r->err, S3S_ERR_INVALID, op, r->prefix, "negative max_keys");
		return false;
	}
	return true;
}

/*
 * Drop the conditions the store was told never to send (s3s_conditions)
 * from the valid requests of a batch, keeping what the caller set in
 * saved[] so that restore_conditions() can give the caller its requests
 * back unchanged.  Returns false on out of memory.
 */
typedef struct saved_cond
{
	bool		if_none_match;
	const char *if_match;
} saved_cond;

static bool
omit_conditions(s3s_store *st, s3s_request *reqs, int n, saved_cond **saved)
{
	*saved = NULL;
	if (!st->cond.omit_if_none_match && !st->cond.omit_put_if_match &&
		!st->cond.omit_copy_if_match && !st->cond.omit_delete_if_match)
		return true;
	*saved = malloc(sizeof(saved_cond) * n);
	if (*saved == NULL)
		return false;
	for (int i = 0; i < n; i++)
	{
		s3s_request *r = &reqs[i];
		bool		put = r->op == S3S_OP_PUT || r->op == S3S_OP_COPY;

		(*saved)[i].if_none_match = r->if_none_match;
		(*saved)[i].if_match = r->if_match;
		if (put && st->cond.omit_if_none_match)
			r->if_none_match = false;
		if ((r->op == S3S_OP_PUT && st->cond.omit_put_if_match) ||
			(r->op == S3S_OP_COPY && st->cond.omit_copy_if_match) ||
			(r->op == S3S_OP_DELETE && st->cond.omit_delete_if_match))
			r->if_match = NULL;
	}
	return true;
}

static void
restore_conditions(s3s_request *reqs, int n, saved_cond *saved)
{
	if (saved == NULL)
		return;
	for (int i = 0; i < n; i++)
	{
		reqs[i].if_none_match = saved[i].if_none_match;
		reqs[i].if_match = saved[i].if_match;
	}
	free(saved);
}

int
s3s_execute(s3s_store *st, s3s_request *reqs, int n)
{
	int			nvalid = 0;
	int			nfailed = 0;
	int			i;
	saved_cond *saved = NULL;

	if (st == NULL || reqs == NULL || n <= 0)
		return 0;

	for (i = 0; i < n; i++)
	{
		s3s_request_reset(&reqs[i]);
		if (validate_request(&reqs[i]))
			nvalid++;
	}

	/* conditional writes only to a store known to honour them (gate.c) */
	if (nvalid > 0)
		nvalid -= s3s_gate_batch(st, reqs, n);

	if (nvalid > 0 && !omit_conditions(st, reqs, n, &saved))
	{
		for (i = 0; i < n; i++)
			if (reqs[i].err.code == S3S_OK)
				s3s_error_set(&reqs[i].err, S3S_ERR_NOMEM, s3s_op_name(reqs[i].op),
							  reqs[i].key, "out of memory");
		nvalid = 0;
	}

	if (nvalid > 0 && s3s_cancelled(st))
	{
		for (i = 0; i < n; i++)
			if (reqs[i].err.code == S3S_OK)
				s3s_error_set(&reqs[i].err, S3S_ERR_CANCELLED, s3s_op_name(reqs[i].op),
							  reqs[i].key, "request cancelled");
		nvalid = 0;
	}

	/* count what is handed to the backend, whether or not it succeeds */
	for (i = 0; i < n && nvalid > 0; i++)
		if (reqs[i].err.code == S3S_OK)
			st->stats.requests[reqs[i].op]++;

	if (nvalid == n)
		st->backend->execute(st, reqs, n);
	else if (nvalid > 0)
	{
		/*
		 * Hand the valid requests over as one batch (so the S3 backend can
		 * still run them concurrently), then move the results back.
		 */
		s3s_request *tmp = malloc(sizeof(s3s_request) * nvalid);
		int			j = 0;

		if (tmp == NULL)
		{
			for (i = 0; i < n; i++)
				if (reqs[i].err.code == S3S_OK)
					s3s_error_set(&reqs[i].err, S3S_ERR_NOMEM, s3s_op_name(reqs[i].op),
								  reqs[i].key, "out of memory");
			nvalid = 0;
		}
		else
		{
			for (i = 0; i < n; i++)
				if (reqs[i].err.code == S3S_OK)
					tmp[j++] = reqs[i];
			st->backend->execute(st, tmp, nvalid);
			j = 0;
			for (i = 0; i < n; i++)
				if (reqs[i].err.code == S3S_OK)
					reqs[i] = tmp[j++];
			free(tmp);
		}
	}
	restore_conditions(reqs, n, saved);

	for (i = 0; i < n; i++)
	{
		s3s_request *r = &reqs[i];

		if (r->attempts > 1)
			st->stats.retries += r->attempts - 1;
		st->stats.bytes_in += r->bytes_in;
		st->stats.bytes_out += r->bytes_out;
		if (r->err.code != S3S_OK)
			nfailed++;
	}
	return nfailed;
}

static s3s_code
single(s3s_store *st, s3s_op op, const char *key, s3s_object *out, s3s_error *err)
{
	s3s_request r;

	s3s_request_init(&r, op, key);
	s3s_execute(st, &r, 1);
	if (err != NULL)
		*err = r.err;
	if (r.err.code == S3S_OK && out != NULL)
	{
		*out = r.obj;
		memset(&r.obj, 0, sizeof(r.obj));
	}
	else if (out != NULL)
		memset(out, 0, sizeof(*out));
	s3s_request_reset(&r);
	return err != NULL ? err->code : S3S_OK;
}

s3s_code
s3s_head(s3s_store *st, const char *key, s3s_object *out, s3s_error *err)
{
	s3s_error	local;

	return single(st, S3S_OP_HEAD, key, out, err ? err : &local);
}

s3s_code
s3s_get(s3s_store *st, const char *key, s3s_object *out, s3s_error *err)
{
	s3s_error	local;

	return single(st, S3S_OP_GET, key, out, err ? err : &local);
}

void
s3s_get_stats(const s3s_store *st, s3s_stats *out)
{
	*out = st->stats;
}

void
s3s_set_conditions(s3s_store *st, const s3s_conditions *c)
{
	st->cond = *c;
	st->gate = S3S_GATE_OPEN;
}

void
s3s_get_conditions(const s3s_store *st, s3s_conditions *out)
{
	*out = st->cond;
}

/*
 * POSIX join of the key prefix and a logical key, with runs of '/'
 * collapsed.  "." and ".." segments are not resolved: the file backend
 * refuses them and S3 stores them literally.  An empty key yields the
 * prefix with one trailing '/', so that listing "" under prefix "a/b"
 * cannot match "a/bc".
 */
char *
s3s_full_key(const s3s_store *st, const char *key)
{
	const char *prefix = st->loc.prefix ? st->loc.prefix : "";
	size_t		plen = strlen(prefix);
	size_t		klen = key ? strlen(key) : 0;
	char	   *out;
	char	   *w;
	const char *s;
	int			part;

	if (plen == 0)
		return strdup(key ? key : "");
	out = malloc(plen + klen + 2);
	if (out == NULL)
		return NULL;
	w = out;
	for (part = 0; part < 3; part++)
	{
		s = part == 0 ? prefix : part == 1 ? "/" : (key ? key : "");
		for (; *s; s++)
		{
			if (*s == '/' && w > out && w[-1] == '/')
				continue;
			*w++ = *s;
		}
	}
	*w = '\0';
	return out;
}

/* Strip the key prefix (normalized as by s3s_full_key) from a full key. */
char *
s3s_logical_key(const s3s_store *st, const char *full)
{
	char	   *p;
	size_t		plen;
	char	   *out;

	if (full == NULL)
		return NULL;
	if (st->loc.prefix == NULL || st->loc.prefix[0] == '\0')
		return strdup(full);
	p = s3s_full_key(st, "");
	if (p == NULL)
		return NULL;
	plen = strlen(p);			/* ends with '/' */
	if (strncmp(full, p, plen) != 0)
		out = NULL;
	else
		out = strdup(full + plen);
	free(p);
	return out;
}

void
s3s_random_bytes(unsigned char *buf, size_t n)
{
	static unsigned long long fallback_state;
	int			fd;
	size_t		got = 0;

	if (n == 0)
		return;
	if (n <= (size_t) 0x7fffffff && RAND_bytes(buf, (int) n) == 1)
		return;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
	{
		while (got < n)
		{
			ssize_t		r = read(fd, buf + got, n - got);

			if (r <= 0)
				break;
			got += (size_t) r;
		}
		close(fd);
	}
	/* last resort, only for jitter and temporary names: a time-seeded xorshift */
	if (got < n)
	{
		if (fallback_state == 0)
			fallback_state = ((unsigned long long) time(NULL) << 20) ^ (unsigned long long) getpid() ^ 0x9e3779b97f4a7c15ULL;
		for (; got < n; got++)
		{
			fallback_state ^= fallback_state << 13;
			fallback_state ^= fallback_state >> 7;
			fallback_state ^= fallback_state << 17;
			buf[got] = (unsigned char) fallback_state;
		}
	}
}

void
s3s_md5_hex(const unsigned char *data, size_t len, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned int i;

	out[0] = '\0';
	if (EVP_Digest(data ? (const void *) data : (const void *) "", data ? len : 0,
				   md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
		return;
	for (i = 0; i < 16; i++)
	{
		out[i * 2] = hex[md[i] >> 4];
		out[i * 2 + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}
