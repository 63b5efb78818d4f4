import type { Issue } from '../../errors.js';

/** Build an Issue, leaving out `seen`/`hint` when they are undefined (so deepEqual in tests stays simple). */
export function issue(pointer: string, message: string, seen?: unknown, hint?: string): Issue {
  const i: Issue = { pointer, message };
  if (seen !== undefined) i.seen = seen;
  if (hint !== undefined) i.hint = hint;
  return i;
}
