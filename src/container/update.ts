/**
 * Resources on the container's cgroup: the initial `linux.resources` (called by create right after the cgroup
 * exists, before the init joins it) and `update`, which merges a request into what is recorded the way runc's
 * update.go does, writes it, and on failure writes the previous values back.
 *
 * The effective resources are kept in <root>/<id>/cgroup-resources.json (the merge needs the old quota with a
 * new period, the old limit with a new swap, …); it goes away with the state directory.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, constants as C } from 'node:fs';
import { join } from 'node:path';
import { notRunning, TsrunError, usage } from '../errors.js';
import type { Spec, Resources } from '../spec/types.js';
import type { RuntimeEnv } from './env.js';
import { validateId } from './id.js';
import { withLock } from './lock.js';
import { containerDir, load } from './state-store.js';
import { deriveStatus } from './status.js';
import { applyResources } from '../linux/cgroups/apply.js';
import { fromSpec, mergeUpdate, parseResourcesJson, type CgroupResources } from '../linux/cgroups/resources.js';
import { hostCgroupMounts, type CgroupMounts } from '../linux/cgroups/mounts.js';
import type { CgroupPaths } from '../linux/cgroups/fs.js';

export const RESOURCES_FILE = 'cgroup-resources.json';

function saveResources(dir: string, r: CgroupResources): void {
  const tmp = join(dir, `.${RESOURCES_FILE}.${process.pid}`);
  const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_TRUNC, 0o600);
  try {
    const { skipDevices: _skip, ...keep } = r;
    writeFileSync(fd, JSON.stringify(keep));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, RESOURCES_FILE));
}

export function loadResources(dir: string): CgroupResources | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, RESOURCES_FILE), 'utf8')) as CgroupResources;
  } catch {
    return undefined;
  }
}

/** create: write linux.resources into the new cgroup and record them. Throws naming the refused file and value. */
export function applyConfigResources(env: Pick<RuntimeEnv, 'log'>, stateDir: string, spec: Spec, paths: CgroupPaths, mounts: CgroupMounts = hostCgroupMounts()): void {
  if (!Object.keys(paths).length) return;
  const r = fromSpec(spec.linux?.resources, spec.linux?.devices);
  const { warnings } = applyResources(paths, r, mounts);
  for (const w of warnings) env.log.warn(w);
  saveResources(stateDir, r);
}

export interface UpdateRequest {
  /** Read once the container is known to exist (runc reads --resources after finding the container). */
  resources: () => Resources;
  /** --l3-cache-schema / --mem-bw-schema: Intel RDT, which tsrun does not support. */
  l3CacheSchema?: string;
  memBwSchema?: string;
}

export async function updateContainer(env: RuntimeEnv, id: string, req: UpdateRequest): Promise<void> {
  validateId(id);
  const dir = containerDir(env.root, id);
  await withLock(dir, async () => {
    const st = load(env.root, id);
    const request = req.resources();
    const status = deriveStatus(env.root, st);
    if (status === 'stopped' || status === 'creating') throw notRunning();
    if (request.memory?.kernel !== undefined || request.memory?.kernelTCP !== undefined) {
      env.log.warn('Kernel memory settings are deprecated: memory.kernel is ignored, memory.kernelTCP applies on cgroup v1 only');
    }
    // runc checks the host before the config: without Intel RDT both flags fail the same way.
    if (req.l3CacheSchema) throw new TsrunError('ERR_TSRUN_USAGE', 'Intel RDT/CAT: l3 cache schema is not enabled', { hint: 'tsrun does not support Intel RDT' });
    if (req.memBwSchema) throw new TsrunError('ERR_TSRUN_USAGE', 'Intel RDT/MBA: memory bandwidth schema is not enabled', { hint: 'tsrun does not support Intel RDT' });
    if (!Object.keys(st.cgroup.paths).length) throw usage('container has no cgroup to update');
    const mounts = hostCgroupMounts();
    const cur = loadResources(dir) ?? {};
    const next = mergeUpdate(cur, request);
    // systemd driver: the unit's properties first, then the cgroupfs writes (runc's Set)
    const unitSet = st.cgroup.systemd && (async (r: CgroupResources) => (await import('../linux/cgroups/systemd.js')).setScopeResources(st.cgroup.systemd!.unit, r, { v2: mounts.mode === 'v2', paths: st.cgroup.paths, warn: (m) => env.log.warn(m) }));
    try {
      if (unitSet) await unitSet(next);
      const { warnings } = applyResources(st.cgroup.paths, next, mounts);
      for (const w of warnings) env.log.warn(w);
    } catch (e) {
      // runc: set the previous configuration back, then report the original error.
      try {
        if (unitSet) await unitSet({ ...cur, skipDevices: true });
        applyResources(st.cgroup.paths, { ...cur, skipDevices: true }, mounts);
      } catch (e2) {
        env.log.warn(`Setting back cgroup configs failed due to error: ${(e2 as Error).message}, your state.json and actual configs might be inconsistent.`);
      }
      throw e;
    }
    saveResources(dir, next);
  });
}

