/*-------------------------------------------------------------------------
 *
 * codec_time.c
 *		datetime, dateonly, timeonly and duration (spec 6.2): base62 of
 *		epoch milliseconds, of days since the epoch, of milliseconds since
 *		midnight, and of a duration in milliseconds.
 *
 * Renderings follow JavaScript: Date.prototype.toISOString (with the
 * six-digit signed year outside 0000..9999) and the ISO-8601 duration
 * text of s3db.js.  Decoders also accept the text forms themselves, which
 * is what update bodies of user-managed resources carry.  Date-times
 * without a zone are taken as UTC (JavaScript would use the local zone of
 * the writing process, which a reader cannot know).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/codec_int.h"

#define MS_PER_DAY 86400000.0
#define MAX_EPOCH_MS 8.64e15

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era,
				yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return (m == 2 && leap) ? 29 : dim[m - 1];
}

static int
year_text(int64_t y, char *buf, size_t n)
{
	if (y >= 0 && y <= 9999)
		return snprintf(buf, n, "%04d", (int) y);
	return snprintf(buf, n, "%c%06d", y < 0 ? '-' : '+', (int) (y < 0 ? -y : y));
}

static bool
format_date(double days, char *buf, size_t buflen)
{
	int64_t		y;
	int			m,
				d,
				o;

	if (!isfinite(days) || fabs(days) > MAX_EPOCH_MS / MS_PER_DAY)
		return false;
	civil_from_days((int64_t) days, &y, &m, &d);
	o = year_text(y, buf, buflen);
	snprintf(buf + o, buflen - o, "-%02d-%02d", m, d);
	return true;
}

bool
s3f_format_iso_datetime(double ms, char *buf, size_t buflen)
{
	double		days,
				rem;
	int			r,
				o;

	if (!isfinite(ms) || fabs(ms) > MAX_EPOCH_MS)
		return false;
	ms = trunc(ms);
	days = floor(ms / MS_PER_DAY);
	rem = ms - days * MS_PER_DAY;
	if (!format_date(days, buf, buflen))
		return false;
	o = (int) strlen(buf);
	r = (int) rem;
	snprintf(buf + o, buflen - o, "T%02d:%02d:%02d.%03dZ", r / 3600000, r / 60000 % 60,
			 r / 1000 % 60, r % 1000);
	return true;
}

/* n digits at s[*i] */
static bool
digits(const char *s, size_t len, size_t *i, int n, int *out)
{
	int			v = 0,
				k;

	if (*i + (size_t) n > len)
		return false;
	for (k = 0; k < n; k++)
	{
		char		c = s[*i + k];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*i += n;
	*out = v;
	return true;
}

/* HH:MM[:SS[.fff...]] at s[*i]; milliseconds since midnight */
static bool
parse_time(const char *s, size_t len, size_t *i, double *ms, bool allow24)
{
	int			h,
				mi,
				se = 0,
				frac = 0,
				nf = 0;

	if (!digits(s, len, i, 2, &h) || *i >= len || s[*i] != ':')
		return false;
	(*i)++;
	if (!digits(s, len, i, 2, &mi))
		return false;
	if (*i < len && s[*i] == ':')
	{
		(*i)++;
		if (!digits(s, len, i, 2, &se))
			return false;
		if (*i < len && (s[*i] == '.' || s[*i] == ','))
		{
			(*i)++;
			while (*i < len && s[*i] >= '0' && s[*i] <= '9')
			{
				if (nf < 3)
					frac = frac * 10 + (s[*i] - '0');
				nf++;
				(*i)++;
			}
			if (nf == 0)
				return false;
			while (nf < 3)
				frac *= 10, nf++;
		}
	}
	if (mi > 59 || se > 59 || h > 24 || (h == 24 && (!allow24 || mi || se || frac)))
		return false;
	*ms = h * 3600000.0 + mi * 60000.0 + se * 1000.0 + frac;
	return true;
}

bool
s3f_parse_iso_datetime(const char *s, size_t len, double *ms)
{
	size_t		i = 0;
	int			y4,
				mo,
				d,
				zh,
				zm = 0;
	int64_t		y;
	double		t = 0,
				off = 0;

	if (len > 0 && (s[0] == '+' || s[0] == '-'))
	{
		int			y6;

		i = 1;
		if (!digits(s, len, &i, 6, &y6))
			return false;
		y = s[0] == '-' ? -(int64_t) y6 : y6;
	}
	else
	{
		if (!digits(s, len, &i, 4, &y4))
			return false;
		y = y4;
	}
	if (i >= len || s[i] != '-')
		return false;
	i++;
	if (!digits(s, len, &i, 2, &mo) || i >= len || s[i] != '-')
		return false;
	i++;
	if (!digits(s, len, &i, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' '))
	{
		i++;
		if (!parse_time(s, len, &i, &t, true))
			return false;
		if (i < len && (s[i] == 'Z' || s[i] == 'z'))
			i++;
		else if (i < len && (s[i] == '+' || s[i] == '-'))
		{
			int			sign = s[i] == '-' ? -1 : 1;

			i++;
			if (!digits(s, len, &i, 2, &zh))
				return false;
			if (i < len && s[i] == ':')
				i++;
			if (i < len && !digits(s, len, &i, 2, &zm))
				return false;
			if (zh > 23 || zm > 59)
				return false;
			off = sign * (zh * 3600000.0 + zm * 60000.0);
		}
	}
	if (i != len)
		return false;
	*ms = (double) days_from_civil(y, mo, d) * MS_PER_DAY + t - off;
	return fabs(*ms) <= MAX_EPOCH_MS;
}

/* ------------------------------------------------------------- duration */

static void
format_duration(double ms, char *buf, size_t n)
{
	double		days = floor(ms / MS_PER_DAY);
	double		rem = ms - days * MS_PER_DAY;
	int			r = (int) rem,
				h = r / 3600000,
				m = r / 60000 % 60,
				sec = r / 1000 % 60,
				milli = r % 1000,
				o;

	if (ms == 0)
	{
		snprintf(buf, n, "PT0S");
		return;
	}
	o = snprintf(buf, n, "P");
	if (days > 0)
		o += snprintf(buf + o, n - o, "%.0fD", days);
	if (r > 0)
	{
		o += snprintf(buf + o, n - o, "T");
		if (h)
			o += snprintf(buf + o, n - o, "%dH", h);
		if (m)
			o += snprintf(buf + o, n - o, "%dM", m);
		if (milli)
			o += snprintf(buf + o, n - o, "%d.%03dS", sec, milli);
		else if (sec)
			o += snprintf(buf + o, n - o, "%dS", sec);
	}
}

/* a decimal number at s[*i] */
static bool
number_at(const char *s, size_t len, size_t *i, double *v, bool allow_frac)
{
	size_t		st = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	if (allow_frac && *i < len && s[*i] == '.')
	{
		(*i)++;
		while (*i < len && s[*i] >= '0' && s[*i] <= '9')
			(*i)++;
	}
	if (*i == st || *i - st > 30)
		return false;
	return s3f_parse_number(s + st, *i - st, v);
}

static bool
parse_duration(const char *s, size_t len, double *ms)
{
	size_t		i = 0;
	double		total = 0,
				v;
	int			parts = 0;

	if (len > 0 && s[0] == 'P')
	{
		bool		intime = false;

		i = 1;
		while (i < len)
		{
			if (s[i] == 'T' && !intime)
			{
				intime = true;
				i++;
				continue;
			}
			if (!number_at(s, len, &i, &v, true) || i >= len)
				return false;
			if (!intime && s[i] == 'D')
				total += v * MS_PER_DAY;
			else if (intime && s[i] == 'H')
				total += v * 3600000;
			else if (intime && s[i] == 'M')
				total += v * 60000;
			else if (intime && s[i] == 'S')
				total += v * 1000;
			else
				return false;
			i++;
			parts++;
		}
		*ms = s3f_js_round(total);
		return len > 1;
	}
	while (i < len)
	{
		if (s[i] == ' ')
		{
			i++;
			continue;
		}
		if (!number_at(s, len, &i, &v, true) || i >= len)
			return false;
		if (i + 1 < len && s[i] == 'm' && s[i + 1] == 's')
		{
			if (v != floor(v))
				return false;
			total += v;
			i += 2;
		}
		else if (s[i] == 'd')
			total += v * MS_PER_DAY, i++;
		else if (s[i] == 'h')
			total += v * 3600000, i++;
		else if (s[i] == 'm')
			total += v * 60000, i++;
		else if (s[i] == 's')
			total += v * 1000, i++;
		else
			return false;
		parts++;
	}
	*ms = s3f_js_round(total);
	return parts > 0;
}

/* ---------------------------------------------------------------- codec */

static s3s_code
set_text(s3f_val *out, const char *s, s3s_error *err)
{
	s3f_val_set_str(out, S3F_STR, s, strlen(s));
	if (out->str == NULL)
	{
		memset(out, 0, sizeof(*out));
		if (err)
			s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	return S3S_OK;
}

static bool
base62_number(const char *s, size_t len, double *v)
{
	if (len == 0 || len > 20)
		return false;
	if (s[0] == '-' ? !s3f_is_base62(s + 1, len - 1) : !s3f_is_base62(s, len))
		return false;
	*v = s3f_unbase62(s, len);
	return !isnan(*v);
}

s3s_code
s3f_time_decode(const s3f_typeinfo *t, const char *s, size_t len,
				s3f_val *out, s3s_error *err)
{
	char		buf[64];
	double		v;
	size_t		i = 0;

	memset(out, 0, sizeof(*out));
	switch (t->type)
	{
		case S3F_T_DATETIME:
			if ((base62_number(s, len, &v) || s3f_parse_iso_datetime(s, len, &v)) &&
				s3f_format_iso_datetime(v, buf, sizeof(buf)))
				return set_text(out, buf, err);
			break;
		case S3F_T_DATEONLY:
			if (base62_number(s, len, &v) && format_date(v, buf, sizeof(buf)))
				return set_text(out, buf, err);
			if (s3f_parse_iso_datetime(s, len, &v) &&
				format_date(floor(v / MS_PER_DAY), buf, sizeof(buf)))
				return set_text(out, buf, err);
			break;
		case S3F_T_TIMEONLY:
			if (!(base62_number(s, len, &v) && v >= 0 && v < MS_PER_DAY) &&
				!(parse_time(s, len, &i, &v, false) && i == len))
				break;
			{
				int			r = (int) v;

				snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%03d", r / 3600000,
						 r / 60000 % 60, r / 1000 % 60, r % 1000);
				return set_text(out, buf, err);
			}
		case S3F_T_DURATION:
			/* ISO text first: "P" is also a base62 digit */
			if ((((len > 0 && s[0] == 'P') && parse_duration(s, len, &v)) ||
				 base62_number(s, len, &v) || parse_duration(s, len, &v)) &&
				v >= 0 && v < 1e17)
			{
				format_duration(v, buf, sizeof(buf));
				return set_text(out, buf, err);
			}
			break;
		default:
			break;
	}
	return s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), s, len);
}

