/*
 * main.c — tsrun-executor CTL NFDS
 *
 * Started by tsrun (Node) through child_process.spawn with an empty environment:
 *   fds 0 .. CTL-1              the container's stdio and preserved/LISTEN fds (left alone until exec)
 *   fd  CTL                     the control stream (frames, proto.h)
 *   fds CTL+1 .. CTL+NFDS       the fd table the plan refers to by index
 * Prologue (seal, close-on-exec, non-dumpable), then one PLAN frame, decoded entirely before anything runs,
 * then the steps in order. The first failure is reported once and ends the process (README.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include "internal.h"

static const step_fn step_fns[STEP_KIND_MAX] = {
#define X(name, code, ts, sig) [code] = step_##name,
	STEP_LIST(X)
#undef X
};

/* Digits only, no sign, no leading zero, no overflow: argv is parsed strictly (security.md D11). */
static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 7 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static _Noreturn void usage(const char *why)
{
	static const char u[] = "tsrun-executor: an internal helper of tsrun, not meant to be run by hand: ";
	(void)!write(2, u, sizeof u - 1);
	(void)!write(2, why, strlen(why));
	(void)!write(2, "\n", 1);
	_exit(2);
}

/* A prologue failure: no step ran yet; report it as FAILED with step STEP_NONE. */
static _Noreturn void prologue_fail(int ctl, const struct step_error *e)
{
	send_failed(ctl, STEP_NONE, 0, e);
	_exit(1);
}

static _Noreturn void fail_step(struct exec_ctx *ctx, const struct step *s, const struct step_error *e)
{
	if (ctx->ctl >= 0) {
		send_failed(ctx->ctl, ctx->step_index, s->kind, e);
		_exit(1);
	}
	log_failure(ctx, s, e);
	/* The shell's (and Docker's) convention for a program that cannot be run. */
	if (s->kind == STEP_EXEC)
		_exit(e->err == ENOENT ? 127 : e->err == EACCES ? 126 : 1);
	_exit(1);
}

int main(int argc, char **argv)
{
	static struct exec_ctx ctx;
	struct step_error e = { 0 };
	struct plan plan;
	struct stat st;
	unsigned ctl, nfds;
	uint16_t type;
	uint32_t len, bad_step, offset;
	const char *reason;
	uint8_t *buf;
	int r;

	if (argc != 3 || parse_uint(argv[1], 1u << 20, &ctl) || parse_uint(argv[2], PLAN_MAX_FDS, &nfds))
		usage("expected CTL NFDS (decimal)");
	if (ctl < 3)
		usage("CTL must be 3 or more: fds 0-2 are the container's stdio");
	if (fstat((int)ctl, &st) < 0 || !S_ISSOCK(st.st_mode))
		usage("CTL is not a socket");

	if (seal_self(argv, &e) < 0)
		prologue_fail((int)ctl, &e);
	if (cloexec_from((int)ctl) < 0)
		prologue_fail((int)ctl, (step_fail(&e, errno, "close_range", "/proc/self/fd"), &e));
	/* Nobody in the container may ptrace us or open our /proc files while we hold host fds (D1.4). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		prologue_fail((int)ctl, (step_fail(&e, errno, "prctl", "PR_SET_DUMPABLE"), &e));
	ctx.ctl = (int)ctl;
	ctx.rootfd = -1;
	ctx.logfd = -1;
	for (unsigned i = 0; i < PLAN_MAX_FDS; i++)
		ctx.table[i] = i < nfds ? (int)(ctl + 1 + i) : -1;
	for (unsigned i = 0; i < nfds; i++)
		if (fcntl(ctx.table[i], F_GETFD) < 0)
			prologue_fail((int)ctl, (step_fail(&e, errno, "fd table", ""), &e));
	proc_init();

	r = frame_recv_hdr((int)ctl, &type, &len, PLAN_MAX_BYTES);
	if (r == 0 || (r > 0 && type == MSG_ABORT))
		_exit(1);  /* tsrun went away or changed its mind before anything ran: nothing to report */
	if (r < 0 || type != MSG_PLAN) {
		send_reject((int)ctl, STEP_NONE, 0, r < 0 && errno == EPROTO ? "protocol version mismatch (rebuild tsrun)"
		            : r < 0 ? "bad frame" : "expected a PLAN frame");
		_exit(1);
	}
	buf = malloc(len ? len : 1);
	if (!buf || read_full((int)ctl, buf, len) <= 0)
		_exit(1);
	if (plan_decode(buf, len, nfds, &plan, &bad_step, &offset, &reason) < 0) {
		send_reject((int)ctl, bad_step, offset, reason);
		_exit(1);
	}
	ctx.plan = &plan;

	for (uint32_t i = 0; i < plan.nsteps; i++) {
		const struct step *s = &plan.steps[i];
		ctx.step_index = i;
		memset(&e, 0, sizeof e);
		if (step_fns[s->kind](&ctx, s, &e) == 0)
			continue;
		if (e.err == ENOENT && (s->flags & STEP_F_OK_ENOENT))
			continue;  /* TypeScript said a missing path is fine here (masked paths absent in the image) */
		fail_step(&ctx, s, &e);
	}
	_exit(0);  /* a plan without exec (tests): done */
}
