/**
 * The only place that turns a failure into output and an exit status (npm's exit-handler pattern).
 * runc logs the error through its logger and, when the log is a file, also prints the plain message on stderr
 * (caller-contract.md §11.3): containerd reads the last error line of --log, conmon and humans read stderr.
 */
import { TsrunError } from '../errors.js';
import type { Logger } from '../log.js';

export function reportError(err: unknown, log: Logger | undefined): number {
  const e = err instanceof TsrunError ? err : wrapUnexpected(err);
  const msg = e.message;
  if (log) {
    log.error(msg);
    if (log.debugEnabled && e.cause) log.debug(`cause: ${String((e.cause as Error)?.stack ?? e.cause)}`);
    if (log.path) process.stderr.write(msg + '\n');
  } else {
    process.stderr.write(`time="${new Date().toISOString()}" level=error msg=${JSON.stringify(msg)}\n`);
  }
  if (e.hint && process.stderr.isTTY) process.stderr.write(`hint: ${e.hint}\n`);
  return e.exitCode || 1;
}

function wrapUnexpected(err: unknown): TsrunError {
  const e = err as NodeJS.ErrnoException;
  const text = e?.code && e.syscall ? `${e.syscall}${e.path ? ' ' + e.path : ''}: ${e.message.replace(/^[A-Z]+: /, '')}` : String(e?.message ?? err);
  return new TsrunError('ERR_TSRUN_INTERNAL', text, { cause: err });
}
