/*
 * test-plan [CORPUS_DIR] — TAP unit tests of the decoder (plan.c), the frames (frame.c) and the error code
 * (error.c). Built with ASan/UBSan by `node hack/build-executor.mjs --tests`. With CORPUS_DIR, also writes the
 * plans it builds there as a seed corpus for fuzz/fuzz-plan.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../internal.h"

static int tests, failed;
static const char *corpus;

#define ok(cond, ...) do { \
	int ok_ = !!(cond); tests++; if (!ok_) failed++; \
	printf("%s %d - ", ok_ ? "ok" : "not ok", tests); printf(__VA_ARGS__); putchar('\n'); \
	if (!ok_) printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
} while (0)

struct b { uint8_t d[1 << 16]; size_t n; };

static void raw(struct b *b, const void *p, size_t n) { memcpy(b->d + b->n, p, n); b->n += n; }
static void u16(struct b *b, uint16_t v) { put_u16(b->d + b->n, v); b->n += 2; }
static void u32(struct b *b, uint32_t v) { put_u32(b->d + b->n, v); b->n += 4; }
static void u64(struct b *b, uint64_t v) { u32(b, (uint32_t)v); u32(b, (uint32_t)(v >> 32)); }
static void str(struct b *b, const char *s) { u32(b, (uint32_t)strlen(s)); raw(b, s, strlen(s) + 1); }
/* Plans here are for nfds = 2 unless a test says otherwise (plan_decode checks the count). */
static uint32_t hdr_nfds = 2;
static void header(struct b *b, uint32_t nsteps, uint32_t nslots)
{
	b->n = 0;
	raw(b, "TSRP", 4); u16(b, PLAN_VERSION); u16(b, 0); u32(b, hdr_nfds); u32(b, nslots); u32(b, nsteps);
}
static size_t step_begin(struct b *b, uint16_t kind, uint16_t flags, const char *label)
{
	size_t at;
	u16(b, kind); u16(b, flags); at = b->n; u32(b, 0); str(b, label);
	return at;
}
static void step_end(struct b *b, size_t at) { put_u32(b->d + at, (uint32_t)(b->n - at - 4)); }

/* One step of `kind` with sample fields: s "s<i>", u <i>, f 1, v ["a","b"], U [7,8], b 8 bytes. */
static void sample_step(struct b *b, uint16_t kind)
{
	size_t at = step_begin(b, kind, 0, step_name(kind));
	unsigned i = 0;
	char s[8];
	for (const char *c = step_signature(kind); *c; c++, i++) {
		switch (*c) {
		case 's': snprintf(s, sizeof s, "s%u", i); str(b, s); break;
		case 'u': u64(b, i); break;
		case 'f': u32(b, 1); break;
		case 'v': u32(b, 2); str(b, "a"); str(b, "b"); break;
		case 'U': u32(b, 2); u64(b, 7); u64(b, 8); break;
		case 'b': u32(b, 8); raw(b, "\x06\0\0\0\0\0\xff\x7f", 8); break;
		}
	}
	step_end(b, at);
}

static void save(const char *name, const struct b *b)
{
	char path[4096];
	FILE *f;
	if (!corpus)
		return;
	snprintf(path, sizeof path, "%s/%s", corpus, name);
	if ((f = fopen(path, "wb")) != NULL) {
		fwrite(b->d, 1, b->n, f);
		fclose(f);
	}
}

struct res { int rc; uint32_t step, offset; const char *reason; struct plan p; };

static struct res decode(const struct b *b, uint32_t nfds)
{
	struct res r;
	r.rc = plan_decode(b->d, b->n, nfds, &r.p, &r.step, &r.offset, &r.reason);
	return r;
}

static int rejects(const struct b *b, uint32_t step, const char *why)
{
	struct res r = decode(b, 2);
	if (r.rc == 0) {
		plan_release(&r.p);
		printf("#   decoded, expected a reject (%s)\n", why);
		return 0;
	}
	if (r.step != step || !strstr(r.reason, why) || r.offset > b->n) {
		printf("#   got step %u offset %u reason \"%s\"\n", r.step, r.offset, r.reason);
		return 0;
	}
	return 1;
}

