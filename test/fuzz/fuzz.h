/*-------------------------------------------------------------------------
 *
 * fuzz.h
 *		Helpers shared by the libFuzzer targets of src/.
 *
 * The targets feed hostile bytes to the parsers of src/store and
 * src/format.  Those parsers must never crash, read out of bounds, leak or
 * hit undefined behaviour, whatever the input; AddressSanitizer and
 * UndefinedBehaviorSanitizer turn any such slip into a crash the fuzzer
 * reports.  Invariants that are not memory errors (a round trip that must
 * be exact) are checked with FUZZ_ASSERT, which aborts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_FUZZ_H
#define S3DB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/*
 * A NUL-terminated copy of len bytes: most of the C API takes C strings, and
 * the copy lets AddressSanitizer see a read past the terminator.
 */
static inline char *
fuzz_strndup(const uint8_t *data, size_t len)
{
	char	   *s = malloc(len + 1);

	if (s == NULL)
		abort();
	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* FNV-1a over the input, for deterministic sampling of slow paths. */
static inline uint32_t
fuzz_hash(const uint8_t *data, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		h ^= data[i];
		h *= 16777619u;
	}
	return h;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif							/* S3DB_FUZZ_H */
