/*
 * mount.c — rootfs, mounts, device nodes, symlinks, pivot_root, masked and read-only paths, remounts.
 * Container paths are resolved by path.c (openat2 RESOLVE_IN_ROOT) and every mount targets the resolved fd
 * through /proc/self/fd/N, never a path string (security.md D3, D4, D5, D7, D8).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "internal.h"

/* mask/readonly after their target was found: ENOENT now (no /proc/self/fd, no /dev/null) must not read as
 * "target missing", which STEP_F_OK_ENOENT would skip; report ENXIO instead. */
static int fail_found(struct step_error *e, const char *op, const char *path, int a, int b)
{
	return FAIL_WITH(errno == ENOENT ? ENXIO : errno, op, path, a, b);
}

/* Mount flags a bind remount must repeat: in a user namespace they are locked and EPERM follows without them. */
static unsigned long kept_flags(int fd, unsigned long flags)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return 0;
	unsigned long k = sf.f_flags & (ST_NOSUID | ST_NODEV | ST_NOEXEC); /* same bits as MS_* */
	if (!(flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)))
		k |= (sf.f_flags & (ST_NOATIME | ST_NODIRATIME)) | (sf.f_flags & ST_RELATIME ? MS_RELATIME : 0);
	return k;
}

/* MS_REMOUNT|MS_BIND the mount at fd; keep ≠ 0 repeats its current flags, otherwise only on EPERM (runc). */
static int remount_fd(int fd, unsigned long flags, int keep)
{
	char p[32];
	if (keep)
		flags |= kept_flags(fd, flags);
	if (mount(NULL, fd_path(p, fd), NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
		return 0;
	int err = errno;
	unsigned long more = err == EPERM ? kept_flags(fd, flags) : 0;
	if ((flags | more) == flags)
		return errno = err, -1;
	return mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | flags | more, NULL);
}

/*
 * The fd we mounted onto now names the covered object: resolve the target again and check that it reaches a
 * mount root other than the covered one (a target swapped meanwhile fails with ESTALE).
 */
static int reopen_mount(int rootfd, const char *path, int covered)
{
	struct statx a, b;
	int fd = open_in_root(rootfd, path, O_PATH, 0);
	if (fd < 0)
		return -1;
	int err = statx(covered, "", AT_EMPTY_PATH, STATX_MNT_ID, &a) < 0 ||
	          statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &b) < 0 ? errno : 0;
	if (!err && (!(b.stx_attributes & STATX_ATTR_MOUNT_ROOT) || a.stx_mnt_id == b.stx_mnt_id))
		err = ESTALE;
	if (err)
		return close(fd), errno = err, -1;
	return fd;
}

/* Whether two fds name the same inode on the same mount. */
static int same_object(int a, int b)
{
	struct statx x, y;
	return statx(a, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &x) == 0 &&
	       statx(b, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &y) == 0 && x.stx_mnt_id == y.stx_mnt_id &&
	       x.stx_ino == y.stx_ino && x.stx_dev_major == y.stx_dev_major && x.stx_dev_minor == y.stx_dev_minor;
}

STEP(PROPAGATION)
{
	return mount(NULL, s->s[0], NULL, s->u[0], NULL) < 0 ? fail_close(e, "mount propagation", s->s[0], -1, -1) : 0;
}

