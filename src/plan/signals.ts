/**
 * Signal names ↔ numbers (Linux, generic numbering: x86_64, aarch64, riscv64, ppc64le, s390x).
 *
 * parseSignal follows runc's kill.go (decimal, or a name with or without "SIG", any case) and, like moby's
 * signal.ParseSignal, also accepts the real-time forms RTMIN, RTMIN+n and RTMAX-n (RTMIN is glibc's 34).
 */
import { TsrunError } from '../errors.js';

export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16,
  SIGCHLD: 17, SIGCLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23,
  SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30,
  SIGSYS: 31, SIGUNUSED: 31,
};

/** glibc's SIGRTMIN / SIGRTMAX (the kernel's 32 and 33 are reserved by the C library). */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/** Aliases that signalName() must not prefer. */
const ALIASES = new Set(['SIGIOT', 'SIGCLD', 'SIGPOLL', 'SIGUNUSED']);

const BY_NUMBER: ReadonlyMap<number, string> = new Map(
  Object.entries(SIGNALS).filter(([n]) => !ALIASES.has(n)).map(([n, v]) => [v, n] as const),
);

function unknown(raw: string): TsrunError {
  return new TsrunError('ERR_TSRUN_SIGNAL', `unknown signal ${JSON.stringify(raw)}`, {
    hint: 'use a number (9) or a name with or without SIG, any case: KILL, SIGTERM, hup, SIGRTMIN+3',
  });
}

/** "9" → 9, "KILL" / "sigkill" / "SIGKILL" → 9, "SIGRTMIN+3" → 37, "RTMAX-1" → 63. */
export function parseSignal(raw: string): number {
  const s = raw.trim();
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n > SIGRTMAX) throw unknown(raw);
    return n;
  }
  let name = s.toUpperCase();
  if (!name.startsWith('SIG')) name = 'SIG' + name;
  const direct = SIGNALS[name];
  if (direct !== undefined) return direct;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
    const n = base + off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw unknown(raw);
}

/** 9 → "SIGKILL", 37 → "SIGRTMIN+3", 64 → "SIGRTMAX"; anything else → "signal N". */
export function signalName(n: number): string {
  const known = BY_NUMBER.get(n);
  if (known) return known;
  if (n === SIGRTMIN) return 'SIGRTMIN';
  if (n === SIGRTMAX) return 'SIGRTMAX';
  if (n > SIGRTMIN && n < SIGRTMAX) return n - SIGRTMIN <= SIGRTMAX - n ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
  return `signal ${n}`;
}
