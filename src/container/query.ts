/** Read-only views of the store: state and list. No lock (like runc's state), no FFI. */
import { statSync, readFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { validateId } from './id.js';
import { listIds, load } from './state-store.js';
import { ociState } from './status.js';
import { isErrno, TsrunError } from '../errors.js';

export function containerState(root: string, id: string) {
  validateId(id);
  return ociState(root, load(root, id));
}

export type ListEntry = ReturnType<typeof ociState>;

export function listContainers(ctx: { root: string; rootExplicit: boolean; log: Logger }): ListEntry[] {
  try {
    statSync(ctx.root);
  } catch (e) {
    // runc: a missing default root is an empty list; a missing explicit --root is an error.
    if (isErrno(e, 'ENOENT') && !ctx.rootExplicit) return [];
    if (isErrno(e, 'ENOENT')) throw new TsrunError('ERR_TSRUN_ROOT', `open ${ctx.root}: no such file or directory`);
    throw e;
  }
  const out: ListEntry[] = [];
  for (const id of listIds(ctx.root)) {
    try {
      const st = load(ctx.root, id);
      out.push({ ...ociState(ctx.root, st), owner: ownerName(ctx.root, id) });
    } catch (e) {
      // deleted while we listed (before or after its state was read)
      if ((e instanceof TsrunError && e.code === 'ERR_TSRUN_NOT_EXIST') || isErrno(e, 'ENOENT')) continue;
      // Docker shares one root between runc and tsrun containers: skip what we cannot read (runc does too).
      ctx.log.warn(`skipping ${id}: ${(e as Error).message}`);
    }
  }
  return out;
}

let passwd: string | undefined;
function ownerName(root: string, id: string): string {
  const uid = statSync(`${root}/${id}`).uid;
  try {
    passwd ??= readFileSync('/etc/passwd', 'utf8');
    const line = passwd.split('\n').find((l) => l.split(':')[2] === String(uid));
    if (line) return line.split(':')[0]!;
  } catch { /* no passwd */ }
  return `#${uid}`;
}

export function formatTable(states: ListEntry[]): string {
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  // tabwriter with minwidth 12, padding 1 (runc list.go)
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.max(w[i]! + 1, 12)))).join('') + '\n').join('');
}
