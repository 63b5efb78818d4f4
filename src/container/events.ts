/**
 * events (runc events.go): `--stats` prints one stats event; otherwise a stats event every --interval and an
 * "oom" event whenever the kernel OOM-kills (or stalls under OOM) in the container's memory cgroup, one JSON
 * object per line, until the cgroup goes away (v1: the container is deleted; v2: it has no process left).
 *
 * runc is told about OOM by an eventfd on memory.oom_control (v1) or inotify on memory.events (v2); tsrun has
 * no FFI on this path, so it polls the same counters (oom_kill, under_oom / oom) every OOM_POLL_MS instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsrunError, usage } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { validateId } from './id.js';
import { load, type StoredState } from './state-store.js';
import { deriveStatus } from './status.js';
import { hostCgroupMounts } from '../linux/cgroups/mounts.js';
import { goJson, oomCounters, statsV1, statsV2 } from '../linux/cgroups/stats.js';
import { membershipDir } from '../linux/cgroups/pids.js';

export const OOM_POLL_MS = 100;

/** Go's time.ParseDuration for the forms callers use: "5s", "1m30s", "500ms", "1.5h", "100us", "0". */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let neg = false, rest = s;
  if (rest.startsWith('-') || rest.startsWith('+')) { neg = rest[0] === '-'; rest = rest.slice(1); }
  let total = 0, used = 0, m: RegExpExecArray | null;
  re.lastIndex = 0;
  while ((m = re.exec(rest))) { total += Number(m[1]) * unit[m[2]!]!; used = re.lastIndex; }
  if (!rest || used !== rest.length) throw usage(`invalid value ${JSON.stringify(s)} for flag -interval: parse error`);
  return neg ? -total : total;
}

export function containerStats(st: StoredState): Record<string, unknown> {
  const mounts = hostCgroupMounts();
  return mounts.mode === 'v2' && st.cgroup.paths.unified ? statsV2(st.cgroup.paths.unified) : statsV1(st.cgroup.paths);
}

const statsEvent = (st: StoredState) => goJson({ type: 'stats', id: st.id, data: containerStats(st) }) + '\n';

export async function containerEvents(env: RuntimeEnv & { out: (s: string) => void }, id: string, opts: { stats: boolean; intervalMs: number; signal?: AbortSignal }): Promise<void> {
  validateId(id);
  const st = load(env.root, id);
  if (!(opts.intervalMs > 0)) throw usage('duration interval must be greater than 0');
  if (deriveStatus(env.root, st) === 'stopped') throw new TsrunError('ERR_TSRUN_NOT_RUNNING', `container with id ${id} is not running`);
  if (opts.stats) { env.out(statsEvent(st)); return; }

  const v2 = hostCgroupMounts().mode === 'v2';
  const dir = membershipDir(st.cgroup.paths);
  const gone = () => {
    if (!dir || !existsSync(dir)) return true;
    if (v2) return /^populated 0$/m.test(readEvents(dir));
    return false;
  };
  let last = oomCounters(st.cgroup.paths, v2);
  let nextStats = Date.now() + opts.intervalMs;
  while (!opts.signal?.aborted) {
    const now = oomCounters(st.cgroup.paths, v2);
    if (now && last && (now.oomKill > last.oomKill || now.underOom > last.underOom)) {
      env.out(goJson({ type: 'oom', id }) + '\n');
    }
    if (now) last = now;
    if (gone()) return;
    if (Date.now() >= nextStats) {
      nextStats += opts.intervalMs;
      try {
        env.out(statsEvent(st));
      } catch (e) {
        env.log.error((e as Error).message);
      }
    }
    await sleep(Math.max(1, Math.min(OOM_POLL_MS, nextStats - Date.now())));
  }
}

function readEvents(dir: string): string {
  try {
    return readFileSync(join(dir, 'cgroup.events'), 'utf8');
  } catch {
    return 'populated 0';
  }
}
