/**
 * Host-side hooks (prestart, createRuntime, poststart, poststop): the state JSON on stdin, path/args/env,
 * an optional timeout, output captured (never inherited: a hook that daemonises while holding our stdout would
 * hang callers that read it to EOF — caller-contract.md §9). createContainer and startContainer hooks run in the
 * container's namespaces and are carried out by the executor instead.
 */
import { spawn } from 'node:child_process';
import { TsrunError } from '../errors.js';

export interface HookSpec {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export type HookPhase = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export class HookFailed extends TsrunError {
  constructor(phase: HookPhase, index: number, hook: HookSpec, detail: string) {
    super('ERR_TSRUN_HOOK', `error running ${phase} hook #${index}: ${hook.path}: ${detail}`);
  }
}

export function runHook(phase: HookPhase, index: number, hook: HookSpec, stateJson: string): Promise<void> {
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
    child.on('error', (e) => { clearTimeout(timer); reject(new HookFailed(phase, index, hook, (e as Error).message)); });
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

export async function runHooks(phase: HookPhase, hooks: HookSpec[] | undefined, stateJson: string): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) await runHook(phase, i, h, stateJson);
}
