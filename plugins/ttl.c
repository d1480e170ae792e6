/*-------------------------------------------------------------------------
 *
 * ttl.c
 *		The TTL plugin: configuration, cohort labels and the entries of
 *		s3db.js's expiration index (plg_ttl_expiration_index).
 *
 * s3db.js's TTLPlugin keeps one index record per managed record, id
 * "<resource>:<id>", partitioned by an "expiry cohort" label (the UTC
 * minute, hour, day or week of the expiry time, the granularity chosen
 * from the TTL).  Writing the same entries for rows inserted through SQL
 * lets either side expire them; the sweep is in ttl_sweep.c.
 *
 * The configuration is the table s3db_fdw_ttl in the extension's schema,
 * read whenever it is needed (no restart, no cache to invalidate).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <time.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "plugins.h"

static const char *const granularity_names[] = {"minute", "hour", "day", "week"};

const char *
s3db_ttl_granularity_name(S3dbTtlGranularity g)
{
	return granularity_names[g];
}

S3dbTtlGranularity
s3db_ttl_granularity(bool has_ttl, double ttl_s)
{
	if (!has_ttl || ttl_s == 0)
		return TTL_DAY;
	if (ttl_s < 3600)
		return TTL_MINUTE;
	if (ttl_s < 86400)
		return TTL_HOUR;
	if (ttl_s < 2592000)
		return TTL_DAY;
	return TTL_WEEK;
}

/*
 * ISO-style week number (Thursday rule) of the UTC date, with the UTC
 * calendar year in front, as s3db.js labels weeks when its process runs in
 * UTC: so 2024-12-30 is "2024-W01".
 */
static int
week_number(const struct tm *tm)
{
	int			dow = tm->tm_wday == 0 ? 7 : tm->tm_wday;
	int			yday = tm->tm_yday + 4 - dow;	/* yday of that week's Thursday */
	int			year = tm->tm_year + 1900;

	if (yday < 0)
	{
		int			py = year - 1;

		yday += ((py % 4 == 0 && py % 100 != 0) || py % 400 == 0) ? 366 : 365;
	}
	else
	{
		int			len = ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0) ? 366 : 365;

		if (yday >= len)
			yday -= len;
	}
	return (int) ceil(((double) yday + 1) / 7);
}

void
s3db_ttl_cohort(S3dbTtlGranularity g, int64 ms, char *buf, size_t len)
{
	char		iso[40];

	s3db_iso_ms(ms, iso, sizeof(iso));
	switch (g)
	{
		case TTL_MINUTE:
			snprintf(buf, len, "%.16s", iso);
			break;
		case TTL_HOUR:
			snprintf(buf, len, "%.13s", iso);
			break;
		case TTL_DAY:
			snprintf(buf, len, "%.10s", iso);
			break;
		case TTL_WEEK:
			{
				time_t		s = (time_t) (ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
				struct tm	tm;

				gmtime_r(&s, &tm);
				snprintf(buf, len, "%04d-W%02d", tm.tm_year + 1900, week_number(&tm));
				break;
			}
	}
}

bool
s3db_ttl_config(Oid relid, S3dbTtlConfig *out)
{
	Oid			nsp = s3db_ext_namespace();
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	bool		found = false;
	char	   *sql;
	S3dbRoleSave save;

	memset(out, 0, sizeof(*out));
	if (!OidIsValid(nsp))
		return false;
	sql = psprintf("SELECT pg_catalog.date_part('epoch', ttl)::pg_catalog.float8, field, action, "
				   "COALESCE(soft_delete_field, 'deletedat'), archive_resource "
				   "FROM %s.s3db_fdw_ttl WHERE ftable OPERATOR(pg_catalog.=) $1 AND enabled",
				   quote_identifier(get_namespace_name(nsp)));
	args[0] = ObjectIdGetDatum(relid);
	/* configuration is read as the extension owner, whoever writes */
	s3db_enter_role(s3db_extension_owner(), &save);
	SPI_connect();
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read s3db_fdw_ttl");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d = SPI_getbinval(tup, td, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(caller);

		out->relid = relid;
		out->has_ttl = !isnull;
		out->ttl_s = isnull ? 0 : DatumGetFloat8(d);
		out->field = SPI_getvalue(tup, td, 2);
		out->action = SPI_getvalue(tup, td, 3);
		out->soft_delete_field = SPI_getvalue(tup, td, 4);
		out->archive_resource = SPI_getvalue(tup, td, 5);
		out->granularity = s3db_ttl_granularity(out->has_ttl, out->ttl_s);
		MemoryContextSwitchTo(old);
		found = true;
	}
	SPI_finish();
	s3db_leave_role(&save);
	return found;
}

bool
s3db_ttl_expiry(const S3dbTtlConfig *cfg, const s3f_resource *res, const s3f_val *vals,
				int64 base_fallback, int64 *expires)
{
	int64		base = 0;
	bool		have = false;

	if (cfg->field)
	{
		int			i = s3db_attr_index(res, cfg->field);

		have = i >= 0 && vals && s3db_value_ms(&vals[i], &base);
		if (!have)
			return false;		/* s3db.js skips a record without its field */
	}
	else
	{
		/* s3db.js: _createdAt, then createdAt, then the indexing time */
		int			i = s3db_attr_index(res, "createdAt");

		have = i >= 0 && vals && s3db_value_ms(&vals[i], &base);
		if (!have && base_fallback != 0)
		{
			base = base_fallback;
			have = true;
		}
	}
	if (!have)
		return false;
	*expires = base + (cfg->has_ttl ? (int64) llround(cfg->ttl_s * 1000.0) : 0);
	return true;
}

char *
s3db_ttl_entry_id(const char *resource, const char *record_id)
{
	return psprintf("%s:%s", resource, record_id);
}

s3f_val *
s3db_ttl_entry_vals(const s3f_resource *idx, const S3dbTtlConfig *cfg,
					const char *resource, const char *record_id,
					int64 expires, int64 now_ms)
{
	s3f_val    *vals = s3db_owned_vals(idx->nattrs);	/* its strings are malloc'd */
	char		cohort[32];
	char		iso[40];
	int			i;

	s3db_ttl_cohort(cfg->granularity, expires, cohort, sizeof(cohort));
	s3db_iso_ms(now_ms, iso, sizeof(iso));
	if ((i = s3db_attr_index(idx, "resourceName")) >= 0)
		s3db_val_str(&vals[i], resource);
	if ((i = s3db_attr_index(idx, "recordId")) >= 0)
		s3db_val_str(&vals[i], record_id);
	if ((i = s3db_attr_index(idx, "expiresAtCohort")) >= 0)
		s3db_val_str(&vals[i], cohort);
	if ((i = s3db_attr_index(idx, "expiresAtTimestamp")) >= 0)
		s3db_val_num(&vals[i], (double) expires);
	if ((i = s3db_attr_index(idx, "granularity")) >= 0)
		s3db_val_str(&vals[i], s3db_ttl_granularity_name(cfg->granularity));
	if ((i = s3db_attr_index(idx, "createdAt")) >= 0)
		s3db_val_str(&vals[i], iso);
	return vals;
}
