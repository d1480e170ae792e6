/*-------------------------------------------------------------------------
 *
 * creds_process.c
 *		A profile's credential_process: a command of the server's own AWS
 *		config file that prints credentials as JSON.
 *
 * The command runs through /bin/sh as the AWS CLI runs it, with stdin and
 * stderr on /dev/null (its complaints could hold anything, and the server
 * log is no place for them), and is killed when it outlives the credential
 * timeout: a hung helper must not hang the backend.  Its output is capped
 * at 64 KiB and never quoted in an error.  Only the server's identity
 * reaches this (a superuser's use_server_identity), and the command comes
 * from files of the server's OS user.
 *
 *-------------------------------------------------------------------------
 */
#include "store/creds_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_LIMIT (64 * 1024)

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
s3s_creds_process(const char *command, long timeout_ms, s3s_credentials *out, s3s_error *err)
{
	int			fds[2];
	pid_t		pid;
	char	   *buf;
	size_t		len = 0;
	bool		timed_out = false;
	bool		overflow = false;
	int			status = 0;
	pid_t		waited;
	int64_t		deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	bool		ok;

	memset(out, 0, sizeof(*out));
	buf = malloc(OUTPUT_LIMIT + 1);
	if (buf == NULL || pipe(fds) != 0)
	{
		free(buf);
		s3s_error_set(err, S3S_ERR_NOMEM, "credentials", NULL,
					  "could not start credential_process: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0)
	{
		close(fds[0]);
		close(fds[1]);
		free(buf);
		s3s_error_set(err, S3S_ERR_IO, "credentials", NULL,
					  "could not start credential_process: %s", strerror(errno));
		return false;
	}
	if (pid == 0)
	{
		int			null = open("/dev/null", O_RDWR);

		setpgid(0, 0);			/* so a kill reaches what the shell started */

		if (null >= 0)
		{
			dup2(null, 0);
			dup2(null, 2);
		}
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", command, (char *) NULL);
		_exit(127);
	}
	close(fds[1]);

	for (;;)
	{
		struct pollfd pfd = {fds[0], POLLIN, 0};
		int64_t		left = deadline - mono_ms();
		ssize_t		n;

		if (left <= 0)
		{
			timed_out = true;
			break;
		}
		n = poll(&pfd, 1, (int) left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;			/* timeout is caught above */
		n = read(fds[0], buf + len, OUTPUT_LIMIT - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t) n;
		if (len == OUTPUT_LIMIT)
		{
			overflow = true;
			break;
		}
	}
	close(fds[0]);
	if (timed_out || overflow)
	{
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	buf[len] = '\0';

	if (waited != pid)
	{
		/* SIGCHLD ignored by the host process: the status is lost */
		s3s_error_set(err, S3S_ERR_IO, "credentials", NULL,
					  "could not learn how credential_process ended: %s", strerror(errno));
		timed_out = true;		/* not ok, whatever was printed */
	}
	else if (timed_out)
		s3s_error_set(err, S3S_ERR_TIMEOUT, "credentials", NULL,
					  "credential_process did not finish within %ld ms", timeout_ms);
	else if (overflow)
		s3s_error_set(err, S3S_ERR_PROTOCOL, "credentials", NULL,
					  "credential_process printed more than %d bytes", OUTPUT_LIMIT);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		s3s_error_set(err, S3S_ERR_ACCESS, "credentials", NULL,
					  "credential_process failed (%s %d)",
					  WIFEXITED(status) ? "exit status" : "signal",
					  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	ok = !timed_out && !overflow && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		s3s_creds_parse_process(buf, len, out, err);
	memset(buf, 0, len);
	free(buf);
	return ok;
}
