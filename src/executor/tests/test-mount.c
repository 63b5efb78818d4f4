/*
 * test-mount.c — root tests (TAP) for the mount steps: path.c, mount.c, console.c.
 *
 * Links:  src/executor/tests/test-mount.c src/executor/path.c src/executor/mount.c src/executor/console.c
 *         src/executor/error.c (step_fail and its variants)
 * Build:  cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined -Isrc/executor \
 *            src/executor/tests/test-mount.c src/executor/path.c src/executor/mount.c src/executor/console.c \
 *            src/executor/error.c -o /tmp/test-mount && /tmp/test-mount
 * Needs:  root (prints "1..0 # SKIP" otherwise). Each case runs in a forked child that unshares its mount
 *         namespace, makes "/" rslave and the whole host tree read-only except the case's own temp dirs, so
 *         nothing reaches the host even when a step is broken; the parent checks the host after.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "executor.h"

static struct exec_ctx ctx;
static struct step_error err;
static char R[64];   /* the rootfs of the current case (host path) */
static char H[64];   /* a host directory used as bind source, with a file "hello" */
static int logfd = 2; /* the console case replaces stderr */
static int ntests;

#define CHECK(c)                                                                                               \
	do {                                                                                                   \
		if (!(c)) {                                                                                    \
			dprintf(logfd, "#   line %d: %s (errno: %s; step: err=%s op='%s' path='%s')\n", __LINE__, \
			        #c, strerror(errno), strerror(err.err), err.op, err.path);                     \
			return 1;                                                                              \
		}                                                                                              \
	} while (0)

/* R + rel, four rotating buffers. */
static const char *P(const char *rel)
{
	static char b[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "%s%s", R, rel);
	return b[i];
}
static const char *fmt(const char *f, ...)
{
	static char b[4][256];
	static int i;
	va_list ap;
	i = (i + 1) % 4;
	va_start(ap, f);
	vsnprintf(b[i], sizeof b[i], f, ap);
	va_end(ap);
	return b[i];
}
static int mk(const char *rel) { return mkdir(P(rel), 0755); }
static int ln(const char *target, const char *rel) { return symlink(target, P(rel)); }
static int wr(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}
/* Contents of path ("" when empty), or NULL. */
static const char *rd(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}
static long fstype(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) < 0 ? -1 : (long)sf.f_type;
}
static unsigned long mflags(const char *path)
{
	struct statvfs sv;
	return statvfs(path, &sv) < 0 ? 0 : sv.f_flag;
}
static int gone(const char *path) { return access(path, F_OK) < 0 && errno == ENOENT; }

static int run(step_fn fn, const char *s0, const char *s1, const uint64_t *u)
{
	struct step s = { 0 };
	s.s[0] = s0;
	s.s[1] = s1;
	memcpy(s.u, u, 6 * sizeof *u);
	memset(&err, 0, sizeof err);
	return fn(&ctx, &s, &err);
}
#define RUN(fn, a, b, ...) run(step_##fn, a, b, (const uint64_t[6]){ __VA_ARGS__ })

static int mnt(const char *src, const char *tgt, const char *type, uint64_t flags, const char *data, uint64_t opts,
               uint64_t reflags, uint64_t prop, uint64_t aset, uint64_t aclr)
{
	struct step s = { .kind = STEP_MOUNT };
	s.s[0] = src, s.s[1] = tgt, s.s[2] = type, s.s[3] = data;
	s.u[0] = flags, s.u[1] = opts, s.u[2] = reflags, s.u[3] = prop, s.u[4] = aset, s.u[5] = aclr;
	memset(&err, 0, sizeof err);
	return step_MOUNT(&ctx, &s, &err);
}
#define MKDIR MOUNT_OPT_MKDIR
#define MKFILE MOUNT_OPT_MKFILE
#define BINDFD MOUNT_OPT_BIND_FD
#define MUSTDIR MOUNT_OPT_TARGET_MUST_BE_DIR

/* A minimal rootfs (/proc /sys /dev /etc) bound onto itself and opened as the root. */
static int base(void)
{
	mk("/proc"), mk("/sys"), mk("/dev"), mk("/etc");
	return RUN(ROOTFS_BIND, R, NULL, 0);
}
static int mount_proc(void) { return mnt("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", MUSTDIR, 0, 0, 0, 0); }

/* ── cases (each runs in its own child and mount namespace) ─────────────────────────────────────────────── */

