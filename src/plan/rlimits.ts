/**
 * RLIMIT_* names → resource numbers (asm-generic/resource.h; the same on every architecture tsrun supports),
 * and the rlimit steps of process.rlimits.
 */
import { TsrunError } from '../errors.js';
import type { Step } from './steps.js';
import { toU64 } from './creds.js';

export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

const BY_NUMBER: readonly string[] = Object.entries(RLIMITS).sort((a, b) => a[1] - b[1]).map(([n]) => n);

export function rlimitName(resource: number | bigint): string {
  return BY_NUMBER[Number(resource)] ?? `rlimit ${resource}`;
}

export interface RlimitConfig {
  type: string;
  soft: number | bigint;
  hard: number | bigint;
}

/** One `rlimit` step per entry, in config order. A duplicate type is refused (runtime-spec: MUST be unique). */
export function rlimitSteps(rlimits: readonly RlimitConfig[] | undefined): Step[] {
  const seen = new Set<string>();
  return (rlimits ?? []).map((r, i) => {
    const ptr = `/process/rlimits/${i}`;
    const resource = RLIMITS[r.type];
    if (resource === undefined) {
      throw new TsrunError('ERR_TSRUN_PLAN', `${ptr}/type: unknown rlimit ${JSON.stringify(r.type)}`, {
        hint: `one of ${Object.keys(RLIMITS).join(', ')}`,
      });
    }
    if (seen.has(r.type)) throw new TsrunError('ERR_TSRUN_PLAN', `${ptr}/type: duplicate rlimit ${r.type}`);
    seen.add(r.type);
    const soft = toU64(r.soft, `${ptr}/soft`);
    const hard = toU64(r.hard, `${ptr}/hard`);
    return {
      kind: 'rlimit', resource: BigInt(resource), soft, hard,
      label: `rlimit ${r.type} ${fmtLimit(soft)}/${fmtLimit(hard)}`,
    };
  });
}

function fmtLimit(v: bigint): string {
  return v === 0xffff_ffff_ffff_ffffn ? 'unlimited' : v.toString();
}
