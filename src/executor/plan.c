/*
 * plan.c — the plan decoder (security.md D11). Pure: no system calls, no side effects; fuzzed by
 * fuzz/fuzz-plan.c. Every step is decoded and checked before the first one runs, so a bad plan never fails
 * halfway. Strings are handed out as pointers into the plan buffer (they carry their NUL on the wire).
 *
 *   plan := "TSRP" u16:version u16:flags(0) u32:nfds u32:nslots u32:nsteps step{nsteps}   nothing may follow
 *   step := u16:kind u16:flags u32:body_len str:label field*                         body_len covers exactly
 *   str  := u32:len byte{len} 0x00   (no NUL inside, len <= STR_MAX)
 *   strv := u32:count str{count}     U := u32:count u64{count}     b := u32:len byte{len}
 *   u := u64     f := u32 index into the fd table (< nfds + nslots)
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define PLAN_HDR 20u
#define GROUPS_MAX 65536u   /* NGROUPS_MAX */
#define BPF_INSNS_MAX 4096u /* BPF_MAXINSNS */

static const char *const sigs[STEP_KIND_MAX] = {
#define X(name, code, ts, sig) [code] = sig,
	STEP_LIST(X)
#undef X
};
static const char *const names[STEP_KIND_MAX] = {
#define X(name, code, ts, sig) [code] = ts,
	STEP_LIST(X)
#undef X
};

const char *step_name(uint16_t kind)
{
	return kind < STEP_KIND_MAX && names[kind] ? names[kind] : "?";
}

const char *step_signature(uint16_t kind)
{
	return kind < STEP_KIND_MAX ? sigs[kind] : NULL;
}

struct cur {
	const uint8_t *buf;  /* the whole plan: offsets in REJECT are absolute */
	size_t pos, end;
	const char *why;
};

static int bad(struct cur *c, const char *why)
{
	c->why = why;
	return -1;
}

static int need(struct cur *c, size_t n)
{
	return c->end - c->pos < n ? bad(c, "length beyond what is left") : 0;
}

static int rd_u32(struct cur *c, uint32_t *v)
{
	if (need(c, 4))
		return -1;
	*v = get_u32le(c->buf + c->pos);
	c->pos += 4;
	return 0;
}

static int rd_str(struct cur *c, const char **s)
{
	uint32_t n;

	if (rd_u32(c, &n))
		return -1;
	if (n > STR_MAX)
		return bad(c, "string too long");
	if (need(c, (size_t)n + 1))
		return -1;
	if (memchr(c->buf + c->pos, 0, n))
		return bad(c, "NUL inside a string");
	if (c->buf[c->pos + n] != 0)
		return bad(c, "missing NUL after a string");
	*s = (const char *)c->buf + c->pos;
	c->pos += (size_t)n + 1;
	return 0;
}

/* A strv's pointer array is allocated here, with a NULL after the last entry (execve wants one). */
static int rd_strv(struct cur *c, struct strv *v)
{
	uint32_t n;

	if (rd_u32(c, &n))
		return -1;
	if (n > STRV_MAX)
		return bad(c, "string vector too long");
	if ((uint64_t)n * 5 > c->end - c->pos)  /* every str takes at least 5 bytes */
		return bad(c, "length beyond what is left");
	v->p = calloc((size_t)n + 1, sizeof *v->p);
	if (!v->p)
		return bad(c, "out of memory");
	for (uint32_t i = 0; i < n; i++)
		if (rd_str(c, &v->p[i]))
			return -1;
	v->n = n;
	return 0;
}

static int rd_array(struct cur *c, uint32_t *n, const uint8_t **p, uint32_t elem, uint32_t max)
{
	if (rd_u32(c, n))
		return -1;
	if (*n > max)
		return bad(c, "array too long");
	if (need(c, (size_t)*n * elem))
		return -1;
	*p = c->buf + c->pos;
	c->pos += (size_t)*n * elem;
	return 0;
}

