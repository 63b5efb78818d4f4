/**
 * The D-Bus client against a real dbus-daemon on a private bus, with the systemd manager test double
 * (src/testing/fake-systemd.ts) working on a fake cgroup tree in a temp dir: no root, nothing of the host touched.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemdConnection, openScope, stopScope, setScopeResources, systemBusAddress } from './systemd.js';
import { parseSystemdCgroupsPath } from './systemd-path.js';
import { startFakeSystemd, propMap, type FakeSystemd } from '../../testing/fake-systemd.js';
import { TsrunError } from '../../errors.js';

let fake: FakeSystemd;
let cg: string;
const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;

test.before(async () => {
  cg = mkdtempSync(join(tmpdir(), 'tsrun-fake-cgroup-'));
  for (const h of ['memory', 'pids', 'unified']) mkdirSync(join(cg, h));
  fake = await startFakeSystemd({ cgroupRoot: cg });
  process.env.DBUS_SYSTEM_BUS_ADDRESS = fake.address;
});

test.after(async () => {
  await fake?.stop();
  rmSync(cg, { recursive: true, force: true });
  if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS; else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
});

test('bus address: DBUS_SYSTEM_BUS_ADDRESS, else the system socket', () => {
  assert.is(systemBusAddress({}), 'unix:path=/run/dbus/system_bus_socket');
  assert.is(systemBusAddress({ DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/x' }), 'unix:path=/x');
});

test('no bus at the address: a clear error naming it and systemd', async () => {
  const addr = `unix:path=${join(tmpdir(), 'tsrun-no-such-bus-' + process.pid)}`;
  try {
    await SystemdConnection.connect(addr);
    assert.unreachable('connected');
  } catch (e) {
    assert.instance(e, TsrunError);
    assert.is((e as TsrunError).code, 'ERR_TSRUN_SYSTEMD');
    assert.match((e as Error).message, `systemd is required for --systemd-cgroup, but the D-Bus system bus at ${addr} cannot be reached: connect ENOENT`);
    assert.match((e as TsrunError).hint ?? '', /--systemd-cgroup needs systemd/);
  }
});

test('a bus without systemd on it: ServiceUnknown becomes "systemd is not on the bus"', async () => {
  const bare = await startFakeSystemd({ withoutManager: true });
  const c = await SystemdConnection.connect(bare.address);
  try {
    await c.startTransientUnit('x-y.scope', []);
    assert.unreachable('started');
  } catch (e) {
    assert.match((e as Error).message, `systemd is required for --systemd-cgroup, but it is not on the D-Bus system bus at ${bare.address}: `);
  } finally {
    c.close();
    await bare.stop();
  }
});

test('openScope/start: StartTransientUnit with the properties, job done; the double made the scope and moved the pid', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const unit = parseSystemdCgroupsPath('tsrun_test.slice:tsrun:u1', 'u1');
    const scope = await openScope({ unit, resources: { memory: 32 << 20, pidsLimit: 9, cpuQuota: 50_000, cpuPeriod: 100_000 }, v2: false }, () => {});
    await scope.start(child.pid!);
    scope.close();
    const starts = fake.calls().filter((c) => c.method === 'StartTransientUnit');
    assert.is(starts.length, 1);
    assert.is(starts[0]!.unit, 'tsrun-u1.scope');
    assert.is(starts[0]!.mode, 'replace');
    assert.is(starts[0]!.answer, 'done');
    const p = propMap(starts[0]!);
    assert.equal({ Slice: p.Slice, Delegate: p.Delegate, PIDs: p.PIDs, MemoryLimit: p.MemoryLimit, TasksMax: p.TasksMax, CPUQuotaPerSecUSec: p.CPUQuotaPerSecUSec, CPUQuotaPeriodUSec: p.CPUQuotaPeriodUSec },
      { Slice: 'tsrun_test.slice', Delegate: true, PIDs: [child.pid], MemoryLimit: 32 << 20, TasksMax: 9, CPUQuotaPerSecUSec: 500_000, CPUQuotaPeriodUSec: 100_000 });
    // the period needs systemd ≥ 242: the version was asked for
    assert.ok(fake.calls().some((c) => c.method === 'Properties.Get'));
    for (const h of ['memory', 'pids', 'unified']) {
      assert.is(readFileSync(join(cg, h, 'tsrun_test.slice/tsrun-u1.scope/cgroup.procs'), 'utf8'), String(child.pid));
    }
    await setScopeResources('tsrun-u1.scope', { memory: 16 << 20, skipDevices: true }, { v2: false, paths: {}, warn: () => {} });
    const set = fake.calls().find((c) => c.method === 'SetUnitProperties')!;
    assert.equal([set.unit, set.runtime, propMap(set)], ['tsrun-u1.scope', true, { MemoryLimit: 16 << 20 }]);
    await stopScope('tsrun-u1.scope', () => {});
    assert.not.ok(existsSync(join(cg, 'memory/tsrun_test.slice/tsrun-u1.scope')));
    // stopping a unit that is gone is fine (NoSuchUnit), as runc
    const warns: string[] = [];
    await stopScope('tsrun-u1.scope', (m) => warns.push(m));
    assert.equal(warns, []);
    assert.equal(fake.calls().filter((c) => c.method === 'StopUnit').map((c) => c.answer), ['done', 'org.freedesktop.systemd1.NoSuchUnit']);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a job that fails: the error names the unit and the result; the unit is reset', async () => {
  fake.control({ startResult: 'failed' });
  try {
    const scope = await openScope({ unit: parseSystemdCgroupsPath('tsrun_test.slice:tsrun:u2', 'u2'), resources: {}, v2: false }, () => {});
    try {
      await scope.start(1);
      assert.unreachable('started');
    } catch (e) {
      assert.instance(e, TsrunError);
      assert.is((e as Error).message, 'error creating systemd unit `tsrun-u2.scope`: got `failed`');
    } finally {
      scope.close();
    }
    assert.ok(fake.calls().some((c) => c.method === 'ResetFailedUnit' && c.unit === 'tsrun-u2.scope' && c.answer === 'ok'));
    assert.not.ok(existsSync(join(cg, 'memory/tsrun_test.slice/tsrun-u2.scope')));
  } finally {
    fake.control({});
  }
});

test('a unit that exists: reset and tried once more, then UnitExists is reported', async () => {
  const c = await SystemdConnection.connect();
  try {
    await c.startTransientUnit('tsrun-u3.scope', [{ name: 'Slice', sig: 's', value: 'tsrun_test.slice' }]);
    try {
      await c.startTransientUnit('tsrun-u3.scope', [{ name: 'Slice', sig: 's', value: 'tsrun_test.slice' }]);
      assert.unreachable('started twice');
    } catch (e) {
      assert.match((e as Error).message, /unable to start unit "tsrun-u3.scope": org.freedesktop.systemd1.UnitExists/);
    }
    const u3 = fake.calls().filter((x) => x.unit === 'tsrun-u3.scope').map((x) => `${x.method}:${x.answer}`);
    assert.equal(u3, ['StartTransientUnit:done', 'StartTransientUnit:org.freedesktop.systemd1.UnitExists', 'ResetFailedUnit:ok', 'StartTransientUnit:org.freedesktop.systemd1.UnitExists']);
    await c.stopUnit('tsrun-u3.scope');
  } finally {
    c.close();
  }
});

test.run();
