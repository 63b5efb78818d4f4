/**
 * Harness for the conformance tests. They drive a runtime binary ONLY through its CLI
 * (`<runtime> --root <tmp> create|start|state|kill|delete|run …`), so the same files check tsrun and runc:
 *
 *   OCI_RUNTIME=$(command -v runc) node node_modules/uvu/bin.js dist/conformance '\.test\.js$'
 *
 * Nothing from tsrun is imported except the state schema validator (src/spec/validate.ts) and the generic test
 * sandbox (src/testing/harness.ts: private --root, bundles from test-bundle/ with a cgroup under /tsrun-test/).
 * A test that documents a known deviation of one runtime is registered with `deviates(...)`: it is skipped on that
 * runtime and its name says why.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Sandbox, PKG, RUNTIME, TEST_BUNDLE, waitFor, sleepMs, uniqueId, cgroupDirs, CGROUP_PARENT, isRoot, type Result } from '../src/testing/harness.js';
import { validateState } from '../src/spec/validate.js';

export { PKG, RUNTIME, TEST_BUNDLE, waitFor, sleepMs, uniqueId, cgroupDirs, CGROUP_PARENT, isRoot, type Result };

/** Which runtime is under test, by the binary's name: "tsrun", "runc", "crun", … */
export const RUNTIME_NAME = basename(RUNTIME).replace(/[-_.].*$/, '');
export const isRunc = RUNTIME_NAME === 'runc';

export const sh = (cmd: string): string[] => ['sh', '-c', cmd];

type Edit = (c: any) => void;

let callSeq = 0;

export class Conformance extends Sandbox {
  private rootfsCopy?: string;

  /**
   * Every runtime call writes stdout/stderr to files, never to pipes: a non-tty `create` (and `run -d`) hands the
   * caller's stdio to the container, so a pipe would stay open until the container exits and a synchronous
   * spawn would wait for its EOF (caller-contract.md §9). Pass opts.stdio to override.
   */
  override rt(args: string[], opts: SpawnSyncOptions = {}): Result {
    if (opts.stdio) return super.rt(args, opts);
    const dir = join(this.tmp, 'io');
    mkdirSync(dir, { recursive: true });
    const n = callSeq++;
    const outP = join(dir, `${n}.out`), errP = join(dir, `${n}.err`);
    const out = openSync(outP, 'w'), err = openSync(errP, 'w');
    try {
      const { input, ...rest } = opts;
      const r = spawnSync(RUNTIME, ['--root', this.root, ...args], {
        timeout: 60_000, ...rest, input: input ?? '', stdio: ['pipe', out, err],
      });
      return { status: r.status, signal: r.signal, stdout: readFileSync(outP, 'utf8'), stderr: readFileSync(errP, 'utf8') };
    } finally {
      closeSync(out); closeSync(err);
      rmSync(outP, { force: true }); rmSync(errP, { force: true });
    }
  }

  /** `state ID`: must succeed, print JSON that validates against the OCI state schema; returns it. */
  state(id: string): any {
    const r = this.rt(['state', id]);
    assert.is(r.status, 0, `state ${id}: ${r.stderr}`);
    let s: any;
    try { s = JSON.parse(r.stdout); } catch { assert.unreachable(`state ${id} printed no JSON: ${JSON.stringify(r.stdout)}`); }
    const issues = validateState(s);
    assert.equal(issues, [], `state ${id} does not match the state schema: ${JSON.stringify(issues)} in ${r.stdout}`);
    return s;
  }

  /** The status, or "gone" when `state` fails (the container does not exist). */
  status(id: string): string {
    const r = this.rt(['state', id]);
    if (r.status !== 0) return 'gone';
    return JSON.parse(r.stdout).status;
  }

  waitStatus(id: string, want: string, ms = 5000): boolean {
    return waitFor(() => this.status(id) === want, ms);
  }

  /** A bundle, `create`d; asserts success. */
  created(edit: Edit = () => {}, extra: string[] = []): { dir: string; id: string; config: any } {
    const b = this.bundle(edit);
    const r = this.rt(['create', '--bundle', b.dir, ...extra, b.id]);
    assert.is(r.status, 0, `create: ${r.stderr}`);
    return b;
  }

  /** A bundle, created and started; asserts both. */
  started(edit: Edit = () => {}): { dir: string; id: string; config: any } {
    const b = this.created(edit);
    const r = this.rt(['start', b.id]);
    assert.is(r.status, 0, `start: ${r.stderr}`);
    return b;
  }

  /** Foreground `run` of a fresh bundle: the container's output and exit status. */
  run(edit: Edit = () => {}, opts: { input?: string } = {}): Result & { id: string; dir: string } {
    const b = this.bundle(edit);
    const r = this.rt(['run', '--bundle', b.dir, b.id], { input: opts.input ?? '' });
    if (r.status !== null) this.rt(['delete', '--force', b.id]);
    return { ...r, id: b.id, dir: b.dir };
  }

  /** `run` that must succeed; returns stdout. */
  out(edit: Edit, cmd?: string): string {
    const r = this.run((c) => { edit(c); if (cmd !== undefined) c.process.args = sh(cmd); });
    assert.is(r.status, 0, `run ${cmd ?? ''}: status ${r.status}, stderr ${r.stderr}`);
    return r.stdout;
  }

  /** A directory under the sandbox's temp dir (for bind mounts, hook output, pidfiles). */
  dir(name: string): string {
    const d = join(this.tmp, 'dirs', name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** A private, writable copy of the test rootfs (tests must never write into test-bundle/rootfs). */
  writableRootfs(): string {
    if (!this.rootfsCopy) {
      this.rootfsCopy = join(this.tmp, 'rootfs-rw');
      cpSync(join(TEST_BUNDLE, 'rootfs'), this.rootfsCopy, { recursive: true, verbatimSymlinks: true });
    }
    return this.rootfsCopy;
  }
}

/** The list of lines in a file, or [] if it does not exist. */
export function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

/**
 * A test that a runtime is known to fail for a documented reason: skipped on the runtimes whose name matches
 * `on`, run everywhere else. The reason becomes part of the test's name.
 */
export function deviates(on: string[], reason: string, name: string, fn: () => void | Promise<void>): void {
  if (on.includes(RUNTIME_NAME)) test.skip(`${name} [skipped on ${RUNTIME_NAME}: ${reason}]`, fn);
  else test(name, fn);
}

/** Is `pid` gone or a zombie? */
export function deadOrZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch { return true; }
}
