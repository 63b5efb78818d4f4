/*
 * creds.c — capabilities, ids, stdio ownership, seccomp (security.md D9).
 *
 * All of these are per-thread in Linux; the executor is single-threaded, so each call covers the whole process
 * (node-limits.md §1). Raw capset(2): libc only, no libcap.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "internal.h"

#define ID_MAX 0xfffffffeu  /* (uid_t)-1 means "unchanged" to the set*id calls: never a real id */
#define SECCOMP_SET_MODE_FILTER_ 1
#define SECCOMP_FILTER_FLAG_NEW_LISTENER_ (1u << 3)

/* seccompListener → seccomp: the agent's connection and the message to send with the listener fd. */
static int listener_sock = -1;
static uint8_t listener_msg[RESUME_MAX];
static uint32_t listener_nmsg;

/* The highest capability this kernel knows: PR_CAPBSET_READ fails with EINVAL above it (no /proc needed). */
static int last_cap(void)
{
	static int last = -1;
	int c;

	if (last < 0) {
		for (c = 0; c < 64 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
			;
		last = c - 1;
	}
	return last;
}

int step_CAPS_BOUNDING(struct exec_ctx *ctx, const struct step *s, struct step_error *e)
{
	char name[16];

	(void)ctx;
	for (int c = 0; c <= last_cap(); c++) {
		if ((s->u[0] >> c) & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			snprintf(name, sizeof name, "cap %d", c);
			return step_fail(e, errno, "prctl PR_CAPBSET_DROP", name);
		}
	}
	/* Keep the permitted set across the uid switch of the `user` step; `caps` sets the final sets. */
	return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ? step_fail(e, errno, "prctl", "PR_SET_KEEPCAPS") : 0;
}

int step_USER(struct exec_ctx *ctx, const struct step *s, struct step_error *e)
{
	static gid_t groups[65536];  /* NGROUPS_MAX; the decoder caps nU at it. bss: costs only what is used */
	uint64_t uid = s->u[0], gid = s->u[1];

	(void)ctx;
	if (uid > ID_MAX || gid > ID_MAX)
		return step_fail(e, EINVAL, "setresuid", "");
	if (!(s->flags & STEP_F_SKIP_SETGROUPS)) {
		for (uint32_t i = 0; i < s->nU; i++) {
			uint64_t g = get_u64le(s->Up + 8 * (size_t)i);
			if (g > ID_MAX)
				return step_fail(e, EINVAL, "setgroups", "");
			groups[i] = (gid_t)g;
		}
		if (setgroups(s->nU, groups) < 0)
			return step_fail(e, errno, "setgroups", "");
	}
	if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
		return step_fail(e, errno, "setresgid", "");
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
		return step_fail(e, errno, "setresuid", "");
	return 0;
}

int step_CAPS(struct exec_ctx *ctx, const struct step *s, struct step_error *e)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t eff = s->u[0], prm = s->u[1], inh = s->u[2], amb = s->u[3];
	char name[16];

	(void)ctx;
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(eff >> (32 * i));
		d[i].permitted = (uint32_t)(prm >> (32 * i));
		d[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return step_fail(e, errno, "capset", "");
	/* Start from an empty ambient set so that only what the plan lists is raised. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && amb)
		return step_fail(e, errno, "prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
	for (int c = 0; c < 64; c++) {
		if (!((amb >> c) & 1))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
			snprintf(name, sizeof name, "cap %d", c);
			return step_fail(e, errno, "prctl PR_CAP_AMBIENT_RAISE", name);
		}
	}
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? step_fail(e, errno, "prctl", "PR_SET_KEEPCAPS") : 0;
}

int step_FIX_STDIO(struct exec_ctx *ctx, const struct step *s, struct step_error *e)
{
	struct stat st;

	(void)ctx;
	if (s->u[0] > ID_MAX || s->u[1] > ID_MAX)
		return step_fail(e, EINVAL, "fchown", "");
	for (int fd = 0; fd < 3; fd++) {
		if (fstat(fd, &st) < 0)
			continue;  /* closed: nothing to fix */
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
			continue;  /* /dev/null: never chown the host's */
		if (st.st_uid == s->u[0] && st.st_gid == s->u[1])
			continue;
		if (fchown(fd, (uid_t)s->u[0], (gid_t)s->u[1]) < 0) {
			/* runc fixStdioPermissions: unmapped ids (EINVAL), an owner outside our user namespace (EPERM)
			 * or a read-only /dev (EROFS) are not worth failing the container for. */
			if (errno == EINVAL || errno == EPERM || errno == EROFS)
				continue;
			char name[16];
			snprintf(name, sizeof name, "fd %d", fd);
			return step_fail(e, errno, "fchown", name);
		}
	}
	return 0;
}

