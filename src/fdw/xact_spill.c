/*-------------------------------------------------------------------------
 *
 * xact_spill.c
 *		Pending writes and "seen" records as copies and as bytes, and the
 *		temporary file a large transaction keeps the bytes in (xact.c).
 *
 * An entry is a sequence of chunks, each a 32-bit length and that many
 * bytes; a length of 0xFFFFFFFF is a NULL string.  Lists (partition
 * references, metadata) are a count followed by their strings.  Reading
 * checks every length against the record, so a damaged file is an error,
 * never a wild read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"
#include "utils/resowner.h"

#include "fdw/xact_int.h"

#define NULL_LEN 0xFFFFFFFFu

static void
put_len(StringInfo buf, uint32 len)
{
	appendBinaryStringInfo(buf, (const char *) &len, sizeof(len));
}

static void
put_bytes(StringInfo buf, const char *data, size_t len)
{
	if (len >= NULL_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a pending write of %zu bytes is too large", len)));
	put_len(buf, (uint32) len);
	if (len > 0)
		appendBinaryStringInfo(buf, data, len);
}

static void
put_str(StringInfo buf, const char *s)
{
	if (s == NULL)
		put_len(buf, NULL_LEN);
	else
		put_bytes(buf, s, strlen(s));
}

static void
put_int(StringInfo buf, int32 v)
{
	put_bytes(buf, (const char *) &v, sizeof(v));
}

static void
put_list(StringInfo buf, List *strs)
{
	ListCell   *lc;

	put_int(buf, list_length(strs));
	foreach(lc, strs)
		put_str(buf, (const char *) lfirst(lc));
}

static void
put_meta(StringInfo buf, int n, char **keys, char **vals)
{
	put_int(buf, n);
	for (int i = 0; i < n; i++)
	{
		put_str(buf, keys[i]);
		put_str(buf, vals[i]);
	}
}

typedef struct Reader
{
	const char *pos;
	const char *end;
} Reader;

static void
corrupt(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("s3db_fdw temporary file of pending writes is corrupt")));
}

/* The next chunk: its bytes (not terminated) and length; NULL for a NULL string. */
static const char *
get_chunk(Reader *r, uint32 *len)
{
	uint32		l;
	const char *data;

	if (r->end - r->pos < (long) sizeof(l))
		corrupt();
	memcpy(&l, r->pos, sizeof(l));
	r->pos += sizeof(l);
	if (l == NULL_LEN)
	{
		*len = 0;
		return NULL;
	}
	if (r->end - r->pos < (long) l)
		corrupt();
	data = r->pos;
	r->pos += l;
	*len = l;
	return data;
}

static char *
get_str(Reader *r)
{
	uint32		len;
	const char *d = get_chunk(r, &len);

	return d ? pnstrdup(d, len) : NULL;
}

static int32
get_int(Reader *r)
{
	uint32		len;
	const char *d = get_chunk(r, &len);
	int32		v;

	if (d == NULL || len != sizeof(v))
		corrupt();
	memcpy(&v, d, sizeof(v));
	return v;
}

static List *
get_list(Reader *r)
{
	int32		n = get_int(r);
	List	   *out = NIL;

	if (n < 0)
		corrupt();
	for (int i = 0; i < n; i++)
		out = lappend(out, get_str(r));
	return out;
}

static int
get_meta(Reader *r, char ***keys, char ***vals)
{
	int32		n = get_int(r);

	if (n < 0 || n > (int32) (MaxAllocSize / sizeof(char *)) - 1)
		corrupt();
	*keys = palloc(sizeof(char *) * Max(n, 1));
	*vals = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		(*keys)[i] = get_str(r);
		(*vals)[i] = get_str(r);
		if ((*keys)[i] == NULL || (*vals)[i] == NULL)
			corrupt();
	}
	return n;
}

/* A body: bytes plus a terminating NUL, or NULL. */
static char *
get_body(Reader *r, size_t *len)
{
	uint32		l;
	const char *d = get_chunk(r, &l);

	*len = d ? l : 0;
	return s3db_copy_bytes(d, *len);
}

void
s3db_pending_serialize(StringInfo buf, const S3dbPending *p)
{
	put_int(buf, (int32) p->op);
	put_int(buf, (int32) p->serverid);
	put_int(buf, (int32) p->userid);
	put_int(buf, (p->is_insert ? 1 : 0) | (p->if_absent ? 2 : 0));
	put_str(buf, p->resource);
	put_str(buf, p->id);
	put_str(buf, p->key);
	put_str(buf, p->version);
	put_list(buf, p->markers);
	put_meta(buf, p->nmeta, p->mkeys, p->mvals);
	if (p->body)
		put_bytes(buf, p->body, p->body_len);
	else
		put_len(buf, NULL_LEN);
	put_str(buf, p->content_type);
}

S3dbPending *
s3db_pending_deserialize(const char *data, size_t len)
{
	Reader		r = {data, data + len};
	S3dbPending *p = palloc0(sizeof(S3dbPending));
	int32		flags;

	p->op = (S3dbPendingOp) get_int(&r);
	p->serverid = (Oid) get_int(&r);
	p->userid = (Oid) get_int(&r);
	flags = get_int(&r);
	p->is_insert = (flags & 1) != 0;
	p->if_absent = (flags & 2) != 0;
	p->resource = get_str(&r);
	p->id = get_str(&r);
	p->key = get_str(&r);
	p->version = get_str(&r);
	p->markers = get_list(&r);
	p->nmeta = get_meta(&r, &p->mkeys, &p->mvals);
	p->body = get_body(&r, &p->body_len);
	p->content_type = get_str(&r);
	if (p->resource == NULL || p->id == NULL || p->key == NULL || r.pos != r.end)
		corrupt();
	return p;
}