static int c_bind_dir(void)
{
	CHECK(base() == 0);
	CHECK(mnt(H, "/data/sub", "", MS_BIND | MS_REC, "", MKDIR | BINDFD, 0, 0, 0, 0) == 0);
	const char *t = rd(P("/data/sub/hello"));
	CHECK(t && !strcmp(t, "hello\n"));
	return 0;
}

static int c_bind_file(void)
{
	CHECK(base() == 0);
	CHECK(mnt(fmt("%s/hello", H), "/etc/deep/bound", "", MS_BIND, "", MKFILE | BINDFD, 0, 0, 0, 0) == 0);
	const char *t = rd(P("/etc/deep/bound"));
	CHECK(t && !strcmp(t, "hello\n"));
	return 0;
}

static int c_tmpfs(void)
{
	struct stat st;
	CHECK(base() == 0);
	CHECK(mnt("tmpfs", "/run/x", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0710", MKDIR, 0, MS_PRIVATE,
	          MOUNT_ATTR_NOEXEC, 0) == 0);
	CHECK(fstype(P("/run/x")) == TMPFS_MAGIC);
	CHECK(stat(P("/run/x"), &st) == 0 && (st.st_mode & 07777) == 0710);
	CHECK((mflags(P("/run/x")) & (ST_NOSUID | ST_NODEV | ST_NOEXEC)) == (ST_NOSUID | ST_NODEV | ST_NOEXEC));
	return 0;
}

