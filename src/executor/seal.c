/*
 * seal.c — the prologue defences (security.md D1, D2).
 *
 * D1: a container process can open /proc/<our pid>/exe; if that were the host file, writing through it would
 * replace the host's executor (CVE-2019-5736). So we run only from a sealed memfd copy: if /proc/self/exe is not
 * one, copy ourselves into one, seal it, and re-exec it with the same argv. The fds the protocol needs are not
 * close-on-exec yet, so they survive the re-exec.
 * D2: then every fd from ctl upwards becomes close-on-exec (the caller may have leaked some: CVE-2024-21626).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010u      /* Linux 6.3: explicitly executable, whatever vm.memfd_noexec says */
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define SEALS_REQUIRED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

int seal_self(char **argv, struct step_error *e)
{
	int fd, mfd, seals;
	struct stat st;
	off_t off = 0;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return step_fail(e, errno, "open", "/proc/self/exe");
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0) {
		/* Already a memfd (we are the re-exec'd copy). Refuse one without all seals rather than loop. */
		close(fd);
		return (seals & SEALS_REQUIRED) == SEALS_REQUIRED ? 0 : step_fail(e, EPERM, "seals", "/proc/self/exe");
	}
	mfd = memfd_create("tsrun-executor", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)  /* kernel before 6.3 */
		mfd = memfd_create("tsrun-executor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || fstat(fd, &st) < 0)
		return step_fail(e, errno, mfd < 0 ? "memfd_create" : "fstat", "/proc/self/exe");
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, fd, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return step_fail(e, n < 0 ? errno : EIO, "sendfile", "/proc/self/exe");
	}
	close(fd);
	(void)fcntl(mfd, F_ADD_SEALS, F_SEAL_EXEC);  /* Linux 6.3+: nobody may chmod it; optional */
	if (fcntl(mfd, F_ADD_SEALS, SEALS_REQUIRED) < 0)
		return step_fail(e, errno, "fcntl F_ADD_SEALS", "memfd:tsrun-executor");
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	return step_fail(e, errno, "execveat", "memfd:tsrun-executor");
}

/* FD_CLOEXEC on every fd >= lowfd: close_range (5.11+), else a walk of /proc/self/fd. */
int cloexec_from(int lowfd)
{
	DIR *d;
	struct dirent *de;

	if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end == 0 && end != de->d_name && fd >= lowfd && fd != dirfd(d))
			(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}
