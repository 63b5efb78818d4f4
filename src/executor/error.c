/*
 * error.c — the error convention (security.md D12: one bounded report, never block).
 *
 * A step returns -1 with a struct step_error {errno, op, path}. While Node listens, main.c sends it as one FAILED
 * frame. After READY nobody listens, so the failure becomes ONE line on the logTo fd (runc's log format, text or
 * JSON), written with a bounded wait.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* Copies at most cap-1 bytes and always terminates; a cut string ends in "..." so nobody mistakes it. */
size_t copy_bounded(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n < cap) {
		memcpy(dst, src, n + 1);
		return n;
	}
	memcpy(dst, src, cap - 1);
	dst[cap - 1] = 0;
	if (cap > 4)
		memcpy(dst + cap - 4, "...", 3);
	return cap - 1;
}

int step_fail(struct step_error *e, int err, const char *op, const char *path)
{
	e->err = err;
	copy_bounded(e->op, sizeof e->op, op ? op : "");
	copy_bounded(e->path, sizeof e->path, path ? path : "");
	return -1;
}

int fail_close(struct step_error *e, const char *op, const char *path, int a, int b)
{
	int err = errno;
	closeq(a);
	closeq(b);
	return step_fail(e, err, op, path);
}

int step_failf(struct step_error *e, int err, const char *op, const char *fmt, ...)
{
	char buf[sizeof e->path + 4];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return step_fail(e, err, op, buf);
}

void closeq(int fd)
{
	int err = errno;
	if (fd >= 0)
		close(fd);
	errno = err;
}

int write_text(int fd, const char *text)
{
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	return w >= 0 && (size_t)w == n ? 0 : (errno = w < 0 ? errno : EIO, -1);
}

/* Appends src to buf (bounded), escaping what would break a JSON string or a logfmt quoted value. */
static size_t put_escaped(char *buf, size_t n, size_t cap, const char *src, int json)
{
	for (const unsigned char *p = (const unsigned char *)src; *p && n + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			n += (size_t)snprintf(buf + n, cap - n, json ? "\\u%04x" : "\\x%02x", *p);
		} else {
			buf[n++] = (char)*p;
		}
	}
	buf[n] = 0;
	return n;
}

void log_failure(const struct exec_ctx *ctx, const struct step *s, const struct step_error *e)
{
	char msg[1024 + sizeof e->path], line[2 * sizeof msg + 128], ts[32], err[128];
	int fd = ctx->logfd >= 0 ? ctx->logfd : 2;
	struct timespec now;
	struct tm tm;
	size_t n;

	/* glibc capitalises ("No such file"); Go and Docker's matchers expect lower case (src/errors.ts). */
	copy_bounded(err, sizeof err, strerror(e->err));
	if (err[0] >= 'A' && err[0] <= 'Z' && !(err[1] >= 'A' && err[1] <= 'Z'))
		err[0] = (char)(err[0] - 'A' + 'a');
	snprintf(msg, sizeof msg, "step %u/%u (%s): %s%s%s: %s", ctx->step_index + 1, ctx->plan->nsteps, s->label,
	         e->op, e->path[0] ? " " : "", e->path, err);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (ctx->logjson)
		n = (size_t)snprintf(line, sizeof line, "{\"level\":\"error\",\"msg\":\"");
	else
		n = (size_t)snprintf(line, sizeof line, "time=\"%s\" level=error msg=\"", ts);
	n = put_escaped(line, n, sizeof line - 40, msg, ctx->logjson);
	if (ctx->logjson)
		n += (size_t)snprintf(line + n, sizeof line - n, "\",\"time\":\"%s\"}\n", ts);
	else
		n += (size_t)snprintf(line + n, sizeof line - n, "\"\n");

	/* The log is a regular file normally; if it is a pipe, never die of SIGPIPE nor wait more than a second. */
	signal(SIGPIPE, SIG_IGN);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLOUT))
		while (write(fd, line, n) < 0 && errno == EINTR)
			;
}
