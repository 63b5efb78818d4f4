/*
 * path.c — every path inside the container root is resolved fd-relative with openat2(RESOLVE_IN_ROOT), and
 * created one component at a time (security.md D4: CVE-2021-30465, CVE-2024-45310, crun CVE-2019-18837).
 * Exports: open_in_root / mkdir_all_in_root (executor.h) and the helpers internal.h lists under path.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"

static int openat2_retry(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = resolve };
	int fd, tries = 0;
	/* EAGAIN: a concurrent rename or mount made the kernel give up on a RESOLVE_IN_ROOT/BENEATH walk. */
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN && ++tries < 32);
	return fd;
}

/* An fd for path ("/" or "" is the root itself), symlinks and ".." clamped to the root. -1 with errno. */
int open_in_root(int rootfd, const char *path, int flags, uint64_t resolve)
{
	return openat2_retry(rootfd, *path ? path : "/", flags,
	                     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve);
}

/* "/proc/self/fd/N" in buf (32 bytes): how the old mount API is pointed at an fd. */
const char *fd_path(char *buf, int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/* Bind the object behind src onto the object behind dst (MS_BIND | extra flags, e.g. MS_REC). */
int bind_fds(int src, int dst, unsigned long flags)
{
	char a[32], b[32];
	return mount(fd_path(a, src), fd_path(b, dst), NULL, MS_BIND | flags, NULL);
}

/* Lexical clean to "/a/b" form ("." dropped, ".." pops, clamped at "/"). -1 if it does not fit in n bytes. */
int path_clean(const char *in, char *out, size_t n)
{
	size_t len = 0;
	while (*in) {
		while (*in == '/')
			in++;
		const char *c = in;
		size_t l = strcspn(c, "/");
		in += l;
		if (l == 0 || (l == 1 && c[0] == '.'))
			continue;
		if (l == 2 && c[0] == '.' && c[1] == '.') {
			while (len > 0 && out[--len] != '/')
				;
			continue;
		}
		if (len + l + 2 > n)
			return -1;
		out[len++] = '/';
		memcpy(out + len, c, l);
		len += l;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = 0;
	return 0;
}

/* path with its component at name (a dangling symlink in dirfd) replaced by the link's target, into out. */
static int follow_dangling(int dirfd, const char *name, const char *path, const char *at, const char *rest,
                           char *out, size_t n)
{
	char link[4096];
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
		return -1;
	ssize_t l = readlinkat(dirfd, name, link, sizeof link - 1);
	if (l <= 0)
		return -1;
	link[l] = 0;
	int w = link[0] == '/' ? snprintf(out, n, "%s/%s", link, rest)
	                       : snprintf(out, n, "%.*s/%s/%s", (int)(at - path), path, link, rest);
	return w < 0 || (size_t)w >= n ? (errno = ENAMETOOLONG, -2) : 0;
}

/*
 * Create every missing directory of path inside the root. Existing components (symlinks included) are resolved
 * in the root; each created component is reopened O_NOFOLLOW with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, so a
 * symlink swapped in meanwhile fails the step. A dangling symlink met on the way is followed the way the kernel
 * would inside the root (its target, absolute or relative to its directory, with the rest of the path appended,
 * resolved again from the root: securejoin's MkdirAll semantics), at most 40 times. Returns an O_PATH fd of the
 * final directory (caller closes it).
 */
static int mkdir_all_depth(int rootfd, const char *path, int mode, struct step_error *e, int depth)
{
	char buf[4096];
	size_t n = strlen(path);
	int fd;
	if (n >= sizeof buf)
		return step_fail(e, ENAMETOOLONG, "mkdir", path);
	memcpy(buf, path, n + 1);
	/* The longest prefix that exists (buf only ever shrinks to a prefix of path). */
	while ((fd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY, 0)) < 0 && errno == ENOENT && *buf) {
		char *sl = strrchr(buf, '/');
		*(sl ? sl : buf) = 0;
	}
	if (fd < 0)
		return step_fail(e, errno, "openat2", path);
	for (const char *rest = path + strlen(buf); *rest;) {
		char name[256];
		while (*rest == '/')
			rest++;
		size_t l = strcspn(rest, "/");
		if (l == 0)
			break;
		int err = l >= sizeof name ? ENAMETOOLONG : (l == 2 && !strncmp(rest, "..", 2)) ? EINVAL : 0;
		if (err)
			return FAIL_WITH(err, "mkdir", path, fd, -1);
		memcpy(name, rest, l);
		name[l] = 0;
		const char *at = rest;
		rest += l;
		if (!strcmp(name, "."))
			continue;
		if (mkdirat(fd, name, (mode_t)mode) < 0 && errno != EEXIST)
			return fail_close(e, "mkdirat", path, fd, -1);
		int nfd = openat2_retry(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW,
		                        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		err = errno;
		if (nfd < 0 && (err == ELOOP || err == ENOTDIR)) {
			char next[4096];
			int r = follow_dangling(fd, name, path, at, rest, next, sizeof next);
			if (r == 0 || r == -2) {
				close(fd);
				if (r == -2 || depth >= 40)
					return step_fail(e, r == -2 ? ENAMETOOLONG : ELOOP, "mkdir", path);
				return mkdir_all_depth(rootfd, next, mode, e, depth + 1);
			}
		}
		close(fd);
		if (nfd < 0)
			return step_fail(e, err, "openat2", path);
		fd = nfd;
	}
	return fd;
}

int mkdir_all_in_root(int rootfd, const char *path, int mode, struct step_error *e)
{
	return mkdir_all_depth(rootfd, path, mode, e, 0);
}

/*
 * The directory that will hold path's last component (created when create ≠ 0), and that component in name
 * (256 bytes). The last component is never resolved here: callers use it with *at() and no-follow semantics.
 */
int open_parent_in_root(int rootfd, const char *path, int create, char *name, struct step_error *e)
{
	char dir[4096];
	size_t l = strlen(path);
	if (l >= sizeof dir)
		return step_fail(e, ENAMETOOLONG, "resolve", path);
	memcpy(dir, path, l + 1);
	while (l > 1 && dir[l - 1] == '/')
		dir[--l] = 0;
	char *sl = strrchr(dir, '/');
	const char *base = sl ? sl + 1 : dir;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || strlen(base) > 255)
		return step_fail(e, EINVAL, "resolve", path);
	strcpy(name, base);
	if (sl && sl != dir)
		*sl = 0;
	else
		strcpy(dir, "/");
	if (create)
		return mkdir_all_in_root(rootfd, dir, 0755, e);
	int fd = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY, 0);
	return fd < 0 ? step_fail(e, errno, "openat2", dir) : fd;
}

/*
 * An O_PATH fd of the non-directory, non-symlink name in dirfd, created as an empty regular file (mode) when
 * missing with O_CREAT|O_EXCL|O_NOFOLLOW. -1 with errno (ELOOP: a symlink, EISDIR: a directory).
 */
int create_file_at(int dirfd, const char *name, int mode)
{
	struct stat st;
	int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_NOCTTY | O_CLOEXEC, (mode_t)mode);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return -1;
	fd = openat2_retry(dirfd, name, O_PATH | O_NOFOLLOW, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return -1;
	int err = fstat(fd, &st) < 0 ? errno : S_ISLNK(st.st_mode) ? ELOOP : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (err)
		return close(fd), errno = err, -1;
	return fd;
}
