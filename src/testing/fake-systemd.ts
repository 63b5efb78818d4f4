/**
 * A test double of systemd's manager on a private, real `dbus-daemon` (systemd is not PID 1 on the test machines).
 *
 * startFakeSystemd() (used by tests) writes a system-bus-like config (EXTERNAL auth, root allowed, anyone may own
 * org.freedesktop.systemd1), starts `dbus-daemon --config-file=… --print-address`, then runs this file as a
 * separate Node process (tests call runtimes with spawnSync, which would block a double living in the test's own
 * event loop) that owns org.freedesktop.systemd1 and answers on /org/freedesktop/systemd1:
 *   StartTransientUnit(s name, s mode, a(sv) props, a(sa(sv)) aux) → o job; then JobRemoved(u, o, s, s "done")
 *     — for a scope it does what systemd does with the cgroups: mkdir <hierarchy>/<slice path>/<unit> in every
 *     hierarchy under the cgroup root (v1 ones and unified; cpuset cpus/mems copied down) and writes each of PIDs
 *     into its cgroup.procs;
 *   StopUnit(s, s) → o job: SIGKILL what is left in the scope, rmdir its directories; JobRemoved "done";
 *     an unknown unit → org.freedesktop.systemd1.NoSuchUnit;
 *   SetUnitProperties(s, b, a(sv)), GetUnit(s) → o, ResetFailedUnit(s), Properties.Get(Manager.Version).
 * Every call is appended to <dir>/calls.jsonl with its decoded properties. <dir>/control.json changes behaviour
 * between calls: {"startResult": "failed"} makes the next start jobs fail (nothing is created, as systemd).
 *
 * Safety: with the real /sys/fs/cgroup as root, the double refuses any slice that is not under a "tsrun_test"
 * slice, so nothing outside the test's own slice is ever touched. stop() kills the double and the daemon by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expandSlice } from '../linux/cgroups/systemd-path.js';

export interface FakeCall {
  method: string;
  unit?: string;
  mode?: string;
  runtime?: boolean;
  /** [name, signature, value] in the order sent; bigint → number (or string past 2^53), bytes → number[]. */
  props?: [string, string, unknown][];
  /** What the double answered: "done"/"failed" for jobs, or a D-Bus error name. */
  answer?: string;
}

export interface FakeSystemd {
  /** unix:path=… of the private bus: give it to runtimes as DBUS_SYSTEM_BUS_ADDRESS. */
  address: string;
  dir: string;
  calls(): FakeCall[];
  control(c: { startResult?: string }): void;
  /** Kill the double and the daemon (by pid) and remove the temp dir. */
  stop(): Promise<void>;
}

/** Properties of a call as a name → last value map (DeviceAllow is sent twice, like runc). */
export function propMap(c: FakeCall): Record<string, unknown> {
  return Object.fromEntries((c.props ?? []).map(([n, , v]) => [n, v]));
}

function busConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="org.freedesktop.systemd1"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow send_type="signal"/>
  </policy>
</busconfig>
`;
}

function readLine(p: ChildProcess, pattern: RegExp, what: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => done(new Error(`${what}: nothing matching ${pattern} in ${timeoutMs} ms (stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)})`)), timeoutMs);
    const onOut = (b: Buffer) => { out += b; const m = pattern.exec(out); if (m) done(undefined, m[0]); };
    const onErr = (b: Buffer) => { err += b; };
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before it was ready: ${err}`));
    const done = (e?: Error, line?: string) => {
      clearTimeout(t);
      p.stdout!.off('data', onOut);
      p.stderr!.off('data', onErr);
      p.off('exit', onExit);
      if (e) reject(e); else resolve(line!);
    };
    p.stdout!.on('data', onOut);
    p.stderr!.on('data', onErr);
    p.on('exit', onExit);
  });
}

