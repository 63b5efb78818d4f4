/**
 * Semantic checks: rules across fields that JSON Schema cannot express (or where runc has its own wording).
 * They run only on a config that already passed the schema, so they may trust the types in spec/types.ts.
 *
 * `checks` are errors: create must fail. `warningChecks` are things the spec or runc says to log and ignore;
 * the CLI prints them (e.g. on --log) and carries on.
 */
import type { Issue } from '../../errors.js';
import type { Process, Spec } from '../types.js';
import {
  duplicateNamespaces, hostnameNeedsUts, netDevices, pathRestrictionsNeedMountNs, timeOffsetsNeedTimeNs,
  userNamespaceMappings,
} from './namespaces.js';
import { idmappedMounts, mountNulBytes, rootPresent } from './paths.js';
import { onConfigProcess, processChecks, processPresent, processWarnings } from './process.js';
import { cpuBurstWithinQuota, intelRdtClosID, memoryPolicyNodes, swapNotBelowLimit } from './resources.js';
import { seccompErrnoIgnored, seccompListenerUnused, seccompMetadataNeedsListener, seccompNotify } from './seccomp.js';
import { sysctlNamespaced } from './sysctl.js';

export type Check = (spec: Spec) => Issue[];

export const checks: readonly Check[] = [
  rootPresent,
  processPresent,
  ...processChecks.map(onConfigProcess),
  mountNulBytes,
  idmappedMounts,
  duplicateNamespaces,
  userNamespaceMappings,
  hostnameNeedsUts,
  timeOffsetsNeedTimeNs,
  pathRestrictionsNeedMountNs,
  netDevices,
  sysctlNamespaced,
  seccompNotify,
  seccompMetadataNeedsListener,
  cpuBurstWithinQuota,
  swapNotBelowLimit,
  memoryPolicyNodes,
  intelRdtClosID,
];

export const warningChecks: readonly Check[] = [
  ...processWarnings.map(onConfigProcess),
  seccompListenerUnused,
  seccompErrnoIgnored,
];

export function runChecks(spec: Spec): Issue[] {
  return checks.flatMap((c) => c(spec));
}

export function runWarningChecks(spec: Spec): Issue[] {
  return warningChecks.flatMap((c) => c(spec));
}

/** The process rules alone, for `exec --process process.json` (pointers relative to that file: base ""). */
export function runProcessChecks(p: Process, base = ''): Issue[] {
  return processChecks.flatMap((c) => c(p, base));
}

export function runProcessWarnings(p: Process, base = ''): Issue[] {
  return processWarnings.flatMap((c) => c(p, base));
}
