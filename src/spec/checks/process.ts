/**
 * Rules on `process`. The same rules apply to the process.json of `exec --process`, so each is written for a
 * Process at a `base` pointer ("/process" in config.json, "" in process.json).
 * Messages that runc has are runc's (utils_linux.go validateProcessSpec, libcontainer/env.go): create must fail
 * with them (caller-contract.md §6.1).
 */
import type { Issue } from '../../errors.js';
import type { Process, Spec } from '../types.js';
import { CAPABILITIES, RLIMITS, isCapability, isRlimit } from '../known.js';
import { escapeToken } from '../pointer.js';
import { issue } from './issue.js';
import type { Check } from './index.js';

export type ProcessCheck = (p: Process, base: string) => Issue[];
const at = (base: string, ...tokens: (string | number)[]) => base + tokens.map((t) => '/' + escapeToken(t)).join('');

/** runc refuses a config without process at create (runtime-tools' `start` test expects otherwise; we follow runc). */
export const processPresent: Check = (spec) =>
  spec.process === undefined ? [issue('/process', 'process property must not be empty')] : [];

export const cwdAbsolute: ProcessCheck = (p, base) => {
  if (!p.cwd) return [issue(at(base, 'cwd'), 'Cwd property must not be empty', p.cwd)];
  if (!p.cwd.startsWith('/')) return [issue(at(base, 'cwd'), 'Cwd must be an absolute path', p.cwd)];
  return [];
};

export const argsNotEmpty: ProcessCheck = (p, base) =>
  p.args === undefined || p.args.length === 0 ? [issue(at(base, 'args'), 'args must not be empty', p.args)] : [];

/** execve(2) takes NAME=VALUE strings; runc refuses anything else before the container starts. */
export const envWellFormed: ProcessCheck = (p, base) => {
  const out: Issue[] = [];
  (p.env ?? []).forEach((kv, i) => {
    const eq = kv.indexOf('=');
    if (eq === -1) out.push(issue(at(base, 'env', i), "invalid environment variable: missing '='", kv));
    else if (eq === 0) out.push(issue(at(base, 'env', i), 'invalid environment variable: name cannot be empty', kv));
    else if (kv.includes('\0')) out.push(issue(at(base, 'env', i), 'invalid environment variable: contains nul byte (\\x00)', kv));
  });
  return out;
};

/** config.md: unknown types and duplicated types MUST be errors; setrlimit(2) refuses soft > hard. */
export const rlimitsValid: ProcessCheck = (p, base) => {
  const out: Issue[] = [];
  const first = new Map<string, number>();
  (p.rlimits ?? []).forEach((r, i) => {
    if (!isRlimit(r.type)) {
      out.push(issue(at(base, 'rlimits', i, 'type'), `unknown rlimit type (valid: ${RLIMITS.join(', ')})`, r.type));
    }
    const prev = first.get(r.type);
    if (prev !== undefined) out.push(issue(at(base, 'rlimits', i, 'type'), `duplicate rlimit type (first at ${at(base, 'rlimits', prev)})`, r.type));
    else first.set(r.type, i);
    if (r.soft > r.hard) out.push(issue(at(base, 'rlimits', i, 'soft'), `soft limit must not exceed the hard limit (${r.hard})`, r.soft));
  });
  return out;
};

/** sched_setattr(2) constraints, with runc's messages (validator.go scheduler()). */
export const schedulerValid: ProcessCheck = (p, base) => {
  const s = p.scheduler;
  if (!s) return [];
  const out: Issue[] = [];
  const nice = s.nice ?? 0;
  if ((s.policy === 'SCHED_OTHER' || s.policy === 'SCHED_BATCH') && (nice < -20 || nice > 19)) {
    out.push(issue(at(base, 'scheduler', 'nice'), `invalid scheduler.nice: must be -20..19 when scheduler.policy is ${s.policy}`, nice));
  }
  if ((s.priority ?? 0) !== 0 && s.policy !== 'SCHED_FIFO' && s.policy !== 'SCHED_RR') {
    out.push(issue(at(base, 'scheduler', 'priority'), 'scheduler.priority can only be specified for SchedFIFO or SchedRR policy', s.priority));
  }
  if (s.policy !== 'SCHED_DEADLINE') {
    for (const f of ['runtime', 'deadline', 'period'] as const) {
      if ((s[f] ?? 0) !== 0) {
        out.push(issue(at(base, 'scheduler', f), 'scheduler runtime/deadline/period can only be specified for SchedDeadline policy', s[f]));
      }
    }
  }
  return out;
};

/** Errors: create (or exec) must fail. */
export const processChecks: readonly ProcessCheck[] = [cwdAbsolute, argsNotEmpty, envWellFormed, rlimitsValid, schedulerValid];

// ---- warnings ----

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

/**
 * A WARNING, not an error: config-linux.md says unknown or ungrantable capabilities MUST be logged and runtimes
 * SHOULD NOT fail, and runc runs such containers (tests/integration/capabilities.bats "unknown capability").
 * Failing would also break callers on kernels newer than our list.
 */
export const unknownCapabilities: ProcessCheck = (p, base) => {
  const out: Issue[] = [];
  const caps = p.capabilities;
  if (!caps) return out;
  for (const set of CAP_SETS) {
    (caps[set] ?? []).forEach((name, i) => {
      if (isCapability(name)) return;
      const guess = 'CAP_' + name.toUpperCase().replace(/^CAP_/, '');
      out.push(issue(at(base, 'capabilities', set, i),
        `unknown capability, ignored (valid: ${CAPABILITIES[0]} … ${CAPABILITIES[CAPABILITIES.length - 1]}, see capabilities(7))`,
        name, isCapability(guess) ? `did you mean ${guess}?` : undefined));
    });
  }
  return out;
};

export const processWarnings: readonly ProcessCheck[] = [unknownCapabilities];

/** Lift a ProcessCheck to a config-level Check (no-op when process is absent: processPresent reports that). */
export function onConfigProcess(c: ProcessCheck): Check {
  const lifted: Check = (spec: Spec) => (spec.process ? c(spec.process, '/process') : []);
  return Object.defineProperty(lifted, 'name', { value: c.name }); // keeps test failure messages readable
}
