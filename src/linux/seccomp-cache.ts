/**
 * A cache of compiled seccomp filters, so that a profile seen before costs a file read instead of loading koffi
 * and libseccomp (≈ 20 ms: Docker and podman pass their default profile with every container, and `exec` into such
 * a container compiles it again). docs/performance.md has the numbers.
 *
 * Key: SHA-256 over everything compileSeccomp's result depends on —
 *   - linux.seccomp as canonical JSON (keys sorted), without listenerPath and listenerMetadata: compileSeccomp
 *     never reads them (the listener is connected by create, the metadata goes in the agent's message), and
 *     podman/Docker-style callers vary them per container;
 *   - the host: process.arch (libseccomp's native arch), the kernel (uname release + version: libseccomp probes the
 *     kernel's seccomp actions and flags when it builds a filter);
 *   - the libseccomp that koffi would load, identified WITHOUT loading it: LD_LIBRARY_PATH/LD_PRELOAD, the
 *     identity (dev, inode, size, mtime, ctime) of /etc/ld.so.cache and of every libseccomp.so.2 the dynamic
 *     loader could pick (src/sys/libseccomp.ts's candidates, the multiarch and ld.so.conf directories);
 *   - tsrun's build: dist/build-info.json's content and identity (the build rewrites it every time, so a rebuilt
 *     tsrun never reads an entry of an older one), TSRUN_VERSION and this file's CACHE_FORMAT.
 *
 * Entry `<dir>/<key hex>`: "TSRSECC\0" · u32 format · key (32 bytes) · SHA-256 of the body · u32 body length · body,
 * body := u32 meta length · meta JSON {flags, notify, unknownSyscalls, warnings} · program (sock_filter[]).
 * The cache is treated as untrusted-ish: the directories (state root, @cache, seccomp) and the file must belong to
 * the caller's euid and be writable by nobody else; magic, format, key echo, body checksum, meta types and the
 * program size (a multiple of 8, 1 … BPF_MAXINSNS instructions) are checked; on any mismatch or read error the
 * profile is compiled as if there were no cache, and the entry is overwritten. Writes go to a temp file renamed into
 * place, so concurrent writers and readers only ever see complete entries. At most `maxEntries` entries are kept;
 * a hit refreshes the entry's mtime, so eviction (after a write, oldest mtime first) is least-recently-used.
 *
 * Pure apart from the file system: the compiler is a parameter, so tests run it with a fake and a temp dir.
 */
import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';
import {
  closeSync, constants as C, fstatSync, futimesSync, lstatSync, mkdirSync, openSync, readdirSync,
  renameSync, statSync, unlinkSync, writeSync, type BigIntStats,
} from 'node:fs';
import { release, version } from 'node:os';
import { dirname, join } from 'node:path';
import type { Seccomp } from '../spec/types.js';
import { TSRUN_VERSION } from '../version.js';
import type { CompiledSeccomp } from './seccomp.js';
import { readWholeFd } from '../sys/read-fd.js';

/**
 * node:crypto, loaded on first use: create imports this module statically, and loading crypto costs ≈ 2.5 ms that
 * a config without linux.seccomp must not pay (docs/performance.md). getBuiltinModule: Node ≥ 20.16.
 */
let crypto: typeof Crypto | undefined;
const cryptoModule = (): typeof Crypto => (crypto ??= (process.getBuiltinModule?.('node:crypto') ?? createRequire(import.meta.url)('node:crypto')) as typeof Crypto);
const sha256 = () => cryptoModule().createHash('sha256');

/** Bump when the entry layout or the key's inputs change. */
export const CACHE_FORMAT = 1;
export const DEFAULT_MAX_ENTRIES = 64;
const MAGIC = Buffer.from('TSRSECC\0', 'latin1');
const HEADER_LEN = MAGIC.length + 4 + 32 + 32 + 4;
const BPF_MAXINSNS = 4096;
/** Temp files older than this are a crashed writer's: eviction removes them. */
const STALE_TMP_MS = 60_000;

/** What the key takes from the host besides the profile (computed by hostIdentity; tests pass their own). */
export interface HostIdentity { arch: string; kernel: string; lib: string; build: string }

