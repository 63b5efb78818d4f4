/**
 * Ids, the process environment and numeric conversions: the small pure helpers compile() uses for `user`,
 * `fixStdio`, `mkfifo` ownership, `exec` envp and every u64 field.
 */
import { TsrunError } from '../errors.js';
import type { IDMapping } from '../spec/types.js';

const planError = (message: string, hint?: string) =>
  new TsrunError('ERR_TSRUN_PLAN', message, hint ? { hint } : {});

/**
 * A config number → u64. JSON.parse rounds 18446744073709551615 (RLIM_INFINITY) up to 2^64, so anything at or
 * above 2^64 − 1 becomes exactly 2^64 − 1. Negative or fractional numbers are refused.
 */
export function toU64(v: number | bigint, pointer: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n) throw planError(`${pointer}: must not be negative, got ${v}`);
    return v > 0xffff_ffff_ffff_ffffn ? 0xffff_ffff_ffff_ffffn : v;
  }
  if (!Number.isFinite(v) || v < 0 || !Number.isInteger(v)) {
    throw planError(`${pointer}: must be an unsigned integer, got ${v}`);
  }
  if (v >= 2 ** 64 - 1) return 0xffff_ffff_ffff_ffffn;
  return BigInt(v);
}

/** A signed config number → its two's complement u64 (sched nice). */
export function toI64(v: number, pointer: string): bigint {
  if (!Number.isInteger(v)) throw planError(`${pointer}: must be an integer, got ${v}`);
  return BigInt.asUintN(64, BigInt(v));
}

/** A uid or gid: 0 … 2^32 − 2 ((uid_t)-1 means "unchanged" to the kernel and is refused). */
export function toId(v: number, pointer: string): bigint {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_fffe) throw planError(`${pointer}: invalid id ${v}`);
  return BigInt(v);
}

/** The host id that container id `id` maps to, or undefined when unmapped. */
export function hostIdOf(maps: readonly IDMapping[] | undefined, id: number): number | undefined {
  for (const m of maps ?? []) {
    if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  }
  return undefined;
}

/**
 * The host uid/gid of the container's root: 0:0 without a user namespace, else the mapping of 0 (runc's
 * HostRootUID). The exec fifo is chowned to it so `tsrun start` … and the container's root can open it.
 */
export function hostRoot(
  userns: 'none' | 'new' | 'joined',
  uidMappings: readonly IDMapping[] | undefined,
  gidMappings: readonly IDMapping[] | undefined,
): { uid: bigint; gid: bigint } {
  if (userns === 'none') return { uid: 0n, gid: 0n };
  const uid = hostIdOf(uidMappings, 0);
  const gid = hostIdOf(gidMappings, 0);
  if (uid === undefined || gid === undefined) {
    const which = uid === undefined ? 'uidMappings' : 'gidMappings';
    throw planError(`/linux/${which}: the container's root (id 0) is not mapped to a host id`, 'map containerID 0, e.g. {"containerID": 0, "hostID": 100000, "size": 65536}');
  }
  return { uid: BigInt(uid), gid: BigInt(gid) };
}

/**
 * process.env → the exec envp, as runc's prepareEnv does it: each entry must be NAME=VALUE with a non-empty name
 * and no NUL; a repeated name keeps its last value at the position of that last occurrence; an empty HOME is
 * dropped; `extra` (LISTEN_FDS, LISTEN_PID) is appended before de-duplication so it wins; HOME is added last
 * when absent.
 */
export function prepareEnv(env: readonly string[] | undefined, extra: readonly string[], home: string): string[] {
  const all = [...(env ?? []), ...extra];
  const out: string[] = [];
  const seen = new Set<string>();
  let homeSet = false;
  for (let n = all.length - 1; n >= 0; n--) {
    const kv = all[n]!;
    const i = kv.indexOf('=');
    const where = n < (env?.length ?? 0) ? `/process/env/${n}` : 'environment';
    if (i === -1) throw planError(`${where}: invalid environment variable: missing '='`, `got ${JSON.stringify(kv)}`);
    if (i === 0) throw planError(`${where}: invalid environment variable: name cannot be empty`);
    const key = kv.slice(0, i);
    if (seen.has(key)) continue;
    seen.add(key);
    if (kv.includes('\0')) throw planError(`${where}: invalid environment variable ${JSON.stringify(key)}: contains nul byte (\\x00)`);
    if (key === 'HOME') {
      if (kv.length === i + 1) continue; // an empty HOME is replaced below
      homeSet = true;
    }
    out.push(kv);
  }
  out.reverse();
  if (!homeSet) out.push('HOME=' + home);
  return out;
}

/** The value of NAME in a prepared envp (last one wins, but prepared envs have no duplicates). */
export function envValue(envp: readonly string[], name: string): string | undefined {
  for (let i = envp.length - 1; i >= 0; i--) {
    const kv = envp[i]!;
    if (kv.startsWith(name + '=')) return kv.slice(name.length + 1);
  }
  return undefined;
}

/** PATH → the directories `resolve` tries, in order. Empty components (which would mean ".") are dropped. */
export function searchPath(envp: readonly string[]): string[] {
  const p = envValue(envp, 'PATH');
  return p === undefined ? [] : p.split(':').filter((d) => d !== '');
}
