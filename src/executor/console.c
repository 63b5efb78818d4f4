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
#include "executor.h"

/* path.c */
const char *fd_path(char *buf, int fd);
int bind_fds(int src, int dst, unsigned long flags);
int create_file_at(int dirfd, const char *name, int mode);

/* The root's /dev/pts/ptmx, not followed if a symlink, checked to be devpts's ptmx (5:2, inode 2), reopened. */
static int open_ptmx(int rootfd)
{
	char p[32];
	struct statfs sf;
	struct stat st;
	int fd = open_in_root(rootfd, "/dev/pts/ptmx", O_PATH | O_NOFOLLOW, 0), m = -1;
	if (fd < 0)
		return -1;
	if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0)
		m = -1;
	else if (sf.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2) ||
	         st.st_ino != 2)
		errno = ENODEV;
	else
		m = open(fd_path(p, fd), O_RDWR | O_NOCTTY | O_CLOEXEC);
	int err = errno;
	close(fd);
	errno = err;
	return m;
}

static int send_master(int sock, int fd)
{
	char payload[] = "/dev/ptmx";
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof payload - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	memset(&u, 0, sizeof u);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	ssize_t n;
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != iov.iov_len)
		errno = EIO;
	return (size_t)n == iov.iov_len ? 0 : -1;
}

int step_CONSOLE(struct exec_ctx *ctx, const struct step *s, struct step_error *e)
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
	else if (send_master(sock, master) < 0)
		op = "sendmsg console socket";
	int err = errno;
	if (own >= 0)
		close(own);
	if (master >= 0)
		close(master);
	if (dev >= 0)
		close(dev);
	if (con >= 0)
		close(con);
	if (op) {
		if (peer >= 0)
			close(peer);
		return step_fail(e, err, op, path);
	}
	close(sock);
	ctx->table[s->f[0]] = -1;
	if (setsid() < 0)
		op = "setsid";
	else if (ioctl(peer, TIOCSCTTY, 0) < 0)
		op = "ioctl TIOCSCTTY";
	for (int i = 0; i < 3 && !op; i++)
		if (peer == i ? fcntl(peer, F_SETFD, 0) < 0 : dup3(peer, i, 0) < 0)
			op = "dup3";
	err = errno;
	if (peer > 2)
		close(peer);
	return op ? step_fail(e, err, op, "/dev/console") : 0;
}
