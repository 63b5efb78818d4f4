/**
 * process.scheduler and process.ioPriority → steps. Shared by the init's plan (compile.ts) and exec's
 * (exec.ts): both apply them to the process they are about to exec.
 */
import { TsrunError } from '../errors.js';
import type { Process } from '../spec/types.js';
import { IOPRIO_CLASS, SCHED_FLAG, SCHED_POLICY } from './constants.js';
import { toI64, toU64 } from './creds.js';
import type { Step } from './steps.js';

const planError = (message: string) => new TsrunError('ERR_TSRUN_PLAN', message);

export function schedSteps(proc: Process): Step[] {
  const out: Step[] = [];
  const s = proc.scheduler;
  if (s) {
    const policy = SCHED_POLICY[s.policy];
    if (policy === undefined) throw planError(`/process/scheduler/policy: invalid scheduler policy: ${s.policy}`);
    let flags = 0n;
    (s.flags ?? []).forEach((f, i) => {
      const bit = SCHED_FLAG[f];
      if (bit === undefined) throw planError(`/process/scheduler/flags/${i}: invalid scheduler flag: ${f}`);
      flags |= bit;
    });
    out.push({
      kind: 'scheduler', policy, schedFlags: flags, nice: toI64(s.nice ?? 0, '/process/scheduler/nice'),
      priority: toU64(s.priority ?? 0, '/process/scheduler/priority'), runtime: toU64(s.runtime ?? 0, '/process/scheduler/runtime'),
      deadline: toU64(s.deadline ?? 0, '/process/scheduler/deadline'), period: toU64(s.period ?? 0, '/process/scheduler/period'),
      label: `scheduler ${s.policy}${s.nice ? ` nice ${s.nice}` : ''}${s.priority ? ` priority ${s.priority}` : ''}`,
    });
  }
  const io = proc.ioPriority;
  if (io) {
    const ioClass = IOPRIO_CLASS[io.class];
    if (ioClass === undefined) throw planError(`/process/ioPriority/class: invalid io priority class: ${io.class}`);
    if (!Number.isInteger(io.priority) || io.priority < 0 || io.priority > 7) throw planError(`/process/ioPriority/priority: invalid ioPriority.Priority: ${io.priority}`);
    out.push({ kind: 'ioPriority', ioClass, level: BigInt(io.priority), label: `io priority ${io.class} ${io.priority}` });
  }
  return out;
}
