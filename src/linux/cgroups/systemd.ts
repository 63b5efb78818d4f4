/**
 * The systemd cgroup driver's D-Bus side: talk to systemd's manager (org.freedesktop.systemd1) on the system bus
 * the way runc does through go-systemd (libcontainer/cgroups/systemd/common.go, dbus.go):
 *  - StartTransientUnit(unit, "replace", properties, []) and wait for the job's JobRemoved signal: "done" or an
 *    error naming the unit and the result; 30 s at most; on failure ResetFailedUnit so the name can be reused.
 *    A unit that already exists (UnitExists) is reset and tried once more;
 *  - StopUnit(unit, "replace") and wait for its job; a unit already gone (NoSuchUnit) is fine; then
 *    ResetFailedUnit, errors ignored;
 *  - SetUnitProperties(unit, runtime=true, properties);
 *  - Manager.Version (only when a property depends on it).
 * The address is $DBUS_SYSTEM_BUS_ADDRESS, else unix:path=/run/dbus/system_bus_socket (runc as root).
 *
 * dbus-next is loaded here, lazily: only a command that meets --systemd-cgroup (or a container created with it)
 * pays for it. The low-level Message API is used (no introspection round trip).
 */
import { TsrunError } from '../../errors.js';
import { freezerState, setFrozen, type CgroupPaths } from './fs.js';
import type { CgroupResources } from './resources.js';
import type { SystemdUnit } from './systemd-path.js';
import { needsSystemdVersion, resourceProperties, startProperties, type UnitProperty } from './systemd-props.js';

export const DEFAULT_SYSTEM_BUS = 'unix:path=/run/dbus/system_bus_socket';
const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const MANAGER_PATH = '/org/freedesktop/systemd1';
/** runc waits this long for a job (and so do we for any call). */
export const JOB_TIMEOUT_MS = 30_000;

export function systemBusAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_SYSTEM_BUS;
}

type DbusNext = typeof import('dbus-next');
type Bus = ReturnType<DbusNext['sessionBus']>;
type Msg = InstanceType<DbusNext['Message']>;
let lib: DbusNext | undefined;

async function loadDbus(): Promise<DbusNext> {
  if (lib) return lib;
  const m = (await import('dbus-next')) as DbusNext & { default?: DbusNext };
  lib = m.default ?? m;
  // 64-bit values are native bigints both ways (setBigIntCompat(true) would switch to the JSBI polyfill)
  return lib;
}

const errName = (e: unknown) => (e as { type?: string })?.type ?? '';
const errText = (e: unknown) => (e as { text?: string })?.text ?? (e as Error)?.message ?? String(e);
const needSystemd = (address: string) => `--systemd-cgroup needs systemd, reached over the D-Bus system bus (${address}; set DBUS_SYSTEM_BUS_ADDRESS to use another)`;

/** One connection to the bus, with the JobRemoved signals it has seen. */
export class SystemdConnection {
  private readonly finished = new Map<string, string>();
  private readonly waiting = new Map<string, (result: string) => void>();
  private versionCache: number | undefined;
  private broken: Error | undefined;

  private constructor(private readonly d: DbusNext, private readonly bus: Bus, readonly address: string) {
    bus.on('message', (m: Msg) => {
      if (m.type !== d.MessageType.SIGNAL || m.interface !== MANAGER || m.member !== 'JobRemoved') return;
      const [, job, , result] = m.body as [unknown, string, string, string];
      const w = this.waiting.get(job);
      if (w) { this.waiting.delete(job); w(result); } else this.finished.set(job, result);
    });
    bus.on('error', (e: Error) => {
      this.broken = e;
      for (const [job, w] of this.waiting) { this.waiting.delete(job); w(`connection lost: ${e.message}`); }
    });
  }

