/*
 * fuzz-plan.c — fuzz entry for the plan decoder (security.md D11).
 *   clang -DFUZZING -fsanitize=fuzzer,address,undefined ...   a libFuzzer binary (CC=clang FUZZ=1 build-executor)
 *   cc (no FUZZING)                                           replays the files given as arguments (npm test)
 * The decoder must either accept or reject every input without a crash, a leak or undefined behaviour. An
 * accepted plan is walked so that ASan sees every pointer the decoder handed out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct plan p;
	uint32_t bad_step, offset;
	const char *reason;
	size_t sum = 0;
	/* Take the fd count from the plan's own header so that the fuzzer gets past the nfds check. */
	uint32_t nfds = len >= 12 ? get_u32le(buf + 8) : 0;

	/* A copy with no slack after it: a read past the end is an ASan error, not a silent read of garbage. */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return 0;
	memcpy(copy, buf, len);
	if (plan_decode(copy, len, nfds, &p, &bad_step, &offset, &reason) == 0) {
		for (uint32_t i = 0; i < p.nsteps; i++) {
			const struct step *s = &p.steps[i];
			sum += strlen(s->label);
			for (unsigned j = 0; j < STEP_MAX_S; j++)
				sum += s->s[j] ? strlen(s->s[j]) : 0;
			for (unsigned j = 0; j < STEP_MAX_V; j++)
				for (uint32_t k = 0; k < s->v[j].n; k++)
					sum += strlen(s->v[j].p[k]);
			for (uint32_t k = 0; k < s->nU; k++)
				sum += (size_t)get_u64le(s->Up + 8 * (size_t)k);
			for (uint32_t k = 0; k < s->nb; k++)
				sum += s->b[k];
			unsigned nf = 0;
			for (const char *c = step_signature(s->kind); *c; c++)
				nf += *c == 'f';
			for (unsigned j = 0; j < nf; j++)
				if (s->f[j] >= nfds + p.nslots)
					abort();  /* the decoder promised every fd index of the step is in range */
		}
		plan_release(&p);
	} else if (offset > len || !reason) {
		abort();  /* a rejection must point inside the input and say why */
	}
	free(copy);
	return (int)(sum & 0);
}

#ifndef FUZZING
int main(int argc, char **argv)
{
	static uint8_t buf[PLAN_MAX_BYTES + 1];

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;
		if (!f) {
			perror(argv[i]);
			return 2;
		}
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	return 0;
}
#endif