static int c_ro_bind(void)
{
	CHECK(base() == 0);
	CHECK(mnt(H, "/ro", "", MS_BIND | MS_REC, "", MKDIR | BINDFD, MS_RDONLY | MS_NOSUID, 0, 0, 0) == 0);
	CHECK(open(P("/ro/new"), O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS);
	CHECK(mflags(P("/ro")) & ST_RDONLY);
	CHECK(mnt(H, "/rro", "", MS_BIND | MS_REC, "", MKDIR | BINDFD, 0, 0, MOUNT_ATTR_RDONLY, 0) == 0);
	CHECK(open(P("/rro/new"), O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS);
	CHECK(wr(fmt("%s/w", H), "w") == 0 && unlink(fmt("%s/w", H)) == 0); /* the source stays writable */
	return 0;
}

static int c_link_to_host(void)
{
	CHECK(base() == 0 && ln("/", "/mnt") == 0);
	CHECK(mnt("tmpfs", fmt("/mnt/tsrun-x-%d", getppid()), "tmpfs", 0, "", MKDIR, 0, 0, 0, 0) == 0);
	CHECK(fstype(P(fmt("/tsrun-x-%d", getppid()))) == TMPFS_MAGIC);
	CHECK(mnt(fmt("%s/hello", H), fmt("/mnt/tsrun-f-%d", getppid()), "", MS_BIND, "", MKFILE | BINDFD, 0, 0, 0, 0) == 0);
	const char *t = rd(P(fmt("/tsrun-f-%d", getppid())));
	CHECK(t && !strcmp(t, "hello\n"));
	return 0;
}

static int c_dotdot(void)
{
	CHECK(base() == 0 && mk("/root") == 0 && ln("../../../../root", "/a") == 0);
	CHECK(mnt("tmpfs", fmt("/a/tsrunb-%d/c", getppid()), "tmpfs", 0, "", MKDIR, 0, 0, 0, 0) == 0);
	CHECK(fstype(P(fmt("/root/tsrunb-%d/c", getppid()))) == TMPFS_MAGIC);
	return 0;
}

static int c_dotdot_dangling(void)
{
	/* A dangling symlink on the way is followed inside the root (securejoin's MkdirAll, as runc): "../../.." clamps
	 * at the root, so the tmpfs lands in the rootfs and nothing appears on the host. */
	CHECK(base() == 0 && ln(fmt("../../../../tsrun-nowhere-%d", getppid()), "/a") == 0);
	CHECK(mnt("tmpfs", "/a/b/c", "tmpfs", 0, "", MKDIR, 0, 0, 0, 0) == 0);
	CHECK(fstype(P(fmt("/tsrun-nowhere-%d/b/c", getppid()))) == TMPFS_MAGIC);
	CHECK(access(fmt("/tsrun-nowhere-%d", getppid()), F_OK) < 0 && errno == ENOENT);
	return 0;
}

static int c_mkdir_all(void)
{
	/* mkdirAll (process.cwd): missing parents made 0755, an existing directory is fine, a file in the way is not;
	 * a dangling symlink on the way is followed inside the root */
	CHECK(base() == 0 && ln("/somewhere/else", "/w") == 0 && wr(P("/file"), "x") == 0);
	CHECK(RUN(MKDIR_ALL, "/new/dir", NULL, 0755) == 0 && RUN(MKDIR_ALL, "/new/dir", NULL, 0755) == 0);
	struct stat st;
	CHECK(stat(P("/new/dir"), &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	CHECK(RUN(MKDIR_ALL, "/file/x", NULL, 0755) < 0 && err.err == ENOTDIR);
	CHECK(RUN(MKDIR_ALL, "/w/x", NULL, 0755) == 0 && stat(P("/somewhere/else/x"), &st) == 0);
	return 0;
}

static int c_copyup(void)
{
	/* tmpcopyup: the tmpfs starts with a copy of the covered directory (files, dirs, links; mode and owner) */
	CHECK(base() == 0 && mk("/data") == 0 && mk("/data/sub") == 0 && wr(P("/data/sub/f"), "copied\n") == 0);
	CHECK(chmod(P("/data/sub/f"), 0604) == 0 && chown(P("/data/sub/f"), 7, 8) == 0 && ln("sub/f", "/data/l") == 0);
	CHECK(mnt("tmpfs", "/data", "tmpfs", 0, "mode=755", MKDIR | MOUNT_OPT_COPYUP, 0, 0, 0, 0) == 0);
	CHECK(fstype(P("/data")) == TMPFS_MAGIC);
	const char *t = rd(P("/data/l"));
	CHECK(t && !strcmp(t, "copied\n"));
	struct stat st;
	CHECK(lstat(P("/data/sub/f"), &st) == 0 && (st.st_mode & 07777) == 0604 && st.st_uid == 7 && st.st_gid == 8);
	return 0;
}

static int c_mount_over_root(void)
{
	/* a target that resolves to the root itself ("/dev -> /") is refused */
	CHECK(base() == 0 && ln("/", "/up") == 0);
	CHECK(mnt("tmpfs", "/up", "tmpfs", 0, "", MKDIR, 0, 0, 0, 0) < 0 && err.err == EBUSY);
	return 0;
}

static int c_rootfs_proc_link(void)
{
	CHECK(mk("/fakeproc") == 0 && ln("/fakeproc", "/proc") == 0 && mk("/sys") == 0);
	CHECK(RUN(ROOTFS_BIND, R, NULL, 0) < 0 && err.err == ELOOP && !strcmp(err.path, "/proc"));
	return 0;
}

static int c_rootfs_sys_link(void)
{
	CHECK(mk("/proc") == 0 && ln("/", "/sys") == 0);
	CHECK(RUN(ROOTFS_BIND, R, NULL, 0) < 0 && err.err == ELOOP && !strcmp(err.path, "/sys"));
	return 0;
}

static int c_rootfs_proc_file(void)
{
	CHECK(wr(P("/proc"), "") == 0);
	CHECK(RUN(ROOTFS_BIND, R, NULL, 0) < 0 && err.err == ENOTDIR && !strcmp(err.path, "/proc"));
	return 0;
}

static int c_proc_on_symlink(void) /* /proc swapped for a symlink after the rootfs check */
{
	CHECK(base() == 0 && rmdir(P("/proc")) == 0 && mk("/fakeproc") == 0 && ln("/fakeproc", "/proc") == 0);
	CHECK(mount_proc() < 0 && err.err == ELOOP);
	CHECK(fstype(P("/fakeproc")) != PROC_SUPER_MAGIC);
	return 0;
}

static int c_proc_allowlist(void)
{
	CHECK(base() == 0 && mount_proc() == 0 && fstype(P("/proc")) == PROC_SUPER_MAGIC);
	CHECK(mnt("tmpfs", "/proc/self/attr", "tmpfs", 0, "", 0, 0, 0, 0, 0) < 0 && err.err == EPERM);
	CHECK(mnt("tmpfs", "/proc/../proc//sys/", "tmpfs", 0, "", 0, 0, 0, 0, 0) < 0 && err.err == EPERM);
	CHECK(mnt("tmpfs", "/proc", "tmpfs", 0, "", 0, 0, 0, 0, 0) < 0 && err.err == EPERM);
	CHECK(ln("/proc/sys", "/lnk") == 0); /* the target's filesystem is checked too */
	CHECK(mnt("tmpfs", "/lnk/kernel", "tmpfs", 0, "", 0, 0, 0, 0, 0) < 0 && err.err == EPERM);
	CHECK(mnt(fmt("%s/hello", H), "/proc/uptime", "", MS_BIND, "", BINDFD, 0, 0, 0, 0) == 0); /* lxcfs-style */
	const char *t = rd(P("/proc/uptime"));
	CHECK(t && !strcmp(t, "hello\n"));
	return 0;
}

static int c_mask_file(void)
{
	CHECK(base() == 0 && mknod(P("/dev/null"), S_IFCHR | 0666, makedev(1, 3)) == 0);
	CHECK(wr(P("/secret"), "s3cret") == 0);
	CHECK(RUN(MASK, "/secret", NULL, 0) == 0);
	const char *t = rd(P("/secret"));
	CHECK(t && !strcmp(t, ""));
	int fd = open(P("/secret"), O_WRONLY | O_TRUNC); /* goes to /dev/null (runc): the file must not change */
	CHECK(fd < 0 || (write(fd, "x", 1) == 1 && close(fd) == 0));
	CHECK(umount2(P("/secret"), MNT_DETACH) == 0 && (t = rd(P("/secret"))) && !strcmp(t, "s3cret"));
	CHECK(RUN(MASK, "/missing", NULL, 0) < 0 && err.err == ENOENT);
	return 0;
}

static int c_mask_dir(void)
{
	CHECK(base() == 0 && mk("/secretdir") == 0 && wr(P("/secretdir/f"), "x") == 0);
	CHECK(RUN(MASK, "/secretdir", NULL, 0) == 0);
	CHECK(fstype(P("/secretdir")) == TMPFS_MAGIC && gone(P("/secretdir/f")));
	CHECK(open(P("/secretdir/new"), O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS);
	return 0;
}

static int mask_refused(void)
{
	CHECK(wr(P("/secret"), "s3cret") == 0);
	CHECK(RUN(MASK, "/secret", NULL, 0) < 0 && !strcmp(err.path, "/dev/null"));
	const char *t = rd(P("/secret"));
	CHECK(t && !strcmp(t, "s3cret"));
	return 0;
}
static int c_mask_null_file(void)
{
	CHECK(base() == 0 && wr(P("/dev/null"), "") == 0);
	CHECK(mask_refused() == 0 && err.err == ENODEV && !strcmp(err.op, "verify /dev/null"));
	return 0;
}
static int c_mask_null_link(void)
{
	CHECK(base() == 0 && wr(P("/etc/passwd"), "root:x:0:0::/:/bin/sh\n") == 0 && ln("/etc/passwd", "/dev/null") == 0);
	CHECK(mask_refused() == 0 && err.err == ENODEV);
	return 0;
}
static int c_mask_null_procfs(void) /* the CVE-2025-31133 vector */
{
	CHECK(base() == 0 && mount_proc() == 0 && ln("/proc/sys/kernel/core_pattern", "/dev/null") == 0);
	CHECK(mask_refused() == 0 && err.err == ENODEV);
	return 0;
}
static int c_mask_null_zero(void)
{
	CHECK(base() == 0 && mknod(P("/dev/zero"), S_IFCHR | 0666, makedev(1, 5)) == 0 && ln("/dev/zero", "/dev/null") == 0);
	CHECK(mask_refused() == 0 && err.err == ENODEV);
	return 0;
}

static int c_readonly(void)
{
	CHECK(base() == 0 && mnt("tmpfs", "/rodir", "tmpfs", MS_NOSUID | MS_NODEV, "", MKDIR, 0, 0, 0, 0) == 0);
	CHECK(wr(P("/rodir/f"), "x") == 0);
	CHECK(RUN(READONLY, "/rodir", NULL, 0) == 0);
	CHECK(open(P("/rodir/g"), O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS);
	CHECK((mflags(P("/rodir")) & (ST_RDONLY | ST_NOSUID | ST_NODEV)) == (ST_RDONLY | ST_NOSUID | ST_NODEV));
	CHECK(RUN(READONLY, "/missing", NULL, 0) < 0 && err.err == ENOENT);
	return 0;
}

static int c_remount_root(void)
{
	CHECK(base() == 0 && RUN(REMOUNT, "/", NULL, MS_RDONLY) == 0);
	CHECK(open(P("/x"), O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS);
	return 0;
}

static int c_mknod(void)
{
	struct stat st;
	char z[4] = "abc";
	CHECK(base() == 0);
	CHECK(RUN(MKNOD, "/dev/null", NULL, S_IFCHR | 0666, makedev(1, 3), 1000, 1001, 0) == 0);
	CHECK(lstat(P("/dev/null"), &st) == 0 && S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0666);
	CHECK(st.st_rdev == makedev(1, 3) && st.st_uid == 1000 && st.st_gid == 1001);
	CHECK(RUN(MKNOD, "/dev/null", NULL, S_IFCHR | 0666, makedev(1, 3), 0, 0, 0) == 0); /* identical: fine */
	CHECK(RUN(MKNOD, "/dev/null", NULL, S_IFCHR | 0666, makedev(1, 5), 0, 0, 0) < 0 && err.err == EEXIST);
	CHECK(RUN(MKNOD, "/dev/net/tun", NULL, S_IFCHR | 0600, makedev(10, 200), 0, 0, 0) == 0);
	CHECK(lstat(P("/dev/net/tun"), &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(RUN(MKNOD, "/dev/zero", NULL, S_IFCHR | 0666, makedev(1, 5), 0, 0, BINDFD) == 0); /* userns style */
	CHECK(stat(P("/dev/zero"), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5));
	int fd = open(P("/dev/zero"), O_RDONLY);
	CHECK(fd >= 0 && read(fd, z, 3) == 3 && !memcmp(z, "\0\0\0", 3));
	close(fd);
	return 0;
}

static int c_mknod_devlink(void) /* D7: /dev -> / in the image */
{
	struct stat st;
	CHECK(mk("/proc") == 0 && mk("/sys") == 0 && ln("/", "/dev") == 0 && RUN(ROOTFS_BIND, R, NULL, 0) == 0);
	CHECK(RUN(MKNOD, fmt("/dev/tsrun-null-%d", getppid()), NULL, S_IFCHR | 0666, makedev(1, 3), 0, 0, 0) == 0);
	CHECK(lstat(P(fmt("/tsrun-null-%d", getppid())), &st) == 0 && S_ISCHR(st.st_mode));
	CHECK(RUN(SYMLINK, "/proc/self/fd", fmt("/dev/tsrun-fd-%d", getppid()), 0) == 0);
	CHECK(lstat(P(fmt("/tsrun-fd-%d", getppid())), &st) == 0 && S_ISLNK(st.st_mode));
	return 0;
}

static int c_symlink(void)
{
	char buf[64] = { 0 };
	CHECK(base() == 0);
	CHECK(RUN(SYMLINK, "/proc/self/fd", "/dev/fd", 0) == 0);
	CHECK(readlink(P("/dev/fd"), buf, sizeof buf - 1) == 13 && !strcmp(buf, "/proc/self/fd"));
	CHECK(RUN(SYMLINK, "/proc/self/fd", "/dev/fd", 0) == 0); /* identical: fine */
	CHECK(RUN(SYMLINK, "/elsewhere", "/dev/fd", 0) < 0 && err.err == EEXIST);
	return 0;
}

static int c_pivot(void)
{
	struct stat a, b;
	char line[1024];
	CHECK(base() == 0 && wr(P("/MARKER"), "m") == 0 && mount_proc() == 0);
	CHECK(mnt("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755", MKDIR, 0, 0, 0, 0) == 0);
	CHECK(RUN(MKNOD, "/dev/null", NULL, S_IFCHR | 0666, makedev(1, 3), 0, 0, 0) == 0);
	CHECK(RUN(PIVOT_ROOT, NULL, NULL, 0) == 0);
	CHECK(access("/MARKER", F_OK) == 0 && gone("/tmp") && gone(P("")));
	CHECK(fstat(ctx.rootfd, &a) == 0 && stat("/", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	FILE *f = fopen("/proc/self/mountinfo", "r"); /* the old root is gone: only /, /proc, /dev remain */
	CHECK(f);
	while (fgets(line, sizeof line, f)) {
		char mp[512];
		CHECK(sscanf(line, "%*s %*s %*s %*s %511s", mp) == 1);
		CHECK(!strcmp(mp, "/") || !strcmp(mp, "/proc") || !strcmp(mp, "/dev"));
	}
	fclose(f);
	/* what runs after pivot: masked and read-only paths, read-only root */
	CHECK(RUN(MASK, "/proc/version", NULL, 0) == 0 && rd("/proc/version") && !strcmp(rd("/proc/version"), ""));
	CHECK(RUN(MASK, "/proc/fs", NULL, 0) == 0 && fstype("/proc/fs") == TMPFS_MAGIC);
	CHECK(RUN(READONLY, "/proc/sys", NULL, 0) == 0);
	CHECK(open("/proc/sys/kernel/hostname", O_WRONLY) < 0 && errno == EROFS);
	CHECK(RUN(REMOUNT, "/", NULL, MS_RDONLY) == 0);
	CHECK(open("/newfile", O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS);
	return 0;
}

static int c_nopivot(void)
{
	struct stat a, b;
	CHECK(base() == 0 && wr(P("/MARKER"), "m") == 0);
	CHECK(RUN(PIVOT_ROOT, NULL, NULL, 1) == 0);
	CHECK(access("/MARKER", F_OK) == 0 && gone("/tmp"));
	CHECK(fstat(ctx.rootfd, &a) == 0 && stat("/", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	/* No /dev/null, then no /proc in the new root: a mask that cannot be applied is never a skippable ENOENT */
	CHECK(RUN(MASK, "/MARKER", NULL, 0) < 0 && err.err == ENXIO && !strcmp(err.path, "/dev/null"));
	CHECK(RUN(MKNOD, "/dev/null", NULL, S_IFCHR | 0666, makedev(1, 3), 0, 0, 0) == 0);
	CHECK(RUN(MASK, "/MARKER", NULL, 0) < 0 && err.err == ENXIO);
	CHECK(RUN(MASK, "/etc", NULL, 0) < 0 && err.err == ENXIO);
	CHECK(RUN(READONLY, "/etc", NULL, 0) < 0 && err.err == ENXIO);
	return 0;
}

static int console_sock = -1;
static int c_console(void)
{
	struct stat con, peer;
	struct winsize ws;
	char buf[16] = { 0 };
	logfd = dup(2);
	CHECK(base() == 0 && mnt("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755", 0, 0, 0, 0, 0) == 0);
	CHECK(mnt("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620", MKDIR,
	          0, 0, 0, 0) == 0);
	ctx.table[0] = console_sock;
	struct step s = { .kind = STEP_CONSOLE, .f = { 0 }, .u = { 40, 132 } };
	CHECK(step_CONSOLE(&ctx, &s, &err) == 0);
	CHECK(ctx.table[0] == -1 && fcntl(console_sock, F_GETFD) < 0); /* the socket is closed */
	CHECK(isatty(0) && isatty(1) && isatty(2));
	CHECK(stat(P("/dev/console"), &con) == 0 && fstat(0, &peer) == 0 && con.st_rdev == peer.st_rdev);
	CHECK(major(peer.st_rdev) == 136 && getsid(0) == getpid() && tcgetpgrp(0) == getpgrp());
	CHECK(ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 40 && ws.ws_col == 132);
	CHECK(write(1, "hello\n", 6) == 6);
	CHECK(read(0, buf, sizeof buf - 1) > 0 && !strcmp(buf, "bye\n")); /* the parent answers through the master */
	return 0;
}

static int c_console_hostile(void) /* D6: ptmx not on devpts, /dev/console a symlink: refused, nothing sent */
{
	int sv[2];
	char c;
	struct step s = { .kind = STEP_CONSOLE };
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0 && (ctx.table[0] = sv[1]) > 0);
	CHECK(base() == 0 && mk("/dev/pts") == 0 && mknod(P("/dev/ptmx"), S_IFCHR | 0666, makedev(5, 2)) == 0);
	CHECK(ln("/dev/ptmx", "/dev/pts/ptmx") == 0);
	CHECK(step_CONSOLE(&ctx, &s, &err) < 0 && err.err == ENODEV && !strcmp(err.path, "/dev/pts/ptmx"));
	CHECK(unlink(P("/dev/pts/ptmx")) == 0 && mknod(P("/dev/pts/ptmx"), S_IFCHR | 0666, makedev(5, 2)) == 0);
	CHECK(step_CONSOLE(&ctx, &s, &err) < 0 && err.err == ENODEV); /* a 5:2 node, but not devpts */
	CHECK(mnt("devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666", 0, 0, 0, 0, 0) == 0);
	CHECK(wr(P("/etc/target"), "t") == 0 && ln("/etc/target", "/dev/console") == 0);
	CHECK(step_CONSOLE(&ctx, &s, &err) < 0 && err.err == ELOOP && !strcmp(err.path, "/dev/console"));
	const char *t = rd(P("/etc/target"));
	CHECK(t && !strcmp(t, "t") && fstype(P("/etc/target")) != DEVPTS_SUPER_MAGIC);
	CHECK(recv(sv[0], &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN); /* nothing was sent */
	CHECK(isatty(0) == 0 || getsid(0) != getpid());                 /* and nothing changed in this process */
	return 0;
}

/* The parent side of the console case: exactly one message, one fd, a working master (kept in pmaster). */
static int pmaster = -1;
static int console_parent(int sock)
{
	char data[64] = { 0 }, buf[256] = { 0 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct iovec iov = { data, sizeof data - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
	struct winsize ws;
	int master;
	CHECK(recvmsg(sock, &m, MSG_CMSG_CLOEXEC) == 9 && !strcmp(data, "/dev/ptmx") && !(m.msg_flags & MSG_CTRUNC));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)) && !CMSG_NXTHDR(&m, c));
	memcpy(&master, CMSG_DATA(c), sizeof master);
	CHECK(ptsname(master) && !strncmp(ptsname(master), "/dev/pts/", 9));
	CHECK(ioctl(master, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 40 && ws.ws_col == 132);
	size_t n = 0;
	struct pollfd pfd = { master, POLLIN, 0 };
	while (!strstr(buf, "hello") && n < sizeof buf - 1 && poll(&pfd, 1, 5000) == 1) {
		ssize_t r = read(master, buf + n, sizeof buf - 1 - n);
		CHECK(r > 0);
		n += (size_t)r;
	}
	CHECK(strstr(buf, "hello"));
	CHECK(write(master, "bye\n", 4) == 4);
	CHECK(recv(sock, data, sizeof data, 0) == 0); /* nothing more: the executor closed its end */
	pmaster = master; /* closed after the child exits: closing it now would hang up (SIGHUP) the child */
	return 0;
}

/* ── harness ─────────────────────────────────────────────────────────────────────────────────────────────── */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}
static void rm_rf(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT); }

static int child(int (*fn)(void))
{
	if (unshare(CLONE_NEWNS) < 0)
		return 90;
	memset(&ctx, 0, sizeof ctx);
	ctx.rootfd = ctx.ctl = ctx.logfd = -1;
	for (unsigned i = 0; i < PLAN_MAX_FDS; i++)
		ctx.table[i] = -1;
	if (RUN(PROPAGATION, "/", NULL, MS_SLAVE | MS_REC) != 0)
		return 91;
	/* Safety net: in this namespace the host is read-only, only R and H are writable. A broken step then
	 * gets EROFS instead of writing to the host (the host checks still run). */
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY }, rw = { .attr_clr = MOUNT_ATTR_RDONLY };
	if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof ro) < 0)
		return 92;
	const char *rws[] = { R, H };
	for (int i = 0; i < 2; i++)
		if (mount(rws[i], rws[i], NULL, MS_BIND, NULL) < 0 || mount_setattr(AT_FDCWD, rws[i], 0, &rw, sizeof rw) < 0)
			return 93;
	return fn();
}

/* No mount of ours is visible on the host. */
static int host_mounts_clean(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	int clean = 1;
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, "/tsrun-test-") || strstr(line, "tsrun-x-") || strstr(line, "tsrunb-"))
			clean = 0;
	if (f)
		fclose(f);
	return f && clean;
}

static void tcase(const char *desc, int (*fn)(void), int console)
{
	int sv[2] = { -1, -1 }, ok;
	snprintf(R, sizeof R, "/tmp/tsrun-test-XXXXXX");
	if (!mkdtemp(R)) {
		printf("not ok %d - %s # mkdtemp: %s\n", ++ntests, desc, strerror(errno));
		return;
	}
	if (console)
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), console_sock = sv[1];
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (console)
			close(sv[0]);
		_exit(child(fn));
	}
	int st = 0;
	ok = console ? (close(sv[1]), console_parent(sv[0]) == 0) : 1;
	if (console)
		close(sv[0]);
	ok = waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 && ok;
	if (pmaster >= 0)
		close(pmaster), pmaster = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) >= 90) /* 90-93: harness setup failed */
		printf("# child status 0x%x\n", st);
	ok = ok && host_mounts_clean();
	rm_rf(R);
	printf("%sok %d - %s\n", ok ? "" : "not ", ++ntests, desc);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);
	snprintf(H, sizeof H, "/tmp/tsrun-src-XXXXXX");
	if (!mkdtemp(H) || wr(fmt("%s/hello", H), "hello\n") < 0)
		return printf("Bail out! cannot make %s\n", H), 1;
	char hp[6][64];
	const char *names[6] = { "/tsrun-x-%d", "/tsrun-f-%d", "/root/tsrunb-%d", "/tsrun-nowhere-%d", "/tsrun-null-%d",
		                 "/tsrun-fd-%d" };
	for (int i = 0; i < 6; i++)
		snprintf(hp[i], sizeof hp[i], names[i], getpid());
	tcase("bind a host directory (BIND_FD), target directories created", c_bind_dir, 0);
	tcase("bind a host file (BIND_FD), target file and parents created", c_bind_file, 0);
	tcase("tmpfs with data, propagation and mount_setattr", c_tmpfs, 0);
	tcase("read-only bind: remountFlags and attrSet give EROFS, source still writable", c_ro_bind, 0);
	tcase("target through mnt -> / lands inside the rootfs", c_link_to_host, 0);
	int ok = gone(hp[0]) && gone(hp[1]);
	printf("%sok %d - host / has no new entry from the mnt -> / case\n", ok ? "" : "not ", ++ntests);
	tcase("deep .. symlink target (a -> ../../../../root) stays in the rootfs", c_dotdot, 0);
	tcase("dangling .. symlink in a target: followed inside the root, nothing on the host", c_dotdot_dangling, 0);
	tcase("mkdirAll: parents, existing ok, a file in the way ENOTDIR, dangling links followed", c_mkdir_all, 0);
	tcase("tmpcopyup: contents, modes and owners copied into the tmpfs", c_copyup, 0);
	tcase("a mount target resolving to the root: refused (EBUSY)", c_mount_over_root, 0);
	ok = gone(hp[2]) && gone(hp[3]);
	printf("%sok %d - nothing created on the host by the .. cases\n", ok ? "" : "not ", ++ntests);
	tcase("rootfs with /proc -> /fakeproc refused (ELOOP)", c_rootfs_proc_link, 0);
	tcase("rootfs with /sys -> / refused (ELOOP)", c_rootfs_sys_link, 0);
	tcase("rootfs with /proc a file refused (ENOTDIR)", c_rootfs_proc_file, 0);
	tcase("proc onto a symlinked /proc refused", c_proc_on_symlink, 0);
	tcase("mounts under /proc: only the allowlist; a symlink onto procfs refused", c_proc_allowlist, 0);
	tcase("mask a file: reads empty, the file is untouched; missing path ENOENT", c_mask_file, 0);
	tcase("mask a directory: empty read-only tmpfs", c_mask_dir, 0);
	tcase("mask with /dev/null a regular file: refused", c_mask_null_file, 0);
	tcase("mask with /dev/null -> /etc/passwd: refused", c_mask_null_link, 0);
	tcase("mask with /dev/null -> /proc/sys/kernel/core_pattern: refused", c_mask_null_procfs, 0);
	tcase("mask with /dev/null -> /dev/zero: refused", c_mask_null_zero, 0);
	tcase("readonly path: EROFS, nosuid/nodev kept; missing path ENOENT", c_readonly, 0);
	tcase("remount / read-only", c_remount_root, 0);
	tcase("mknod 1:3 with mode and owner; identical ok, different EEXIST; parents; BIND_FD", c_mknod, 0);
	tcase("mknod and symlink through /dev -> / stay in the rootfs", c_mknod_devlink, 0);
	ok = gone(hp[4]) && gone(hp[5]);
	printf("%sok %d - nothing created on the host by the /dev -> / case\n", ok ? "" : "not ", ++ntests);
	tcase("symlink creation; identical ok, different EEXIST", c_symlink, 0);
	tcase("pivot_root: new /, old root detached; mask/readonly/remount after pivot", c_pivot, 0);
	tcase("--no-pivot: MS_MOVE + chroot; mask/readonly without /dev/null or /proc: ENXIO", c_nopivot, 0);
	tcase("console: devpts ptmx, one fd over the socket, winsize, ctty, stdio", c_console, 1);
	tcase("console: ptmx not on devpts, /dev/console a symlink: refused, nothing sent", c_console_hostile, 0);
	rm_rf(H);
	printf("1..%d\n", ntests);
	return 0;
}
