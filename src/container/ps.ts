/**
 * ps (runc ps.go): the host pids of every process in the container's cgroup, as JSON, or the host `ps` output
 * filtered to those pids (caller-contract.md §10.3). No lock: a read-only view, like runc.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { validateId } from './id.js';
import { load } from './state-store.js';
import { allCgroupPids } from '../linux/cgroups/pids.js';

export function containerPids(env: Pick<RuntimeEnv, 'root'>, id: string): number[] {
  validateId(id);
  const st = load(env.root, id);
  return allCgroupPids(st.cgroup.paths);
}

/** runc encodes the slice with Go's json.Encoder: "[1,2]\n". An empty cgroup prints "[]" (runc: "null"). */
export function psJson(pids: number[]): string {
  return JSON.stringify(pids) + '\n';
}

/** The host's ps by absolute path: podman may call us without PATH. */
export function hostPs(): string {
  for (const p of ['/usr/bin/ps', '/bin/ps']) if (existsSync(p)) return p;
  throw new TsrunError('ERR_TSRUN_PS', 'exec: "ps": executable file not found in $PATH');
}

/** Header + the lines whose PID column is one of pids. */
export function filterPsOutput(output: string, pids: number[]): string {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const idx = titles.indexOf('PID');
  if (idx < 0) throw new TsrunError('ERR_TSRUN_PS', "couldn't find PID field in ps output");
  const want = new Set(pids);
  let out = lines[0] + '\n';
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const f = line.trim().split(/\s+/);
    const p = Number(f[idx]);
    if (!Number.isInteger(p)) throw new TsrunError('ERR_TSRUN_PS', `unable to parse pid: strconv.Atoi: parsing ${JSON.stringify(f[idx] ?? '')}: invalid syntax`);
    if (want.has(p)) out += line + '\n';
  }
  return out;
}

export function psTable(pids: number[], args: string[]): string {
  // go-runc passes its options as one argument that may be empty.
  const a = args.filter((x) => x !== '');
  const r = spawnSync(hostPs(), a.length ? a : ['-ef'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const output = (r.stdout ?? '') + (r.stderr ?? '');
  if (r.error) throw new TsrunError('ERR_TSRUN_PS', `${r.error.message}: ${output}`);
  if (r.status !== 0) throw new TsrunError('ERR_TSRUN_PS', `${r.signal ? `signal: ${r.signal}` : `exit status ${r.status}`}: ${output}`);
  return filterPsOutput(output, pids);
}