/* D3.3 / D8: a rootfs whose /proc or /sys is a symlink or not a directory is refused (CVE-2023-27561/28642). */
STEP(ROOTFS_BIND)
{
	static const char *const special[] = { "/proc", "/sys" };
	const char *root = s->s[0];
	struct stat st;
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail_close(e, "bind rootfs", root, -1, -1);
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail_close(e, "open rootfs", root, -1, -1);
	for (int i = 0; i < 2; i++) {
		if (fstatat(fd, special[i] + 1, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return fail_close(e, "fstatat", special[i], fd, -1);
		}
		if (!S_ISDIR(st.st_mode))
			return FAIL_WITH(S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR, "rootfs: not a real directory",
			                 special[i], fd, -1);
	}
	closeq(ctx->rootfd);
	ctx->rootfd = fd;
	return 0;
}

/* D3.2 (runc checkProcMount): on /proc only procfs, under /proc only runc's allowlist. clean is lexically clean. */
static int proc_target_ok(const char *clean, const char *fstype, int srcfd)
{
	static const char *const allow[] = { "cpuinfo", "diskstats", "meminfo", "stat", "swaps", "uptime", "loadavg",
	                                     "slabinfo", "sys/kernel/ns_last_pid", "sys/crypto/fips_enabled" };
	struct statfs sf;
	struct stat st;
	if (!strcmp(clean, "/proc"))
		return srcfd < 0 ? !strcmp(fstype, "proc")
		                 : !fstatfs(srcfd, &sf) && sf.f_type == PROC_SUPER_MAGIC && !fstat(srcfd, &st) &&
		                       st.st_ino == 1;
	if (strncmp(clean, "/proc/", 6))
		return 1;
	for (size_t i = 0; i < sizeof allow / sizeof *allow; i++)
		if (!strcmp(clean + 6, allow[i]))
			return 1;
	return 0;
}

/* The mount target, resolved in the root; created (MKDIR: directories, MKFILE: an empty file) when missing
 * (*created then says so). */
static int open_target(int rootfd, const char *path, uint64_t opts, int *created, struct step_error *e)
{
	char name[256];
	/* proc/sysfs (MUST_BE_DIR): a symlink in the last component is refused, not followed (runc lstat) */
	int fd = open_in_root(rootfd, path, O_PATH | (opts & MOUNT_OPT_TARGET_MUST_BE_DIR ? O_NOFOLLOW : 0), 0);
	*created = fd < 0;
	if (fd >= 0)
		return fd;
	if (errno != ENOENT || !(opts & (MOUNT_OPT_MKDIR | MOUNT_OPT_MKFILE)))
		return fail_close(e, "openat2", path, -1, -1);
	if (opts & MOUNT_OPT_MKDIR)
		return mkdir_all_in_root(rootfd, path, 0755, e);
	int dir = open_parent_in_root(rootfd, path, 1, name, e);
	if (dir < 0)
		return -1;
	if ((fd = create_file_at(dir, name, 0644)) < 0)
		return fail_close(e, "create mount target", path, dir, -1);
	close(dir);
	return fd;
}

/* tmpcopyup: copy the entries of directory from (the covered target) into to (the new tmpfs), recursively, without
 * following any symlink; each copy gets the original's mode, owner and times. No allocation: a getdents64 buffer
 * per level on the stack, at most COPYUP_DEPTH levels. */
#define COPYUP_DEPTH 32
static int copy_entries(int from, int to, int depth, struct step_error *e)
{
	_Alignas(8) char buf[2048]; /* linux_dirent64 records are 8-byte aligned */
	long n;
	if (depth > COPYUP_DEPTH)
		return step_fail(e, ELOOP, "tmpcopyup", "too deep");
	while ((n = syscall(SYS_getdents64, from, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d =
				(void *)(buf + off);
			off += d->reclen;
			const char *name = d->name;
			struct stat st;
			int a = -1, b = -1, r = 0;
			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return step_fail(e, errno, "tmpcopyup stat", name);
			if (S_ISDIR(st.st_mode)) {
				r = mkdirat(to, name, 0700) < 0 ||
				    (a = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
				    (b = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ? -1 : 0;
				if (!r && copy_entries(a, b, depth + 1, e) < 0)
					return close(a), close(b), -1;
			} else if (S_ISREG(st.st_mode)) {
				r = (a = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
				    (b = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ? -1 : 0;
				for (ssize_t w = 1; !r && w > 0;)
					if ((w = sendfile(b, a, NULL, 1 << 20)) < 0)
						r = -1;
			} else if (S_ISLNK(st.st_mode)) {
				char link[4096];
				ssize_t l = readlinkat(from, name, link, sizeof link - 1);
				r = l < 0 ? -1 : (link[l] = 0, symlinkat(link, to, name));
			} else {
				r = mknodat(to, name, st.st_mode, st.st_rdev);
			}
			struct timespec t[2] = { st.st_atim, st.st_mtim };
			if (!r)
				r = fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
				    (!S_ISLNK(st.st_mode) && fchmodat(to, name, st.st_mode & 07777, 0) < 0) ||
				    utimensat(to, name, t, AT_SYMLINK_NOFOLLOW) < 0 ? -1 : 0;
			closeq(a);
			closeq(b);
			if (r)
				return step_fail(e, errno, "tmpcopyup", name);
		}
	}
	return n < 0 ? step_fail(e, errno, "tmpcopyup getdents", "") : 0;
}

/*
 * What `mount` and `mountTree` share. srcfd (owned, closed here): the host source of a bind (BIND_FD) or a detached
 * tree (tree ≠ 0, attached with move_mount), else -1. The target is resolved in the root (created by opts), checked,
 * mounted onto through its fd; then the remount, propagation and recursive attributes go to the new mount.
 */
static int mount_at(struct exec_ctx *ctx, int srcfd, int tree, const char *src, const char *tgt, const char *fstype,
                    const char *data, uint64_t flags, uint64_t opts, uint64_t reflags, uint64_t prop,
                    struct mount_attr attr, struct step_error *e)
{
	char clean[4096], p[32], tdata[4096];
	struct stat st;
	struct statfs sf;
	int dst, r, from = -1, created;

	if (path_clean(tgt, clean, sizeof clean) < 0)
		return FAIL_WITH(ENAMETOOLONG, "mount", tgt, srcfd, -1);
	if (!proc_target_ok(clean, fstype, srcfd))
		return FAIL_WITH(EPERM, "mount on /proc not allowed", tgt, srcfd, -1);
	if ((dst = open_target(ctx->rootfd, tgt, opts, &created, e)) < 0)
		return closeq(srcfd), -1;
	if (fstat(dst, &st) < 0 || fstatfs(dst, &sf) < 0)
		return fail_close(e, "fstat", tgt, srcfd, dst);
	if ((opts & MOUNT_OPT_TARGET_MUST_BE_DIR) && !S_ISDIR(st.st_mode))
		return FAIL_WITH(S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR, "mount on non-directory", tgt, srcfd, dst);
	/* A target that resolves to the root itself ("/dev -> /" in the image) would cover the whole rootfs. */
	if (same_object(dst, ctx->rootfd))
		return FAIL_WITH(EBUSY, "mount over the root", tgt, srcfd, dst);
	/* Defence in depth: a target reached through a symlink must not land on procfs either. */
	if (sf.f_type == PROC_SUPER_MAGIC && strcmp(clean, "/proc") && strncmp(clean, "/proc/", 6))
		return FAIL_WITH(EPERM, "mount on /proc not allowed", tgt, srcfd, dst);
	/* tmpcopyup: keep a readable handle on the directory about to be covered */
	if ((opts & MOUNT_OPT_COPYUP) && (from = openat(dst, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return fail_close(e, "tmpcopyup open", tgt, srcfd, dst);
	/* A tmpfs over a directory that was there keeps that directory's mode unless data says mode= (the later option
	 * wins): runc ≥ 1.1.8 and crun prepend it the same way; without it /run would turn 1777. */
	if (!tree && srcfd < 0 && !created && S_ISDIR(st.st_mode) && !strcmp(fstype, "tmpfs") &&
	    snprintf(tdata, sizeof tdata, "mode=%04o%s%s", (unsigned)(st.st_mode & 07777), *data ? "," : "", data) <
		    (int)sizeof tdata)
		data = tdata;
	if (tree)
		r = (int)syscall(SYS_move_mount, srcfd, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	else if (srcfd >= 0)
		r = bind_fds(srcfd, dst, flags);
	else
		r = mount(src, fd_path(p, dst), *fstype ? fstype : NULL, flags, *data ? data : NULL);
	if (r < 0) {
		closeq(from);
		return fail_close(e, tree ? "move_mount" : "mount", tgt, srcfd, dst);
	}
	closeq(srcfd);
	if (!reflags && !prop && !attr.attr_set && !attr.attr_clr && from < 0)
		return close(dst), 0;
	int nfd = reopen_mount(ctx->rootfd, tgt, dst);
	if (nfd < 0)
		return fail_close(e, "reopen mount", tgt, dst, from);
	close(dst);
	if (from >= 0) {
		int to = openat(nfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = to < 0 ? fail_close(e, "tmpcopyup open", tgt, -1, -1) : copy_entries(from, to, 0, e);
		close(from);
		closeq(to);
		if (r < 0)
			return close(nfd), -1;
	}
	if (reflags && remount_fd(nfd, reflags, 0) < 0)
		return fail_close(e, "remount", tgt, nfd, -1);
	if (prop && mount(NULL, fd_path(p, nfd), NULL, prop, NULL) < 0)
		return fail_close(e, "mount propagation", tgt, nfd, -1);
	if ((attr.attr_set || attr.attr_clr) &&
	    syscall(SYS_mount_setattr, nfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
		return fail_close(e, "mount_setattr", tgt, nfd, -1);
	close(nfd);
	return 0;
}

STEP(MOUNT)
{
	const char *src = s->s[0];
	struct mount_attr attr = { .attr_set = s->u[4], .attr_clr = s->u[5] };
	int srcfd = -1;
	if ((s->u[1] & MOUNT_OPT_BIND_FD) && (srcfd = open(src, O_PATH | O_CLOEXEC)) < 0)
		return fail_close(e, "open mount source", src, -1, -1);
	return mount_at(ctx, srcfd, 0, src, s->s[1], s->s[2], s->s[3], s->u[0], s->u[1], s->u[2], s->u[3], attr, e);
}

/* An idmapped tree made by idmapTree (fd slot): attached at the target, then treated like a bind. */
STEP(MOUNT_TREE)
{
	struct mount_attr attr = { .attr_set = s->u[3], .attr_clr = s->u[4] };
	int tree = ctx->table[s->f[0]];
	if (tree < 0)
		return FAIL_WITH(EBADF, "mount tree", s->s[0], -1, -1);
	ctx->table[s->f[0]] = -1; /* mount_at owns (and closes) it */
	return mount_at(ctx, tree, 1, "", s->s[0], "", "", 0, s->u[0], s->u[1], s->u[2], attr, e);
}

/* A detached copy of the host's tree at src (rec: AT_RECURSIVE, with its submounts) into fd slot `slot`. */
static int clone_tree(struct exec_ctx *ctx, const char *src, unsigned rec, uint64_t slot, struct step_error *e)
{
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (tree < 0)
		return fail_close(e, "open_tree", src, -1, -1);
	closeq(ctx->table[slot]);
	ctx->table[slot] = tree;
	return tree;
}

/*
 * Before any namespace, as host root: a bind source that the container's mapped root could not even reach
 * (a 0700 directory on the way) is cloned here and attached later by mountTree (runc opens such sources from
 * the host side too). recursive: bit 0 clones the submounts too (rbind).
 */
STEP(CLONE_TREE)
{
	return clone_tree(ctx, s->s[0], s->u[0] & 1 ? AT_RECURSIVE : 0, s->u[1], e) < 0 ? -1 : 0;
}

/* The user namespace (fd table, made and mapped by the parent) gives the tree its id mapping. */
STEP(IDMAP_TREE)
{
	const char *src = s->s[0];
	/* recursive: bit 0 clones the submounts too (rbind), bit 1 idmaps them too (ridmap) */
	unsigned clone_rec = s->u[0] & 1 ? AT_RECURSIVE : 0, attr_rec = s->u[0] & 2 ? AT_RECURSIVE : 0;
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ctx->table[s->f[0]] };
	int tree = clone_tree(ctx, src, clone_rec, s->u[1], e);
	if (tree < 0)
		return -1;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | attr_rec, &attr, sizeof attr) < 0)
		return step_fail(e, errno, "mount_setattr idmap", src);  /* the slot keeps (and later closes) the tree */
	return 0;
}

/* D7: the node is made with mknodat in its parent fd (resolved in the root), never through a path. */
STEP(MKNOD)
{
	const char *path = s->s[0];
	mode_t mode = (mode_t)s->u[0];
	dev_t dev = (dev_t)s->u[1];
	char name[256];
	struct stat st;
	int dir = open_parent_in_root(ctx->rootfd, path, 1, name, e), fd;
	if (dir < 0)
		return -1;
	if (s->u[4] & MOUNT_OPT_BIND_FD) { /* user namespace: bind the host node (same path on the host) */
		if ((fd = create_file_at(dir, name, 0644)) < 0)
			return fail_close(e, "create device target", path, dir, -1);
		close(dir);
		if ((dir = open(path, O_PATH | O_CLOEXEC)) < 0)
			return fail_close(e, "open host device", path, fd, -1);
		if (bind_fds(dir, fd, 0) < 0)
			return fail_close(e, "bind device", path, dir, fd);
		close(fd);
		return close(dir), 0;
	}
	mode_t old = umask(0);
	int r = mknodat(dir, name, mode, dev);
	umask(old);
	if (r < 0) { /* EEXIST is fine only for the identical device */
		int err = errno;
		if (err != EEXIST || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (st.st_mode & S_IFMT) != (mode & S_IFMT) || st.st_rdev != dev)
			return FAIL_WITH(err, "mknodat", path, dir, -1);
	}
	if (fchownat(dir, name, (uid_t)s->u[2], (gid_t)s->u[3], AT_SYMLINK_NOFOLLOW) < 0)
		return fail_close(e, "fchownat", path, dir, -1);
	return close(dir), 0;
}

STEP(SYMLINK)
{
	const char *target = s->s[0], *path = s->s[1];
	char name[256], buf[4096];
	int dir = open_parent_in_root(ctx->rootfd, path, 0, name, e);
	if (dir < 0)
		return -1;
	if (symlinkat(target, dir, name) < 0) {
		int err = errno;
		ssize_t n = err == EEXIST ? readlinkat(dir, name, buf, sizeof buf) : -1;
		if (n < 0 || (size_t)n != strlen(target) || memcmp(buf, target, (size_t)n))
			return FAIL_WITH(err, "symlinkat", path, dir, -1);
	}
	return close(dir), 0;
}

STEP(PIVOT_ROOT)
{
	/* mode 0 pivot_root, 1 MS_MOVE onto / + chroot (--no-pivot), 2 chroot only (no mount namespace); 0..2: the decoder */
	if (fchdir(ctx->rootfd) < 0)
		return fail_close(e, "fchdir", "/", -1, -1);
	if (s->u[0] == 0) {
		int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (old < 0)
			return fail_close(e, "open old root", "/", -1, -1);
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return fail_close(e, "pivot_root", "/", old, -1);
		/*
		 * The old root is stacked on the new one now. Work on it through its own fd (runc does the same): mount(2)
		 * does not cross mounts for ".", so a "." that named the new root would make the container's whole tree
		 * rslave and lose every propagation mode the config asked for.
		 */
		if (fchdir(old) < 0)
			return fail_close(e, "fchdir old root", "/", old, -1);
		close(old);
		/* rslave first, so that the unmount does not reach the host */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return fail_close(e, "make old root rslave", "/", -1, -1);
		if (umount2(".", MNT_DETACH) < 0)
			return fail_close(e, "umount old root", "/", -1, -1);
	} else {
		if (s->u[0] == 1 && mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return fail_close(e, "mount MS_MOVE", "/", -1, -1);
		if (chroot(".") < 0)
			return fail_close(e, "chroot", "/", -1, -1);
	}
	int fd = chdir("/") < 0 ? -1 : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail_close(e, "open new root", "/", -1, -1);
	close(ctx->rootfd);
	ctx->rootfd = fd;
	return 0;
}

/* D5 (CVE-2025-31133): directories get an empty read-only tmpfs, files a bind of a verified /dev/null (1:3). */
STEP(MASK)
{
	const char *path = s->s[0];
	struct stat st;
	char p[32];
	int dst = open_in_root(ctx->rootfd, path, O_PATH | O_NOFOLLOW, 0), null;
	if (dst < 0 || fstat(dst, &st) < 0)
		return fail_close(e, "open masked path", path, dst, -1); /* ENOENT: skipped */
	if (S_ISDIR(st.st_mode)) {
		unsigned long fl = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
		if (mount("tmpfs", fd_path(p, dst), "tmpfs", fl, "nr_blocks=1,nr_inodes=1") < 0 &&
		    mount("tmpfs", p, "tmpfs", fl, "nr_blocks=1,nr_inodes=2") < 0)
			return fail_found(e, "mount tmpfs", path, dst, -1);
		return close(dst), 0;
	}
	if ((null = open_in_root(ctx->rootfd, "/dev/null", O_PATH, 0)) < 0 || fstat(null, &st) < 0)
		return fail_found(e, "open /dev/null", "/dev/null", null, dst);
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		return FAIL_WITH(ENODEV, "verify /dev/null", "/dev/null", null, dst);
	if (bind_fds(null, dst, 0) < 0)
		return fail_found(e, "bind /dev/null", path, null, dst);
	close(null);
	return close(dst), 0;
}

/* D8: bind the path onto itself through its fd, then remount that new mount read-only keeping its flags. */
STEP(READONLY)
{
	const char *path = s->s[0];
	int fd = open_in_root(ctx->rootfd, path, O_PATH, 0), nfd;
	if (fd < 0)
		return fail_close(e, "open readonly path", path, -1, -1);
	if (bind_fds(fd, fd, MS_REC) < 0)
		return fail_found(e, "bind", path, fd, -1);
	if ((nfd = reopen_mount(ctx->rootfd, path, fd)) < 0)
		return fail_found(e, "reopen mount", path, fd, -1);
	close(fd);
	if (remount_fd(nfd, MS_RDONLY, 1) < 0)
		return fail_found(e, "remount read-only", path, nfd, -1);
	return close(nfd), 0;
}

STEP(REMOUNT)
{
	int fd = open_in_root(ctx->rootfd, s->s[0], O_PATH, 0);
	if (fd < 0 || remount_fd(fd, s->u[0], 0) < 0)
		return fail_close(e, "remount", s->s[0], fd, -1);
	return close(fd), 0;
}

/* process.cwd (runc creates it when missing): every missing directory, mode from the plan, owned by us. */
STEP(MKDIR_ALL)
{
	mode_t old = umask(0);
	int fd = mkdir_all_in_root(ctx->rootfd, s->s[0], (int)(s->u[0] & 07777), e);
	umask(old);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}
