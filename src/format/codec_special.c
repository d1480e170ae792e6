/*-------------------------------------------------------------------------
 *
 * codec_special.c
 *		The compact special formats of s3db.js (spec 6.2): ip4, ip6, geo
 *		coordinates, uuid, mac, cidr, semver, phone, color and ean.
 *
 * s3db.js stores an input that does not fit a format's pattern unchanged
 * ("raw"), and its decoder hands back anything it cannot decode.  We
 * decode the same way, and on writing we only store a raw value when
 * reading it back yields it unchanged; anything else is rejected instead
 * of being stored in a form that would read back as something else.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "format/codec_int.h"

static s3s_code
set_text(s3f_val *out, const char *s, size_t len, s3s_error *err)
{
	char	   *c = NULL;

	if (!s3f_utf8_valid(s, len))
	{
		c = s3f_utf8_sanitize(s, len, &len);
		if (c == NULL)
			goto oom;
		s = c;
	}
	s3f_val_set_str(out, S3F_STR, s, len);
	free(c);
	if (out->str == NULL)
		goto oom;
	return S3S_OK;
oom:
	memset(out, 0, sizeof(*out));
	if (err)
		s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
	return S3S_ERR_NOMEM;
}

static s3s_code
bad(const s3f_typeinfo *t, const char *s, size_t len, s3s_error *err)
{
	return s3f_value_error(err, S3S_ERR_FORMAT, s3f_type_name(t->type), s, len);
}

/* base62 digits of v left-padded with '0' to width */
static char *
padded62(double v, int width)
{
	char	   *d = s3f_base62(v);
	char	   *r;
	size_t		n;

	if (d == NULL)
		return NULL;
	n = strlen(d);
	if ((int) n >= width)
		return d;
	r = malloc((size_t) width + 1);
	if (r)
	{
		memset(r, '0', (size_t) width - n);
		memcpy(r + width - n, d, n + 1);
	}
	free(d);
	return r;
}

static void
format_ip6(const unsigned char *b, char *out, size_t outlen)
{
	unsigned int g[8];
	int			i,
				best = -1,
				bestlen = 0,
				o = 0;

	for (i = 0; i < 8; i++)
		g[i] = ((unsigned int) b[2 * i] << 8) | b[2 * i + 1];
	for (i = 0; i < 8;)
	{
		int			j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen)
		{
			best = i;
			bestlen = j - i;
		}
		i = (j == i) ? i + 1 : j;
	}
	if (bestlen < 2)
		best = -1;
	for (i = 0; i < 8; i++)
	{
		if (i == best)
		{
			o += snprintf(out + o, outlen - o, "::");
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && !(best >= 0 && i == best + bestlen))
			o += snprintf(out + o, outlen - o, ":");
		o += snprintf(out + o, outlen - o, "%x", g[i]);
	}
}

static bool
parse_ip(int af, const char *s, size_t len, unsigned char *bytes)
{
	char		tmp[64];

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(af, tmp, bytes) == 1;
}

/* value/10^p - off, exactly, as a number */
static s3s_code
geo_value(const char *s, size_t len, int p, double off, double *out)
{
	double		v;
	char	   *txt;

	if (len < 2 || s[0] != '~')
		return S3S_ERR_FORMAT;
	v = s3f_unbase62(s + 1, len - 1);
	if (isnan(v) || v > 9007199254740992.0)
		return S3S_ERR_FORMAT;
	txt = s3f_fixed_text(v - off * s3f_pow10(p), p);
	if (txt == NULL)
		return S3S_ERR_FORMAT;
	*out = strtod(txt, NULL);
	free(txt);
	return S3S_OK;
}

s3s_code
s3f_geo_point_value(double lat, double lon, s3f_val *out, s3s_error *err)
{
	char		a[64],
				b[64],
				j[160];

	s3f_js_number_to_string(lat, a, sizeof(a));
	s3f_js_number_to_string(lon, b, sizeof(b));
	snprintf(j, sizeof(j), "{\"latitude\":%s,\"longitude\":%s}", a, b);
	s3f_val_set_str(out, S3F_JSON, j, strlen(j));
	if (out->str == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	return S3S_OK;
}

static bool
all_hex(const char *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char) s[i]))
			return false;
	return true;
}

