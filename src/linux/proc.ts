/**
 * /proc/<pid>/stat, read with node:fs (no FFI needed). The start time (field 22, clock ticks since boot)
 * together with the pid identifies a process for good: a reused pid has a different start time.
 */
import { readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  state: string;      // R, S, D, Z, X, T …
  ppid: number;
  startTime: number;  // field 22
}

/** Pure parser. comm (field 2) may contain spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return { pid, state: rest[0]!, ppid: Number(rest[1]), startTime: Number(rest[19]) };
}

export function readStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Alive and the same process we recorded (not a zombie, not a reused pid). */
export function isSameLiveProcess(pid: number, startTime: number, procRoot = '/proc'): boolean {
  if (pid <= 0) return false;
  const st = readStat(pid, procRoot);
  return st !== undefined && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}

let cachedLastCap: number | undefined;
/** The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap); 40 if it cannot be read. */
export function lastCap(): number {
  if (cachedLastCap === undefined) {
    try {
      cachedLastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      cachedLastCap = 40;
    }
  }
  return cachedLastCap;
}