export interface CacheOptions {
  /** The cache directory, e.g. `<root>/@cache/seccomp`; its parent is created 0700 too. */
  dir: string;
  /** dist/build-info.json of this tsrun. */
  buildInfo?: string;
  /** false: look up only (explain creates nothing). Default true. */
  write?: boolean;
  maxEntries?: number;
  log?: { debug(msg: string): void };
  host?: HostIdentity;
}

export interface CacheResult { compiled: CompiledSeccomp; hit: boolean }

/**
 * compileSeccomp through the cache. Never fails because of the cache: any cache problem is logged at debug level
 * and the profile compiled; errors of the compiler itself (a bad profile, no libseccomp) propagate unchanged.
 */
export function cachedCompileSeccomp(sc: Seccomp, compile: (sc: Seccomp) => CompiledSeccomp, o: CacheOptions): CacheResult {
  const l = lookup(sc, o);
  if (l.compiled) return { compiled: l.compiled, hit: true };
  return { compiled: store(l, compile(sc), o), hit: false };
}

/** The same, loading the compiler only on a miss (exec: a hit then loads neither libseccomp's wrapper nor koffi). */
export async function cachedCompileSeccompLazy(sc: Seccomp, loadCompile: () => Promise<(sc: Seccomp) => CompiledSeccomp>, o: CacheOptions): Promise<CacheResult> {
  const l = lookup(sc, o);
  if (l.compiled) return { compiled: l.compiled, hit: true };
  const compile = await loadCompile();
  return { compiled: store(l, compile(sc), o), hit: false };
}

interface Lookup { key?: Buffer; path?: string; compiled?: CompiledSeccomp }

function lookup(sc: Seccomp, o: CacheOptions): Lookup {
  try {
    const key = cacheKey(sc, o.host ?? hostIdentity(o.buildInfo));
    const path = join(o.dir, key.toString('hex'));
    const got = readEntry(o.dir, path, key);
    if (typeof got !== 'string') return { key, path, compiled: got };
    if (got !== 'absent') o.log?.debug(`seccomp cache: ${path}: ${got}; compiling again`);
    return { key, path };
  } catch (e) {
    o.log?.debug(`seccomp cache: lookup: ${(e as Error).message}`);
    return {};
  }
}

function store(l: Lookup, compiled: CompiledSeccomp, o: CacheOptions): CompiledSeccomp {
  if (l.key && l.path && o.write !== false) {
    try {
      writeEntry(o.dir, l.path, encodeEntry(l.key, compiled));
      evict(o.dir, o.maxEntries ?? DEFAULT_MAX_ENTRIES);
    } catch (e) {
      o.log?.debug(`seccomp cache: store: ${(e as Error).message}`);
    }
  }
  return compiled;
}