static void test_all_kinds(void)
{
	static struct b b;
	unsigned n = 0;
	for (unsigned k = 0; k < STEP_KIND_MAX; k++)
		n += step_signature((uint16_t)k) != NULL;
	header(&b, n, 4);  /* mkfifo's slot (its field 5) must be a slot: nfds 2 + nslots 4 */
	for (unsigned k = 0; k < STEP_KIND_MAX; k++)
		if (step_signature((uint16_t)k))
			sample_step(&b, (uint16_t)k);
	save("all-kinds", &b);
	struct res r = decode(&b, 2);
	ok(r.rc == 0, "a plan with one step of every kind decodes (%s)", r.rc ? r.reason : "");
	if (r.rc)
		return;
	ok(r.p.nsteps == n && r.p.nfds == 2 && r.p.nslots == 4, "header fields");
	int good = 1;
	for (uint32_t i = 0; i < r.p.nsteps; i++) {
		const struct step *s = &r.p.steps[i];
		unsigned ns = 0, nu = 0, j = 0;
		good &= strcmp(s->label, step_name(s->kind)) == 0;
		for (const char *c = step_signature(s->kind); *c; c++, j++) {
			char want[8];
			snprintf(want, sizeof want, "s%u", j);
			if (*c == 's') good &= strcmp(s->s[ns++], want) == 0;
			if (*c == 'u') good &= s->u[nu++] == j;
			if (*c == 'f') good &= s->f[0] == 1;
			if (*c == 'v') good &= s->v[0].n == 2 && !strcmp(s->v[0].p[1], "b") && s->v[0].p[2] == NULL;
			if (*c == 'U') good &= s->nU == 2 && get_u64le(s->Up + 8) == 8;
			if (*c == 'b') good &= s->nb == 8 && s->b[6] == 0xff;
		}
	}
	ok(good, "every field lands in s[], u[], f[], v[], U, b in order of appearance; strv ends in NULL");
	plan_release(&r.p);

	/* Every strict prefix is rejected; flipping any byte never crashes (ASan watches). */
	struct b cut = b;
	int all = 1;
	for (size_t len = 0; len < b.n; len++) {
		cut.n = len;
		struct res t = decode(&cut, 2);
		if (t.rc == 0) {
			all = 0;
			plan_release(&t.p);
		}
	}
	ok(all, "every one of the %zu strict prefixes is rejected", b.n);
	for (size_t i = 0; i < b.n; i++) {
		cut = b;
		cut.d[i] ^= 0xa5;
		struct res t = decode(&cut, 2);
		if (t.rc == 0)
			plan_release(&t.p);
		if (i % 97 == 0) {
			char name[32];
			snprintf(name, sizeof name, "flip-%zu", i);
			save(name, &cut);
		}
	}
	ok(1, "byte flips at all %zu positions decode or reject without a crash", b.n);
}