s3s_code
s3f_special_decode(const s3f_typeinfo *t, const char *s, size_t len,
				   s3f_val *out, s3s_error *err)
{
	unsigned char *bytes;
	size_t		n;
	char		buf[96];
	double		v,
				w;

	memset(out, 0, sizeof(*out));
	switch (t->type)
	{
		case S3F_T_IP4:
		case S3F_T_IP6:
			{
				int			want = t->type == S3F_T_IP4 ? 4 : 16;
				unsigned char raw[16];

				if (len == (size_t) (want == 4 ? 8 : 24))
				{
					bytes = s3f_base64_decode(s, len, &n);
					if (bytes && n == (size_t) want)
						memcpy(raw, bytes, want);
					else
						n = 0;
					free(bytes);
				}
				else
					n = 0;
				/*
				 * s3db.js validates ip4/ip6 as plain strings and stores a
				 * string that is not an address as it is; its reader gives
				 * such a string back unchanged, and so do we.
				 */
				if (n == 0 && !parse_ip(want == 4 ? AF_INET : AF_INET6, s, len, raw))
					return set_text(out, s, len, err);
				if (want == 4)
					snprintf(buf, sizeof(buf), "%u.%u.%u.%u", raw[0], raw[1], raw[2], raw[3]);
				else
					format_ip6(raw, buf, sizeof(buf));
				return set_text(out, buf, strlen(buf), err);
			}

		case S3F_T_GEO_LAT:
		case S3F_T_GEO_LON:
			if (geo_value(s, len, t->precision, t->type == S3F_T_GEO_LAT ? 90 : 180, &v) != S3S_OK)
			{
				if (s3f_parse_number(s, len, &v) && isfinite(v))
				{
					s3f_val_set_num(out, v, NULL);
					return S3S_OK;
				}
				return bad(t, s, len, err);
			}
			s3f_val_set_num(out, v, NULL);
			return S3S_OK;

		case S3F_T_GEO_POINT:
			{
				const char *second = len > 1 ? memchr(s + 1, '~', len - 1) : NULL;

				if (second == NULL ||
					geo_value(s, (size_t) (second - s), t->precision, 90, &v) != S3S_OK ||
					geo_value(second, len - (size_t) (second - s), t->precision, 180, &w) != S3S_OK)
					return bad(t, s, len, err);
				return s3f_geo_point_value(v, w, out, err);
			}

		case S3F_T_UUID:
			if (len == 24 && s3f_is_base62(s, len))
			{
				char		hex[33];
				int			i;

				for (i = 0; i < 4; i++)
				{
					v = s3f_unbase62(s + 6 * i, 6);
					if (v > 4294967295.0)
						return bad(t, s, len, err);
					snprintf(hex + 8 * i, 9, "%08x", (unsigned int) v);
				}
				snprintf(buf, sizeof(buf), "%.8s-%.4s-%.4s-%.4s-%.12s",
						 hex, hex + 8, hex + 12, hex + 16, hex + 20);
				return set_text(out, buf, strlen(buf), err);
			}
			if (len == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' &&
				all_hex(s, 8) && all_hex(s + 9, 4) && all_hex(s + 14, 4) &&
				all_hex(s + 19, 4) && all_hex(s + 24, 12))
			{
				size_t		i;

				for (i = 0; i < 36; i++)
					buf[i] = (char) tolower((unsigned char) s[i]);
				return set_text(out, buf, 36, err);
			}
			return bad(t, s, len, err);

		case S3F_T_MAC:
			if (len == 9 && s3f_is_base62(s, len) &&
				(v = s3f_unbase62(s, len)) < 281474976710656.0)
			{
				unsigned long long m = (unsigned long long) v;

				snprintf(buf, sizeof(buf), "%02llx:%02llx:%02llx:%02llx:%02llx:%02llx",
						 (m >> 40) & 255, (m >> 32) & 255, (m >> 24) & 255,
						 (m >> 16) & 255, (m >> 8) & 255, m & 255);
				return set_text(out, buf, strlen(buf), err);
			}
			return set_text(out, s, len, err);

		case S3F_T_CIDR:
			if (len == 7 && s3f_is_base62(s, len) &&
				(v = s3f_unbase62(s, 6)) <= 4294967295.0 &&
				(w = s3f_unbase62(s + 6, 1)) <= 32)
			{
				unsigned int a = (unsigned int) v;

				snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255,
						 (a >> 8) & 255, a & 255, (int) w);
				return set_text(out, buf, strlen(buf), err);
			}
			return set_text(out, s, len, err);

		case S3F_T_SEMVER:
			if (s3f_is_base62(s, len) && (v = s3f_unbase62(s, len)) <= 9007199254740991.0)
			{
				snprintf(buf, sizeof(buf), "%.0f.%.0f.%.0f", floor(v / 1e6),
						 fmod(floor(v / 1e3), 1e3), fmod(v, 1e3));
				return set_text(out, buf, strlen(buf), err);
			}
			return set_text(out, s, len, err);

		case S3F_T_PHONE:
			if (s3f_is_base62(s, len) && (v = s3f_unbase62(s, len)) <= 1e20)
			{
				snprintf(buf, sizeof(buf), "+%.0f", v);
				return set_text(out, buf, strlen(buf), err);
			}
			return set_text(out, s, len, err);

		case S3F_T_COLOR:
			if (len == 5 && s3f_is_base62(s, len) && (v = s3f_unbase62(s, len)) < 16777216.0)
			{
				snprintf(buf, sizeof(buf), "#%06x", (unsigned int) v);
				return set_text(out, buf, strlen(buf), err);
			}
			return set_text(out, s, len, err);

		case S3F_T_EAN:
			if (len >= 2 && s[0] >= '0' && s[0] <= '3' && s3f_is_base62(s + 1, len - 1))
			{
				static const int lens[] = {8, 13, 12, 14};
				int			want = lens[s[0] - '0'];

				v = s3f_unbase62(s + 1, len - 1);
				snprintf(buf, sizeof(buf), "%0*.0f", want, v);
				if (v >= 1e14 || (int) strlen(buf) != want)
					return bad(t, s, len, err);
				return set_text(out, buf, strlen(buf), err);
			}
			return set_text(out, s, len, err);

		default:
			return bad(t, s, len, err);
	}
}