/* Checks of values whose meaning the executor relies on; everything else is the kernel's to judge. */
static const char *check(const struct step *s, uint32_t nfds, uint32_t ntable)
{
	switch (s->kind) {
	case STEP_FORK:
		return s->u[0] > 2 ? "fork mode must be 0, 1 or 2" : NULL;
	case STEP_LOG_TO:
		return s->u[0] > 1 ? "log format must be 0 or 1" : NULL;
	case STEP_MKFIFO:
		return s->u[3] < nfds || s->u[3] >= ntable ? "mkfifo slot is not a slot of the fd table" : NULL;
	case STEP_IDMAP_TREE:
	case STEP_CLONE_TREE:
		return s->u[1] < nfds || s->u[1] >= ntable ? "tree slot is not a slot of the fd table"
		       : s->u[0] > (s->kind == STEP_IDMAP_TREE ? 3u : 1u) ? "recursive bits out of range" : NULL;
	case STEP_SYNC:
		return s->u[0] > 0xffffffffu ? "sync token too large" : NULL;
	case STEP_SECCOMP:
		return s->nb == 0 || s->nb % 8 || s->nb / 8 > BPF_INSNS_MAX ? "seccomp program size" : NULL;
	case STEP_CPU_AFFINITY:
		return s->nb == 0 ? "empty cpu mask" : NULL;
	/* values the syscalls take as int or a small range: refused here, before anything has run */
	case STEP_UNSHARE:
	case STEP_SETNS:
		return s->u[0] > 0x7fffffffu ? "namespace flags out of range" : NULL;
	case STEP_RLIMIT:
		return s->u[0] > 64 ? "rlimit resource out of range" : NULL;
	case STEP_SESSION_KEYRING:
		return s->u[0] > 0xffffffffu ? "keyring permission bits out of range" : NULL;
	case STEP_PERSONALITY:
		return s->u[0] > 0xffffffffu ? "personality out of range" : NULL;
	case STEP_IO_PRIORITY:
		return s->u[0] > 7 || s->u[1] > 7 ? "io priority class or level out of range" : NULL;
	case STEP_PIVOT_ROOT:
		return s->u[0] > 2 ? "pivotRoot mode must be 0, 1 or 2" : NULL;
	case STEP_EXEC:
	case STEP_HOOK:
		return s->v[0].n == 0 ? "empty argv" : s->kind == STEP_EXEC && s->u[0] > 0x7fffffff ? "keepFds too large" : NULL;
	default:
		return NULL;
	}
}

static int decode_step(struct cur *o, uint32_t nfds, uint32_t ntable, struct step *s)
{
	struct cur c;
	uint32_t blen;
	unsigned ns = 0, nu = 0, nf = 0, nv = 0;
	const char *sig;

	if (need(o, 8))
		return -1;
	s->kind = get_u16le(o->buf + o->pos);
	s->flags = get_u16le(o->buf + o->pos + 2);
	if (s->kind >= STEP_KIND_MAX || !sigs[s->kind])
		return bad(o, "unknown step kind");
	if (s->flags & ~STEP_F_KNOWN)
		return bad(o, "unknown step flag bits");
	if ((s->flags & STEP_F_SKIP_SETGROUPS) && s->kind != STEP_USER)
		return bad(o, "flag not valid for this kind");
	if ((s->flags & STEP_F_SECOND_STATE) && s->kind != STEP_HOOK)
		return bad(o, "flag not valid for this kind");
	if ((s->flags & STEP_F_NO_DEV_CONSOLE) && s->kind != STEP_CONSOLE)
		return bad(o, "flag not valid for this kind");
	o->pos += 4;
	if (rd_u32(o, &blen) || need(o, blen))
		return -1;
	c = (struct cur){ o->buf, o->pos, o->pos + blen, NULL };
	if (rd_str(&c, &s->label))
		goto fail;
	for (sig = sigs[s->kind]; *sig; sig++) {
		uint64_t u;
		uint32_t f;
		switch (*sig) {
		case 's':
			if (ns >= STEP_MAX_S || rd_str(&c, &s->s[ns++]))
				goto fail;
			break;
		case 'u':
			if (nu >= STEP_MAX_U || need(&c, 8))
				goto fail;
			u = get_u64le(c.buf + c.pos);
			c.pos += 8;
			s->u[nu++] = u;
			break;
		case 'f':
			if (nf >= STEP_MAX_F || rd_u32(&c, &f))
				goto fail;
			if (f >= ntable) {
				c.pos -= 4;
				bad(&c, "fd index out of range");
				goto fail;
			}
			s->f[nf++] = f;
			break;
		case 'v':
			if (nv >= STEP_MAX_V || rd_strv(&c, &s->v[nv++]))
				goto fail;
			break;
		case 'U':
			if (rd_array(&c, &s->nU, &s->Up, 8, GROUPS_MAX))
				goto fail;
			break;
		case 'b':
			if (rd_array(&c, &s->nb, &s->b, 1, PLAN_MAX_BYTES))
				goto fail;
			break;
		default:
			bad(&c, "bad signature (proto.h)");
			goto fail;
		}
	}
	if (c.pos != c.end) {
		bad(&c, "trailing bytes in step");
		goto fail;
	}
	if ((c.why = check(s, nfds, ntable)) != NULL) {
		c.pos = o->pos - 8;  /* the step as a whole */
		goto fail;
	}
	o->pos = c.end;
	return 0;
fail:
	if (!c.why)
		c.why = "bad step";
	o->pos = c.pos;
	return bad(o, c.why);
}

