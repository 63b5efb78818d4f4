/**
 * Test harness for root integration tests: a private --root, per-test bundles derived from the busybox test
 * bundle (hack/mkbundle.sh) with a cgroup under a dedicated parent, and a runner for any runtime binary
 * (OCI_RUNTIME, default bin/tsrun) so the same tests can be pointed at runc.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const RUNTIME = process.env.OCI_RUNTIME ?? join(PKG, 'bin', 'tsrun');
export const TEST_BUNDLE = process.env.TSRUN_TEST_BUNDLE ?? join(PKG, 'test-bundle');
export const CGROUP_PARENT = '/tsrun-test';
export const isRoot = process.geteuid?.() === 0;

export interface Result { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

let seq = 0;
export const uniqueId = (prefix = 't') => `${prefix}-${process.pid}-${Date.now() % 100000}-${seq++}`;

export class Sandbox {
  readonly root: string;
  readonly tmp: string;
  readonly ids = new Set<string>();
  constructor() {
    this.tmp = mkdtempSync(join(tmpdir(), 'tsrun-test-'));
    this.root = join(this.tmp, 'state');
  }

  /**
   * Runs the runtime and returns its status and output. Output goes through files, not pipes: a container that
   * `create` or `run -d` leaves running inherits the runtime's stdout and stderr, and with pipes spawnSync would
   * wait for the container to close them (up to the timeout) although the runtime exited long ago.
   */
  rt(args: string[], opts: SpawnSyncOptions = {}): Result {
    const argv = ['--root', this.root, ...args];
    if (opts.stdio) {
      const r = spawnSync(RUNTIME, argv, { encoding: 'utf8', timeout: 60_000, ...opts });
      return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
    }
    const n = seq++;
    const files = [join(this.tmp, `rt-${n}.out`), join(this.tmp, `rt-${n}.err`)] as const;
    const fds = files.map((f) => openSync(f, 'w+', 0o600));
    try {
      const r = spawnSync(RUNTIME, argv, { timeout: 60_000, ...opts, stdio: [opts.input !== undefined ? 'pipe' : 'ignore', fds[0]!, fds[1]!] });
      const [stdout, stderr] = files.map((f) => readFileSync(f, 'utf8'));
      return { status: r.status, signal: r.signal, stdout: stdout!, stderr: stderr! };
    } finally {
      fds.forEach((fd) => closeSync(fd));
      files.forEach((f) => rmSync(f, { force: true }));
    }
  }

  /** A bundle dir whose config is the test bundle's, changed by `edit`; rootfs shared read-only. */
  bundle(edit: (c: any) => void = () => {}, id = uniqueId()): { dir: string; id: string; config: any } {
    this.ids.add(id);
    const config = JSON.parse(readFileSync(join(TEST_BUNDLE, 'config.json'), 'utf8'));
    config.root = { path: join(TEST_BUNDLE, 'rootfs'), readonly: true };
    config.linux.cgroupsPath = `${CGROUP_PARENT}/${id}`;
    edit(config);
    const dir = join(this.tmp, 'bundles', id);
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return { dir, id, config };
  }

  /** Everything a test may have left: force-delete every container, then the temp tree. */
  cleanup(): void {
    // every container left (the seccomp cache's @cache is not one)
    if (existsSync(this.root)) for (const id of readdirSync(this.root)) if (!id.startsWith('@')) this.rt(['delete', '--force', id]);
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Host paths of a cgroup in every v1 hierarchy plus the unified mount (for leftover checks). */
export function cgroupDirs(rel: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', d, rel);
    if (existsSync(p)) out.push(p);
  }
  return out;
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function waitFor(pred: () => boolean, ms = 5000): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    sleepMs(10);
  }
  return pred();
}