static void test_rejects(void)
{
	static struct b b;
	size_t at;

	header(&b, 0, 0);
	struct res r0 = decode(&b, 2);
	ok(r0.rc == 0 && r0.p.nsteps == 0, "an empty plan decodes");
	if (r0.rc == 0)
		plan_release(&r0.p);
	b.n = 10;
	ok(rejects(&b, STEP_NONE, "shorter than its header"), "short header");
	header(&b, 0, 0); b.d[0] = 'X';
	ok(rejects(&b, STEP_NONE, "bad magic"), "bad magic");
	header(&b, 0, 0); b.d[4] = 9;
	ok(rejects(&b, STEP_NONE, "version"), "plan version");
	header(&b, 0, 0); b.d[6] = 1;
	ok(rejects(&b, STEP_NONE, "plan flags"), "unknown plan flags");
	header(&b, PLAN_MAX_STEPS + 1, 0);
	ok(rejects(&b, STEP_NONE, "too many steps"), "too many steps");
	header(&b, 3, 0);
	ok(rejects(&b, STEP_NONE, "more steps than bytes"), "more steps than bytes");
	header(&b, 0, PLAN_MAX_FDS);
	ok(rejects(&b, STEP_NONE, "fd table too large"), "nfds + nslots above PLAN_MAX_FDS");
	hdr_nfds = 3;
	header(&b, 0, 0);
	ok(rejects(&b, STEP_NONE, "fd count differs"), "the plan's nfds differs from the fds passed");
	hdr_nfds = 2;
	header(&b, 0, 0); u32(&b, 0);
	ok(rejects(&b, STEP_NONE, "trailing bytes after"), "trailing bytes after the last step");

	header(&b, 1, 0); at = step_begin(&b, 49, 0, "x"); step_end(&b, at);
	ok(rejects(&b, 0, "unknown step kind"), "unknown kind 49");
	header(&b, 1, 0); at = step_begin(&b, 0xffff, 0, "x"); step_end(&b, at);
	ok(rejects(&b, 0, "unknown step kind"), "unknown kind 0xffff");
	header(&b, 1, 0); at = step_begin(&b, STEP_READY, 0x80, "x"); step_end(&b, at);
	ok(rejects(&b, 0, "unknown step flag"), "unknown flag bit");
	header(&b, 1, 0); at = step_begin(&b, STEP_READY, STEP_F_NO_DEV_CONSOLE, "x"); step_end(&b, at);
	ok(rejects(&b, 0, "not valid for this kind"), "NO_DEV_CONSOLE on a non-console step");
	header(&b, 1, 0); at = step_begin(&b, STEP_READY, STEP_F_SKIP_SETGROUPS, "x"); step_end(&b, at);
	ok(rejects(&b, 0, "not valid for this kind"), "SKIP_SETGROUPS on a non-user step");
	header(&b, 1, 0); at = step_begin(&b, STEP_READY, 0, "x"); step_end(&b, at); put_u32(b.d + at, 100);
	ok(rejects(&b, 0, "beyond what is left"), "body_len beyond the plan");
	header(&b, 1, 0); at = step_begin(&b, STEP_READY, 0, "x"); u32(&b, 0); step_end(&b, at);
	ok(rejects(&b, 0, "trailing bytes in step"), "trailing bytes in a step");
	header(&b, 1, 0); at = step_begin(&b, STEP_HOSTNAME, 0, "x"); u32(&b, 1); raw(&b, "ab", 2); step_end(&b, at);
	ok(rejects(&b, 0, "missing NUL"), "string without its NUL");
	header(&b, 1, 0); at = step_begin(&b, STEP_HOSTNAME, 0, "x"); u32(&b, 2); raw(&b, "a\0\0", 3); step_end(&b, at);
	ok(rejects(&b, 0, "NUL inside"), "NUL inside a string");
	header(&b, 1, 0); at = step_begin(&b, STEP_HOSTNAME, 0, "x"); u32(&b, STR_MAX + 1); step_end(&b, at);
	ok(rejects(&b, 0, "string too long"), "string above STR_MAX");
	header(&b, 1, 0); at = step_begin(&b, STEP_HOSTNAME, 0, "x"); u32(&b, 0xffffffff); step_end(&b, at);
	ok(rejects(&b, 0, "string too long"), "string length 2^32-1 (no overflow)");
	header(&b, 1, 1); at = step_begin(&b, STEP_CGROUP_JOIN, 0, "x"); u32(&b, 3); step_end(&b, at);  /* 2 + 1 */
	ok(rejects(&b, 0, "fd index out of range"), "fd index = nfds + nslots");
	header(&b, 1, 0); at = step_begin(&b, STEP_RESOLVE, 0, "x"); str(&b, "sh"); u32(&b, 0x10000000); step_end(&b, at);
	ok(rejects(&b, 0, "string vector too long"), "strv count above STRV_MAX");
	header(&b, 1, 0); at = step_begin(&b, STEP_RESOLVE, 0, "x"); str(&b, "sh"); u32(&b, 100); step_end(&b, at);
	ok(rejects(&b, 0, "beyond what is left"), "strv count beyond the bytes left (no big allocation)");
	header(&b, 1, 0); at = step_begin(&b, STEP_USER, 0, "x"); u64(&b, 0); u64(&b, 0); u32(&b, 1u << 31); step_end(&b, at);
	ok(rejects(&b, 0, "array too long"), "U count above NGROUPS_MAX");
	header(&b, 1, 0); at = step_begin(&b, STEP_FORK, 0, "x"); u64(&b, 3); step_end(&b, at);
	ok(rejects(&b, 0, "fork mode"), "fork mode 3");
	/* values a syscall takes as int or a small range are refused by the decoder, before anything runs */
	header(&b, 1, 0); at = step_begin(&b, STEP_UNSHARE, 0, "x"); u64(&b, 0x80000000u); step_end(&b, at);
	ok(rejects(&b, 0, "namespace flags out of range"), "unshare flags above INT_MAX");
	header(&b, 1, 0); at = step_begin(&b, STEP_SETNS, 0, "x"); u32(&b, 0); u64(&b, 1ull << 40); step_end(&b, at);
	ok(rejects(&b, 0, "namespace flags out of range"), "setns nstype above INT_MAX");
	header(&b, 1, 0); at = step_begin(&b, STEP_RLIMIT, 0, "x"); u64(&b, 65); u64(&b, 1); u64(&b, 1); step_end(&b, at);
	ok(rejects(&b, 0, "rlimit resource out of range"), "rlimit resource 65");
	header(&b, 1, 0); at = step_begin(&b, STEP_PERSONALITY, 0, "x"); u64(&b, 1ull << 32); step_end(&b, at);
	ok(rejects(&b, 0, "personality out of range"), "personality above 32 bits");
	header(&b, 1, 1); at = step_begin(&b, STEP_CLONE_TREE, 0, "x"); str(&b, "/src"); u64(&b, 2); u64(&b, 2); step_end(&b, at);
	ok(rejects(&b, 0, "recursive bits out of range"), "cloneTree recursive 2 (only rbind is a bit)");
	header(&b, 1, 1); at = step_begin(&b, STEP_CLONE_TREE, 0, "x"); str(&b, "/src"); u64(&b, 1); u64(&b, 1); step_end(&b, at);
	ok(rejects(&b, 0, "tree slot is not a slot"), "cloneTree into a passed fd, not a slot");
	header(&b, 1, 0); at = step_begin(&b, STEP_SESSION_KEYRING, 0, "x"); str(&b, "_ses.x"); u64(&b, 1ull << 32); step_end(&b, at);
	ok(rejects(&b, 0, "keyring permission bits out of range"), "keyring permission bits above 32 bits");
	header(&b, 1, 0); at = step_begin(&b, STEP_IO_PRIORITY, 0, "x"); u64(&b, 8); u64(&b, 0); step_end(&b, at);
	ok(rejects(&b, 0, "io priority"), "io priority class 8");
	header(&b, 1, 0); at = step_begin(&b, STEP_IO_PRIORITY, 0, "x"); u64(&b, 2); u64(&b, 8); step_end(&b, at);
	ok(rejects(&b, 0, "io priority"), "io priority level 8");
	header(&b, 1, 0); at = step_begin(&b, STEP_PIVOT_ROOT, 0, "x"); u64(&b, 3); step_end(&b, at);
	ok(rejects(&b, 0, "pivotRoot mode"), "pivotRoot mode 3");
	header(&b, 1, 0); at = step_begin(&b, STEP_SECCOMP, 0, "x"); u64(&b, 0); u32(&b, 12); raw(&b, "012345678901", 12); step_end(&b, at);
	ok(rejects(&b, 0, "seccomp program size"), "seccomp program not a multiple of 8");
	header(&b, 1, 0); at = step_begin(&b, STEP_SECCOMP, 0, "x"); u64(&b, 0); u32(&b, 0); step_end(&b, at);
	ok(rejects(&b, 0, "seccomp program size"), "empty seccomp program");
	header(&b, 1, 1); at = step_begin(&b, STEP_MKFIFO, 0, "x"); u32(&b, 0); str(&b, "f");
	u64(&b, 0622); u64(&b, 0); u64(&b, 0); u64(&b, 0); step_end(&b, at);
	ok(rejects(&b, 0, "not a slot"), "mkfifo into a passed fd, not a slot");
	header(&b, 1, 0); at = step_begin(&b, STEP_EXEC, 0, "x"); str(&b, "/bin/true"); u32(&b, 0); u32(&b, 0); u64(&b, 3); step_end(&b, at);
	ok(rejects(&b, 0, "empty argv"), "exec with an empty argv");
	save("exec-empty-argv", &b);

	/* lsmLabel (43, "ss"): attr in s[0], the text in s[1]; a missing second string is refused. */
	header(&b, 1, 0); at = step_begin(&b, STEP_LSM_LABEL, 0, "apparmor"); str(&b, "apparmor/exec"); str(&b, "exec docker-default"); step_end(&b, at);
	struct res l = decode(&b, 2);
	ok(l.rc == 0 && l.p.steps[0].kind == 43 && strcmp(l.p.steps[0].s[0], "apparmor/exec") == 0 &&
	   strcmp(l.p.steps[0].s[1], "exec docker-default") == 0, "lsmLabel decodes attr and value");
	if (l.rc == 0)
		plan_release(&l.p);
	header(&b, 1, 0); at = step_begin(&b, STEP_LSM_LABEL, 0, "x"); str(&b, "exec"); step_end(&b, at);
	ok(rejects(&b, 0, "beyond what is left"), "lsmLabel without its value");

	/* loopbackUp (45, ""): no fields; a byte after the label is refused. */
	header(&b, 1, 0); at = step_begin(&b, STEP_LOOPBACK_UP, 0, "lo up"); step_end(&b, at);
	struct res lo = decode(&b, 2);
	ok(lo.rc == 0 && lo.p.nsteps == 1 && lo.p.steps[0].kind == 45, "loopbackUp decodes with no fields");
	if (lo.rc == 0)
		plan_release(&lo.p);
	header(&b, 1, 0); at = step_begin(&b, STEP_LOOPBACK_UP, 0, "x"); u32(&b, 0); step_end(&b, at);
	ok(rejects(&b, 0, "trailing bytes in step"), "loopbackUp with a field");

	/* The failing step's index, after a good one. */
	header(&b, 2, 0); at = step_begin(&b, STEP_READY, 0, "ok"); step_end(&b, at);
	size_t second = b.n;
	at = step_begin(&b, 77, 0, "bad"); step_end(&b, at);
	struct res r = decode(&b, 2);
	ok(r.rc < 0 && r.step == 1 && r.offset == second, "the second step is named, with its offset (%u)", r.offset);
}

