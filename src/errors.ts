/**
 * Typed errors with stable codes. Every failure that reaches the CLI is a TsrunError; the CLI (cli/exit.ts)
 * is the only place that turns one into a message on stderr/--log and an exit code.
 *
 * `message` is the sentence callers match on (runc's wording where one exists: caller-contract.md §11.5);
 * `code` is stable for tests and JSON consumers; `hint` is advice for humans, printed after the message.
 */
export class TsrunError extends Error {
  readonly code: string;
  readonly hint?: string;
  /** Exit status the CLI should use (1 unless a command says otherwise, e.g. exec → 255). */
  exitCode = 1;
  constructor(code: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TsrunError';
    this.code = code;
    if (opts.hint) this.hint = opts.hint;
  }
}

export const notExist = () => new TsrunError('ERR_TSRUN_NOT_EXIST', 'container does not exist');
export const alreadyExists = () => new TsrunError('ERR_TSRUN_EXISTS', 'container with given ID already exists');
export const invalidId = (id: string) =>
  new TsrunError('ERR_TSRUN_INVALID_ID', 'invalid container ID format', {
    hint: `got ${JSON.stringify(id)}; an id is 1-255 of [A-Za-z0-9_+.-] and not "." or ".."`,
  });
export const notRunning = () => new TsrunError('ERR_TSRUN_NOT_RUNNING', 'container not running');
export const badState = (message: string) => new TsrunError('ERR_TSRUN_STATE', message);
export const usage = (message: string, hint?: string) =>
  new TsrunError('ERR_TSRUN_USAGE', message, hint ? { hint } : {});

/** One problem found in a config: where (RFC 6901 pointer), what was expected, and what was seen. */
export interface Issue {
  pointer: string;
  message: string;
  seen?: unknown;
  hint?: string;
}

export class SpecInvalid extends TsrunError {
  readonly issues: Issue[];
  constructor(issues: Issue[], file = 'config.json') {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('ERR_TSRUN_SPEC_INVALID', first ? `${file}: ${formatIssue(first)}${more}` : `${file}: invalid`, {
      hint: issues.slice(1, 6).map(formatIssue).join('; ') || undefined,
    } as { hint?: string });
    this.issues = issues;
  }
}

export function formatIssue(i: Issue): string {
  const seen = i.seen === undefined ? '' : `, got ${short(i.seen)}`;
  return `${i.pointer || '/'}: ${i.message}${seen}`;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** A failed syscall made through sys/. errno is the positive number, code its name (ENOENT). */
export class SyscallError extends TsrunError {
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  constructor(syscall: string, errno: number, path?: string) {
    super('ERR_TSRUN_SYSCALL', `${syscall}${path ? ' ' + path : ''}: ${errnoText(errno)}`);
    this.errno = errno;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
  }
}

/**
 * errno → Go's lower-case wording. Docker's CLI matches "no such file or directory" and "permission denied"
 * case-sensitively to map exit codes 127/126 (caller-contract.md §11.5), so glibc's capitalised strerror() text
 * must never reach a caller.
 */
const ERRNO_TEXT: Record<number, string> = {
  1: 'operation not permitted', 2: 'no such file or directory', 3: 'no such process', 4: 'interrupted system call',
  5: 'input/output error', 6: 'no such device or address', 7: 'argument list too long', 8: 'exec format error',
  9: 'bad file descriptor', 10: 'no child processes', 11: 'resource temporarily unavailable',
  12: 'cannot allocate memory', 13: 'permission denied', 14: 'bad address', 15: 'block device required',
  16: 'device or resource busy', 17: 'file exists', 18: 'invalid cross-device link', 19: 'no such device',
  20: 'not a directory', 21: 'is a directory', 22: 'invalid argument', 23: 'too many open files in system',
  24: 'too many open files', 25: 'inappropriate ioctl for device', 26: 'text file busy', 27: 'file too large',
  28: 'no space left on device', 29: 'illegal seek', 30: 'read-only file system', 31: 'too many links',
  32: 'broken pipe', 34: 'numerical result out of range', 36: 'file name too long', 38: 'function not implemented',
  39: 'directory not empty', 40: 'too many levels of symbolic links', 61: 'no data available',
  95: 'operation not supported', 110: 'connection timed out', 111: 'connection refused',
};
export function errnoText(errno: number): string {
  return ERRNO_TEXT[errno] ?? `errno ${errno}`;
}

/** Node's fs errors carry `code` like 'ENOENT'. */
export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
