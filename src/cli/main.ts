/**
 * Entry point: split global flags from the subcommand, parse the subcommand's flags with Go semantics, run it,
 * and hand every failure to exit.ts. `main` takes argv as a parameter so tests can drive it in-process.
 */
import { readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, splitGlobal } from './flags.js';
import { GLOBAL_FLAGS, makeContext, type Context } from './context.js';
import { commands } from './commands/index.js';
import { checkArgs } from './command.js';
import { reportError } from './exit.js';
import { usage } from '../errors.js';
import { SPEC_VERSION, TSRUN_VERSION } from '../version.js';

function pkgRootDir(): string {
  // dist/src/cli/main.js (tsc) → three levels up; dist/tsrun.cjs or a chunk in dist/bundle/ (hack/bundle.mjs) →
  // the directory above dist.
  const here = dirname(fileURLToPath(import.meta.url));
  if (here.endsWith(join('dist', 'src', 'cli'))) return join(here, '..', '..', '..');
  return here.endsWith(join('dist', 'bundle')) ? join(here, '..', '..') : join(here, '..');
}

/**
 * stdout without process.stdout: creating that stream loads Node's whole streams stack (≈ 1.5 ms; `state` and
 * `--version` need nothing else from it: docs/performance.md). Blocking writes, as process.stdout's are on Linux
 * for pipes, files and ttys; if the caller handed us a non-blocking fd, the rest goes through process.stdout.
 */
function writeStdout(s: string): void {
  const buf = Buffer.from(s);
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(1, buf, off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    process.stdout.write(buf.subarray(off));
  }
}

export function versionText(pkgRoot: string): string {
  let commit = 'unknown';
  try {
    commit = JSON.parse(readFileSync(join(pkgRoot, 'dist', 'build-info.json'), 'utf8')).commit ?? commit;
  } catch { /* built outside git */ }
  // dockerd splits every line containing "version": only the first line may contain that word.
  return `tsrun version ${TSRUN_VERSION}\ncommit: ${commit}\nspec: ${SPEC_VERSION}\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  let ctx: Context | undefined;
  try {
    const { global, command, rest } = splitGlobal(argv, GLOBAL_FLAGS);
    const g = parseFlags(global, GLOBAL_FLAGS);
    const pkgRoot = pkgRootDir();
    ctx = makeContext(g.flags, pkgRoot);
    ctx.out = writeStdout;
    ctx.log.phase?.('node start and cli load');
    if (g.flags.version) { ctx.out(versionText(pkgRoot)); return 0; }
    if (!command) {
      const { renderHelp } = await import('./help.js');
      ctx.out(await renderHelp(undefined));
      return g.flags.help ? 0 : 1;
    }
    const cmd = commands.find((c) => c.name === command);
    if (!cmd) throw usage(`No help topic for '${command}'`, `known commands: ${commands.map((c) => c.name).join(', ')}`);
    const p = parseFlags(rest, { ...cmd.flags, help: GLOBAL_FLAGS.help! }, { stopAtPositional: cmd.stopAtPositional ?? false });
    if (p.flags.help) {
      const { renderHelp } = await import('./help.js');
      ctx.out(await renderHelp(cmd));
      return 0;
    }
    const bad = checkArgs(cmd, p.positionals.length);
    if (bad) throw usage(bad, `usage: tsrun ${cmd.name} [command options] ${cmd.usage}`);
    const code = (await cmd.run(ctx, p)) ?? 0;
    ctx.log.phase?.(`${cmd.name} done`);
    return code;
  } catch (err) {
    return reportError(err, ctx?.log);
  } finally {
    ctx?.log.close();
  }
}

// Run when executed directly (the launcher), not when imported by tests.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
