/*-------------------------------------------------------------------------
 *
 * collate.c
 *		The ICU root collation order s3db.js uses to sort partition field
 *		names (spec 9.2, Appendix D).
 *
 * Partition reference keys list their fields in localeCompare order, so a
 * reader that builds listing prefixes and a writer that builds keys must
 * sort exactly as ICU does.  Field names are attribute paths, in practice
 * ASCII; for those the order of Appendix D is reproduced: characters are
 * compared case-folded by the table below (a proper prefix first), and
 * when equal the first case difference decides, lower case first.
 *
 * Without a full UCA table, non-ASCII bytes sort after every ASCII
 * character in byte order, and control characters before the space;
 * both are documented approximations, not ICU.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "format/catalog.h"

/* Appendix D, case-folded (the first character is a space) */
static const char icu_order[] =
" _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz";

static int
primary(unsigned char c)
{
	const char *p;

	if (c >= 0x80)
		return 256 + c;
	if (c >= 'A' && c <= 'Z')
		c = (unsigned char) (c - 'A' + 'a');
	if (c >= 0x20 && c < 0x7f && (p = strchr(icu_order, c)) != NULL)
		return 1 + (int) (p - icu_order);
	return 0;					/* controls and DEL: before the space */
}

int
s3f_icu_compare(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *) a,
			   *pb = (const unsigned char *) b;
	size_t		i;

	/* primary level: case-folded weights, shorter first */
	for (i = 0;; i++)
	{
		int			wa,
					wb;

		if (pa[i] == '\0' || pb[i] == '\0')
		{
			if (pa[i] != pb[i])
				return pa[i] == '\0' ? -1 : 1;
			break;
		}
		wa = primary(pa[i]);
		wb = primary(pb[i]);
		if (wa != wb)
			return wa < wb ? -1 : 1;
	}

	/* tertiary level: the first case difference, lower case first */
	for (i = 0; pa[i]; i++)
	{
		bool		ua = pa[i] >= 'A' && pa[i] <= 'Z',
					ub = pb[i] >= 'A' && pb[i] <= 'Z';

		if (ua != ub)
			return ua ? 1 : -1;
	}
	return strcmp(a, b);
}
