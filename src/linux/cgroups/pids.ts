/** Every process of a container's cgroup subtree (runc GetAllPids: the cgroup and all its descendants). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupPaths } from './fs.js';

/** The hierarchy every container process is in: pids or memory on v1, else the unified one. */
export function membershipDir(paths: CgroupPaths): string | undefined {
  const key = Object.keys(paths).find((k) => k.split(',').includes('pids'))
    ?? Object.keys(paths).find((k) => k.split(',').includes('memory'))
    ?? (paths.unified ? 'unified' : Object.keys(paths)[0]);
  return key ? paths[key] : undefined;
}

export function allCgroupPids(paths: CgroupPaths): number[] {
  const dir = membershipDir(paths);
  const out: number[] = [];
  const walk = (d: string) => {
    let text: string;
    try {
      text = readFileSync(join(d, 'cgroup.procs'), 'utf8');
    } catch {
      return; // removed meanwhile
    }
    for (const l of text.split('\n')) if (l) out.push(Number(l));
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
  };
  if (dir) walk(dir);
  return out;
}