  /** Connect, say Hello, and subscribe to JobRemoved. A bus that is not there fails with the address named. */
  static async connect(address = systemBusAddress(), timeoutMs = 10_000): Promise<SystemdConnection> {
    const d = await loadDbus();
    const fail = (e: unknown) => new TsrunError('ERR_TSRUN_SYSTEMD', `systemd is required for --systemd-cgroup, but the D-Bus system bus at ${address} cannot be reached: ${(e as Error)?.message ?? e}`, { hint: needSystemd(address), cause: e });
    let bus: Bus;
    try {
      bus = d.sessionBus({ busAddress: address });
    } catch (e) {
      throw fail(e);
    }
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => { cleanup(); reject(fail(new Error(`no answer in ${timeoutMs} ms`))); }, timeoutMs);
      const onConnect = () => { cleanup(); resolve(); };
      const onError = (e: Error) => { cleanup(); reject(fail(e)); };
      const cleanup = () => { clearTimeout(t); bus.off('connect', onConnect); bus.off('error', onError); };
      bus.on('connect', onConnect);
      bus.on('error', onError);
    }).catch((e) => {
      bus.on('error', () => {}); // late errors of a connection we give up on
      try { bus.disconnect(); } catch { /* not connected */ }
      throw e;
    });
    const c = new SystemdConnection(d, bus, address);
    try {
      await c.raw('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's',
        [`type='signal',interface='${MANAGER}',member='JobRemoved',path='${MANAGER_PATH}'`]);
    } catch (e) {
      c.close();
      throw fail(e);
    }
    return c;
  }

  private async raw(destination: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<Msg> {
    if (this.broken) throw this.broken;
    const msg = new this.d.Message({ destination, path, interface: iface, member, signature, body });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.bus.call(msg) as Promise<Msg>,
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no reply to ${member} in ${JOB_TIMEOUT_MS / 1000} s`)), JOB_TIMEOUT_MS); }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async manager(member: string, signature: string, body: unknown[]): Promise<Msg> {
    try {
      return await this.raw(SYSTEMD, MANAGER_PATH, MANAGER, member, signature, body);
    } catch (e) {
      const n = errName(e);
      if (n === 'org.freedesktop.DBus.Error.ServiceUnknown' || n === 'org.freedesktop.DBus.Error.NameHasNoOwner') {
        throw new TsrunError('ERR_TSRUN_SYSTEMD', `systemd is required for --systemd-cgroup, but it is not on the D-Bus system bus at ${this.address}: ${errText(e)}`, { hint: needSystemd(this.address), cause: e });
      }
      throw e;
    }
  }

  private variants(props: UnitProperty[]): [string, unknown][] {
    return props.map((p) => [p.name, new this.d.Variant(p.sig, p.value)]);
  }

  /** The result of a job, from its JobRemoved signal ("done", "failed", "canceled", "timeout", …). */
  private waitJob(job: string, timeoutMs: number): Promise<string | undefined> {
    const seen = this.finished.get(job);
    if (seen !== undefined) { this.finished.delete(job); return Promise.resolve(seen); }
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.waiting.delete(job); resolve(undefined); }, timeoutMs);
      this.waiting.set(job, (r) => { clearTimeout(t); resolve(r); });
    });
  }

  async startTransientUnit(unit: string, props: UnitProperty[], warn: (m: string) => void = () => {}, timeoutMs = JOB_TIMEOUT_MS): Promise<void> {
    let job: string | undefined;
    for (let retry = true; ;) {
      try {
        job = (await this.manager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit, 'replace', this.variants(props), []])).body[0] as string;
        break;
      } catch (e) {
        if (e instanceof TsrunError) throw e;
        if (errName(e) === 'org.freedesktop.systemd1.UnitExists' && retry) {
          // maybe a leftover failed unit: reset it so systemd drops it, and try once more (runc)
          await this.resetFailedUnit(unit, warn);
          retry = false;
          continue;
        }
        throw new TsrunError('ERR_TSRUN_SYSTEMD', `unable to start unit ${JSON.stringify(unit)}: ${errName(e) ? errName(e) + ': ' : ''}${errText(e)}`, { cause: e });
      }
    }
    const result = await this.waitJob(job, timeoutMs);
    if (result === 'done') return;
    await this.resetFailedUnit(unit, warn);
    if (result === undefined) throw new TsrunError('ERR_TSRUN_SYSTEMD', `Timeout waiting for systemd to create ${unit}`);
    throw new TsrunError('ERR_TSRUN_SYSTEMD', `error creating systemd unit \`${unit}\`: got \`${result}\``);
  }

  /** Stop the unit and wait for the job. Gone already: fine. Other failures are warnings (runc ignores them). */
  async stopUnit(unit: string, warn: (m: string) => void = () => {}, timeoutMs = JOB_TIMEOUT_MS): Promise<void> {
    let job: string | undefined;
    try {
      job = (await this.manager('StopUnit', 'ss', [unit, 'replace'])).body[0] as string;
    } catch (e) {
      if (errName(e) !== 'org.freedesktop.systemd1.NoSuchUnit') warn(`unable to stop unit ${unit}: ${errText(e)}`);
    }
    if (job) {
      const result = await this.waitJob(job, timeoutMs);
      if (result === undefined) throw new TsrunError('ERR_TSRUN_SYSTEMD', `Timed out while waiting for systemd to remove ${unit}`);
      if (result !== 'done') warn(`error removing unit \`${unit}\`: got \`${result}\`. Continuing...`);
    }
    await this.resetFailedUnit(unit, () => {}); // a failed unit: let systemd forget it
  }

  async resetFailedUnit(unit: string, warn: (m: string) => void): Promise<void> {
    try {
      await this.manager('ResetFailedUnit', 's', [unit]);
    } catch (e) {
      if (errName(e) !== 'org.freedesktop.systemd1.NoSuchUnit') warn(`unable to reset failed unit: ${errText(e)}`);
    }
  }

  async setUnitProperties(unit: string, props: UnitProperty[]): Promise<void> {
    if (!props.length) return;
    try {
      await this.manager('SetUnitProperties', 'sba(sv)', [unit, true, this.variants(props)]);
    } catch (e) {
      if (e instanceof TsrunError) throw e;
      throw new TsrunError('ERR_TSRUN_SYSTEMD', `unable to set properties of unit ${JSON.stringify(unit)}: ${errName(e) ? errName(e) + ': ' : ''}${errText(e)}`, { cause: e });
    }
  }

  /** systemd's version number ("v252.1-2" → 252); -1 when it cannot be had (runc logs and goes on). */
  async version(warn: (m: string) => void = () => {}): Promise<number> {
    if (this.versionCache !== undefined) return this.versionCache;
    let v = -1;
    try {
      const r = await this.raw(SYSTEMD, MANAGER_PATH, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [MANAGER, 'Version']);
      const text = String((r.body[0] as { value?: unknown })?.value ?? '');
      const m = /v?(\d+)/.exec(text);
      if (m) v = Number(m[1]);
      else warn(`unable to get systemd version: can't parse version ${text}`);
    } catch (e) {
      warn(`unable to get systemd version: ${errText(e)}`);
    }
    return (this.versionCache = v);
  }

  close(): void {
    for (const [job, w] of this.waiting) { this.waiting.delete(job); w('connection closed'); }
    try { this.bus.disconnect(); } catch { /* already closed */ }
  }
}

