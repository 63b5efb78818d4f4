#!/usr/bin/env node
// Bundle the CLI with esbuild: every call pays one Node start, and what it loads on top of that is the part we
// control (node-limits.md §5; the measurements behind each choice are in docs/performance.md).
//
//   dist/tsrun.cjs               the entry: the chunk loader (below), then bundle/main-<hash>.cjs
//   dist/bundle/main-<hash>.cjs  main.ts, flag parsing, the command table (what every call needs)
//   dist/bundle/*.cjs            one chunk per lazily imported command implementation, plus the chunks esbuild
//                                shares between them; `await import(...)` in cli/commands/*.ts stays lazy
//   dist/bundle/*.cjs.v8cache    V8 code cache of each chunk, made here with the node the launcher runs
//
// Three steps, each worth milliseconds per call:
//   1. esbuild code splitting (format esm, splitting) decides the chunks: a command loads only its own code;
//   2. each chunk is transformed to CommonJS (import() → a require inside a promise): loading any ES module at
//      all starts Node's ESM loader, ≈ 4 ms before our first line;
//   3. chunks are not loaded by require() but by a 20-line loader in the entry (`__tsrun_load`) that compiles
//      each with its V8 code cache: require() costs ≈ 0.3 ms per chunk in resolution, package scope lookups and
//      compiling, and `create` loads ~20 chunks, one of them the 140 KB of generated validators. A rejected or
//      missing cache (another node binary, different V8 flags) only means a normal compile;
//   4. packs: a command chunk's static imports in one file with one cache (writePacks), and caches trained by
//      running each command once in its own child — create and run in a sandbox that redirects cgroupfs into a
//      temp dir and replaces the executor with /bin/false (nothing on the host is touched).
//
// External: koffi (a native addon, loaded lazily by src/sys only on paths that need an FFI call) and yargs (only
// `--help` loads it, through createRequire, and it reads its locale files relative to its own directory).
// The generated ajv validators (src/spec/generated/validators.ts) are self-contained code: they are bundled into
// the chunk of the commands that validate a config.
//
// Run by hack/build.mjs after tsc; the launcher (bin/tsrun) then points at dist/tsrun.cjs.
//   node hack/bundle.mjs --analyze     what each output file contains and loads
//   node hack/bundle.mjs --no-v8cache  plain require() of the chunks (for comparison)
//   node hack/bundle.mjs --no-train    code caches of the top level only (for comparison)
//   node hack/bundle.mjs --outdir D    write D/tsrun.cjs and D/bundle/ instead of dist/ (hack/bench.mjs compares)
import { build, transform } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argOut = process.argv.indexOf('--outdir');
const outdir = argOut > 0 ? resolve(process.argv[argOut + 1]) : join(root, 'dist');
const bundleDir = join(outdir, 'bundle');
const URL_VAR = '__tsrun_import_meta_url';
const LOAD = '__tsrun_load';
const TRAIN = '__tsrun_v8cache_training';
const useCache = !process.argv.includes('--no-v8cache');

const result = await build({
  absWorkingDir: root,
  entryPoints: { tsrun: 'src/cli/main.ts' },
  outdir,
  entryNames: '[name]',
  chunkNames: 'bundle/[name]-[hash]',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // x11, usocket: optional modules dbus-next requires only on paths tsrun never takes (X11 session lookup, abstract sockets)
  external: ['koffi', 'yargs', 'yargs/*', 'x11', 'usocket'],
  // yargs-parser's "import" condition is its ESM build.
  conditions: ['import'],
  mainFields: ['module', 'main'],
  // main.ts finds the package root from its own location; help.ts and src/sys resolve packages from it.
  define: { 'import.meta.url': URL_VAR },
  minifySyntax: true,     // drops dead code; names and layout stay readable in stack traces (minify: no gain)
  legalComments: 'none',
  metafile: true,
  write: false,
  logLevel: 'warning',
});

// The wrapper a chunk is compiled in: CommonJS's, plus the loader for the chunks it needs.
const PARAMS = ['exports', 'require', 'module', '__filename', '__dirname', LOAD];
const HEAD = `(function (${PARAMS.join(', ')}) {`;
const TAIL = '\n})';

