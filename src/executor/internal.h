/*
 * internal.h — helpers shared by the executor's own files (not part of the wire contract; see executor.h and
 * proto.h for that). Nothing here allocates after the plan is decoded.
 */
#ifndef TSRUN_INTERNAL_H
#define TSRUN_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include "executor.h"

#define STEP_NONE 0xffffffffu   /* step index of a header REJECT or a prologue FAILED */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

/* A step function's definition; not every step uses its context, fields or error. */
#define STEP(name) int step_##name(struct exec_ctx *ctx __attribute__((unused)),                              \
                                   const struct step *s __attribute__((unused)),                             \
                                   struct step_error *e __attribute__((unused)))

/* frame.c — frames on the control stream (SOCK_STREAM socketpair made by libuv). */
int frame_send(int fd, uint16_t type, const void *payload, uint32_t len);  /* 0, or -1 errno */
/* Reads one header: 1 ok, 0 clean EOF, -1 error (errno; EPROTO for a bad version, EMSGSIZE above max). */
int frame_recv_hdr(int fd, uint16_t *type, uint32_t *len, uint32_t max);
int read_full(int fd, void *buf, size_t len);                             /* 1 ok, 0 EOF, -1 errno */
int send_failed(int fd, uint32_t step, uint16_t kind, const struct step_error *e);
int send_reject(int fd, uint32_t step, uint32_t offset, const char *reason);
void put_u16(uint8_t *p, uint16_t v);
void put_u32(uint8_t *p, uint32_t v);
uint16_t get_u16le(const uint8_t *p);
uint32_t get_u32le(const uint8_t *p);

/* error.c — the one late log line (after READY nobody reads the control socket). */
void log_failure(const struct exec_ctx *ctx, const struct step *s, const struct step_error *e);
size_t copy_bounded(char *dst, size_t cap, const char *src);
/* step_fail with errno (read first), closing a and b (-1: none) after. */
int fail_close(struct step_error *e, const char *op, const char *path, int a, int b);
/* step_fail with a formatted path (cut like copy_bounded). */
int step_failf(struct step_error *e, int err, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* fail_close with the given errno, in a function whose step_error is e. */
#define FAIL_WITH(err, op, path, a, b) (errno = (err), fail_close(e, op, path, a, b))

void closeq(int fd);  /* close() of an fd that may be -1, keeping errno */
/* One write of all of text (procfs and the LSMs parse the buffer of one call): 0, or -1 with errno (EIO: short). */
int write_text(int fd, const char *text);

/* seal.c — security.md D1/D2 prologue. */
int seal_self(char **argv, struct step_error *e);  /* returns only when sealed already, or -1 on failure */
int cloexec_from(int lowfd);

/* path.c — besides open_in_root / mkdir_all_in_root (executor.h); used by mount.c and console.c. */
const char *fd_path(char *buf, int fd);                 /* "/proc/self/fd/N" in buf (32 bytes) */
int bind_fds(int src, int dst, unsigned long flags);
int path_clean(const char *in, char *out, size_t n);
int open_parent_in_root(int rootfd, const char *path, int create, char *name, struct step_error *e);
int create_file_at(int dirfd, const char *name, int mode);

/* console.c — sends msg with fd as SCM_RIGHTS on its first byte (the console master, the seccomp listener). */
int send_fd(int sock, const void *msg, uint32_t len, int fd);
/* dup2 that also works when the fd is already in place (dup2(x, x) would keep its close-on-exec flag). */
int put_fd(int from, int to);

/* ns.c — SYNC {step, token} and wait for the RESUME payload (into buf, at most cap bytes): its length, or -1. */
long sync_parent(struct exec_ctx *ctx, uint32_t token, uint8_t *buf, uint32_t cap, struct step_error *e);

/* proc.c */
void proc_init(void);  /* records the parent pid for the pdeathsig race check */

/* exec.c — reset every signal disposition and the mask (Node ignores SIGPIPE; it must not leak). */
void reset_signals(void);

#endif