s3s_code
s3f_time_encode(const s3f_typeinfo *t, const s3f_val *in, char **out, s3s_error *err)
{
	const char *s = (in->kind == S3F_STR && in->str) ? in->str : NULL;
	size_t		len = s ? in->len : 0;
	double		v = 0;
	bool		ok = false;
	size_t		i = 0;

	*out = NULL;
	switch (t->type)
	{
		case S3F_T_DATETIME:
			if (in->kind == S3F_NUM)
				ok = isfinite(v = trunc(in->num)) && fabs(v) <= MAX_EPOCH_MS;
			else if (s)
				ok = s3f_parse_iso_datetime(s, len, &v);
			break;
		case S3F_T_DATEONLY:
			if (in->kind == S3F_NUM)
				ok = isfinite(in->num) && fabs(in->num) <= MAX_EPOCH_MS;
			else if (s)
				ok = s3f_parse_iso_datetime(s, len, &v);
			if (in->kind == S3F_NUM)
				v = in->num;
			v = floor(v / MS_PER_DAY);
			break;
		case S3F_T_TIMEONLY:
			ok = s && parse_time(s, len, &i, &v, false) && i == len;
			break;
		case S3F_T_DURATION:
			if (in->kind == S3F_NUM)
				ok = isfinite(v = s3f_js_round(in->num)) && v >= 0;
			else if (s)
				ok = parse_duration(s, len, &v);
			ok = ok && v < 1e17;
			break;
		default:
			break;
	}
	if (!ok)
	{
		char		nb[64];

		if (in->kind == S3F_NUM)
		{
			s3f_js_number_to_string(in->num, nb, sizeof(nb));
			s = nb;
			len = strlen(nb);
		}
		return s3f_value_error(err, S3S_ERR_INVALID, s3f_type_name(t->type), s ? s : "", len);
	}
	*out = s3f_base62(v);
	if (*out == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_NOMEM, "encode", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	return S3S_OK;
}
