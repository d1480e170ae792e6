/*-------------------------------------------------------------------------
 *
 * base62.c
 *		Number primitives of the s3db.js format (spec 6.1): base62/base36
 *		integers, decimal62, fixed62, and the JavaScript number semantics
 *		they are built on (Number.prototype.toString, Number(), Math.round).
 *
 * s3db.js does all of this in IEEE doubles, and so do we: the division
 * loop of base62() and the multiply-add loop of its decoder are the same
 * operations in C, so integers above 2^53 encode to the same digits.
 * Number rendering must be byte-exact because it ends up inside stored
 * strings (decimal62 fractions, partition keys): we pick the shortest
 * %.Ne rendering that reads back to the same double, which is the
 * shortest round-trip digit string JavaScript prints, then lay it out
 * with the ECMAScript rules (exponent form from 1e21 up and below 1e-6).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/codec_int.h"

static const char b62[] =
"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static char *
base_encode(double n, int base)
{
	char		tmp[400];
	int			pos = (int) sizeof(tmp) - 1;

	if (!isfinite(n))
		return strdup("undefined");
	if (n == 0)
		return strdup("0");
	if (n < 0)
	{
		char	   *inner = base_encode(-floor(n), base);
		char	   *r;

		if (inner == NULL)
			return NULL;
		r = malloc(strlen(inner) + 2);
		if (r)
		{
			r[0] = '-';
			strcpy(r + 1, inner);
		}
		free(inner);
		return r;
	}
	n = floor(n);
	tmp[pos] = '\0';
	while (n > 0 && pos > 0)
	{
		int			d = (int) fmod(n, (double) base);

		tmp[--pos] = b62[d];
		n = floor(n / base);
	}
	return strdup(tmp + pos);
}

char *
s3f_base62(double n)
{
	return base_encode(n, 62);
}

char *
s3f_base36(double n)
{
	return base_encode(n, 36);
}

static int
digit_value(char c, int base)
{
	int			v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'z')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'Z' && base == 62)
		v = c - 'A' + 36;
	else
		return -1;
	return v < base ? v : -1;
}

static double
base_decode(const char *s, size_t len, int base)
{
	bool		neg = false;
	double		r = 0;
	size_t		i = 0;

	if (len > 0 && s[0] == '-')
	{
		neg = true;
		i = 1;
	}
	for (; i < len; i++)
	{
		int			d = digit_value(s[i], base);

		if (d < 0)
			return NAN;
		r = r * base + d;
	}
	return neg ? -r : r;
}

double
s3f_unbase62(const char *s, size_t len)
{
	return base_decode(s, len, 62);
}

double
s3f_unbase36(const char *s, size_t len)
{
	return base_decode(s, len, 36);
}

bool
s3f_is_base62(const char *s, size_t len)
{
	size_t		i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (digit_value(s[i], 62) < 0)
			return false;
	return true;
}

/* ------------------------------------------------------ JS number text */

