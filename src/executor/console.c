/*
 * console.c — the container's terminal, made entirely through fds (security.md D6, CVE-2025-52565), and the
 * master handed to the caller with exactly one sendmsg: one SCM_RIGHTS fd, payload "/dev/ptmx"
 * (caller-contract.md §8).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
#include "internal.h"

/* The root's /dev/pts/ptmx, not followed if a symlink, checked to be devpts's ptmx (5:2, inode 2), reopened. */
static int open_ptmx(int rootfd)
{
	char p[32];
	struct statfs sf;
	struct stat st;
	int fd = open_in_root(rootfd, "/dev/pts/ptmx", O_PATH | O_NOFOLLOW, 0), m = -1;
	if (fd < 0 || fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0)
		m = -1;
	else if (sf.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2) ||
	         st.st_ino != 2)
		errno = ENODEV;
	else
		m = open(fd_path(p, fd), O_RDWR | O_NOCTTY | O_CLOEXEC);
	closeq(fd);
	return m;
}

int put_fd(int from, int to)
{
	return from == to ? fcntl(to, F_SETFD, 0) : dup2(from, to);
}

int send_fd(int sock, const void *msg, uint32_t len, int fd)
{
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	memset(&u, 0, sizeof u);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	/* A stream may take the message in several calls; the fd goes with the first bytes only. */
	for (uint32_t done = 0; done < len;) {
		iov = (struct iovec){ .iov_base = (char *)(uintptr_t)msg + done, .iov_len = len - done };
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? (errno = EIO, -1) : -1;
		done += (uint32_t)n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

STEP(CONSOLE)
{
	int sock = ctx->table[s->f[0]], master, peer = -1, dev = -1, con = -1, own = -1;
	int exec_console = (s->flags & STEP_F_NO_DEV_CONSOLE) != 0, root = ctx->rootfd;
	struct winsize ws = { .ws_row = (unsigned short)s->u[0], .ws_col = (unsigned short)s->u[1] };
	const char *op = NULL, *path = "/dev/pts/ptmx";

	/* exec: no rootfs step set a root; after setns(mnt) our own "/" is the container's root */
	if (root < 0 && (root = own = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return step_fail(e, errno, "open", "/");
	if ((master = open_ptmx(root)) < 0)
		op = "open /dev/pts/ptmx";
	else if (unlockpt(master) < 0)
		op = "unlockpt";
	else if ((peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		op = "ioctl TIOCGPTPEER";
	else if (!exec_console && (path = "/dev/console", (dev = open_in_root(root, "/dev", O_PATH | O_DIRECTORY, 0)) < 0))
		op = "open /dev";
	else if (!exec_console && (con = create_file_at(dev, "console", 0666)) < 0) /* O_CREAT|O_EXCL|O_NOFOLLOW, then O_PATH */
		op = "create /dev/console";
	else if (!exec_console && bind_fds(peer, con, 0) < 0) /* from the peer fd, never from a /dev/pts/N path */
		op = "bind /dev/console";
	else if ((ws.ws_row || ws.ws_col) && ioctl(peer, TIOCSWINSZ, &ws) < 0)
		op = "ioctl TIOCSWINSZ";
	else if (send_fd(sock, "/dev/ptmx", 9, master) < 0)
		op = "sendmsg console socket";
	closeq(own);  /* closeq keeps errno */
	closeq(master);
	closeq(dev);
	closeq(con);
	if (op)
		return fail_close(e, op, path, peer, -1);
	close(sock);
	ctx->table[s->f[0]] = -1;
	if (setsid() < 0)
		op = "setsid";
	else if (ioctl(peer, TIOCSCTTY, 0) < 0)
		op = "ioctl TIOCSCTTY";
	for (int i = 0; i < 3 && !op; i++)
		if (put_fd(peer, i) < 0)
			op = "dup3";
	if (peer > 2)
		closeq(peer);
	return op ? step_fail(e, errno, op, "/dev/console") : 0;
}
