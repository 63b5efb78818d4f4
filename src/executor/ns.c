/*
 * ns.c — namespaces, cgroup, the session keyring, the control-stream steps (sync, ready), the exec fifo (mkfifo,
 * waitStart) and the loopback interface of a new network namespace (loopbackUp).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"

static uint8_t resume_buf[RESUME_MAX];

/* ctx->table[f]: a slot not filled yet is -1, which every syscall below rejects with EBADF. */

STEP(CGROUP_JOIN)
{
	/* "0" means the writing process itself (cgroup v1 and v2 alike). Path: TypeScript knows the fd's name. */
	ssize_t w = write(ctx->table[s->f[0]], "0", 1);
	return w == 1 ? 0 : step_fail(e, w < 0 ? errno : EIO, "write cgroup.procs", "");
}

/* exec into a container without a mount namespace: into the init's root (a dir fd of /proc/<pid>/root). */
STEP(CHROOT)
{
	if (fchdir(ctx->table[s->f[0]]) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return step_fail(e, errno, "chroot", "");
	return 0;
}

STEP(UNSHARE)
{
	if (unshare((int)s->u[0]) < 0) /* range checked by the decoder */
		return step_fail(e, errno, "unshare", "");
	return 0;
}

STEP(SETNS)
{
	if (setns(ctx->table[s->f[0]], (int)s->u[0]) < 0)
		return step_fail(e, errno, "setns", "");
	return 0;
}

/*
 * runc's session keyring: the container does not keep its caller's session keyring. Join (or make) the named one;
 * then, for a new container, add the plan's permission bits (search for its user, or for others in a user
 * namespace) to what the keyring has. A kernel without keyrings (ENOSYS) is no error, as in runc.
 */
STEP(SESSION_KEYRING)
{
	char d[512];
	long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, s->s[0]);
	if (id < 0)
		return errno == ENOSYS ? 0 : step_fail(e, errno, "keyctl join session keyring", s->s[0]);
	if (!s->u[0])
		return 0;
	/* "type;uid;gid;perm;description", perm in hex */
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, d, sizeof d);
	if (n < 0 || n > (long)sizeof d)  /* too long: the kernel copied nothing */
		return step_fail(e, n < 0 ? errno : EOVERFLOW, "keyctl describe", s->s[0]);
	d[sizeof d - 1] = 0;
	const char *perm = d;
	for (int i = 0; i < 3 && perm; i++) {
		perm = strchr(perm, ';');
		if (perm)
			perm++;
	}
	if (!perm)
		return step_fail(e, EPROTO, "keyctl describe", s->s[0]);
	unsigned long cur = strtoul(perm, NULL, 16);
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, (unsigned)(cur | s->u[0])) < 0)
		return step_fail(e, errno, "keyctl setperm", s->s[0]);
	return 0;
}

STEP(LOOPBACK_UP)
{
	struct ifreq ifr;
	int fd, r = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return step_fail(e, errno, "socket", "lo");
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = step_fail(e, errno, "ioctl SIOCGIFFLAGS", "lo");
	else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = step_fail(e, errno, "ioctl SIOCSIFFLAGS", "lo");
	}
	close(fd);
	return r;
}

/* SYNC {step, token}, then the RESUME payload into buf (at most cap bytes): its length, or -1 with e filled. */
long sync_parent(struct exec_ctx *ctx, uint32_t token, uint8_t *buf, uint32_t cap, struct step_error *e)
{
	uint8_t m[8];
	uint16_t type;
	uint32_t len;
	int r;

	if (ctx->ctl < 0)
		return step_fail(e, EPIPE, "sync", "control socket already closed (sync after ready)");
	put_u32(m, ctx->step_index);
	put_u32(m + 4, token);
	if (frame_send(ctx->ctl, MSG_SYNC, m, sizeof m) < 0)
		_exit(1);  /* tsrun is gone: nobody to report to, nothing to set up for */
	r = frame_recv_hdr(ctx->ctl, &type, &len, cap + 4);
	if (r == 0 || (r > 0 && type == MSG_ABORT))
		_exit(1);  /* EOF or ABORT while waiting: tsrun decided to stop; quietly */
	if (r < 0)
		return step_fail(e, errno, "read RESUME", "");
	if (type != MSG_RESUME || len < 4)
		return step_fail(e, EPROTO, "read RESUME", "expected RESUME");
	if (read_full(ctx->ctl, m, 4) <= 0 || read_full(ctx->ctl, buf, len - 4) <= 0)
		_exit(1);
	if (get_u32le(m) != ctx->step_index)
		return step_fail(e, EPROTO, "read RESUME", "RESUME for another step");
	return len - 4;
}

STEP(SYNC)
{
	long n = sync_parent(ctx, (uint32_t)s->u[0], resume_buf, RESUME_MAX, e);
	if (n < 0)
		return -1;
	ctx->resume = resume_buf;  /* the hooks' state JSON, for the hook steps that follow */
	ctx->nresume = (uint32_t)n;
	return 0;
}

STEP(READY)
{
	if (ctx->ctl < 0)
		return step_fail(e, EPIPE, "ready", "control socket already closed");
	/* If tsrun cannot hear READY it will not record the container: do not linger half-made. */
	if (frame_send(ctx->ctl, MSG_READY, NULL, 0) < 0)
		_exit(1);
	close(ctx->ctl);
	ctx->ctl = -1;
	return 0;
}

STEP(MKFIFO)
{
	int dir = ctx->table[s->f[0]], fd;
	const char *name = s->s[0];
	mode_t old;

	if (s->u[1] > 0xffffffffu || s->u[2] > 0xffffffffu)
		return step_fail(e, EINVAL, "fchownat", name);
	old = umask(0);  /* the plan's mode exactly, like runc's exec.fifo (0622) */
	int r = mkfifoat(dir, name, (mode_t)(s->u[0] & 07777));
	umask(old);
	if (r < 0)
		return step_fail(e, errno, "mkfifoat", name);
	if (fchownat(dir, name, (uid_t)s->u[1], (gid_t)s->u[2], AT_SYMLINK_NOFOLLOW) < 0)
		return step_fail(e, errno, "fchownat", name);
	fd = openat(dir, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return step_fail(e, errno, "open", name);
	closeq(ctx->table[s->u[3]]);
	ctx->table[s->u[3]] = fd;
	return 0;
}

STEP(WAIT_START)
{
	char p[32];
	int fd;
	ssize_t w;

	/* Reopen the O_PATH fifo for writing: blocks until `tsrun start` opens the read side. */
	while ((fd = open(fd_path(p, ctx->table[s->f[0]]), O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (fd < 0)
		return step_fail(e, errno, "open exec fifo", p);
	while ((w = write(fd, "0", 1)) < 0 && errno == EINTR)
		;
	if (w != 1)
		return step_fail(e, w < 0 ? errno : EIO, "write exec fifo", p);
	close(fd);
	return 0;
}

STEP(HOSTNAME)
{
	return sethostname(s->s[0], strlen(s->s[0])) < 0 ? step_fail(e, errno, "sethostname", s->s[0]) : 0;
}

STEP(DOMAINNAME)
{
	return setdomainname(s->s[0], strlen(s->s[0])) < 0 ? step_fail(e, errno, "setdomainname", s->s[0]) : 0;
}

STEP(LOG_TO)
{
	ctx->logfd = ctx->table[s->f[0]];
	ctx->logjson = s->u[0] == 1;
	return 0;
}