void
s3f_js_number_to_string(double d, char *buf, size_t buflen)
{
	char		tmp[48];
	char		digits[24];
	char		out[64];
	int			k = 0,
				e,
				n,
				p,
				o = 0,
				i;
	double		a = fabs(d);
	const char *q;

	if (buflen == 0)
		return;
	if (isnan(d))
	{
		snprintf(buf, buflen, "NaN");
		return;
	}
	if (isinf(d))
	{
		snprintf(buf, buflen, "%s", d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (d == 0)
	{
		snprintf(buf, buflen, "0");
		return;
	}
	for (p = 1; p <= 17; p++)
	{
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, a);
		if (strtod(tmp, NULL) == a)
			break;
	}
	/* tmp is d[.ddd]e[+-]xx */
	for (q = tmp; *q && *q != 'e'; q++)
		if (*q >= '0' && *q <= '9' && k < (int) sizeof(digits) - 1)
			digits[k++] = *q;
	e = (*q == 'e') ? atoi(q + 1) : 0;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	n = e + 1;

	if (d < 0)
		out[o++] = '-';
	if (k <= n && n <= 21)
	{
		memcpy(out + o, digits, k);
		o += k;
		for (i = 0; i < n - k; i++)
			out[o++] = '0';
	}
	else if (0 < n && n <= 21)
	{
		memcpy(out + o, digits, n);
		o += n;
		out[o++] = '.';
		memcpy(out + o, digits + n, k - n);
		o += k - n;
	}
	else if (-6 < n && n <= 0)
	{
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < -n; i++)
			out[o++] = '0';
		memcpy(out + o, digits, k);
		o += k;
	}
	else
	{
		out[o++] = digits[0];
		if (k > 1)
		{
			out[o++] = '.';
			memcpy(out + o, digits + 1, k - 1);
			o += k - 1;
		}
		o += snprintf(out + o, sizeof(out) - o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
	out[o] = '\0';
	snprintf(buf, buflen, "%s", out);
}

bool
s3f_parse_number(const char *s, size_t len, double *out)
{
	size_t		i = 0,
				nd = 0;
	char	   *copy;

	if (len == 0 || len > 1000)
		return false;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, nd++;
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, nd++;
	}
	if (nd == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		ne = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, ne++;
		if (ne == 0)
			return false;
	}
	if (i != len)
		return false;
	copy = s3f_strndup(s, len);
	if (copy == NULL)
		return false;
	*out = strtod(copy, NULL);
	free(copy);
	return true;
}

double
s3f_js_round(double x)
{
	double		f;

	if (!isfinite(x))
		return x;
	f = floor(x);
	if (x - f >= 0.5)
		f += 1;
	if (f == 0 && signbit(x))
		return -0.0;
	return f;
}

double
s3f_pow10(int p)
{
	static const double tab[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
	};

	if (p >= 0 && p <= 22)
		return tab[p];
	return pow(10, p);
}

/* ------------------------------------------------------------ decimal62 */

char *
s3f_decimal62(double x)
{
	char		t[64];
	char	   *dot,
			   *ip,
			   *r;
	double		iv;
	size_t		n;

	s3f_js_number_to_string(fabs(x), t, sizeof(t));
	dot = strchr(t, '.');
	if (dot)
		*dot = '\0';
	/* Number(intPart): "NaN" and "Infinity" come out as such */
	if (strcmp(t, "NaN") == 0)
		iv = NAN;
	else if (strcmp(t, "Infinity") == 0)
		iv = INFINITY;
	else
		iv = strtod(t, NULL);
	ip = s3f_base62(iv);
	if (ip == NULL)
		return NULL;
	n = strlen(ip) + (dot ? strlen(dot + 1) + 1 : 0) + 2;
	r = malloc(n);
	if (r)
		snprintf(r, n, "%s%s%s%s", x < 0 ? "-" : "", ip, dot ? "." : "", dot ? dot + 1 : "");
	free(ip);
	return r;
}

bool
s3f_undecimal62(const char *s, size_t len, double *out, char *text_out, size_t text_len)
{
	bool		neg = false;
	const char *dot;
	double		iv,
				v;

	if (len > 0 && s[0] == '-')
	{
		neg = true;
		s++;
		len--;
	}
	dot = memchr(s, '.', len);
	iv = s3f_unbase62(s, dot ? (size_t) (dot - s) : len);
	if (isnan(iv))
		return false;
	if (dot == NULL)
		v = iv;
	else
	{
		char		itxt[64];
		size_t		flen = len - (size_t) (dot - s) - 1;
		char	   *num;
		size_t		ilen;
		bool		ok;

		if (flen > 1000)
			return false;
		s3f_js_number_to_string(iv, itxt, sizeof(itxt));
		ilen = strlen(itxt);
		num = malloc(ilen + flen + 2);
		if (num == NULL)
			return false;
		memcpy(num, itxt, ilen);
		num[ilen] = '.';
		memcpy(num + ilen + 1, dot + 1, flen);
		/* "12." is a number for JS; a sign after the dot is not */
		ok = (flen == 0 || (dot[1] >= '0' && dot[1] <= '9') || dot[1] == 'e' || dot[1] == 'E') &&
			s3f_parse_number(num, ilen + 1 + flen, &v);
		free(num);
		if (!ok)
			return false;
	}
	if (neg)
		v = -v;
	if (out)
		*out = v;
	if (text_out)
		s3f_js_number_to_string(v, text_out, text_len);
	return true;
}

/*
 * decimal62 for our own writes: identical to s3db.js for every value it
 * reads back, and a form it does read back for the rest: 1e-7 (JS text
 * without a dot) becomes 0.0000001, and large numbers whose base62 digits
 * would not decode to the same double are written as "3.0e+17".
 */
char *
s3f_decimal62_safe(double x)
{
	char		t[64];
	char	   *r;
	double		back;

	if (!isfinite(x))
		return NULL;
	s3f_js_number_to_string(fabs(x), t, sizeof(t));
	if (strchr(t, '.') == NULL && strstr(t, "e-") != NULL)
	{
		int			e = atoi(strstr(t, "e-") + 2);
		size_t		n = (size_t) e + 8;
		int			i;

		r = malloc(n);
		if (r == NULL)
			return NULL;
		i = snprintf(r, n, "%s0.", x < 0 ? "-" : "");
		while (e-- > 1)
			r[i++] = '0';
		r[i++] = t[0];
		r[i] = '\0';
		return r;
	}
	r = s3f_decimal62(x);
	if (r == NULL)
		return NULL;
	if (!s3f_undecimal62(r, strlen(r), &back, NULL, 0) || back != x)
	{
		/*
		 * Base62 digits of a double above 2^53 need not decode to the same
		 * double: keep the decimal digits in the fraction instead, as
		 * "d.ddde+N", which decodes through Number() exactly.
		 */
		char		m[64];
		int			e;
		size_t		n,
					k;

		free(r);
		if (strchr(t, 'e'))
		{
			char	   *ep = strchr(t, 'e');

			e = atoi(ep + 1);
			k = 0;
			for (n = 0; t + n < ep; n++)
				if (t[n] != '.')
					m[k++] = t[n];
		}
		else
		{
			k = strlen(t);
			e = (int) k - 1;
			memcpy(m, t, k);
		}
		while (k > 1 && m[k - 1] == '0')
			k--;
		m[k] = '\0';
		n = k + 16;
		r = malloc(n);
		if (r)
			snprintf(r, n, "%s%c.%se+%d", x < 0 ? "-" : "", m[0], k > 1 ? m + 1 : "0", e);
	}
	return r;
}

/* -------------------------------------------------------------- fixed62 */

char *
s3f_fixed_text(double scaled, int p)
{
	char		digits[400];
	char	   *r;
	int			n,
				o = 0,
				intlen,
				i;
	bool		neg = scaled < 0;

	if (!isfinite(scaled))
		return NULL;
	n = snprintf(digits, sizeof(digits), "%.0f", fabs(scaled));
	if (n <= 0 || n >= (int) sizeof(digits))
		return NULL;
	if (p < 0)
		p = 0;
	r = malloc((size_t) n + (size_t) p + 4);
	if (r == NULL)
		return NULL;
	if (neg && strcmp(digits, "0") != 0)
		r[o++] = '-';
	intlen = n - p;
	if (intlen <= 0)
	{
		r[o++] = '0';
		r[o++] = '.';
		for (i = 0; i < -intlen; i++)
			r[o++] = '0';
		memcpy(r + o, digits, n);
		o += n;
	}
	else
	{
		memcpy(r + o, digits, intlen);
		o += intlen;
		if (p > 0)
		{
			r[o++] = '.';
			memcpy(r + o, digits + intlen, p);
			o += p;
		}
	}
	r[o] = '\0';
	if (p > 0)
	{
		while (o > 0 && r[o - 1] == '0')
			r[--o] = '\0';
		if (o > 0 && r[o - 1] == '.')
			r[--o] = '\0';
	}
	return r;
}

char *
s3f_fixed62(double x, int p)
{
	double		s = s3f_js_round(x * s3f_pow10(p));
	char	   *d,
			   *r;
	size_t		n;

	if (!isfinite(s))
		return NULL;
	if (s == 0)
		return strdup("^0");
	d = s3f_base62(fabs(s));
	if (d == NULL)
		return NULL;
	n = strlen(d) + 3;
	r = malloc(n);
	if (r)
		snprintf(r, n, "^%s%s", s < 0 ? "-" : "", d);
	free(d);
	return r;
}

bool
s3f_unfixed62(const char *s, size_t len, double *scaled)
{
	double		v;

	if (len < 2 || s[0] != '^')
		return false;
	v = s3f_unbase62(s + 1, len - 1);
	if (isnan(v) || (len == 2 && s[1] == '-'))
		return false;
	*scaled = v;
	return true;
}