static void test_errors(void)
{
	struct step_error e;
	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	ok(step_fail(&e, ENOENT, "a-very-long-operation-name-that-does-not-fit", big) == -1 && e.err == ENOENT,
	   "step_fail returns -1 and keeps errno");
	ok(strlen(e.op) == sizeof e.op - 1 && strcmp(e.op + sizeof e.op - 4, "...") == 0, "a long op is cut and marked");
	ok(strlen(e.path) == sizeof e.path - 1, "a long path is cut to the array");

	int sv[2];
	uint8_t f[8192];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	step_fail(&e, EACCES, "exec", "/bin/x");
	send_failed(sv[0], 7, STEP_EXEC, &e);
	ssize_t n = read(sv[1], f, sizeof f);
	ok(n == 8 + 12 + 4 + 5 + 4 + 7 && get_u32le(f) == (uint32_t)n - 8 && f[4] == MSG_FAILED && f[6] == PROTO_VERSION
	   && get_u32le(f + 8) == 7 && f[12] == STEP_EXEC && get_u32le(f + 16) == EACCES
	   && get_u32le(f + 20) == 4 && !memcmp(f + 24, "exec", 5) && get_u32le(f + 29) == 6 && !memcmp(f + 33, "/bin/x", 7),
	   "FAILED frame: u32 step, u16 kind, u16 0, i32 errno, str op, str path");
	send_reject(sv[0], STEP_NONE, 3, "bad magic");
	n = read(sv[1], f, sizeof f);
	ok(n == 8 + 8 + 4 + 10 && f[4] == MSG_REJECT && get_u32le(f + 8) == STEP_NONE && get_u32le(f + 12) == 3,
	   "REJECT frame: u32 step, u32 offset, str reason");
	close(sv[0]);
	close(sv[1]);

	/* The late log line, text and JSON, with escaping. */
	struct plan p = { .nsteps = 5 };
	struct step s = { .kind = STEP_EXEC, .label = "exec \"sh\"" };
	struct exec_ctx ctx = { .plan = &p, .step_index = 4, .ctl = -1 };
	int pp[2];
	char line[4096];
	pipe(pp);
	ctx.logfd = pp[1];
	step_fail(&e, ENOENT, "exec", "/bin/s\nh");
	log_failure(&ctx, &s, &e);
	n = read(pp[0], line, sizeof line - 1);
	line[n > 0 ? n : 0] = 0;
	ok(!strncmp(line, "time=\"", 6) && strstr(line, "level=error msg=\"step 5/5 (exec \\\"sh\\\"): exec /bin/s\\x0ah: no such file or directory\"\n"),
	   "text log line: %.*s", (int)strcspn(line, "\n"), line);
	ctx.logjson = 1;
	log_failure(&ctx, &s, &e);
	n = read(pp[0], line, sizeof line - 1);
	line[n > 0 ? n : 0] = 0;
	ok(!strncmp(line, "{\"level\":\"error\",\"msg\":\"step 5/5 (exec \\\"sh\\\"): exec /bin/s\\u000ah: no such file or directory\",\"time\":\"", 80)
	   && line[n - 2] == '}' && line[n - 1] == '\n', "JSON log line: %.*s", (int)strcspn(line, "\n"), line);
	close(pp[0]);
	close(pp[1]);
}

