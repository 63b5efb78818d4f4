import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFlags, splitGlobal, type FlagTable } from './flags.js';
import { GLOBAL_FLAGS } from './context.js';

const T: FlagTable = {
  bundle: { type: 'string', alias: 'b', describe: '' },
  detach: { type: 'boolean', alias: 'd', describe: '' },
  'no-subreaper': { type: 'boolean', describe: '' },
  'preserve-fds': { type: 'number', describe: '', default: 0 },
  env: { type: 'array', alias: 'e', describe: '' },
};

test('single-dash long flags are long flags (go-runc sends -no-subreaper)', () => {
  const p = parseFlags(['-no-subreaper', '-bundle', '/b', 'id'], T);
  assert.is(p.flags['no-subreaper'], true);
  assert.is(p.flags.bundle, '/b');
  assert.equal(p.positionals, ['id']);
});

test('--flag=value, --flag value, short aliases; no --no-x negation', () => {
  const p = parseFlags(['--bundle=/x', '-d', '--preserve-fds', '2', 'id'], T);
  assert.equal([p.flags.bundle, p.flags.detach, p.flags['preserve-fds'], p.positionals], ['/x', true, 2, ['id']]);
  assert.is(parseFlags(['--no-subreaper', 'id'], T).flags['no-subreaper'], true);
  assert.is(parseFlags(['--detach=false', 'id'], T).flags.detach, false);
});

test('flags after positionals are accepted unless the command stops at the first positional', () => {
  assert.is(parseFlags(['id', '--detach'], T).flags.detach, true);
  const p = parseFlags(['-e', 'A=1', 'id', 'sh', '-c', 'echo -d'], T, { stopAtPositional: true });
  assert.equal(p.positionals, ['id', 'sh', '-c', 'echo -d']);
  assert.equal(p.flags.env, ['A=1']);
});

test('a value flag followed by "-" takes it as its value (update --resources - ID)', () => {
  const t: FlagTable = { resources: { type: 'string', alias: 'r', describe: '' } };
  for (const argv of [['--resources', '-', 'id'], ['-resources', '-', 'id'], ['-r', '-', 'id'], ['--resources=-', 'id']]) {
    const p = parseFlags(argv, t);
    assert.is(p.flags.resources, '-', argv.join(' '));
    assert.equal(p.positionals, ['id'], argv.join(' '));
  }
});

test('repeated array flags collect; unknown flags fail with Go wording', () => {
  assert.equal(parseFlags(['-e', 'A=1', '--env', 'B=2', 'id'], T).flags.env, ['A=1', 'B=2']);
  assert.throws(() => parseFlags(['--nope', 'id'], T), /flag provided but not defined: -nope/);
  assert.throws(() => parseFlags(['--preserve-fds', 'x', 'id'], T), /invalid value "x" for flag -preserve-fds/);
});

test('global flags stop at the subcommand, values included', () => {
  const s = splitGlobal(['--root', '/r', '--log', 'l.json', '--log-format=json', '--debug', 'create', '--bundle', 'b', 'id'], GLOBAL_FLAGS);
  assert.equal(s.global, ['--root', '/r', '--log', 'l.json', '--log-format=json', '--debug']);
  assert.is(s.command, 'create');
  assert.equal(s.rest, ['--bundle', 'b', 'id']);
  assert.is(splitGlobal(['-v'], GLOBAL_FLAGS).command, undefined);
});

test.run();
