/*
 * exec.c — the end of setup: chdir (with the CVE-2024-21626 check), resolve the program, and execve it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"

/*
 * Ignored dispositions and blocked signals survive execve. Node ignores SIGPIPE and SIGXFSZ, and tsrun's caller
 * may have left anything ignored (libuv resets only 1-31). Raw rt_sigaction with an all-zero struct means
 * SIG_DFL, no flags, empty mask on every architecture, and reaches the signals glibc keeps for itself (32, 33).
 */
void reset_signals(void)
{
	static const uint64_t zero[8];  /* larger than any arch's struct kernel_sigaction / sigset */

	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, zero, NULL, (size_t)(_NSIG / 8));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, zero, NULL, (size_t)(_NSIG / 8));
}

STEP(CHDIR)
{
	char cwd[4096];
	long r;

	if (chdir(s->s[0]) < 0)
		return step_fail(e, errno, "chdir", s->s[0]);
	/* The raw syscall: the kernel answers "(unreachable)/..." for a cwd outside our root (security.md D2.5). */
	r = syscall(SYS_getcwd, cwd, sizeof cwd);
	if (r < 0 || cwd[0] != '/')
		return step_fail(e, r < 0 ? errno : ENOENT, "getcwd", s->s[0]);
	return 0;
}

/* A regular file we may execute (effective ids, like Go's exec.LookPath): 0, or -1 with errno. */
static int check_exe(const char *p)
{
	struct stat st;

	if (stat(p, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return faccessat(AT_FDCWD, p, X_OK, AT_EACCESS);
}

STEP(RESOLVE)
{
	const char *name = s->s[0];
	char p[sizeof ctx->resolved];

	if (strchr(name, '/')) {
		/* Checked as is: ENOENT (no such file), EACCES (not executable or not a regular file), ... */
		if (check_exe(name) < 0)
			return step_fail(e, errno, "resolve", name);
		if (strlen(name) >= sizeof ctx->resolved)
			return step_fail(e, ENAMETOOLONG, "resolve", name);
		strcpy(ctx->resolved, name);
		return 0;
	}
	for (uint32_t i = 0; name[0] && i < s->v[0].n; i++) {
		int n = snprintf(p, sizeof p, "%s/%s", s->v[0].p[i], name);
		if (n > 0 && (size_t)n < sizeof p && check_exe(p) == 0) {
			strcpy(ctx->resolved, p);
			return 0;
		}
	}
	/* Like exec.LookPath (and so runc): a search that finds nothing executable is "not found". */
	return step_fail(e, ENOENT, "resolve", name);
}

/* Close every fd >= lo except a and b (-1: none), which stay open but close-on-exec. */
static void close_from_except(unsigned lo, int a, int b)
{
	int k[2] = { a < b ? a : b, a < b ? b : a };
	unsigned start = lo;

	for (int i = 0; i < 2; i++) {
		if (k[i] < 0 || (unsigned)k[i] < start)
			continue;
		if ((unsigned)k[i] > start)
			syscall(SYS_close_range, start, (unsigned)k[i] - 1, 0u);
		(void)fcntl(k[i], F_SETFD, FD_CLOEXEC);
		start = (unsigned)k[i] + 1;
	}
	syscall(SYS_close_range, start, ~0u, 0u);
}

STEP(EXEC)
{
	const char *path = s->s[0][0] ? s->s[0] : ctx->resolved;

	if (!path[0])
		return step_fail(e, ENOENT, "exec", s->v[0].p[0]);
	reset_signals();
	/*
	 * security.md D2.3: nothing but fds 0 .. keepFds-1 reaches the program. The log fd and the control socket
	 * (when still open) stay until execve succeeds — they are close-on-exec — so a failing execve can be reported.
	 */
	close_from_except((unsigned)s->u[0], ctx->logfd, ctx->ctl);
	execve(path, (char *const *)s->v[0].p, (char *const *)s->v[1].p);
	return step_fail(e, errno, "exec", path);
}