// ── the key ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** JSON with object keys sorted at every level (bigints as {"$bigint": "…"}), so equal profiles hash equally. */
export function canonicalJson(v: unknown): string {
  if (typeof v === 'bigint') return JSON.stringify({ $bigint: v.toString() });
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The fields compileSeccomp reads: everything but the listener's path and metadata. */
export function profileForKey(sc: Seccomp): Omit<Seccomp, 'listenerPath' | 'listenerMetadata'> {
  const { listenerPath: _p, listenerMetadata: _m, ...rest } = sc;
  return rest;
}

export function cacheKey(sc: Seccomp, host: HostIdentity): Buffer {
  const h = sha256();
  for (const part of [`tsrun-seccomp-cache ${CACHE_FORMAT}`, `tsrun ${TSRUN_VERSION}`, host.build, host.arch, host.kernel, host.lib, canonicalJson(profileForKey(sc))]) {
    h.update(part).update('\0');
  }
  return h.digest();
}

const id = (s: BigIntStats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;

function fileId(path: string): string {
  try {
    return id(statSync(path, { bigint: true }));
  } catch (e) {
    return `-${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

const MULTIARCH: Partial<Record<string, string>> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf', ia32: 'i386-linux-gnu', ppc64: 'powerpc64le-linux-gnu', s390x: 's390x-linux-gnu', riscv64: 'riscv64-linux-gnu' };

/**
 * Where the dynamic loader may find libseccomp.so.2 for `dlopen("libseccomp.so.2")` and src/sys/libseccomp.ts's
 * absolute fallbacks: LD_LIBRARY_PATH, the directories of ld.so.cache (ld.so.conf's usual ones), the defaults.
 */
export function libseccompCandidates(env: NodeJS.ProcessEnv = process.env, arch = process.arch): string[] {
  const ma = MULTIARCH[arch];
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(/[:;]/).filter(Boolean),
    '/usr/local/lib', ...(ma ? [`/usr/local/lib/${ma}`, `/lib/${ma}`, `/usr/lib/${ma}`] : []),
    '/lib64', '/usr/lib64', '/lib', '/usr/lib',
  ];
  return [...new Set(dirs.map((d) => join(d, 'libseccomp.so.2')))];
}

/** The host's part of the key: a few stat calls and uname, no FFI. */
export function hostIdentity(buildInfo?: string): HostIdentity {
  const lib = [`LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH ?? ''}`, `LD_PRELOAD=${process.env.LD_PRELOAD ?? ''}`,
    `ld.so.cache ${fileId('/etc/ld.so.cache')}`, ...libseccompCandidates().map((p) => `${p} ${fileId(p)}`)];
  let build = 'no build-info';
  if (buildInfo) {
    try {
      build = `${readSmall(buildInfo).toString('utf8').trim()} ${fileId(buildInfo)}`;
    } catch (e) {
      build = `build-info ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
    }
  }
  return { arch: process.arch, kernel: `${release()} ${version()}`, lib: lib.join('\n'), build };
}

// ── entries ────────────────────────────────────────────────────────────────────────────────────────────────────

interface Meta { flags: string; notify: boolean; unknownSyscalls: string[]; warnings: string[] }

