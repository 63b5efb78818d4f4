/*
 * test-lsm.c — TAP tests of step_LSM_LABEL (lsm.c): the label goes only through a verified procfs (security.md D3).
 *
 * Build:  cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -fsanitize=address,undefined -Isrc/executor \
 *            src/executor/tests/test-lsm.c src/executor/lsm.c src/executor/error.c -o /tmp/test-lsm && /tmp/test-lsm
 * The real-/proc cases need nothing. The fake-/proc cases need root: each runs in a forked child that unshares
 * its mount namespace and makes "/" rprivate first, so the mounts over /proc never reach the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "executor.h"

static int ntests, nfailed;
static char T[64];  /* host temp dir: the decoy files a redirected write would land in */

static struct step st(const char *attr, const char *value)
{
	struct step s;
	memset(&s, 0, sizeof s);
	s.kind = STEP_LSM_LABEL;
	s.s[0] = attr;
	s.s[1] = value;
	return s;
}

/* Runs the step in a child (after setup, when given); the child exits 0 when it failed with err/op as expected. */
static int run_case(int (*setup)(void), const char *attr, int want_err, const char *want_op)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct exec_ctx ctx;
		struct step_error e;
		struct step s = st(attr, "exec tsrun-test-profile");
		memset(&ctx, 0, sizeof ctx);
		memset(&e, 0, sizeof e);
		if (setup && setup() != 0)
			_exit(3);
		int rc = step_LSM_LABEL(&ctx, &s, &e);
		printf("#   rc=%d err=%s op='%s' path='%s'\n", rc, strerror(e.err), e.op, e.path);
		_exit(rc == -1 && e.err == want_err && strcmp(e.op, want_op) == 0 ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

static void ok(int cond, const char *what)
{
	ntests++;
	if (!cond)
		nfailed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", ntests, what);
}

static char decoy[128];
static int decoy_untouched(void)
{
	struct stat sb;
	return stat(decoy, &sb) == 0 && sb.st_size == 0;
}

static int private_ns(void)
{
	return unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}
/* A directory shaped like procfs (thread-self/attr/exec as a plain file) bound over /proc: CVE-2019-16884. */
static int fake_proc(void)
{
	return private_ns() || mount(T, "/proc", NULL, MS_BIND, NULL);
}
/* A real procfs, but not its root (/proc/sys bound over /proc): inode check. */
static int proc_subdir(void)
{
	return private_ns() || mount("/proc/sys", "/proc", NULL, MS_BIND, NULL);
}
/* A file bound over the attribute inside the real procfs: CVE-2025-52881. */
static int bind_over_attr(void)
{
	return private_ns() || mount(decoy, "/proc/thread-self/attr/exec", NULL, MS_BIND, NULL);
}

int main(void)
{
	int fd;

	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(T, sizeof T, "/tmp/tsrun-test-lsm-%d", (int)getpid());
	snprintf(decoy, sizeof decoy, "%s/thread-self/attr/exec", T);
	if (mkdir(T, 0700) || mkdir(strcat(strcpy((char[128]){0}, T), "/thread-self"), 0700) ||
	    mkdir(strcat(strcpy((char[128]){0}, T), "/thread-self/attr"), 0700) ||
	    (fd = open(decoy, O_CREAT | O_WRONLY, 0600)) < 0) {
		perror("setup");
		return 1;
	}
	close(fd);

	/* This host has no LSM: the kernel refuses the write itself (EINVAL), nothing lands anywhere else. */
	FILE *f = fopen("/proc/self/attr/apparmor/exec", "r");
	int has_aa_dir = f != NULL;
	if (f)
		fclose(f);
	ok(run_case(NULL, "exec", EINVAL, "write") == 0, "real /proc, attr/exec: the kernel's EINVAL from write (no LSM here)");
	if (!has_aa_dir)
		ok(run_case(NULL, "apparmor/exec", ENOENT, "openat2") == 0, "real /proc, attr/apparmor/exec absent: ENOENT from openat2");

	if (geteuid() != 0) {
		printf("# not root: the fake-/proc cases are skipped\n");
	} else {
		ok(run_case(fake_proc, "exec", EXDEV, "verify procfs") == 0 && decoy_untouched(),
		   "a plain directory bound over /proc is refused (not procfs) and its decoy file stays empty");
		ok(run_case(proc_subdir, "exec", EXDEV, "verify procfs") == 0, "a procfs subdirectory bound over /proc is refused (inode not 1)");
		ok(run_case(bind_over_attr, "exec", EXDEV, "openat2") == 0 && decoy_untouched(),
		   "a file bound over /proc/thread-self/attr/exec: openat2 RESOLVE_NO_XDEV refuses it, the file stays empty");
	}
	unlink(decoy);
	rmdir(strcat(strcpy((char[128]){0}, T), "/thread-self/attr"));
	rmdir(strcat(strcpy((char[128]){0}, T), "/thread-self"));
	rmdir(T);
	printf("1..%d\n", ntests);
	return nfailed != 0;
}
