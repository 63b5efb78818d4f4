/**
 * The import direction is part of the design (ARCHITECTURE.md): bin → cli → container → spec/plan, linux → sys.
 * This test reads every source file and fails on an import that goes the wrong way, so the layering cannot rot.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { PKG } from './testing/harness.js';

const SRC = join(PKG, 'src');
/** layer → layers it may import (besides itself and the leaves errors, log, version). */
const ALLOWED: Record<string, string[]> = {
  cli: ['container', 'spec', 'plan'],
  container: ['spec', 'plan', 'linux'],
  plan: ['spec'],
  spec: [],
  linux: ['sys', 'plan', 'spec'],
  sys: [],
};
const LEAVES = new Set(['errors', 'log', 'version']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'generated' ? [] : files(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const layerOf = (file: string) => relative(SRC, file).split('/')[0]!.replace(/\.[jt]s$/, '');

test('imports follow bin → cli → container → spec/plan, linux → sys', () => {
  const bad: string[] = [];
  for (const f of files(SRC)) {
    const from = layerOf(f);
    if (!(from in ALLOWED)) continue; // testing/ and leaves
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const to = layerOf(resolve(dirname(f), m[1]!));
      if (to === from || LEAVES.has(to) || ALLOWED[from]!.includes(to)) continue;
      bad.push(`${relative(SRC, f)} imports ${m[1]} (${from} → ${to})`);
    }
  }
  assert.equal(bad, []);
});

test('koffi is imported only under src/sys', () => {
  const offenders = files(SRC).filter((f) => layerOf(f) !== 'sys' && /['"]koffi['"]/.test(readFileSync(f, 'utf8')));
  assert.equal(offenders.map((f) => relative(SRC, f)), []);
});

test.run();
