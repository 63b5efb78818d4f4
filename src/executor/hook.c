/*
 * hook.c — an OCI hook run by the executor (createContainer, startContainer: they run in the container's
 * namespaces, so Node cannot run them). The state JSON from the last RESUME is the hook's stdin.
 *
 * Bounded: the state goes through a memfd (no pipe to fill and block on), the wait is a pidfd poll with the
 * plan's timeout, after which the hook is killed. The hook writes to the log fd if one is set, else to our stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"

static _Noreturn void hook_child(const struct exec_ctx *ctx, const struct step *s, int in, int errpipe)
{
	int out = ctx->logfd >= 0 ? ctx->logfd : 2;
	int err;

	if (put_fd(in, 0) < 0 || put_fd(out, 1) < 0 || put_fd(out, 2) < 0)
		goto fail;
	/* Everything else (the container's preserved fds included) is not the hook's business. */
	syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
	reset_signals();
	execve(s->s[0], (char *const *)s->v[0].p, (char *const *)s->v[1].p);
fail:
	err = errno;
	(void)!write(errpipe, &err, sizeof err);
	_exit(127);
}

STEP(HOOK)
{
	const char *path = s->s[0];
	int in, ep[2], pidfd, st, err = 0, tmo;
	pid_t pid;
	ssize_t r;

	in = memfd_create("tsrun-hook-state", MFD_CLOEXEC);
	if (in < 0)
		return step_fail(e, errno, "memfd_create", path);
	/* The payload is "state for createContainer" NUL "state for startContainer" (they differ in status). */
	const uint8_t *data = ctx->resume;
	size_t n = ctx->nresume;
	const uint8_t *nul = n ? memchr(data, 0, n) : NULL;
	if (s->flags & STEP_F_SECOND_STATE) {
		n = nul ? n - (size_t)(nul + 1 - data) : 0;
		data = nul ? nul + 1 : data;
	} else if (nul) {
		n = (size_t)(nul - data);
	}
	r = n ? write(in, data, n) : 0;
	if (r != (ssize_t)n || lseek(in, 0, SEEK_SET) < 0)
		return step_fail(e, r < 0 || r == (ssize_t)n ? errno : EIO, "write hook state", path);
	if (pipe2(ep, O_CLOEXEC) < 0)
		return step_fail(e, errno, "pipe2", path);
	pid = fork();
	if (pid < 0)
		return step_fail(e, errno, "fork", path);
	if (pid == 0)
		hook_child(ctx, s, in, ep[1]);
	close(ep[1]);
	close(in);
	/* The child's execve closes the close-on-exec pipe: EOF means it ran, an int means it could not. */
	while ((r = read(ep[0], &err, sizeof err)) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (r == (ssize_t)sizeof err) {
		waitpid(pid, &st, 0);
		return step_fail(e, err, "hook", path);
	}

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		err = errno;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return step_fail(e, err, "pidfd_open", path);
	}
	tmo = s->u[0] == 0 ? -1 : s->u[0] > INT_MAX / 1000 ? INT_MAX : (int)s->u[0] * 1000;
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	while ((r = poll(&pfd, 1, tmo)) < 0 && errno == EINTR)
		;  /* an EINTR restarts the full timeout; we install no handlers, so it does not happen in practice */
	close(pidfd);
	if (r == 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r == 0)
		return step_failf(e, ETIMEDOUT, "hook", "%s: timed out after %llu s", path, (unsigned long long)s->u[0]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	/* Go's wording (runc quotes the hook's *exec.ExitError): "exit status 3", "signal: killed". */
	if (WIFEXITED(st))
		return step_failf(e, EIO, "hook", "%s: exit status %d", path, WEXITSTATUS(st));
	return step_failf(e, EIO, "hook", "%s: signal %d", path, WTERMSIG(st));
}