const kill = async (p: ChildProcess | undefined) => {
  if (!p?.pid || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  try { process.kill(p.pid, 'SIGKILL'); } catch { return; }
  await gone;
};

/**
 * Start a private dbus-daemon and the double on it. cgroupRoot: where the hierarchies are (a temp tree in unit
 * tests); withoutManager: the bus alone, nobody owning org.freedesktop.systemd1.
 */
export async function startFakeSystemd(o: { cgroupRoot?: string; version?: string; withoutManager?: boolean } = {}): Promise<FakeSystemd> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-fake-systemd-'));
  const socket = join(dir, 'system_bus_socket');
  writeFileSync(join(dir, 'bus.conf'), busConfig(socket));
  writeFileSync(join(dir, 'calls.jsonl'), '');
  let daemon: ChildProcess | undefined;
  let double: ChildProcess | undefined;
  const stop = async () => {
    await kill(double);
    await kill(daemon);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    daemon = spawn('dbus-daemon', [`--config-file=${join(dir, 'bus.conf')}`, '--print-address', '--nofork', '--nopidfile'], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.on('error', () => {});
    const address = (await readLine(daemon, /^unix:[^\n]+(?=\n)/m, 'dbus-daemon')).trim();
    if (o.withoutManager) {
      daemon.stdout!.resume();
      daemon.stderr!.resume();
      return { address, dir, calls: () => [], control: () => {}, stop };
    }
    double = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FAKE_SYSTEMD_BUS: address, FAKE_SYSTEMD_DIR: dir, FAKE_SYSTEMD_CGROUP_ROOT: o.cgroupRoot ?? '/sys/fs/cgroup', FAKE_SYSTEMD_VERSION: o.version ?? '252.22-1~deb12u1' },
    });
    await readLine(double, /^ready\n/m, 'fake systemd');
    double.stderr!.on('data', (b: Buffer) => appendFileSync(join(dir, 'double.stderr'), b));
    double.stdout!.resume();
    daemon.stdout!.resume();
    daemon.stderr!.resume();
    return {
      address,
      dir,
      calls: () => readFileSync(join(dir, 'calls.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeCall),
      control: (c) => writeFileSync(join(dir, 'control.json'), JSON.stringify(c)),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ── the double itself (runs as its own process) ─────────────────────────────────────────────────────────────

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && 'signature' in v && 'value' in v) return plain((v as { value: unknown }).value);
  return v;
}

interface Unit { name: string; dirs: string[]; state: 'active' | 'failed'; props: Record<string, unknown> }

async function serve(): Promise<void> {
  const address = process.env.FAKE_SYSTEMD_BUS!;
  const dir = process.env.FAKE_SYSTEMD_DIR!;
  const cgroupRoot = process.env.FAKE_SYSTEMD_CGROUP_ROOT!;
  const version = process.env.FAKE_SYSTEMD_VERSION!;
  const m = (await import('dbus-next')) as typeof import('dbus-next') & { default?: typeof import('dbus-next') };
  const dbus = m.default ?? m;
  const { Message, Variant, MessageType } = dbus;
  const bus = dbus.sessionBus({ busAddress: address });
  bus.on('error', (e: Error) => { process.stderr.write(`bus error: ${e.message}\n`); process.exit(1); });
  await new Promise((r) => bus.once('connect', r));
  const units = new Map<string, Unit>();
  let jobs = 0;
  const log = (c: FakeCall) => appendFileSync(join(dir, 'calls.jsonl'), JSON.stringify(c) + '\n');
  const control = (): { startResult?: string } => { try { return JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')); } catch { return {}; } };
  const MANAGER = 'org.freedesktop.systemd1.Manager';
  const PATH = '/org/freedesktop/systemd1';
  const realRoot = cgroupRoot === '/sys/fs/cgroup';

  const hierarchies = () => readdirSync(cgroupRoot).filter((d) => lstatSync(join(cgroupRoot, d)).isDirectory()).map((d) => join(cgroupRoot, d));
  const mkdirs = (h: string, rel: string) => {
    let cur = h;
    for (const part of rel.split('/').filter(Boolean)) {
      cur = join(cur, part);
      if (!existsSync(cur)) mkdirSync(cur);
      if (h.endsWith('/cpuset')) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          const file = join(cur, f);
          if (existsSync(file) && !readFileSync(file, 'utf8').trim()) writeFileSync(file, readFileSync(join(dirname(cur), f), 'utf8').trim() || '0');
        }
      }
    }
    return cur;
  };
  const procs = (d: string) => { try { return readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number); } catch { return []; } };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const jobDone = (unit: string, result: string) => {
    const id = ++jobs;
    const path = `${PATH}/job/${id}`;
    // after the method return, as systemd: the client learns the job path first
    setImmediate(() => bus.send(Message.newSignal(PATH, MANAGER, 'JobRemoved', 'uoss', [id, path, unit, result])));
    return path;
  };

  const handlers: Record<string, (msg: InstanceType<typeof Message>) => Promise<[string, unknown[]]>> = {
    async StartTransientUnit(msg) {
      const [name, mode, rawProps] = msg.body as [string, string, [string, { signature: string; value: unknown }][]];
      const props = rawProps.map(([n, v]) => [n, v.signature, plain(v.value)] as [string, string, unknown]);
      const call: FakeCall = { method: 'StartTransientUnit', unit: name, mode, props };
      const existing = units.get(name);
      if (existing) { log({ ...call, answer: 'org.freedesktop.systemd1.UnitExists' }); throw new dbus.DBusError('org.freedesktop.systemd1.UnitExists', `Unit ${name} was already loaded or has a fragment file.`); }
      const map = Object.fromEntries(props.map(([n, , v]) => [n, v]));
      const slice = String(map.Slice ?? 'system.slice');
      if (realRoot && !/^tsrun_test(-|\.slice$)/.test(slice)) {
        log({ ...call, answer: 'org.freedesktop.DBus.Error.AccessDenied' });
        throw new dbus.DBusError('org.freedesktop.DBus.Error.AccessDenied', `fake systemd: refusing slice ${slice} outside tsrun_test.slice on the real cgroupfs`);
      }
      const result = control().startResult ?? 'done';
      const unit: Unit = { name, dirs: [], state: result === 'done' ? 'active' : 'failed', props: map };
      units.set(name, unit);
      if (result === 'done' && name.endsWith('.scope')) {
        const rel = join(expandSlice(slice), name);
        for (const h of hierarchies()) unit.dirs.push(mkdirs(h, rel));
        for (const pid of (map.PIDs as number[] | undefined) ?? []) for (const d of unit.dirs) writeFileSync(join(d, 'cgroup.procs'), String(pid));
      }
      log({ ...call, answer: result });
      return ['o', [jobDone(name, result)]];
    },
    async StopUnit(msg) {
      const [name, mode] = msg.body as [string, string];
      const unit = units.get(name);
      if (!unit) { log({ method: 'StopUnit', unit: name, mode, answer: 'org.freedesktop.systemd1.NoSuchUnit' }); throw new dbus.DBusError('org.freedesktop.systemd1.NoSuchUnit', `Unit ${name} not loaded.`); }
      if (!realRoot) {
        // a fake tree (unit tests): cgroup.procs is a plain file
        for (const d of unit.dirs) { for (const pid of procs(d)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } rmSync(d, { recursive: true, force: true }); }
        unit.dirs = [];
      }
      // systemd's KillMode=control-group: what is left in the scope is killed; then the cgroups go
      for (let i = 0; i < 500 && unit.dirs.some((d) => procs(d).length); i++) {
        for (const d of unit.dirs) for (const pid of procs(d)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
        await sleep(10);
      }
      for (const d of [...unit.dirs].reverse()) {
        for (let i = 0; i < 200; i++) {
          try { rmdirSync(d); break; } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') break; await sleep(10); }
        }
      }
      units.delete(name);
      log({ method: 'StopUnit', unit: name, mode, answer: 'done' });
      return ['o', [jobDone(name, 'done')]];
    },
    async SetUnitProperties(msg) {
      const [name, runtime, rawProps] = msg.body as [string, boolean, [string, { signature: string; value: unknown }][]];
      const props = rawProps.map(([n, v]) => [n, v.signature, plain(v.value)] as [string, string, unknown]);
      const unit = units.get(name);
      if (!unit) { log({ method: 'SetUnitProperties', unit: name, runtime, props, answer: 'org.freedesktop.systemd1.NoSuchUnit' }); throw new dbus.DBusError('org.freedesktop.systemd1.NoSuchUnit', `Unit ${name} not loaded.`); }
      for (const [n, , v] of props) unit.props[n] = v;
      log({ method: 'SetUnitProperties', unit: name, runtime, props, answer: 'ok' });
      return ['', []];
    },
    async GetUnit(msg) {
      const [name] = msg.body as [string];
      log({ method: 'GetUnit', unit: name, answer: units.has(name) ? 'ok' : 'org.freedesktop.systemd1.NoSuchUnit' });
      if (!units.has(name)) throw new dbus.DBusError('org.freedesktop.systemd1.NoSuchUnit', `Unit ${name} not loaded.`);
      return ['o', [`${PATH}/unit/${name.replace(/[^A-Za-z0-9]/g, (c) => '_' + c.charCodeAt(0).toString(16).padStart(2, '0'))}`]];
    },
    async ResetFailedUnit(msg) {
      const [name] = msg.body as [string];
      const unit = units.get(name);
      log({ method: 'ResetFailedUnit', unit: name, answer: unit ? 'ok' : 'org.freedesktop.systemd1.NoSuchUnit' });
      if (!unit) throw new dbus.DBusError('org.freedesktop.systemd1.NoSuchUnit', `Unit ${name} not loaded.`);
      if (unit.state === 'failed') units.delete(name);
      return ['', []];
    },
  };

  bus.addMethodHandler((msg: InstanceType<typeof Message>) => {
    if (msg.type !== MessageType.METHOD_CALL) return false;
    let work: Promise<[string, unknown[]]> | undefined;
    if (msg.interface === MANAGER && handlers[msg.member!]) {
      work = handlers[msg.member!]!(msg);
    } else if (msg.interface === 'org.freedesktop.DBus.Properties' && msg.member === 'Get') {
      const [iface, name] = msg.body as [string, string];
      log({ method: 'Properties.Get', unit: msg.path, props: [[`${iface}.${name}`, '', null]] });
      if (iface === MANAGER && name === 'Version') work = Promise.resolve(['v', [new Variant('s', version)]]);
      else {
        // a unit's property (runc asks DevicePolicy / DeviceAllow before some updates): the recorded value or systemd's default
        const unit = [...units.values()].find((u) => msg.path!.endsWith(u.name.replace(/[^A-Za-z0-9]/g, (c) => '_' + c.charCodeAt(0).toString(16).padStart(2, '0'))));
        const v = unit?.props[name];
        work = name === 'DevicePolicy' ? Promise.resolve(['v', [new Variant('s', (v as string) ?? 'auto')]])
          : name === 'DeviceAllow' ? Promise.resolve(['v', [new Variant('a(ss)', (v as unknown[]) ?? [])]])
            : Promise.reject(new dbus.DBusError('org.freedesktop.DBus.Error.UnknownProperty', `fake systemd: no property ${iface}.${name}`));
      }
    } else {
      log({ method: `${msg.interface}.${msg.member}`, answer: 'org.freedesktop.DBus.Error.UnknownMethod' });
      return false;
    }
    work.then(([sig, body]) => bus.send(Message.newMethodReturn(msg, sig, body)), (e: unknown) => {
      const d = e as { type?: string; text?: string; message?: string };
      bus.send((Message.newError as unknown as (m: unknown, n: string, t: string) => InstanceType<typeof Message>)(msg, d.type ?? 'org.freedesktop.DBus.Error.Failed', d.text ?? d.message ?? String(e)));
    });
    return true;
  });
  await bus.requestName('org.freedesktop.systemd1', 0);
  process.stdout.write('ready\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serve().catch((e) => { process.stderr.write(`fake systemd: ${(e as Error).stack ?? e}\n`); process.exit(1); });
}