/* ---------------------------------------------------------------- encode */

static s3s_code
emit(char **out, char *s, s3s_error *err)
{
	if (s == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_NOMEM, "encode", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	*out = s;
	return S3S_OK;
}

static s3s_code
reject(const s3f_typeinfo *t, const char *s, size_t len, s3s_error *err)
{
	return s3f_value_error(err, S3S_ERR_INVALID, s3f_type_name(t->type), s ? s : "", s ? len : 0);
}

/*
 * Would s3db.js misread a string stored raw in an ip4/ip6 attribute?  It
 * reads every value with Node's Buffer.from(value, 'base64'), which skips
 * characters outside the base64 alphabets (so "300.1.2.3" is "300123"), and
 * takes an address whenever that yields want bytes.  Counted both with and
 * without stopping at '=', to refuse either reading.
 */
bool
s3f_ip_raw_misread(const char *s, size_t len, size_t want)
{
	size_t		all = 0,
				head = 0;
	bool		stopped = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];
		bool		b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' || c == '_';

		if (c == '=')
			stopped = true;
		if (!b64)
			continue;
		all++;
		if (!stopped)
			head++;
	}
	return all * 3 / 4 == want || head * 3 / 4 == want;
}

/* Store s raw when reading it back gives exactly s. */
static s3s_code
raw_or_reject(const s3f_typeinfo *t, const char *s, size_t len, char **out, s3s_error *err)
{
	s3f_val		back;
	bool		same;

	if (s3f_special_decode(t, s, len, &back, NULL) != S3S_OK)
		return reject(t, s, len, err);
	same = back.kind == S3F_STR && back.len == len && memcmp(back.str, s, len) == 0;
	s3f_val_free(&back);
	if (!same)
		return reject(t, s, len, err);
	return emit(out, s3f_strndup(s, len), err);
}

static char *
geo_encode(double v, double off, int p)
{
	double		s = s3f_js_round((v + off) * s3f_pow10(p));
	char	   *d,
			   *r;
	size_t		n;

	if (!isfinite(s) || s < 0)
		return NULL;
	d = s3f_base62(s);
	if (d == NULL)
		return NULL;
	n = strlen(d) + 2;
	r = malloc(n);
	if (r)
		snprintf(r, n, "~%s", d);
	free(d);
	return r;
}

