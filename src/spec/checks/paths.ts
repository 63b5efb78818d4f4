/**
 * Paths and mounts. Absolute-path rules with no runc wording (mount destination, hook path, namespace path, masked
 * and readonly paths, device path) are in the schema (defs.schema.json AbsolutePath); what is here needs code.
 */
import type { Issue } from '../../errors.js';
import type { Mount } from '../types.js';
import { ptr } from '../pointer.js';
import { hasNamespace } from './namespaces.js';
import { issue } from './issue.js';
import type { Check } from './index.js';

/** config.md: root is REQUIRED on Linux. Message is runc's (specconv CreateLibcontainerConfig). */
export const rootPresent: Check = (spec) => (spec.root === undefined ? [issue('/root', 'root must be specified')] : []);

/**
 * Mount strings travel to the executor as C strings; an embedded NUL would silently cut them (runc: "mount field
 * contains null byte").
 */
export const mountNulBytes: Check = (spec) => {
  const out: Issue[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    for (const f of ['destination', 'source', 'type'] as const) {
      const v = m[f];
      if (v?.includes('\0')) out.push(issue(ptr('mounts', i, f), 'must not contain a NUL byte', v));
    }
    (m.options ?? []).forEach((o, j) => {
      if (o.includes('\0')) out.push(issue(ptr('mounts', i, 'options', j), 'must not contain a NUL byte', o));
    });
  });
  return out;
};

const isBind = (m: Mount) => (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
const wantsIdmap = (m: Mount) => (m.options ?? []).some((o) => o === 'idmap' || o === 'ridmap');

/**
 * Idmapped mounts (config.md uidMappings/gidMappings and the idmap/ridmap options):
 * - uidMappings and gidMappings MUST come together;
 * - only bind mounts can be idmapped (runc: "id-mapped mounts are only supported for bind-mounts");
 * - idmap/ridmap without mappings borrows the container's user namespace, and MUST fail if there is none.
 */
export const idmappedMounts: Check = (spec) => {
  const out: Issue[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const hasUid = m.uidMappings !== undefined;
    const hasGid = m.gidMappings !== undefined;
    if (hasUid !== hasGid) {
      out.push(issue(ptr('mounts', i, hasUid ? 'gidMappings' : 'uidMappings'),
        `is required when ${hasUid ? 'uidMappings' : 'gidMappings'} is set (idmapped mounts need both)`));
    }
    if ((hasUid || hasGid || wantsIdmap(m)) && !isBind(m)) {
      out.push(issue(ptr('mounts', i, 'options'), 'id-mapped mounts are only supported for bind-mounts (add "bind" or "rbind")', m.options));
    }
    if (wantsIdmap(m) && !hasUid && !hasGid && !hasNamespace(spec, 'user')) {
      out.push(issue(ptr('mounts', i, 'options'),
        'idmap/ridmap without uidMappings and gidMappings needs a user namespace to take the mapping from', m.options));
    }
  });
  return out;
};
