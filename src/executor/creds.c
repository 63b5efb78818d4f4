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
#include <string.h>
#include <sys/prctl.h>
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

STEP(CAPS_BOUNDING)
{
	for (int c = 0; c <= last_cap(); c++) {
		if ((s->u[0] >> c) & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return step_failf(e, errno, "prctl PR_CAPBSET_DROP", "cap %d", c);
	}
	/* Keep the permitted set across the uid switch of the `user` step; `caps` sets the final sets. */
	return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ? step_fail(e, errno, "prctl", "PR_SET_KEEPCAPS") : 0;
}

STEP(USER)
{
	static gid_t groups[65536];  /* NGROUPS_MAX; the decoder caps nU at it. bss: costs only what is used */
	uint64_t uid = s->u[0], gid = s->u[1];

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

STEP(CAPS)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t eff = s->u[0], prm = s->u[1], inh = s->u[2], amb = s->u[3];

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
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return step_failf(e, errno, "prctl PR_CAP_AMBIENT_RAISE", "cap %d", c);
	}
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? step_fail(e, errno, "prctl", "PR_SET_KEEPCAPS") : 0;
}

STEP(FIX_STDIO)
{
	struct stat st;

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
			return step_failf(e, errno, "fchown", "fd %d", fd);
		}
	}
	return 0;
}

STEP(SECCOMP_LISTENER)
{
	/* Its own buffer: ctx->resume (the hooks' state JSON) must survive this exchange. */
	long n = sync_parent(ctx, SYNC_TOKEN_SECCOMP, listener_msg, sizeof listener_msg, e);
	if (n < 0)
		return -1;
	if (n == 0)
		return step_fail(e, EPROTO, "seccomp listener", "empty container process state");
	listener_nmsg = (uint32_t)n;
	listener_sock = ctx->table[s->f[0]];
	return 0;
}

STEP(SECCOMP)
{
	/* The decoder checked nb: non-zero, a multiple of 8 (sizeof struct sock_filter), at most BPF_MAXINSNS. */
	struct sock_fprog prog = { .len = (unsigned short)(s->nb / 8), .filter = (struct sock_filter *)(uintptr_t)s->b };
	int notify = (s->u[0] & SECCOMP_FILTER_FLAG_NEW_LISTENER_) != 0;
	long fd;

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
	if (send_fd(listener_sock, listener_msg, listener_nmsg, (int)fd) < 0)
		return fail_close(e, "sendmsg", "seccomp listener socket", (int)fd, -1);
	close((int)fd);
	close(listener_sock);
	listener_sock = -1;
	return 0;
}
