/**
 * The state store: <root>/<id>/state.json, replaced atomically (temp file + rename) so a reader never sees a
 * half-written file and a crash never leaves one. Status is NOT trusted from the file: status.ts derives it
 * from the kernel each time (pid + start time, exec fifo, freezer).
 */
import { mkdirSync, readFileSync, writeFileSync, renameSync, rmSync, readdirSync, openSync, closeSync, constants as C } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, isErrno, notExist, TsrunError } from '../errors.js';
import type { HookSpec } from './hooks.js';
import type { HostMounts } from '../linux/host-mounts.js';

export const STATE_FILE = 'state.json';
export const EXEC_FIFO = 'exec.fifo';

export type RecordedStatus = 'creating' | 'created' | 'running' | 'stopped';

export interface StoredState {
  schemaVersion: 1;
  id: string;
  ociVersion: string;
  /** Host pid of the container's init; 0 until the executor has forked it. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat at creation: guards against pid reuse. */
  startTime: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** The phase this file was written in; the live status is derived (status.ts). */
  recorded: RecordedStatus;
  /** pid and start time of the `tsrun create` that is building the container (status "creating"). */
  creator?: { pid: number; startTime: number };
  /** systemd: the transient unit made for the container (--systemd-cgroup); delete stops it, update sets its properties. */
  cgroup: { paths: Record<string, string>; created: string[]; systemd?: { unit: string; slice: string } };
  hooks: { poststart?: HookSpec[]; poststop?: HookSpec[] };
  /** The container has no pid namespace of its own: SIGKILL must reach every process of its cgroup. */
  sharedPidNs: boolean;
  /** Every namespace the init has, for exec: type → /proc/<pid>/ns/<file>. */
  namespaces: string[];
  terminal: boolean;
  /** Created with --no-new-keyring: exec'd processes keep their caller's session keyring too (runc). */
  noNewKeyring?: boolean;
  /** process.consoleSize, when the config sets one (a foreground `run -t` otherwise copies the caller's size). */
  consoleSize?: { height: number; width: number };
  /** Config bits `exec` inherits (process defaults). */
  config?: unknown;
  /** No mount namespace: the mounts the container left in the caller's namespace, for delete (linux/host-mounts.ts). */
  hostMounts?: HostMounts;
}

export const containerDir = (root: string, id: string) => join(root, id);

/**
 * tsrun's caches under the state root (`<root>/@cache/seccomp`: compiled filters, linux/seccomp-cache.ts). `@` is
 * outside the container id alphabet (id.ts), so no container can be called that; `list` skips it.
 */
export const CACHE_DIR = '@cache';
export const seccompCacheDir = (root: string) => join(root, CACHE_DIR, 'seccomp');

export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}

/** Create <root>/<id>. mkdir is atomic: of N concurrent creates of one id exactly one gets here. */
export function claim(root: string, id: string): string {
  const dir = containerDir(root, id);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if (isErrno(e, 'EEXIST')) throw alreadyExists();
    throw e;
  }
  return dir;
}

export function load(root: string, id: string): StoredState {
  let text: string;
  try {
    text = readFileSync(join(containerDir(root, id), STATE_FILE), 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw notExist();
    throw e;
  }
  let st: StoredState;
  try {
    st = JSON.parse(text) as StoredState;
  } catch {
    throw new TsrunError('ERR_TSRUN_STATE_CORRUPT', `container state ${join(containerDir(root, id), STATE_FILE)} is not valid JSON`, {
      hint: 'remove it with `tsrun delete --force <id>`',
    });
  }
  // Docker gives runc and tsrun one --root: a runc container's state.json is not ours to interpret.
  if (st?.schemaVersion !== 1) {
    throw new TsrunError('ERR_TSRUN_FOREIGN', `container ${id} was not created by tsrun (unknown state format in ${join(containerDir(root, id), STATE_FILE)})`, {
      hint: 'manage it with the runtime that created it',
    });
  }
  return st;
}

export function exists(root: string, id: string): boolean {
  try {
    readdirSync(containerDir(root, id));
    return true;
  } catch {
    return false;
  }
}

export function save(root: string, st: StoredState): void {
  const dir = containerDir(root, st.id);
  const tmp = join(dir, `.${STATE_FILE}.${process.pid}`);
  const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_TRUNC, 0o600);
  try {
    // No fsync: rename alone makes the replacement atomic for readers, which is what matters here. The root is
    // meant to be on tmpfs (runc's wording), and after a power loss no container survives to need its state;
    // on a disk-backed root each fsync cost 1-2 ms, four times per create (docs/performance.md).
    writeFileSync(fd, JSON.stringify(st));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, STATE_FILE));
}

export function remove(root: string, id: string): void {
  rmSync(containerDir(root, id), { recursive: true, force: true });
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== CACHE_DIR).map((d) => d.name).sort();
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
}

/** RFC 3339 with nanoseconds, like runc's `created`. */
export function nowRfc3339Nano(): string {
  const ms = Date.now();
  const sub = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, `.$1${sub}Z`);
}
