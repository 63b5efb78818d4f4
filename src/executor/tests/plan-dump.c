/*
 * plan-dump FILE NFDS — decode a plan with the executor's own decoder and print it in the canonical text that
 * src/plan/encode.contract.test.ts also produces from the TypeScript Plan. Exit 0 decoded, 1 rejected, 2 usage.
 *
 *   plan nfds=N nslots=N nsteps=N
 *   <index> <kind> flags=N label="..."
 *     s "..."  |  u N  |  f N  |  v COUNT "..." ...  |  U COUNT N ...  |  b LEN HEX
 *   reject step=<index|header> offset=N reason=...
 * Strings are bytes: '"', '\' and anything outside 0x20..0x7e print as \xHH.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../internal.h"

static void esc(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	static uint8_t buf[PLAN_MAX_BYTES + 1];
	struct plan p;
	uint32_t bad_step, offset;
	const char *reason;
	FILE *f;
	size_t len;
	char *end;
	unsigned long nfds;

	if (argc != 3 || (nfds = strtoul(argv[2], &end, 10), *end) || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: plan-dump FILE NFDS\n");
		return 2;
	}
	len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	if (plan_decode(buf, len, (uint32_t)nfds, &p, &bad_step, &offset, &reason) < 0) {
		if (bad_step == STEP_NONE)
			printf("reject step=header offset=%" PRIu32 " reason=%s\n", offset, reason);
		else
			printf("reject step=%" PRIu32 " offset=%" PRIu32 " reason=%s\n", bad_step, offset, reason);
		return 1;
	}
	printf("plan nfds=%" PRIu32 " nslots=%" PRIu32 " nsteps=%" PRIu32 "\n", p.nfds, p.nslots, p.nsteps);
	for (uint32_t i = 0; i < p.nsteps; i++) {
		const struct step *s = &p.steps[i];
		unsigned ns = 0, nu = 0, nf = 0, nv = 0;
		printf("%" PRIu32 " %s flags=%u label=", i, step_name(s->kind), s->flags);
		esc(s->label);
		putchar('\n');
		for (const char *c = step_signature(s->kind); *c; c++) {
			printf("  %c ", *c);
			switch (*c) {
			case 's': esc(s->s[ns++]); break;
			case 'u': printf("%" PRIu64, s->u[nu++]); break;
			case 'f': printf("%" PRIu32, s->f[nf++]); break;
			case 'v':
				printf("%" PRIu32, s->v[nv].n);
				for (uint32_t j = 0; j < s->v[nv].n; j++) {
					putchar(' ');
					esc(s->v[nv].p[j]);
				}
				nv++;
				break;
			case 'U':
				printf("%" PRIu32, s->nU);
				for (uint32_t j = 0; j < s->nU; j++)
					printf(" %" PRIu64, get_u64le(s->Up + 8 * (size_t)j));
				break;
			case 'b':
				printf("%" PRIu32 "%s", s->nb, s->nb ? " " : "");
				for (uint32_t j = 0; j < s->nb; j++)
					printf("%02x", s->b[j]);
				break;
			}
			putchar('\n');
		}
	}
	plan_release(&p);
	return 0;
}
