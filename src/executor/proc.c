/*
 * proc.c — the process tree (fork, pdeathsig) and per-process attributes (rlimit, sysctl, scheduler, ...).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"

/*
 * The pdeathsig race: the parent may die before PR_SET_PDEATHSIG takes effect. Before any fork our parent is
 * tsrun, in our pid namespace, so getppid() tells. After a fork into a new pid namespace getppid() is 0 whoever
 * the parent is, so the waiting parent holds the write end of a pipe and its death shows as POLLHUP here.
 */
static pid_t expected_ppid = -1;
static int parent_fd = -1;

void proc_init(void)
{
	expected_ppid = getppid();
}

static int write_file(const char *path, const char *text, struct step_error *e)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return step_fail(e, errno, "open", path);
	if (write_text(fd, text) < 0)
		return fail_close(e, "write", path, fd, -1);
	return close(fd), 0;
}

static _Noreturn void wait_and_exit(pid_t child, int keep)
{
	/* Nothing of the container's is needed here: keep only the pipe that tells the child we are alive. */
	syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u);
	syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u);
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);  /* reaps re-parented orphans too (subreaper); we run no other code */
		if (w < 0 && errno != EINTR)
			_exit(1);
		if (w == child)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
}

STEP(FORK)
{
	unsigned mode = (unsigned)s->u[0];
	uint8_t m[4];
	int p[2];
	pid_t pid;
	char c;

	if (ctx->ctl < 0)
		return step_fail(e, EPIPE, "fork", "control socket already closed (fork after ready)");
	/* Subreaper before fork(): orphans of the container then come to us, not to the host's init. */
	if (mode == 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return step_fail(e, errno, "prctl", "PR_SET_CHILD_SUBREAPER");
	if (pipe2(p, O_CLOEXEC) < 0)
		return step_fail(e, errno, "pipe2", "");
	pid = fork();
	if (pid < 0)
		return step_fail(e, errno, "fork", "");
	if (pid == 0) {
		close(p[1]);
		/* Wait until the parent has sent FORKED: our own frames must come after it on the stream. */
		ssize_t r;
		while ((r = read(p[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (r != 1)
			_exit(1);  /* the parent died before telling tsrun our pid: nobody would know of us */
		closeq(parent_fd);
		parent_fd = -1;
		expected_ppid = -1;  /* mode 0: our parent exits now by design; pdeathsig has nothing to check */
		if (mode == 0)
			close(p[0]);
		else
			parent_fd = p[0];
		return 0;
	}
	close(p[0]);
	put_u32(m, (uint32_t)pid);
	if (frame_send(ctx->ctl, MSG_FORKED, m, sizeof m) < 0) {
		kill(pid, SIGKILL);
		_exit(1);
	}
	while (write(p[1], "x", 1) < 0 && errno == EINTR)
		;
	close(ctx->ctl);
	if (mode == 0)
		_exit(0);
	wait_and_exit(pid, p[1]);
}

STEP(PDEATHSIG)
{
	struct pollfd pfd = { .fd = parent_fd, .events = POLLIN };

	if (prctl(PR_SET_PDEATHSIG, (unsigned long)s->u[0], 0, 0, 0) < 0)
		return step_fail(e, errno, "prctl", "PR_SET_PDEATHSIG");
	if (expected_ppid > 0 && getppid() != expected_ppid)
		_exit(1);  /* the parent died before the prctl: the signal will never come */
	if (parent_fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR)))
		_exit(1);
	return 0;
}

STEP(TIME_OFFSETS)
{
	return write_file("/proc/self/timens_offsets", s->s[0], e);
}

STEP(SYSCTL)
{
	/* TypeScript computes the path from the key; we still refuse anything that is not below /proc/sys. */
	if (strncmp(s->s[0], "/proc/sys/", 10) != 0 || strstr(s->s[0], "/.."))
		return step_fail(e, EINVAL, "sysctl", s->s[0]);
	return write_file(s->s[0], s->s[1], e);
}

STEP(OOM_SCORE_ADJ)
{
	return write_file("/proc/self/oom_score_adj", s->s[0], e);
}

STEP(RLIMIT)
{
	struct rlimit rl = { .rlim_cur = s->u[1], .rlim_max = s->u[2] };

	if (prlimit(0, (int)s->u[0], &rl, NULL) < 0) /* resource range checked by the decoder */
		return step_fail(e, errno, "prlimit", "");
	return 0;
}

STEP(PERSONALITY)
{
	if (personality((unsigned long)s->u[0]) < 0)
		return step_fail(e, errno, "personality", "");
	return 0;
}

STEP(SCHEDULER)
{
	/* struct sched_attr (uapi linux/sched/types.h, SCHED_ATTR_SIZE_VER1); glibc 2.36 has no wrapper. */
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t priority;
		uint64_t runtime, deadline, period;
	} a = { sizeof a, (uint32_t)s->u[0], s->u[1], (int32_t)(uint32_t)s->u[2], (uint32_t)s->u[3],
	        s->u[4], s->u[5], s->u[6] };

	return syscall(SYS_sched_setattr, 0, &a, 0) < 0 ? step_fail(e, errno, "sched_setattr", "") : 0;
}

STEP(IO_PRIORITY)
{
	/* IOPRIO_WHO_PROCESS = 1, IOPRIO_PRIO_VALUE(class, level) = class << 13 | level (both 0..7: the decoder) */
	return syscall(SYS_ioprio_set, 1, 0, (int)(s->u[0] << 13 | s->u[1])) < 0 ? step_fail(e, errno, "ioprio_set", "") : 0;
}

STEP(CPU_AFFINITY)
{
	/* Raw syscall: the mask may be any length; the kernel zero-fills or truncates to its cpumask size. */
	return syscall(SYS_sched_setaffinity, 0, (size_t)s->nb, s->b) < 0 ? step_fail(e, errno, "sched_setaffinity", "") : 0;
}

STEP(UMASK)
{
	umask((mode_t)(s->u[0] & 0777));
	return 0;
}

STEP(NO_NEW_PRIVS)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? step_fail(e, errno, "prctl", "PR_SET_NO_NEW_PRIVS") : 0;
}
