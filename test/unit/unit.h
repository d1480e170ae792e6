/*-------------------------------------------------------------------------
 *
 * unit.h
 *		A tiny TAP producer for the C unit tests of src/.
 *
 * Each test program includes this header, calls the CHECK macros and ends
 * with "return unit_done();".  Output is TAP (one "ok"/"not ok" line per
 * check, the plan last), so prove(1) runs the programs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef S3DB_UNIT_H
#define S3DB_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	unit_count;
static int	unit_failed;

static inline void
unit_report(int ok, const char *file, int line, const char *what)
{
	unit_count++;
	if (!ok)
		unit_failed++;
	printf("%sok %d - %s:%d %s\n", ok ? "" : "not ", unit_count, file, line, what);
	fflush(stdout);
}

#define CHECK(cond) unit_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_STREQ(got, want) do { \
	const char *g_ = (got); const char *w_ = (want); \
	int ok_ = (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) || (g_ == NULL && w_ == NULL); \
	unit_report(ok_, __FILE__, __LINE__, #got " == " #want); \
	if (!ok_) printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define CHECK_INTEQ(got, want) do { \
	long long g_ = (long long) (got); long long w_ = (long long) (want); \
	unit_report(g_ == w_, __FILE__, __LINE__, #got " == " #want); \
	if (g_ != w_) printf("#   got:  %lld\n#   want: %lld\n", g_, w_); \
} while (0)

/* A whole file, NUL-terminated (malloc'd); NULL if unreadable.  lenp may be NULL. */
static inline char *
unit_read_file(const char *path, size_t *lenp)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = n >= 0 ? malloc((size_t) n + 1) : NULL;
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	if (lenp)
		*lenp = (size_t) n;
	return buf;
}

static inline int
unit_done(void)
{
	printf("1..%d\n", unit_count);
	if (unit_failed)
		printf("# %d of %d checks failed\n", unit_failed, unit_count);
	return unit_failed ? 1 : 0;
}

#endif							/* S3DB_UNIT_H */
