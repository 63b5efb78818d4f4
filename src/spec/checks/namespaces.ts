/**
 * Rules tying settings to the namespaces that make them safe or possible. Messages are runc's
 * (libcontainer/configs/validate/validator.go, specconv) so that people searching for them find answers.
 * "Has a namespace" means any entry of that type, with or without `path`, as in runc's Namespaces.Contains.
 */
import type { Issue } from '../../errors.js';
import type { NamespaceType, Spec } from '../types.js';
import { ptr } from '../pointer.js';
import { issue } from './issue.js';
import type { Check } from './index.js';

const namespaces = (spec: Spec) => spec.linux?.namespaces ?? [];
const findNs = (spec: Spec, type: NamespaceType) => namespaces(spec).find((n) => n.type === type);
export const hasNamespace = (spec: Spec, type: NamespaceType): boolean => findNs(spec, type) !== undefined;

/** config-linux.md: duplicated namespace types MUST be an error. */
export const duplicateNamespaces: Check = (spec) => {
  const seen = new Map<string, number>();
  const out: Issue[] = [];
  namespaces(spec).forEach((ns, i) => {
    const first = seen.get(ns.type);
    if (first === undefined) seen.set(ns.type, i);
    else out.push(issue(ptr('linux', 'namespaces', i, 'type'),
      `duplicated namespace (already at ${ptr('linux', 'namespaces', first)})`, ns.type));
  });
  return out;
};

/** A new user namespace needs both maps; a joined one (path) brings its own; maps without a user namespace mean nothing. */
export const userNamespaceMappings: Check = (spec) => {
  const userns = findNs(spec, 'user');
  const uid = spec.linux?.uidMappings;
  const gid = spec.linux?.gidMappings;
  if (!userns) {
    if (uid !== undefined) return [issue('/linux/uidMappings', "user namespace mappings specified, but user namespace isn't enabled in the config")];
    if (gid !== undefined) return [issue('/linux/gidMappings', "user namespace mappings specified, but user namespace isn't enabled in the config")];
    return [];
  }
  if (userns.path !== undefined) return [];
  const at = ptr('linux', 'namespaces', namespaces(spec).indexOf(userns));
  if (!uid?.length && !gid?.length) {
    return [issue(at, 'user namespaces enabled, but no namespace path to join nor mappings to apply specified',
      undefined, 'set linux.uidMappings and linux.gidMappings, or a path to join')];
  }
  if (!uid?.length) return [issue('/linux/uidMappings', 'is required with gidMappings for a new user namespace', uid)];
  if (!gid?.length) return [issue('/linux/gidMappings', 'is required with uidMappings for a new user namespace', gid)];
  return [];
};

export const hostnameNeedsUts: Check = (spec) => {
  if (hasNamespace(spec, 'uts')) return [];
  const out: Issue[] = [];
  if (spec.hostname) out.push(issue('/hostname', 'unable to set hostname without a private UTS namespace', spec.hostname));
  if (spec.domainname) out.push(issue('/domainname', 'unable to set domainname without a private UTS namespace', spec.domainname));
  return out;
};

/** time_namespaces(7): offsets can only be written into a new time namespace, before any process enters it. */
export const timeOffsetsNeedTimeNs: Check = (spec) => {
  const offsets = spec.linux?.timeOffsets;
  if (offsets === undefined) return [];
  const timens = findNs(spec, 'time');
  if (!timens) return [issue('/linux/timeOffsets', "time namespace offsets specified, but time namespace isn't enabled in the config")];
  if (timens.path !== undefined) {
    return [issue('/linux/timeOffsets', 'time namespace enabled, but both namespace path and time offsets specified -- you may only provide one')];
  }
  return [];
};

/** maskedPaths/readonlyPaths are mounts; without a private mount namespace they would land on the host. */
export const pathRestrictionsNeedMountNs: Check = (spec) => {
  if (hasNamespace(spec, 'mount')) return [];
  const out: Issue[] = [];
  if (spec.linux?.maskedPaths?.length) out.push(issue('/linux/maskedPaths', 'unable to restrict sys entries without a private MNT namespace'));
  if (spec.linux?.readonlyPaths?.length) out.push(issue('/linux/readonlyPaths', 'unable to restrict sys entries without a private MNT namespace'));
  return out;
};

/** Kernel's dev_valid_name(): 1..15 bytes (IFNAMSIZ-1), not "." or "..", no '/', ':' or whitespace. */
export function validNetDeviceName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) < 16 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

export const netDevices: Check = (spec) => {
  const devs = spec.linux?.netDevices;
  if (devs === undefined || Object.keys(devs).length === 0) return [];
  if (!hasNamespace(spec, 'network')) return [issue('/linux/netDevices', 'unable to move network devices without a NET namespace')];
  const out: Issue[] = [];
  for (const [host, dev] of Object.entries(devs)) {
    if (!validNetDeviceName(host)) out.push(issue(ptr('linux', 'netDevices', host), 'invalid network device name', host));
    if (dev.name !== undefined && dev.name !== '' && !validNetDeviceName(dev.name)) {
      out.push(issue(ptr('linux', 'netDevices', host, 'name'), 'invalid network device name', dev.name));
    }
  }
  return out;
};