// Loads dist/bundle/<name> once, compiled with its code cache when V8 accepts it. A command's chunk may come with a
// pack (PACKS: chunk → pack file): one file holding the chunks it imports statically, compiled with one cache; each
// packed chunk still runs only when it is first loaded, as it would from its own file.
const loader = (packs) => `var ${LOAD} = (() => {
  const fs = require("node:fs"), path = require("node:path"), vm = require("node:vm");
  const dir = path.join(__dirname, "bundle"), loaded = Object.create(null), packed = Object.create(null);
  const packs = ${JSON.stringify(packs)};
  const compile = (file, source) => {
    let cachedData;
    try { cachedData = fs.readFileSync(file + ".v8cache"); } catch { /* compile without */ }
    const script = new vm.Script(source, { filename: file, cachedData });
    globalThis.${TRAIN}?.push([file, script]);   // only hack/bundle.mjs's training run sets it
    return script.runInThisContext();
  };
  return function load(name, asFile) {
    const hit = loaded[name];
    if (hit) return hit.exports;
    const pack = packs[name];
    if (pack && !packed[name]) {
      const file = path.join(dir, pack);
      for (const [n, fn] of compile(file, fs.readFileSync(file, "utf8"))) packed[n] ??= fn;
    }
    const file = path.join(dir, name);
    const fn = packed[name] ?? compile(file, ${JSON.stringify(HEAD)} + fs.readFileSync(file, "utf8") + ${JSON.stringify(TAIL)});
    const module = loaded[name] = { exports: {} };
    fn.call(module.exports, module.exports, require, module, asFile ?? file, dir, load);
    return module.exports;
  };
})();
`;