/* Sends msg with fd as SCM_RIGHTS on its first byte; a stream may take the rest in more sendmsg calls. */
static int send_with_fd(int sock, const uint8_t *msg, uint32_t len, int fd)
{
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c;
	uint32_t done = 0;

	memset(&u, 0, sizeof u);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (done < len) {
		ssize_t n;
		iov.iov_base = (void *)(uintptr_t)(msg + done);
		iov.iov_len = len - done;
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (uint32_t)n;
		mh.msg_control = NULL;  /* the fd went with the first bytes */
		mh.msg_controllen = 0;
	}
	return 0;
}

int step_SECCOMP_LISTENER(struct exec_ctx *ctx, const struct step *s, struct step_error *e)
{
	/* The hooks' state JSON (ctx->resume) must survive this exchange: keep a copy and point ctx at it. */
	static uint8_t saved[RESUME_MAX];
	struct step sync = { .kind = STEP_SYNC };
	uint32_t nsaved = ctx->nresume;

	if (nsaved)
		memcpy(saved, ctx->resume, nsaved);
	sync.u[0] = SYNC_TOKEN_SECCOMP;
	if (step_SYNC(ctx, &sync, e) < 0)
		return -1;
	listener_nmsg = ctx->nresume;
	if (listener_nmsg)
		memcpy(listener_msg, ctx->resume, listener_nmsg);
	ctx->resume = nsaved ? saved : NULL;
	ctx->nresume = nsaved;
	if (listener_nmsg == 0)
		return step_fail(e, EPROTO, "seccomp listener", "empty container process state");
	listener_sock = ctx->table[s->f[0]];
	return 0;
}

int step_SECCOMP(struct exec_ctx *ctx, const struct step *s, struct step_error *e)
{
	/* The decoder checked nb: non-zero, a multiple of 8 (sizeof struct sock_filter), at most BPF_MAXINSNS. */
	struct sock_fprog prog = { .len = (unsigned short)(s->nb / 8), .filter = (struct sock_filter *)(uintptr_t)s->b };
	int notify = (s->u[0] & SECCOMP_FILTER_FLAG_NEW_LISTENER_) != 0;
	long fd;

	(void)ctx;
	if (s->u[0] > 0xffffffffu)
		return step_fail(e, EINVAL, "seccomp", "filter flags");
	if (notify && listener_sock < 0)
		return step_fail(e, EINVAL, "seccomp", "SECCOMP_FILTER_FLAG_NEW_LISTENER without a seccompListener step");
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER_, (unsigned)s->u[0], &prog);
	if (fd < 0)
		return step_fail(e, errno, "seccomp", "");
	if (!notify)
		return 0;
	/* The filter is in place: from here on only sendmsg and close, which the profile cannot notify on
	 * without deadlocking against an agent that never got the fd (the same hazard as runc's write). */
	if (send_with_fd(listener_sock, listener_msg, listener_nmsg, (int)fd) < 0) {
		int err = errno;
		close((int)fd);
		return step_fail(e, err, "sendmsg", "seccomp listener socket");
	}
	close((int)fd);
	close(listener_sock);
	listener_sock = -1;
	return 0;
}
