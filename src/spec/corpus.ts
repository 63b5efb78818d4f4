/**
 * The config corpus in src/spec/fixtures/, for tests (and for anyone who wants to feed it to another runtime).
 * Read from the source tree: tsc does not copy JSON into dist/, and the corpus is data, not code.
 *   good/*.json  valid configs, as files
 *   bad/*.json   { description, expectPointer, expectMessage?, config }: config must fail with an Issue at
 *                exactly expectPointer (whose message contains expectMessage, if given)
 *   warn/*.json  same shape; config is valid but must produce that warning
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Case {
  name: string;
  description: string;
  expectPointer: string;
  expectMessage?: string;
  config: unknown;
}

/** src/spec/fixtures, whether this module runs from src/spec/ or dist/src/spec/. */
export function fixturesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [join(here, 'fixtures'), join(here, '../../../src/spec/fixtures')]) if (existsSync(d)) return d;
  throw new Error(`fixtures not found near ${here}`);
}

const jsonFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

export function goodConfigs(): { name: string; config: unknown }[] {
  const dir = join(fixturesDir(), 'good');
  return jsonFiles(dir).map((f) => ({ name: f, config: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
}

function cases(kind: 'bad' | 'warn'): Case[] {
  const dir = join(fixturesDir(), kind);
  return jsonFiles(dir).map((f) => ({ name: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<Case, 'name'>) }));
}
export const badCases = (): Case[] => cases('bad');
export const warnCases = (): Case[] => cases('warn');