void
s3db_seen_serialize(StringInfo buf, const S3dbSeen *s)
{
	put_str(buf, s->etag);
	put_int(buf, s->has_body ? 1 : 0);
	put_int(buf, s->has_content ? 1 : 0);
	put_str(buf, s->version);
	put_list(buf, s->markers);
	put_list(buf, s->content_meta);
	put_meta(buf, s->nmeta, s->mkeys, s->mvals);
	if (s->body)
		put_bytes(buf, s->body, s->body_len);
	else
		put_len(buf, NULL_LEN);
	put_str(buf, s->content_type);
}

S3dbSeen *
s3db_seen_deserialize(const char *data, size_t len)
{
	Reader		r = {data, data + len};
	S3dbSeen   *s = palloc0(sizeof(S3dbSeen));

	s->etag = get_str(&r);
	s->has_body = get_int(&r) != 0;
	s->has_content = get_int(&r) != 0;
	s->version = get_str(&r);
	s->markers = get_list(&r);
	s->content_meta = get_list(&r);
	s->nmeta = get_meta(&r, &s->mkeys, &s->mvals);
	s->body = get_body(&r, &s->body_len);
	s->content_type = get_str(&r);
	if (s->etag == NULL || r.pos != r.end)
		corrupt();
	return s;
}

/* ---------------------------------------------------------------------
 * Copies in memory and the spill file
 * ---------------------------------------------------------------------
 */

/* Append bytes to the spill file; where they went in *pl. */
void
s3db_spill_write(S3dbSpill *sp, const StringInfo buf, S3dbPlace *pl)
{
	if (sp->file == NULL)
	{
		ResourceOwner saved = CurrentResourceOwner;
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		CurrentResourceOwner = TopTransactionResourceOwner;
		sp->file = BufFileCreateTemp(false);
		CurrentResourceOwner = saved;
		MemoryContextSwitchTo(old);
	}
	/* reads move the position: always append at our own end mark */
	if (BufFileSeek(sp->file, sp->end_file, sp->end_off, SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not seek in a temporary file of pending writes")));
	BufFileWrite(sp->file, buf->data, buf->len);
	pl->mem = NULL;
	pl->fileno = sp->end_file;
	pl->off = sp->end_off;
	pl->len = (uint32) buf->len;
	BufFileTell(sp->file, &sp->end_file, &sp->end_off);
}

/* The bytes of an entry on disk, in CurrentMemoryContext. */
char *
s3db_spill_read(S3dbSpill *sp, const S3dbPlace *pl)
{
	char	   *buf = palloc(pl->len);

	if (BufFileSeek(sp->file, pl->fileno, pl->off, SEEK_SET) != 0 ||
		BufFileRead(sp->file, buf, pl->len) != pl->len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read pending writes back from a temporary file")));
	return buf;
}

/* Close the file, if there is one (at the end of the transaction). */
void
s3db_spill_close(S3dbSpill *sp)
{
	if (sp->file)
		BufFileClose(sp->file);
	sp->file = NULL;
}

/* Copies of n strings, in an array of at least one slot (palloc). */
char **
s3db_copy_strings(char *const *from, int n)
{
	char	  **to = palloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
		to[i] = pstrdup(from[i]);
	return to;
}

/* A NUL-terminated copy of len bytes (palloc), or NULL for NULL. */
char *
s3db_copy_bytes(const char *from, size_t len)
{
	char	   *to;

	if (from == NULL)
		return NULL;
	to = palloc(len + 1);
	memcpy(to, from, len);
	to[len] = '\0';
	return to;
}

/*
 * A deep copy of a write in CurrentMemoryContext; its resource name and
 * version are the caller's copies, shared by the transaction's writes.
 */
S3dbPending *
s3db_pending_copy(const S3dbPending *p, char *resource, char *version)
{
	S3dbPending *c = palloc(sizeof(S3dbPending));
	ListCell   *lc;

	*c = *p;
	c->resource = resource;
	c->version = version;
	c->id = pstrdup(p->id);
	c->key = pstrdup(p->key);
	c->markers = NIL;
	foreach(lc, p->markers)
		c->markers = lappend(c->markers, pstrdup((char *) lfirst(lc)));
	c->mkeys = s3db_copy_strings(p->mkeys, p->nmeta);
	c->mvals = s3db_copy_strings(p->mvals, p->nmeta);
	c->body = s3db_copy_bytes(p->body, p->body_len);
	c->content_type = p->content_type ? pstrdup(p->content_type) : NULL;
	return c;
}

/* A deep copy of a seen record in CurrentMemoryContext. */
S3dbSeen *
s3db_seen_copy(const S3dbSeen *s)
{
	S3dbSeen   *c = palloc0(sizeof(S3dbSeen));
	ListCell   *lc;

	c->etag = pstrdup(s->etag ? s->etag : "");
	c->has_body = s->has_body;
	c->has_content = s->has_content;
	c->version = s->version ? pstrdup(s->version) : NULL;
	foreach(lc, s->markers)
		c->markers = lappend(c->markers, pstrdup((char *) lfirst(lc)));
	foreach(lc, s->content_meta)
		c->content_meta = lappend(c->content_meta, pstrdup((char *) lfirst(lc)));
	c->nmeta = s->nmeta;
	c->mkeys = s3db_copy_strings(s->mkeys, s->nmeta);
	c->mvals = s3db_copy_strings(s->mvals, s->nmeta);
	c->body = s3db_copy_bytes(s->body, s->body_len);
	c->body_len = s->body_len;
	c->content_type = s->content_type ? pstrdup(s->content_type) : NULL;
	return c;
}
