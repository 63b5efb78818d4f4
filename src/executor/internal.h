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

/* frame.c — frames on the control stream (SOCK_STREAM socketpair made by libuv). */
int frame_send(int fd, uint16_t type, const void *payload, uint32_t len);  /* 0, or -1 errno */
/* Reads one header: 1 ok, 0 clean EOF, -1 error (errno; EPROTO for a bad version, EMSGSIZE above max). */
int frame_recv_hdr(int fd, uint16_t *type, uint32_t *len, uint32_t max);
int read_full(int fd, void *buf, size_t len);                             /* 1 ok, 0 EOF, -1 errno */
int send_failed(int fd, uint32_t step, uint16_t kind, const struct step_error *e);
int send_reject(int fd, uint32_t step, uint32_t offset, const char *reason);
void put_u16(uint8_t *p, uint16_t v);
void put_u32(uint8_t *p, uint32_t v);
uint32_t get_u32le(const uint8_t *p);

/* error.c — the one late log line (after READY nobody reads the control socket). */
void log_failure(const struct exec_ctx *ctx, const struct step *s, const struct step_error *e);
size_t copy_bounded(char *dst, size_t cap, const char *src);

/* seal.c — security.md D1/D2 prologue. */
int seal_self(char **argv, struct step_error *e);  /* returns only when sealed already, or -1 on failure */
int cloexec_from(int lowfd);

/* proc.c */
void proc_init(void);  /* records the parent pid for the pdeathsig race check */

/* exec.c — reset every signal disposition and the mask (Node ignores SIGPIPE; it must not leak). */
void reset_signals(void);

#endif
