/**
 * `tsrun explain`: compile a bundle exactly as `create` would and print the plan, creating nothing —
 * no state directory, no cgroup, no process. Cgroup paths are computed, not created.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { RuntimeEnv } from './env.js';
import { validateId } from './id.js';
import { loadConfig } from '../spec/load.js';
import { configWarnings } from '../spec/validate.js';
import { formatIssue } from '../errors.js';
import { compile } from '../plan/compile.js';
import { explain } from '../plan/explain.js';
import { resolveCgroupPaths } from '../linux/cgroups/fs.js';
import { parseSystemdCgroupsPath, systemdCgroupPaths } from '../linux/cgroups/systemd-path.js';
import { hostCgroupMounts } from '../linux/cgroups/mounts.js';
import { compileContextFor } from './create.js';

export function explainBundle(env: RuntimeEnv, o: { bundle: string; id: string; showEnv: boolean; json: boolean }): string {
  validateId(o.id);
  const bundle = resolve(o.bundle);
  const spec = loadConfig(bundle);
  const rootfs = isAbsolute(spec.root!.path) ? spec.root!.path : join(bundle, spec.root!.path);
  const mounts = hostCgroupMounts();
  const cgroupPaths = env.systemdCgroup ? systemdCgroupPaths(parseSystemdCgroupsPath(spec.linux?.cgroupsPath, o.id), mounts) : resolveCgroupPaths(spec.linux?.cgroupsPath, o.id, mounts);
  const ctx = compileContextFor(env, spec, {
    id: o.id, mode: 'create', foreground: false, subreaper: true, noPivot: false, noNewKeyring: false, preserveFds: 0,
    ...(spec.process?.terminal ? { consoleSocket: '<console-socket>' } : {}),
  }, { bundle, rootfs, dir: join(env.root, o.id), listen: 0, cgroupPaths, mounts, writeSeccompCache: false }); // explain reads the cache, never writes it
  const compiled = compile(spec, ctx);
  if (o.json) return JSON.stringify(compiled.plan, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.length} bytes>` : v), 2) + '\n';
  const warnings = configWarnings(spec).map(formatIssue).map((w) => `warning: ${w}`);
  return [...warnings, ...explain(compiled, { spec, ctx, showEnv: o.showEnv })].join('\n') + '\n';
}