static bool
point_input(const s3f_val *in, double *lat, double *lon)
{
	json_object *o,
			   *a,
			   *b;
	bool		ok = false;

	if (in->kind == S3F_ARRAY && in->nitems == 2)
		return s3f_input_number(&in->items[0], lat) && s3f_input_number(&in->items[1], lon);
	if (in->kind != S3F_JSON || in->str == NULL || !s3f_json_valid(in->str, in->len))
		return false;
	o = json_tokener_parse(in->str);
	if (o == NULL)
		return false;
	if (json_object_is_type(o, json_type_array) && json_object_array_length(o) == 2)
	{
		a = json_object_array_get_idx(o, 0);
		b = json_object_array_get_idx(o, 1);
		ok = true;
	}
	else if (json_object_is_type(o, json_type_object))
		ok = (json_object_object_get_ex(o, "lat", &a) && json_object_object_get_ex(o, "lon", &b)) ||
			(json_object_object_get_ex(o, "latitude", &a) &&
			 json_object_object_get_ex(o, "longitude", &b));
	if (ok)
	{
		ok = (json_object_is_type(a, json_type_int) || json_object_is_type(a, json_type_double)) &&
			(json_object_is_type(b, json_type_int) || json_object_is_type(b, json_type_double));
		if (ok)
		{
			*lat = json_object_get_double(a);
			*lon = json_object_get_double(b);
		}
	}
	json_object_put(o);
	return ok;
}

