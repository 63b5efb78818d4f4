/*
 * lsm.c — the LSM exec label (AppArmor "exec <profile>", SELinux process label), applied at the next execve.
 *
 * security.md D3 (CVE-2019-16884, CVE-2019-19921, CVE-2025-52881): the label goes ONLY through a verified procfs
 * handle. "/proc" must be the root of a real procfs (fstatfs PROC_SUPER_MAGIC and inode PROC_ROOT_INO), and the
 * attribute is opened beneath that handle with openat2(RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS):
 * a fake /proc (a volume, a tmpfs), a bind mount over the attr file or a symlink out of procfs fails the step
 * instead of silently taking the label. TypeScript chooses the attribute (apparmor/exec, exec) and the text.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"

#define PROC_ROOT_INO 1

/* proc is "/proc" in the executor; test-lsm passes a fake one. Writes label to <proc>/thread-self/attr/<attr>. */
int lsm_write_attr(const char *proc, const char *attr, const char *label, struct step_error *e)
{
	struct open_how how = {
		.flags = O_WRONLY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	char rel[128], path[256];
	struct statfs sfs;
	struct stat st;
	int dfd, fd;

	if (snprintf(rel, sizeof rel, "thread-self/attr/%s", attr) >= (int)sizeof rel)
		return step_fail(e, ENAMETOOLONG, "lsm attr", attr);
	snprintf(path, sizeof path, "%s/%s", proc, rel);
	dfd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return step_fail(e, errno, "open", proc);
	if (fstatfs(dfd, &sfs) < 0 || fstat(dfd, &st) < 0)
		return fail_close(e, "fstatfs", proc, dfd, -1);
	if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO)  /* nothing is written anywhere */
		return FAIL_WITH(EXDEV, "verify procfs", proc, dfd, -1);
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof how);
	closeq(dfd);
	if (fd < 0)
		return step_fail(e, errno, "openat2", path);
	if (write_text(fd, label) < 0)
		return fail_close(e, "write", path, fd, -1);
	return close(fd), 0;
}

STEP(LSM_LABEL)
{
	return lsm_write_attr("/proc", s->s[0], s->s[1], e);
}