rmSync(join(outdir, 'tsrun.mjs'), { force: true });
mkdirSync(bundleDir, { recursive: true });
const written = new Set(['meta.json']);
// Each file is replaced atomically: other tsrun calls may be running from this tree while it is rebuilt.
const put = (file, data) => { writeFileSync(`${file}.tmp-${process.pid}`, data); renameSync(`${file}.tmp-${process.pid}`, file); };
const chunkNames = result.outputFiles.map((f) => basename(f.path));
const entryPath = join(outdir, 'tsrun.cjs');
const finalCode = new Map();   // file name → the code written
// Packs: every chunk and file read costs (≈ 0.1 ms each: two reads, a compile with its cache, a call) and `create`
// loads ~25 chunks. For each command chunk the entry imports lazily, the chunks it imports statically (minus what
// the entry itself already loaded) go into one file, `pack-<hash>.cjs`: an array of [name, function] compiled
// with one code cache. The chunk files stay (lazy imports within a command, other commands sharing them).
function writePacks(mainName) {
  const out = Object.fromEntries(Object.entries(result.metafile.outputs).map(([p, o]) => [basename(p) === 'tsrun.cjs' ? mainName : basename(p), o]));
  const closure = (name, seen = new Set()) => {
    if (seen.has(name)) return seen;
    seen.add(name);
    for (const i of out[name]?.imports ?? []) if (!i.external && i.kind !== 'dynamic-import') closure(basename(i.path), seen);
    return seen;
  };
  const base = closure(mainName);
  const packs = {};
  for (const name of base) for (const i of out[name].imports) {
    const cmd = basename(i.path);
    if (i.external || i.kind !== 'dynamic-import' || packs[cmd]) continue;
    const members = [...closure(cmd)].filter((n) => !base.has(n));
    if (members.length < 3) continue;
    const source = '[\n' + members.map((n) => `[${JSON.stringify(n)}, ${HEAD}${finalCode.get(n)}${TAIL}]`).join(',\n') + '\n]';
    const packName = `pack-${createHash('sha256').update(source).digest('hex').slice(0, 8).toUpperCase()}.cjs`;
    put(join(bundleDir, packName), source);
    put(join(bundleDir, packName + '.v8cache'), new vm.Script(source, { filename: join(bundleDir, packName) }).createCachedData());
    written.add(packName).add(packName + '.v8cache');
    packs[cmd] = packName;
  }
  return packs;
}
// The entry last: a tsrun starting mid-build must find every chunk the new entry names.
for (const f of [...result.outputFiles].sort((a, b) => Number(a.path === entryPath) - Number(b.path === entryPath))) {
  let { code } = await transform(f.text, {
    format: 'cjs', platform: 'node', target: 'node20', minifySyntax: true, legalComments: 'none',
    supported: { 'dynamic-import': false },   // import('./x.cjs') → Promise.resolve().then(() => require(...))
  });
  // ASCII only: esbuild escapes strings but copies the comments it keeps (on class fields) as they are, and one
  // "→" makes V8 hold a whole 450 KB pack as a two-byte string: a slower read and decode, twice the memory.
  // \uXXXX means the same character in strings, template literals, regexps and identifiers, and is inert in comments.
  code = code.replace(/[^\x00-\x7f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const isEntry = f.path === entryPath;
  // With the loader, the entry's code is a cached chunk too (bundle/main-*.cjs) and dist/tsrun.cjs only loads it,
  // passing its own path as __filename: main.ts compares that with process.argv[1] to know it is the program.
  if (useCache) {
    // require("./bundle/x.cjs") in the entry, require("./x.cjs") in a chunk → the loader.
    code = code.replace(/\brequire\("\.\/(?:bundle\/)?([^"/]+\.cjs)"\)/g, (m, name) => (chunkNames.includes(name) ? `${LOAD}(${JSON.stringify(name)})` : m));
  }
  if (code.includes(URL_VAR)) code = `var ${URL_VAR} = require("node:url").pathToFileURL(__filename).href;\n${code}`;
  // V8 checks a code cache against the source's length only: every chunk name carries a hash of its content
  // (esbuild's [hash]; main's is added here), so a changed chunk never meets an old cache.
  const mainName = `main-${createHash('sha256').update(code).digest('hex').slice(0, 8).toUpperCase()}.cjs`;
  const file = isEntry && useCache ? join(bundleDir, mainName) : f.path;
  put(file, code);
  written.add(basename(file)).add(basename(file) + '.v8cache');
  if (useCache) {
    // Top-level code only: functions compiled later at run time are not in it, which is enough to skip the
    // full parse of every chunk on every call.
    const script = new vm.Script(HEAD + code + TAIL, { filename: file });
    put(file + '.v8cache', script.createCachedData());
  }
  finalCode.set(basename(file), code);
  if (isEntry && useCache) put(f.path, `${loader(writePacks(mainName))}module.exports = ${LOAD}(${JSON.stringify(mainName)}, __filename);\n`);
}
put(join(bundleDir, 'meta.json'), JSON.stringify(result.metafile));

// Training: V8 writes into a code cache the functions compiled so far, so a cache made before running holds the
// top level only, and the first call of every function (yargs-parser's parse, the validators, the compiler) is
// still parsed and compiled on every tsrun call. A child node loads the entry, runs a few commands that touch
// nothing outside a temp dir, and rewrites the caches of the chunks it loaded. Best effort: without it the
// top-level caches above stay.
if (useCache && !process.argv.includes('--no-train')) {
  // One child per command: a command's pack holds its own copy of the chunks it shares with other commands, and
  // only the copy that ran gets trained. A cache is replaced only by a larger one (more functions compiled).
  const trainer = `
    globalThis.${TRAIN} = [];
    const fs = require('node:fs'), path = require('node:path');
    const { argv, tmp, sandboxed } = JSON.parse(process.argv[1]);
    // create and run, in a sandbox: every path under a cgroup mount point (from the real mountinfo) is redirected
    // into the temp dir, which plays cgroupfs (a file a cgroup directory would have is there, empty, when touched),
    // and the executor is replaced by /bin/false. So create runs its real code — config, state dir, cgroups,
    // resources, compile, encode, open the plan's fds, spawn — then "the init exited during setup" and the
    // failed-create cleanup (destroy), without touching a cgroup, a namespace or a mount of the host.
    function sandbox(tmp) {
      const fake = path.join(tmp, 'cgroupfs');
      const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').map((l) => l.split(' '))
        .filter((f) => /^cgroup2?$/.test(f[f.indexOf('-') + 1] ?? '')).map((f) => f[4]);
      const redirect = (p) => typeof p === 'string' && mounts.some((m) => p === m || p.startsWith(m + '/')) ? fake + p : p;
      for (const m of mounts) fs.mkdirSync(fake + m, { recursive: true });
      const orig = {};
      const fileOps = new Set(['readFileSync', 'writeFileSync', 'appendFileSync', 'openSync']);
      // the v1 devices controller, as far as create's read-back check needs it: devices.list after deny/allow writes
      const devices = new Map();
      const deviceRules = (q, kind, data) => {
        let l = devices.get(path.dirname(q)) ?? ['a *:* rwm'];
        if (kind === 'devices.list') return l.join('\\n') + '\\n';
        const r = String(data).trim();
        const all = r === 'a' || r.startsWith('a ');
        l = kind === 'devices.deny' ? (all ? [] : l.filter((x) => x !== r)) : all ? ['a *:* rwm'] : [...l.filter((x) => x !== r), r];
        devices.set(path.dirname(q), l);
      };
      for (const [name, f] of Object.entries(fs)) {
        if (typeof f !== 'function' || !name.endsWith('Sync')) continue;
        orig[name] = f;
        fs[name] = function (p, ...rest) {
          const q = redirect(p);
          if (q === p) return f.call(this, p, ...rest);
          const base = path.basename(q);
          if (name === 'rmdirSync') return orig.rmSync(q, { recursive: true });
          if (name === 'readFileSync' && base === 'devices.list') { const t = deviceRules(q, base); return rest[0] ? t : Buffer.from(t); }
          if (name === 'writeFileSync' && /^devices\\.(allow|deny)$/.test(base)) deviceRules(q, base, rest[0]);
          if (fileOps.has(name) && !orig.existsSync(q) && orig.existsSync(path.dirname(q))) orig.writeFileSync(q, '');
          const r = f.call(this, q, ...rest);
          if (name === 'openSync' && /^devices\\.(allow|deny)$/.test(base)) deviceFds.set(r, q);
          return r;
        };
      }
      const deviceFds = new Map(), { writeSync, closeSync } = fs;
      fs.writeSync = function (fd, data, ...rest) { if (deviceFds.has(fd)) deviceRules(deviceFds.get(fd), path.basename(deviceFds.get(fd)), data); return writeSync.call(this, fd, data, ...rest); };
      fs.closeSync = function (fd) { deviceFds.delete(fd); return closeSync.call(this, fd); };
      const cp = require('node:child_process'), spawn = cp.spawn;
      cp.spawn = (file, ...rest) => spawn(String(file).endsWith('/tsrun-executor') ? '/bin/false' : file, ...rest);
    }
    if (sandboxed) sandbox(tmp);
    const { main } = require(${JSON.stringify(entryPath)});
    (async () => {
      await main(argv);
      for (const [file, script] of globalThis.${TRAIN}) {
        const data = script.createCachedData();
        let size = 0;
        try { size = fs.statSync(file + '.v8cache').size; } catch { /* none yet */ }
        if (data.length < size) continue;
        fs.writeFileSync(file + '.v8cache.tmp-' + process.pid, data);
        fs.renameSync(file + '.v8cache.tmp-' + process.pid, file + '.v8cache');
      }
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const tmp = mkdtempSync(join(tmpdir(), 'tsrun-v8cache-'));
  const root = join(tmp, 'root'), sb = join(tmp, 'sandbox');
  const runs = [['--version'], ['--root', root, 'state', 'x'], ['--root', root, 'list'], ['features'],
    ['spec', '--bundle', tmp], ['--root', root, 'explain', '--bundle', tmp, 'x'], ['--root', root, 'kill', 'x', 'KILL'],
    ['--root', root, 'start', 'x'], ['--root', root, 'delete', 'x'], ['--root', root, 'delete', '-f', 'x'],
    ['--root', root, 'create', '--bundle', sb, '--pid-file', join(tmp, 'pid'), 'c'], ['--root', root, 'run', '--bundle', sb, 'r']];
  try {
    for (const argv of runs) {
      const sandboxed = argv.includes(sb);
      if (sandboxed && !existsSync(sb)) {
        // the config `spec` wrote, made runnable: no terminal, a rootfs, a cgroups path of its own
        const config = JSON.parse(readFileSync(join(tmp, 'config.json'), 'utf8'));
        mkdirSync(join(sb, 'rootfs'), { recursive: true });
        Object.assign(config.process, { terminal: false, args: ['/bin/true'] });
        config.root = { path: join(sb, 'rootfs'), readonly: true };
        config.linux.cgroupsPath = '/tsrun-v8cache-training/' + process.pid;
        writeFileSync(join(sb, 'config.json'), JSON.stringify(config));
      }
      const r = spawnSync(process.execPath, ['-e', trainer, JSON.stringify({ argv, tmp, sandboxed })], { cwd: outdir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (r.status !== 0) console.error(`bundle: code cache training with \`${argv.join(' ')}\` failed:\n${r.stderr}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
// Old chunks go last, so a tsrun that started before this build can still load the chunks its entry names.
for (const name of readdirSync(bundleDir)) if (!written.has(name)) rmSync(join(bundleDir, name), { force: true });

if (process.argv.includes('--analyze')) {
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    const inputs = Object.entries(out.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
    const deps = out.imports.filter((i) => !i.external).map((i) => relative(outdir, i.path) + (i.kind === 'dynamic-import' ? '*' : ''));
    console.log(`${relative(root, file)}  ${(out.bytes / 1024).toFixed(1)} KB  loads: ${[...new Set(deps)].join(', ') || '-'}`);
    for (const [name, i] of inputs.slice(0, 6)) console.log(`    ${(i.bytesInOutput / 1024).toFixed(1).padStart(6)} KB ${name}`);
  }
}