int plan_decode(const uint8_t *buf, size_t len, uint32_t nfds, struct plan *p, uint32_t *bad_step,
                uint32_t *offset, const char **reason)
{
	struct cur c = { buf, PLAN_HDR, len, NULL };
	uint32_t pfds, nsteps, nslots;

	memset(p, 0, sizeof *p);
	*bad_step = STEP_NONE;
	*offset = 0;
	if (len < PLAN_HDR || len > PLAN_MAX_BYTES) {
		*reason = len < PLAN_HDR ? "plan shorter than its header" : "plan too large";
		return -1;
	}
	pfds = get_u32le(buf + 8);
	nslots = get_u32le(buf + 12);
	nsteps = get_u32le(buf + 16);
#define HEADER_CHECK(bad_, off_, why_) if (bad_) { *offset = (off_); *reason = (why_); return -1; }
	HEADER_CHECK(memcmp(buf, PLAN_MAGIC, 4), 0, "bad magic (not a tsrun plan)");
	HEADER_CHECK(get_u16le(buf + 4) != PLAN_VERSION, 4, "plan version mismatch (rebuild tsrun and its executor together)");
	HEADER_CHECK(get_u16le(buf + 6) != 0, 6, "unknown plan flags");
	/* The plan was compiled for a table of pfds passed fds; tsrun passed nfds (argv): they must agree. */
	HEADER_CHECK(pfds != nfds, 8, "the plan's fd count differs from the fds passed");
	HEADER_CHECK(nfds > PLAN_MAX_FDS || nslots > PLAN_MAX_FDS - nfds, 12, "fd table too large");
	HEADER_CHECK(nsteps > PLAN_MAX_STEPS, 16, "too many steps");
	HEADER_CHECK((uint64_t)nsteps * 8 > len - PLAN_HDR, 16, "more steps than bytes");  /* caps the calloc below */
#undef HEADER_CHECK
	p->nfds = nfds;
	p->nslots = nslots;
	p->steps = calloc(nsteps ? nsteps : 1, sizeof *p->steps);
	if (!p->steps) {
		*reason = "out of memory";
		return -1;
	}
	p->nsteps = nsteps;  /* set before decoding so that plan_release frees partial strvs */
	for (uint32_t i = 0; i < nsteps; i++) {
		if (decode_step(&c, nfds, nfds + nslots, &p->steps[i]) < 0) {
			*bad_step = i;
			*offset = (uint32_t)c.pos;
			*reason = c.why;
			plan_release(p);
			return -1;
		}
	}
	if (c.pos != len) {
		*offset = (uint32_t)c.pos;
		*reason = "trailing bytes after the last step";
		plan_release(p);
		return -1;
	}
	return 0;
}

void plan_release(struct plan *p)
{
	for (uint32_t i = 0; p->steps && i < p->nsteps; i++)
		for (unsigned j = 0; j < STEP_MAX_V; j++)
			free(p->steps[i].v[j].p);
	free(p->steps);
	memset(p, 0, sizeof *p);
}
