/**
 * Host-side hooks (prestart, createRuntime, poststart, poststop): the state JSON on stdin, path/args/env,
 * an optional timeout, output captured (never inherited: a hook that daemonises while holding our stdout would
 * hang callers that read it to EOF — caller-contract.md §9). createContainer and startContainer hooks run in the
 * container's namespaces and are carried out by the executor instead.
 */
import { errnoText, TsrunError } from '../errors.js';

export interface HookSpec {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export type HookPhase = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export class HookFailed extends TsrunError {
  /** detail names the hook's path itself when it starts with one (a spawn failure, in Go's fork/exec words). */
  constructor(phase: HookPhase, index: number, hook: HookSpec, detail: string) {
    super('ERR_TSRUN_HOOK', `error running ${phase} hook #${index}: ${detail.startsWith('fork/exec ') ? '' : `${hook.path}: `}${detail}`);
  }
}

/** Node's spawn error → Go's (what runc prints): "fork/exec /x: no such file or directory". */
function spawnFailure(hook: HookSpec, e: NodeJS.ErrnoException): string {
  return typeof e.errno === 'number' ? `fork/exec ${hook.path}: ${errnoText(Math.abs(e.errno))}` : e.message;
}

export async function runHook(phase: HookPhase, index: number, hook: HookSpec, stateJson: string): Promise<void> {
  // Loaded here, not at the top: start and delete import this module and usually have no hook to run, and
  // node:child_process costs ≈ 1.5 ms to load (docs/performance.md).
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const argv = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const env: Record<string, string> = {};
    for (const kv of hook.env ?? []) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const child = spawn(hook.path, argv.slice(1), { argv0: argv[0], env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const keep = (b: Buffer) => { if (out.length < 4096) out += b.toString(); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout && hook.timeout > 0) {
      timer = setTimeout(() => { child.kill('SIGKILL'); }, hook.timeout * 1000);
    }
    child.on('error', (e) => { clearTimeout(timer); reject(new HookFailed(phase, index, hook, spawnFailure(hook, e))); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal ? (signal === 'SIGKILL' && hook.timeout ? `timed out after ${hook.timeout}s` : `killed by ${signal}`) : `exit status ${code}`;
      reject(new HookFailed(phase, index, hook, `${why}${out.trim() ? `, output: ${out.trim().slice(0, 512)}` : ''}`));
    });
    child.stdin!.on('error', () => { /* a hook that does not read stdin is fine */ });
    child.stdin!.end(stateJson);
  });
}

/**
 * Run the hooks of one phase in order. Create-time phases stop at the first failure (it aborts the create);
 * poststart and poststop must run every hook even when one fails (runtime-spec: "the remaining hooks and
 * lifecycle continue"), and report what failed.
 */
export async function runHooks(phase: HookPhase, hooks: HookSpec[] | undefined, stateJson: string): Promise<void> {
  const keepGoing = phase === 'poststart' || phase === 'poststop';
  const failed: Error[] = [];
  for (const [i, h] of (hooks ?? []).entries()) {
    try {
      await runHook(phase, i, h, stateJson);
    } catch (e) {
      if (!keepGoing) throw e;
      failed.push(e as Error);
    }
  }
  if (failed.length) throw new TsrunError('ERR_TSRUN_HOOK', failed.map((e) => e.message).join('; '));
}
