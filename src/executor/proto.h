/*
 * proto.h — the wire contract between tsrun (TypeScript) and tsrun-executor (C).
 *
 * Mirrors src/plan/steps.ts (STEP_CODE, STEP_FIELDS) and src/plan/protocol.ts (frames);
 * src/plan/steps.mirror.test.ts parses this file and compares names, codes and signatures both ways.
 *
 *   tsrun (Node)                                         tsrun-executor (C)
 *   spawn: fd 0-2 stdio, 3.. preserved, ctl, table  ──▶  seal check, CLOEXEC on ctl and table, non-dumpable
 *   PLAN {plan bytes}                               ──▶  decode every step (REJECT on any error; nothing ran)
 *                                                  ◀──  SYNC {step, token}      e.g. idmap, hooks
 *   RESUME {step, payload}                          ──▶
 *                                                  ◀──  FORKED {pid}           after a `fork` step
 *                                                  ◀──  FAILED {step, kind, errno, op, path}   then exit
 *                                                  ◀──  READY                  control socket closed after it
 *
 * Every frame: u32 len (payload bytes) · u16 type · u16 version (PROTO_VERSION) · payload. Little-endian.
 */
#ifndef TSRUN_PROTO_H
#define TSRUN_PROTO_H

#define PROTO_VERSION   1
#define PLAN_VERSION    1
#define PLAN_MAGIC      "TSRP"
#define PLAN_MAX_BYTES  (4u * 1024u * 1024u)
#define PLAN_MAX_STEPS  4096u
#define PLAN_MAX_FDS    64u
#define FRAME_MAX       (PLAN_MAX_BYTES + 64u)
#define RESUME_MAX      (64u * 1024u)
#define STR_MAX         (64u * 1024u)   /* any single string in a plan */
#define STRV_MAX        4096u           /* entries in one string vector */

enum msg_type {
	/* parent → executor */
	MSG_PLAN   = 1,   /* plan bytes */
	MSG_RESUME = 2,   /* u32 step · payload bytes (state JSON for hooks) */
	MSG_ABORT  = 3,   /* empty */
	/* executor → parent */
	MSG_REJECT = 16,  /* u32 step (0xffffffff: header) · u32 offset · str reason */
	MSG_FAILED = 17,  /* u32 step · u16 kind · u16 0 · i32 errno · str op · str path */
	MSG_SYNC   = 18,  /* u32 step · u32 token */
	MSG_FORKED = 19,  /* u32 pid (host pid of the child) */
	MSG_READY  = 20,  /* empty */
};

/* Step flags (u16). Unknown bits are rejected. */
#define STEP_F_OK_ENOENT      0x1u
#define STEP_F_SKIP_SETGROUPS 0x2u
#define STEP_F_NO_DEV_CONSOLE 0x4u   /* console (exec): no /dev/console bind; the root is the process's own */
#define STEP_F_SECOND_STATE   0x8u   /* hook: feed the RESUME payload's part after its first NUL (startContainer) */
#define STEP_F_KNOWN          15u   /* every bit above */

/* `opts` bits of mount and mknod. */
#define MOUNT_OPT_MKDIR              0x1u
#define MOUNT_OPT_MKFILE             0x2u
#define MOUNT_OPT_BIND_FD            0x4u
#define MOUNT_OPT_TARGET_MUST_BE_DIR 0x8u
#define MOUNT_OPT_COPYUP             0x10u

#define SYNC_TOKEN_IDMAP 1
#define SYNC_TOKEN_HOOKS 2
#define SYNC_TOKEN_START 3
#define SYNC_TOKEN_SECCOMP 4

/*
 * Step kinds and their field signatures (s str, u u64, f fd index, v strv, U u64 array, b bytes).
 * X(NAME, code, "ts name", "signature")
 */
#define STEP_LIST(X) /* 41 (idmapTree "sssuu") is retired: codes are never reused */ \
	X(CGROUP_JOIN,   1, "cgroupJoin",  "f") \
	X(UNSHARE,       2, "unshare",     "u") \
	X(SETNS,         3, "setns",       "fu") \
	X(FORK,          4, "fork",        "u") \
	X(SYNC,          5, "sync",        "u") \
	X(MKFIFO,        6, "mkfifo",      "fsuuuu") \
	X(PDEATHSIG,     7, "pdeathsig",   "u") \
	X(LOG_TO,        8, "logTo",       "fu") \
	X(TIME_OFFSETS,  9, "timeOffsets", "s") \
	X(PROPAGATION,  10, "propagation", "su") \
	X(ROOTFS_BIND,  11, "rootfsBind",  "s") \
	X(MOUNT,        12, "mount",       "sssusuuuuu") \
	X(MKNOD,        13, "mknod",       "suuuuu") \
	X(SYMLINK,      14, "symlink",     "ss") \
	X(PIVOT_ROOT,   15, "pivotRoot",   "u") \
	X(MASK,         16, "mask",        "s") \
	X(READONLY,     17, "readonly",    "s") \
	X(REMOUNT,      18, "remount",     "su") \
	X(CONSOLE,      19, "console",     "fuu") \
	X(HOSTNAME,     20, "hostname",    "s") \
	X(DOMAINNAME,   21, "domainname",  "s") \
	X(SYSCTL,       22, "sysctl",      "ss") \
	X(RLIMIT,       23, "rlimit",      "uuu") \
	X(OOM_SCORE_ADJ,24, "oomScoreAdj", "s") \
	X(PERSONALITY,  25, "personality", "u") \
	X(SCHEDULER,    26, "scheduler",   "uuuuuuu") \
	X(IO_PRIORITY,  27, "ioPriority",  "uu") \
	X(CPU_AFFINITY, 28, "cpuAffinity", "b") \
	X(UMASK,        29, "umask",       "u") \
	X(NO_NEW_PRIVS, 30, "noNewPrivs",  "") \
	X(CAPS_BOUNDING,31, "capsBounding","u") \
	X(USER,         32, "user",        "uuU") \
	X(CAPS,         33, "caps",        "uuuu") \
	X(CHDIR,        34, "chdir",       "s") \
	X(FIX_STDIO,    35, "fixStdio",    "uu") \
	X(RESOLVE,      36, "resolve",     "sv") \
	X(SECCOMP,      37, "seccomp",     "ub") \
	X(HOOK,         38, "hook",        "svvu") \
	X(SECCOMP_LISTENER, 39, "seccompListener", "f") \
	X(MKDIR_ALL,    40, "mkdirAll",    "su") \
	X(MOUNT_TREE,   42, "mountTree",   "fsuuuuu") \
	X(LSM_LABEL,    43, "lsmLabel",    "ss") \
	X(CHROOT,       44, "chroot",      "f") \
	X(LOOPBACK_UP,  45, "loopbackUp",  "") \
	X(IDMAP_TREE,   46, "idmapTree",   "sfuu") \
	X(SESSION_KEYRING, 47, "sessionKeyring", "su") \
	X(CLONE_TREE,   48, "cloneTree",   "suu") \
	X(READY,        50, "ready",       "") \
	X(WAIT_START,   51, "waitStart",   "f") \
	X(EXEC,         52, "exec",        "svvu")

enum step_kind {
#define X(name, code, ts, sig) STEP_##name = code,
	STEP_LIST(X)
#undef X
	STEP_KIND_MAX = 64
};

#endif