static bool
all_digits(const char *s, size_t n)
{
	size_t		i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

s3s_code
s3f_special_encode(const s3f_typeinfo *t, const s3f_val *in, char **out, s3s_error *err)
{
	const char *s = (in->kind == S3F_STR && in->str) ? in->str : NULL;
	size_t		len = s ? in->len : 0;
	unsigned char raw[16];
	char		tmp[64];
	double		v,
				w;

	*out = NULL;
	switch (t->type)
	{
		case S3F_T_IP4:
			if (!s)
				return reject(t, s, len, err);
			/*
			 * not an address: stored as it is, as s3db.js does, when both
			 * s3db.js and we read it back as it is
			 */
			if (!parse_ip(AF_INET, s, len, raw))
				return s3f_ip_raw_misread(s, len, 4) ? reject(t, s, len, err) :
					raw_or_reject(t, s, len, out, err);
			return emit(out, s3f_base64_encode(raw, 4), err);

		case S3F_T_IP6:
			if (!s)
				return reject(t, s, len, err);
			if (!parse_ip(AF_INET6, s, len, raw))
				return s3f_ip_raw_misread(s, len, 16) ? reject(t, s, len, err) :
					raw_or_reject(t, s, len, out, err);
			return emit(out, s3f_base64_encode(raw, 16), err);

		case S3F_T_GEO_LAT:
		case S3F_T_GEO_LON:
			{
				double		lim = t->type == S3F_T_GEO_LAT ? 90 : 180;
				char	   *r;

				if (!s3f_input_number(in, &v) || !(v >= -lim && v <= lim))
					return reject(t, s, len, err);
				r = geo_encode(v, lim, t->precision);
				return r ? emit(out, r, err) : reject(t, s, len, err);
			}

		case S3F_T_GEO_POINT:
			{
				char	   *a,
						   *b,
						   *r;
				size_t		n;

				if (!point_input(in, &v, &w) || !(v >= -90 && v <= 90) || !(w >= -180 && w <= 180))
					return reject(t, in->str, in->str ? in->len : 0, err);
				a = geo_encode(v, 90, t->precision);
				b = geo_encode(w, 180, t->precision);
				r = NULL;
				if (a && b)
				{
					n = strlen(a) + strlen(b) + 1;
					r = malloc(n);
					if (r)
						snprintf(r, n, "%s%s", a, b);
				}
				free(a);
				free(b);
				return emit(out, r, err);
			}

		case S3F_T_UUID:
			{
				char		hex[33];
				size_t		i,
							k = 0;
				s3f_buf		b = {0};

				if (!s || (len != 36 && len != 32))
					return reject(t, s, len, err);
				for (i = 0; i < len; i++)
				{
					if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23))
					{
						if (s[i] != '-')
							return reject(t, s, len, err);
						continue;
					}
					if (!isxdigit((unsigned char) s[i]) || k >= 32)
						return reject(t, s, len, err);
					hex[k++] = s[i];
				}
				hex[k] = '\0';
				s3f_buf_put(&b, "", 0);
				for (i = 0; i < 4; i++)
				{
					char		chunk[9];
					char	   *p;

					memcpy(chunk, hex + 8 * i, 8);
					chunk[8] = '\0';
					p = padded62((double) strtoul(chunk, NULL, 16), 6);
					if (p)
						s3f_buf_puts(&b, p);
					else
						b.oom = true;
					free(p);
				}
				return emit(out, s3f_buf_finish(&b, NULL), err);
			}

		case S3F_T_MAC:
			{
				char		hex[13];
				size_t		i,
							k = 0;

				for (i = 0; s && i < len; i++)
				{
					if (s[i] == ':' || s[i] == '-')
						continue;
					if (!isxdigit((unsigned char) s[i]) || k >= 12)
					{
						k = 99;
						break;
					}
					hex[k++] = s[i];
				}
				if (!s || k != 12)
					return s ? raw_or_reject(t, s, len, out, err) : reject(t, s, len, err);
				hex[12] = '\0';
				return emit(out, padded62((double) strtoull(hex, NULL, 16), 9), err);
			}

		case S3F_T_CIDR:
			{
				const char *slash = s ? memchr(s, '/', len) : NULL;
				char	   *a,
						   *r;
				size_t		pl;

				if (slash && parse_ip(AF_INET, s, (size_t) (slash - s), raw) &&
					all_digits(slash + 1, pl = len - (size_t) (slash - s) - 1) && pl <= 2 &&
					atoi(slash + 1) <= 32)
				{
					double		addr = ((double) raw[0] * 16777216.0) + raw[1] * 65536.0 + raw[2] * 256.0 + raw[3];

					a = padded62(addr, 6);
					r = NULL;
					if (a)
					{
						snprintf(tmp, sizeof(tmp), "%s%c", a,
								 "0123456789abcdefghijklmnopqrstuvw"[atoi(slash + 1)]);
						r = strdup(tmp);
					}
					free(a);
					return emit(out, r, err);
				}
				return s ? raw_or_reject(t, s, len, out, err) : reject(t, s, len, err);
			}

		case S3F_T_SEMVER:
			{
				unsigned long x,
							y,
							z;
				int			used = 0;

				if (s && len < sizeof(tmp))
				{
					memcpy(tmp, s, len);
					tmp[len] = '\0';
					if (strspn(tmp, "0123456789.") == len &&
						sscanf(tmp, "%lu.%lu.%lu%n", &x, &y, &z, &used) == 3 &&
						(size_t) used == len && y < 1000 && z < 1000 && x < 9007199254ul)
						return emit(out, s3f_base62((double) x * 1e6 + (double) y * 1e3 + (double) z), err);
				}
				return s ? raw_or_reject(t, s, len, out, err) : reject(t, s, len, err);
			}

		case S3F_T_PHONE:
			if (in->kind == S3F_NUM && in->num >= 1 && in->num == floor(in->num) && in->num < 1e15)
				return emit(out, s3f_base62(in->num), err);
			if (s && len >= 2 && len <= 16 && s[0] == '+' && s[1] != '0' && all_digits(s + 1, len - 1))
			{
				memcpy(tmp, s + 1, len - 1);
				tmp[len - 1] = '\0';
				return emit(out, s3f_base62(strtod(tmp, NULL)), err);
			}
			return s ? raw_or_reject(t, s, len, out, err) : reject(t, s, len, err);

		case S3F_T_COLOR:
			if (s && len == 7 && s[0] == '#' && all_hex(s + 1, 6))
			{
				memcpy(tmp, s + 1, 6);
				tmp[6] = '\0';
				return emit(out, padded62((double) strtoul(tmp, NULL, 16), 5), err);
			}
			return s ? raw_or_reject(t, s, len, out, err) : reject(t, s, len, err);

		case S3F_T_EAN:
			if (in->kind == S3F_NUM && in->num >= 0 && in->num == floor(in->num) && in->num < 1e14)
			{
				snprintf(tmp, sizeof(tmp), "%.0f", in->num);
				s = tmp;
				len = strlen(tmp);
			}
			if (s && all_digits(s, len) && (len == 8 || len == 12 || len == 13 || len == 14))
			{
				char		num[16];
				char	   *d,
						   *r = NULL;

				memcpy(num, s, len);
				num[len] = '\0';
				d = s3f_base62(strtod(num, NULL));
				if (d)
				{
					snprintf(tmp, sizeof(tmp), "%c%s", len == 8 ? '0' : len == 13 ? '1' : len == 12 ? '2' : '3', d);
					r = strdup(tmp);
				}
				free(d);
				return emit(out, r, err);
			}
			return s ? raw_or_reject(t, s, len, out, err) : reject(t, s, len, err);

		default:
			return reject(t, s, len, err);
	}
}