export function encodeEntry(key: Buffer, c: CompiledSeccomp): Buffer {
  const meta: Meta = { flags: c.flags.toString(), notify: c.notify, unknownSyscalls: c.unknownSyscalls, warnings: c.warnings };
  const metaBuf = Buffer.from(JSON.stringify(meta), 'utf8');
  const body = Buffer.alloc(4 + metaBuf.length + c.program.length);
  body.writeUInt32LE(metaBuf.length, 0);
  metaBuf.copy(body, 4);
  body.set(c.program, 4 + metaBuf.length);
  const head = Buffer.alloc(HEADER_LEN);
  let at = MAGIC.copy(head, 0);
  at = head.writeUInt32LE(CACHE_FORMAT, at);
  at += key.copy(head, at);
  at += sha256().update(body).digest().copy(head, at);
  head.writeUInt32LE(body.length, at);
  return Buffer.concat([head, body]);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** The entry's content, or why it is not usable. */
export function decodeEntry(buf: Buffer, key: Buffer): CompiledSeccomp | string {
  if (buf.length < HEADER_LEN) return 'truncated header';
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return 'bad magic';
  let at = MAGIC.length;
  const format = buf.readUInt32LE(at);
  if (format !== CACHE_FORMAT) return `format ${format}, expected ${CACHE_FORMAT}`;
  at += 4;
  if (!buf.subarray(at, at + 32).equals(key)) return 'key mismatch';
  at += 32;
  const sum = buf.subarray(at, at + 32);
  at += 32;
  const bodyLen = buf.readUInt32LE(at);
  at += 4;
  if (buf.length !== at + bodyLen) return `body length ${buf.length - at}, header says ${bodyLen}`;
  const body = buf.subarray(at);
  if (!sha256().update(body).digest().equals(sum)) return 'checksum mismatch';
  if (body.length < 4) return 'truncated body';
  const metaLen = body.readUInt32LE(0);
  if (4 + metaLen > body.length) return 'bad meta length';
  let meta: Meta;
  try {
    meta = JSON.parse(body.subarray(4, 4 + metaLen).toString('utf8')) as Meta;
  } catch {
    return 'meta is not JSON';
  }
  if (typeof meta?.flags !== 'string' || !/^\d{1,20}$/.test(meta.flags) || typeof meta.notify !== 'boolean'
    || !isStrings(meta.unknownSyscalls) || !isStrings(meta.warnings)) return 'bad meta';
  const prog = body.subarray(4 + metaLen);
  if (prog.length === 0 || prog.length % 8 !== 0 || prog.length / 8 > BPF_MAXINSNS) return `bad program length ${prog.length}`;
  // a copy: the program outlives the read buffer and must not alias the rest of the file
  const program = new Uint8Array(prog.length);
  program.set(prog);
  return { program, flags: BigInt(meta.flags), notify: meta.notify, unknownSyscalls: meta.unknownSyscalls, warnings: meta.warnings };
}

/** Ours and writable by nobody else (a filter from a file someone else could write would be theirs, not ours). */
function trusted(s: { uid: number; mode: number }): string | undefined {
  const euid = process.geteuid?.() ?? 0;
  if (s.uid !== euid) return `owned by uid ${s.uid}, not ${euid}`;
  if (s.mode & 0o022) return `writable by group or others (mode ${(s.mode & 0o7777).toString(8)})`;
  return undefined;
}

/** The directory chain up to the state root: the root may be a symlink, the cache directories must not be. */
function checkDirs(dir: string): string | undefined {
  const cacheRoot = dirname(dir);
  for (const [p, s] of [[dir, lstatSync(dir)], [cacheRoot, lstatSync(cacheRoot)], [dirname(cacheRoot), statSync(dirname(cacheRoot))]] as const) {
    if (!s.isDirectory()) return `${p} is not a directory`;
    const why = trusted(s);
    if (why) return `${p} ${why}`;
  }
  return undefined;
}

function readSmall(path: string, fd?: number): Buffer {
  const f = fd ?? openSync(path, C.O_RDONLY);
  try {
    return readWholeFd(f);
  } finally {
    if (fd === undefined) closeSync(f);
  }
}

/** 'absent' (no entry: the ordinary miss), another string (why the entry was refused), or the compiled filter. */
function readEntry(dir: string, path: string, key: Buffer): CompiledSeccomp | string {
  let fd: number;
  try {
    fd = openSync(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'absent' : `open: ${code ?? (e as Error).message}`;
  }
  try {
    const dirProblem = checkDirs(dir);
    if (dirProblem) return dirProblem;
    const s = fstatSync(fd);
    if (!s.isFile()) return 'not a regular file';
    const why = trusted(s);
    if (why) return why;
    if (s.size > HEADER_LEN + 1024 * 1024 + BPF_MAXINSNS * 8) return `too large (${s.size} bytes)`;
    const got = decodeEntry(readSmall(path, fd), key);
    if (typeof got !== 'string') {
      const now = new Date();
      try { futimesSync(fd, now, now); } catch { /* LRU order only */ }
    }
    return got;
  } finally {
    closeSync(fd);
  }
}

function writeEntry(dir: string, path: string, data: Buffer): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const problem = checkDirs(dir);
  if (problem) throw new Error(`not writing: ${problem}`);
  const tmp = join(dir, `.tmp.${process.pid}.${cryptoModule().randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path); // replaces a corrupt entry, or another writer's equal one
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
}

/** Keep at most `max` entries (oldest mtime goes first) and drop temp files a crashed writer left. */
export function evict(dir: string, max: number, now = Date.now()): string[] {
  const names = readdirSync(dir);
  const removed: string[] = [];
  const entries: { name: string; mtime: number }[] = [];
  for (const name of names) {
    let s;
    try { s = lstatSync(join(dir, name)); } catch { continue; }
    if (name.startsWith('.tmp.')) {
      if (now - s.mtimeMs > STALE_TMP_MS) removed.push(name);
    } else if (/^[0-9a-f]{64}$/.test(name) && s.isFile()) {
      entries.push({ name, mtime: s.mtimeMs });
    }
  }
  if (entries.length > max) {
    entries.sort((a, b) => a.mtime - b.mtime || (a.name < b.name ? -1 : 1));
    removed.push(...entries.slice(0, entries.length - max).map((e) => e.name));
  }
  for (const name of removed) {
    try { unlinkSync(join(dir, name)); } catch { /* a concurrent evict got it */ }
  }
  return removed;
}
