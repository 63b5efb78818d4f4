import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectConsoleSocket } from './console-socket.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-console-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

test('a socket that is not there: Go\'s dial wording, as runc (and so Docker) prints it', async () => {
  const path = join(dir, 'missing.sock');
  const e = await rejection(connectConsoleSocket(path));
  assert.is(e.message, `dial unix ${path}: connect: no such file or directory`);
});

test('a path that is not a socket: the errno is named the same way', async () => {
  const path = join(dir, 'plain-file');
  writeFileSync(path, '');
  const e = await rejection(connectConsoleSocket(path));
  assert.is(e.message, `dial unix ${path}: connect: connection refused`);
});

test('a listening socket: the connected fd is returned and is a socket', async () => {
  const path = join(dir, 'ok.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    const conn = await connectConsoleSocket(path);
    assert.ok(fstatSync(conn.fd).isSocket());
    conn.close();
  } finally {
    server.close();
  }
});

test.run();
