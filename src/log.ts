/**
 * The runtime's logger, shaped like runc's logrus output because callers parse it (caller-contract.md §11):
 *  - json: one object per line {"level","msg","time"} with an RFC 3339 time; containerd keeps the last
 *    level=error msg of the file, podman reads the file as ONE object — so a failing call writes exactly one
 *    error line and nothing else unless --debug.
 *  - text: time="…" level=error msg="…"
 * Without --log the lines go to stderr. With --log, errors are also printed plainly on stderr (runc does both).
 */
import { openSync, writeSync, closeSync, constants as C } from 'node:fs';

export type Level = 'debug' | 'info' | 'warning' | 'error';
export type LogFormat = 'text' | 'json';

export class Logger {
  readonly format: LogFormat;
  readonly debugEnabled: boolean;
  readonly path: string | undefined;
  #fd = -1;

  constructor(opts: { path?: string; format: LogFormat; debug: boolean }) {
    this.format = opts.format;
    this.debugEnabled = opts.debug;
    this.path = opts.path;
  }

  /** The log file's fd (opened O_APPEND on first use), or 2 when logging to stderr. */
  fd(): number {
    if (!this.path) return 2;
    if (this.#fd < 0) this.#fd = openSync(this.path, C.O_WRONLY | C.O_APPEND | C.O_CREAT, 0o644);
    return this.#fd;
  }

  line(level: Level, msg: string, extra?: Record<string, unknown>): string {
    const time = new Date().toISOString();
    if (this.format === 'json') return JSON.stringify({ level, msg, time, ...extra }) + '\n';
    const kv = extra ? Object.entries(extra).map(([k, v]) => ` ${k}=${JSON.stringify(String(v))}`).join('') : '';
    return `time="${time}" level=${level} msg=${JSON.stringify(msg)}${kv}\n`;
  }

  write(level: Level, msg: string, extra?: Record<string, unknown>): void {
    if (level === 'debug' && !this.debugEnabled) return;
    // info/warning lines only with --debug when logging to a file that podman reads as a single object.
    if ((level === 'info' || level === 'warning') && this.path && !this.debugEnabled) return;
    try {
      writeSync(this.fd(), this.line(level, msg, extra));
    } catch {
      /* a log that cannot be written must not turn success into failure */
    }
  }

  debug(msg: string, extra?: Record<string, unknown>): void { this.write('debug', msg, extra); }

  #phaseAt = 0;
  /**
   * --debug timing: "phase <name>: <ms since the previous phase> ms (at <ms since the process started>)".
   * One line per phase, nothing at all without --debug (docs/performance.md uses it to find where time goes).
   */
  phase(name: string): void {
    if (!this.debugEnabled) return;
    const at = process.uptime() * 1000;
    this.write('debug', `phase ${name}: ${(at - (this.#phaseAt || at)).toFixed(1)} ms (at ${at.toFixed(1)} ms)`);
    this.#phaseAt = at;
  }
  warn(msg: string, extra?: Record<string, unknown>): void { this.write('warning', msg, extra); }
  error(msg: string): void { this.write('error', msg); }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
