/**
 * linux.sysctl → `sysctl` steps. Which keys are allowed with which namespaces is the validator's job
 * (src/spec/checks, runc's validate.sysctl); here a key only becomes a /proc/sys path.
 */
import { TsrunError } from '../errors.js';
import type { Step } from './steps.js';

/**
 * "net.ipv4.ip_forward" → "/proc/sys/net/ipv4/ip_forward". sysctl(8) also accepts "/" as the separator, and then
 * a "." inside a component is literal: "net/ipv4/conf/eth0.100/rp_filter" stays as it is (the first separator
 * decides, as in runc's convertSysctlVariableToDotsSeparator).
 */
export function sysctlPath(key: string): string {
  const first = key.search(/[./]/);
  const rel = first >= 0 && key[first] === '/' ? key : key.replaceAll('.', '/');
  if (!rel || rel.startsWith('/') || rel.split('/').some((c) => c === '' || c === '.' || c === '..')) {
    throw new TsrunError('ERR_TSRUN_PLAN', `/linux/sysctl: invalid key ${JSON.stringify(key)}`);
  }
  return '/proc/sys/' + rel;
}

export function sysctlSteps(sysctl: Readonly<Record<string, string>> | undefined): Step[] {
  return Object.entries(sysctl ?? {}).map(([key, value]) => ({
    kind: 'sysctl', path: sysctlPath(key), value, label: `sysctl ${key}=${value}`,
  }));
}
