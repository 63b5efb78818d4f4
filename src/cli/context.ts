/**
 * Global flags → the Context every command receives. Nothing here touches the container store; commands
 * decide what they need and load it lazily, so `state` does not pay for what `create` uses.
 */
import { resolve } from 'node:path';
import type { FlagTable } from './flags.js';
import { Logger, type LogFormat } from '../log.js';
import { usage } from '../errors.js';

export const GLOBAL_FLAGS: FlagTable = {
  root: { type: 'string', describe: 'root directory for storage of container state (this should be located in tmpfs)' },
  log: { type: 'string', describe: 'set the log file to write tsrun logs to (default is stderr)' },
  'log-format': { type: 'string', describe: 'set the log format ("text" (default), or "json")', default: 'text' },
  debug: { type: 'boolean', describe: 'enable debug logging' },
  'systemd-cgroup': { type: 'boolean', describe: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name"' },
  rootless: { type: 'string', describe: 'ignore cgroup permission errors ("true", "false", or "auto")', default: 'auto' },
  criu: { type: 'string', describe: 'accepted for compatibility with go-runc v1.0.0 and ignored (checkpoint is not supported)', hidden: true },
  'cgroup-manager': { type: 'string', describe: 'crun compatibility: cgroupfs, systemd or disabled', hidden: true },
  version: { type: 'boolean', alias: 'v', describe: 'print the version' },
  help: { type: 'boolean', alias: 'h', describe: 'show help' },
};

export interface Context {
  /** Absolute state root (--root). */
  root: string;
  /** True when --root was given explicitly (a missing explicit root is an error for `list`). */
  rootExplicit: boolean;
  log: Logger;
  debug: boolean;
  systemdCgroup: boolean;
  rootless: 'true' | 'false' | 'auto';
  /** Where command output goes; tests replace it. */
  out: (s: string) => void;
  /** Absolute path of this package (for dist/libexec/tsrun-executor). */
  pkgRoot: string;
}

export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  // runc: /run/runc for root; $XDG_RUNTIME_DIR/runc when not root (rootless_linux.go shouldHonorXDGRuntimeDir).
  const euid = process.geteuid?.() ?? 0;
  if (euid !== 0 && env.XDG_RUNTIME_DIR) return resolve(env.XDG_RUNTIME_DIR, 'tsrun');
  return '/run/tsrun';
}

export function makeContext(flags: Record<string, unknown>, pkgRoot: string): Context {
  const format = String(flags['log-format'] ?? 'text');
  if (format !== 'text' && format !== 'json') throw usage(`invalid log-format: ${format}`, 'use "text" or "json"');
  const rootless = String(flags.rootless ?? 'auto');
  if (!['true', 'false', 'auto'].includes(rootless)) throw usage(`invalid --rootless value: ${rootless}`, 'use true, false or auto');
  const rootFlag = flags.root as string | undefined;
  const root = rootFlag ? resolve(rootFlag) : defaultRoot();
  if (root === '/') throw usage('--root must not be /');
  const log = new Logger({ format: format as LogFormat, debug: Boolean(flags.debug), ...(flags.log ? { path: resolve(String(flags.log)) } : {}) });
  return {
    root,
    rootExplicit: rootFlag !== undefined,
    log,
    debug: Boolean(flags.debug),
    systemdCgroup: Boolean(flags['systemd-cgroup']),
    rootless: rootless as Context['rootless'],
    out: (s) => process.stdout.write(s),
    pkgRoot,
  };
}