/* No fd table at all, and steps without fd fields: their f[] stays 0, which is not an index (nfds + nslots = 0).
 * The libFuzzer harness once took that 0 for a promised index and aborted; this plan stays in the corpus. */
static void test_no_fd_table(void)
{
	static struct b b;
	size_t at;

	hdr_nfds = 0;
	header(&b, 2, 0);
	at = step_begin(&b, STEP_HOSTNAME, 0, "h"); str(&b, "abc"); step_end(&b, at);
	at = step_begin(&b, STEP_NO_NEW_PRIVS, 0, "nnp"); step_end(&b, at);
	hdr_nfds = 2;
	save("no-fd-table", &b);
	struct res r = decode(&b, 0);
	ok(r.rc == 0 && r.p.nsteps == 2 && r.p.nfds == 0 && r.p.nslots == 0 && !strcmp(r.p.steps[0].s[0], "abc"),
	   "a plan with no fd table and no fd fields decodes (%s)", r.rc ? r.reason : "");
	if (r.rc == 0)
		plan_release(&r.p);
	hdr_nfds = 0;
	header(&b, 1, 0);
	at = step_begin(&b, STEP_CGROUP_JOIN, 0, "cg"); u32(&b, 0); step_end(&b, at);
	hdr_nfds = 2;
	r = decode(&b, 0);
	ok(r.rc != 0 && r.step == 0 && strstr(r.reason, "fd index out of range"), "with no fd table, fd index 0 is refused");
	if (r.rc == 0)
		plan_release(&r.p);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		corpus = argv[1];
		mkdir(corpus, 0755);
	}
	test_all_kinds();
	test_rejects();
	test_no_fd_table();
	test_errors();
	printf("1..%d\n", tests);
	return failed ? 1 : 0;
}
