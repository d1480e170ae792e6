/*-------------------------------------------------------------------------
 *
 * strhash.c
 *		Hash tables keyed by strings of any length.
 *
 * dynahash wants fixed-size keys, and a char[N] key big enough for the
 * longest object key costs N bytes per entry: a transaction writing 100,000
 * records paid 160 MB for it.  Here the key field is a char * (the first
 * member of every entry), hashed and compared by what it points to, and a
 * new entry's key is copied into a memory context of the caller's choice.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "fdw/s3db_fdw.h"

static uint32
key_hash(const void *key, Size keysize)
{
	const char *s = *(const char *const *) key;

	return hash_bytes((const unsigned char *) s, (int) strlen(s));
}

static int
key_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

HTAB *
s3db_strhash_create(const char *name, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(char *);
	ctl.entrysize = entrysize;
	ctl.hash = key_hash;
	ctl.match = key_match;
	ctl.hcxt = cxt;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

void *
s3db_strhash_lookup(HTAB *h, const char *key, HASHACTION action, bool *found,
					MemoryContext keycxt)
{
	char	  **e = hash_search(h, &key, action, found);

	if (e != NULL && action == HASH_ENTER && !*found)
		*e = MemoryContextStrdup(keycxt, key);
	return e;
}

void
s3db_strhash_remove(HTAB *h, void *entry)
{
	char	   *k = *(char **) entry;

	hash_search(h, &k, HASH_REMOVE, NULL);
	pfree(k);
}