/**
 * The request: the --resources body ('-' = stdin to EOF; containerd writes the JSON and a newline, then closes
 * it), then the individual flags over it. runc ignores the flags when --resources is given; tsrun applies both
 * (caller-contract.md §6.7: "individual flags may be combined with it").
 */
export function requestFrom(src: string, flags: Record<string, unknown>): Resources {
  let base: Resources = {};
  if (src) {
    let text: string;
    try {
      text = readFileSync(src === '-' ? 0 : src, 'utf8');
    } catch (e) {
      throw new TsrunError('ERR_TSRUN_USAGE', `open ${src}: ${(e as Error).message.replace(/^[A-Z]+: /, '').replace(/, open .*$/, '')}`);
    }
    base = parseResourcesJson(text, src === '-' ? 'stdin' : src);
  }
  return resourcesFromFlags(flags, base);
}

/** go-units RAMInBytes: "512m", "1.5G", "100KiB", "1024" (binary multiples). */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase()]!;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) throw new Error(`invalid size: '${s}'`);
  return Math.trunc(n * mult);
}

/** runc update's individual flags → a LinuxResources request (wording of runc's errors). */
export function resourcesFromFlags(f: Record<string, unknown>, base: Resources = {}): Resources {
  const r: Resources = { ...base, memory: { ...base.memory }, cpu: { ...base.cpu }, blockIO: { ...base.blockIO }, ...(base.pids ? { pids: { ...base.pids } } : {}) };
  const s = (k: string) => (f[k] === undefined || f[k] === '' ? undefined : String(f[k]));
  const uint = (k: string) => {
    const v = s(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw usage(`invalid value for ${k}: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const int = (k: string) => {
    const v = s(k);
    if (v === undefined) return undefined;
    if (!/^[-+]?\d+$/.test(v)) throw usage(`invalid value for ${k}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const bytes = (k: string) => {
    const v = s(k);
    if (v === undefined) return undefined;
    if (v === '-1') return -1;
    try {
      return ramInBytes(v);
    } catch (e) {
      throw usage(`invalid value for ${k}: ${(e as Error).message}`);
    }
  };
  const w = f['blkio-weight'];
  if (w !== undefined && Number(w) !== 0) r.blockIO!.weight = Number(w);
  if (s('cpuset-cpus')) r.cpu!.cpus = s('cpuset-cpus')!;
  if (s('cpuset-mems')) r.cpu!.mems = s('cpuset-mems')!;
  const set = <T extends object>(o: T, k: keyof T, v: number | undefined) => { if (v !== undefined) (o as Record<string, unknown>)[k as string] = v; };
  set(r.cpu!, 'idle', int('cpu-idle'));
  set(r.cpu!, 'burst', uint('cpu-burst'));
  set(r.cpu!, 'period', uint('cpu-period'));
  set(r.cpu!, 'realtimePeriod', uint('cpu-rt-period'));
  set(r.cpu!, 'shares', uint('cpu-share'));
  set(r.cpu!, 'quota', int('cpu-quota'));
  set(r.cpu!, 'realtimeRuntime', int('cpu-rt-runtime'));
  set(r.memory!, 'limit', bytes('memory'));
  set(r.memory!, 'swap', bytes('memory-swap'));
  set(r.memory!, 'kernel', bytes('kernel-memory'));
  set(r.memory!, 'kernelTCP', bytes('kernel-memory-tcp'));
  set(r.memory!, 'reservation', bytes('memory-reservation'));
  if (f['pids-limit'] !== undefined) r.pids = { limit: Number(f['pids-limit']) };
  return r;
}