// ── the driver's operations, as the lifecycle verbs use them ───────────────────────────────────────────────

export interface ScopeSpec {
  unit: SystemdUnit;
  resources: CgroupResources;
  /** The config's annotations (org.systemd.property.*). */
  annotations?: Record<string, string> | undefined;
  /** A pure cgroup v2 host. */
  v2: boolean;
}

export interface OpenScope {
  /** StartTransientUnit with PIDs=[pid]; resolves once systemd's job is done. */
  start(pid: number): Promise<void>;
  close(): void;
}

/**
 * create, before anything runs: connect (a missing bus fails here, before any process exists), ask systemd's
 * version if a property needs it, and check every property can be built; start() then creates the scope.
 */
export async function openScope(s: ScopeSpec, warn: (m: string) => void): Promise<OpenScope> {
  const conn = await SystemdConnection.connect();
  try {
    const version = needsSystemdVersion(s.resources) ? await conn.version(warn) : -1;
    const ctx = { v2: s.v2, version, warn };
    startProperties(s.unit, -1, s.resources, s.annotations, ctx); // throws on a bad annotation or value
    return {
      start: (pid) => conn.startTransientUnit(s.unit.unit, startProperties(s.unit, pid, s.resources, s.annotations, { ...ctx, warn: () => {} }), warn),
      close: () => conn.close(),
    };
  } catch (e) {
    conn.close();
    throw e;
  }
}

/** delete: stop the unit. Without a bus the unit cannot be stopped: warn and let the cgroupfs cleanup go on (runc). */
export async function stopScope(unit: string, warn: (m: string) => void): Promise<void> {
  let conn: SystemdConnection;
  try {
    conn = await SystemdConnection.connect();
  } catch (e) {
    warn(`unable to stop systemd unit ${unit}: ${(e as Error).message}`);
    return;
  }
  try {
    await conn.stopUnit(unit, warn);
  } finally {
    conn.close();
  }
}

/**
 * update: SetUnitProperties with the resource properties (device rules stay as they are: skipDevices). As runc's
 * Set, the container is frozen around the call unless it already is: systemd re-applies a unit's device policy
 * disruptively (deny all, then the allow list), which a running container could see as spurious EPERMs.
 */
export async function setScopeResources(unit: string, r: CgroupResources, o: { v2: boolean; paths: CgroupPaths; warn: (m: string) => void }): Promise<void> {
  const conn = await SystemdConnection.connect();
  try {
    const version = needsSystemdVersion(r) ? await conn.version(o.warn) : -1;
    const props = resourceProperties(r, { v2: o.v2, version, warn: o.warn });
    if (!props.length) return;
    const thaw = freezerState(o.paths) === 'THAWED';
    if (thaw) await setFrozen(o.paths, true).catch((e) => o.warn(`freeze container before SetUnitProperties failed: ${(e as Error).message}`));
    try {
      await conn.setUnitProperties(unit, props);
    } finally {
      if (thaw) await setFrozen(o.paths, false).catch((e) => o.warn(`thaw container after SetUnitProperties failed: ${(e as Error).message}`));
    }
  } finally {
    conn.close();
  }
}
