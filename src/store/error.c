/*-------------------------------------------------------------------------
 *
 * error.c
 *		Filling and naming s3s_error values.
 *
 * Errors live in the caller's memory and are filled with bounded copies,
 * so reporting a failure never allocates and never overflows, whatever the
 * length of the key or message.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/s3err.h"

/* Bounded string copy that always terminates the destination. */
static void
copy_bounded(char *dst, size_t size, const char *src)
{
	size_t		n;

	if (src == NULL)
	{
		dst[0] = '\0';
		return;
	}
	n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
s3s_error_clear(s3s_error *e)
{
	if (e == NULL)
		return;
	memset(e, 0, sizeof(*e));
	e->code = S3S_OK;
}

void
s3s_error_set(s3s_error *e, s3s_code code, const char *op,
			  const char *key, const char *fmt,...)
{
	va_list		ap;

	if (e == NULL)
		return;
	s3s_error_clear(e);
	e->code = code;
	copy_bounded(e->op, sizeof(e->op), op);
	copy_bounded(e->key, sizeof(e->key), key);
	if (fmt != NULL)
	{
		va_start(ap, fmt);
		vsnprintf(e->message, sizeof(e->message), fmt, ap);
		va_end(ap);
	}
}

const char *
s3s_code_name(s3s_code code)
{
	switch (code)
	{
		case S3S_OK:
			return "ok";
		case S3S_ERR_NOT_FOUND:
			return "not found";
		case S3S_ERR_PRECONDITION:
			return "precondition failed";
		case S3S_ERR_ACCESS:
			return "access denied";
		case S3S_ERR_REDIRECT:
			return "redirect";
		case S3S_ERR_CLIENT:
			return "client error";
		case S3S_ERR_SERVER:
			return "server error";
		case S3S_ERR_NETWORK:
			return "network error";
		case S3S_ERR_TLS:
			return "TLS verification failed";
		case S3S_ERR_TIMEOUT:
			return "timeout";
		case S3S_ERR_CANCELLED:
			return "cancelled";
		case S3S_ERR_PROTOCOL:
			return "protocol error";
		case S3S_ERR_IO:
			return "i/o error";
		case S3S_ERR_INVALID:
			return "invalid argument";
		case S3S_ERR_FORMAT:
			return "malformed data";
		case S3S_ERR_NOMEM:
			return "out of memory";
		case S3S_ERR_CONSTRAINT:
			return "constraint violated";
		case S3S_ERR_UNSAFE:
			return "conditional writes not honoured";
	}
	return "unknown error";
}
