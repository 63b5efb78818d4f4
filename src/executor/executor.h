/*
 * executor.h — the decoded plan and the step functions. See README.md in this directory for the rules the
 * executor lives by (libc only, no policy, no allocation after decoding, one bounded error report).
 */
#ifndef TSRUN_EXECUTOR_H
#define TSRUN_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include "proto.h"

#define STEP_MAX_S 6
#define STEP_MAX_U 10
#define STEP_MAX_F 2
#define STEP_MAX_V 2

struct strv {
	uint32_t n;
	const char **p;        /* n pointers into the plan buffer, NUL-terminated strings */
};

/* A decoded step: fields of the kind's signature, in order of appearance per type. */
struct step {
	uint16_t kind;
	uint16_t flags;
	const char *label;
	const char *s[STEP_MAX_S];
	uint64_t u[STEP_MAX_U];
	uint32_t f[STEP_MAX_F];  /* fd table indices, checked < nfds + nslots at decode */
	struct strv v[STEP_MAX_V];
	uint32_t nU;             /* the U field: nU little-endian u64 at Up */
	const uint8_t *Up;
	uint32_t nb;             /* the b field */
	const uint8_t *b;
};

struct plan {
	uint32_t nfds;           /* passed fds: table[0..nfds) */
	uint32_t nslots;         /* fds filled by steps: table[nfds..nfds+nslots) */
	uint32_t nsteps;
	struct step *steps;
};

/* What a failing step reports. op is a syscall or operation name, path the object it acted on. */
struct step_error {
	int err;
	char op[32];
	char path[4096];
};

/* Everything a step may need besides its own fields. */
struct exec_ctx {
	const struct plan *plan;
	int ctl;                 /* control socket, -1 after READY */
	int table[PLAN_MAX_FDS]; /* the fd table (passed fds, then slots; -1 when empty) */
	int rootfd;              /* O_PATH fd of the container root: set by rootfsBind, "/" after pivotRoot */
	int logfd;               /* logTo: where late failures go (-1: stderr) */
	int logjson;
	const uint8_t *resume;   /* payload of the last RESUME (state JSON for hooks) */
	uint32_t nresume;
	char resolved[4096];     /* set by resolve, used by exec when its path is "" */
	uint32_t step_index;     /* the step being run */
};

int step_fail(struct step_error *e, int err, const char *op, const char *path);

/* Decoder (plan.c): pure, no side effects. Returns 0, or -1 with *where and *reason set. */
int plan_decode(const uint8_t *buf, size_t len, uint32_t nfds, struct plan *p, uint32_t *bad_step,
                uint32_t *offset, const char **reason);
void plan_release(struct plan *p);
const char *step_name(uint16_t kind);
const char *step_signature(uint16_t kind);  /* the kind's field letters (proto.h), NULL for an unknown kind */

/* Step functions: 0 on success, -1 with e filled. One per kind. */
typedef int (*step_fn)(struct exec_ctx *ctx, const struct step *s, struct step_error *e);
#define X(name, code, ts, sig) int step_##name(struct exec_ctx *ctx, const struct step *s, struct step_error *e);
STEP_LIST(X)
#undef X

/* Shared helpers (mount.c / path.c): resolve a path inside the root fd-relatively (openat2 RESOLVE_IN_ROOT). */
int open_in_root(int rootfd, const char *path, int flags, uint64_t resolve);
int mkdir_all_in_root(int rootfd, const char *path, int mode, struct step_error *e);
uint64_t get_u64le(const uint8_t *p);

#endif
