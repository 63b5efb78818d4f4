/**
 * Argument parsing with Go's flag semantics, which every caller was written against (caller-contract.md §2):
 *  - a long flag may be written with one dash or two (`-no-subreaper` ≡ `--no-subreaper`);
 *  - values as `--flag value` or `--flag=value`; booleans as `--flag` or `--flag=true|false`;
 *  - global flags come before the subcommand;
 *  - exec, kill and ps stop parsing at the first positional argument (runc's SkipArgReorder), so
 *    `exec ID sh -c x` keeps `-c` for sh; other commands accept flags after positionals (urfave/cli reorders);
 *  - no bundling of short flags, no `--no-x` negation (runc has real flags called no-pivot, no-new-keyring).
 * yargs-parser does the tokenising (2 ms to load, where yargs itself costs 20-70 ms per call — measured, see
 * ARCHITECTURE.md "Startup"); yargs renders --help.
 */
import parse from 'yargs-parser';
import { usage } from '../errors.js';

export type FlagType = 'string' | 'boolean' | 'number' | 'array';
export interface FlagDef {
  type: FlagType;
  alias?: string;          // one-letter alias, e.g. 'b'
  describe: string;
  default?: unknown;
  hidden?: boolean;
}
export type FlagTable = Record<string, FlagDef>;

export interface Parsed {
  flags: Record<string, unknown>;
  positionals: string[];
}

/**
 * Rewrite `-long` and `-long=v` into `--long…` for long flags we know, and `--flag -` into `--flag=-` for flags
 * that take a value (containerd 1.6 sends `update --resources - ID`; Go's flag package takes "-" as the value,
 * yargs-parser would leave it as a positional). Everything after `--` is left alone.
 */
function normalizeDashes(argv: readonly string[], table: FlagTable, stopAtPositional: boolean): string[] {
  const out: string[] = [];
  let done = false;
  const byName = (n: string) => table[n] ?? Object.values(table).find((d) => d.alias === n);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (done) { out.push(a); continue; }
    if (a === '--') { out.push(a); done = true; continue; }
    if (a.startsWith('-') && a.length > 1 && !a.includes('=') && argv[i + 1] === '-') {
      const def = byName(a.replace(/^--?/, ''));
      if (def && def.type !== 'boolean') { out.push(`${a.startsWith('--') || a.length > 2 ? '--' + a.replace(/^--?/, '') : a}=-`); i++; continue; }
    }
    if (a.startsWith('-') && !a.startsWith('--') && a.length > 2) {
      const name = a.slice(1).split('=')[0]!;
      if (name in table) { out.push('-' + a); continue; }
    }
    if (stopAtPositional && !a.startsWith('-')) done = true;
    out.push(a);
  }
  return out;
}

export function parseFlags(argv: readonly string[], table: FlagTable, opts: { stopAtPositional?: boolean } = {}): Parsed {
  const stop = opts.stopAtPositional ?? false;
  const boolean: string[] = [], string: string[] = [], array: string[] = [];
  const alias: Record<string, string> = {};
  const known = new Set<string>();
  for (const [name, def] of Object.entries(table)) {
    known.add(name);
    // Numbers are tokenised as strings and converted below, so `--n x` is an error rather than NaN or a positional.
    ({ boolean, string, number: string, array } as Record<FlagType, string[]>)[def.type].push(name);
    if (def.alias) { alias[name] = def.alias; known.add(def.alias); }
  }
  const res = parse(normalizeDashes(argv, table, stop), {
    boolean, string, array, alias,
    configuration: {
      'halt-at-non-option': stop,
      'boolean-negation': false,
      'camel-case-expansion': false,
      'short-option-groups': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': true,
      'flatten-duplicate-arrays': true,
      'strip-aliased': true,
      'greedy-arrays': false,
      'populate--': false,
    },
  });
  const flags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(res)) {
    if (k === '_' || k === '--') continue;
    if (!known.has(k)) throw usage(`flag provided but not defined: -${k}`, 'run with --help to list the flags');
    const def = table[k];
    if (!def) continue; // an alias key; the canonical name carries the value
    let value = v;
    // A repeated non-array flag: Go keeps the last one.
    if (Array.isArray(value) && def.type !== 'array') value = value[value.length - 1];
    if (def.type === 'number') {
      const n = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : NaN;
      if (!Number.isInteger(n)) throw usage(`invalid value ${JSON.stringify(String(value))} for flag -${k}: parse error`);
      value = n;
    }
    if (def.type === 'string' && (value === '' || value === undefined) && argvHasBare(argv, k, def.alias)) {
      throw usage(`flag needs an argument: -${k}`);
    }
    flags[k] = value;
  }
  for (const [name, def] of Object.entries(table)) if (!(name in flags) && def.default !== undefined) flags[name] = def.default;
  return { flags, positionals: res._.map(String) };
}

/** `--lsm-mount-context` with no value: runc says "flag needs an argument" (podman probes for it). */
function argvHasBare(argv: readonly string[], name: string, alias?: string): boolean {
  const i = argv.findIndex((a) => a === `--${name}` || a === `-${name}` || (alias !== undefined && a === `-${alias}`));
  return i >= 0 && i === argv.length - 1;
}

/** Split argv into global flags (before the subcommand), the subcommand, and the rest. */
export function splitGlobal(argv: readonly string[], globals: FlagTable): { global: string[]; command?: string; rest: string[] } {
  const global: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') return { global, command: a, rest: argv.slice(i + 1) };
    global.push(a);
    const name = a.replace(/^--?/, '').split('=')[0]!;
    const def = globals[name] ?? Object.values(globals).find((d) => d.alias === name);
    if (def && def.type !== 'boolean' && !a.includes('=') && i + 1 < argv.length) global.push(argv[++i]!);
  }
  return { global, rest: [] };
}
