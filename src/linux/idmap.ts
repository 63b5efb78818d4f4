/**
 * uid/gid maps for a new user namespace, written by the parent while the executor waits at `sync idmap`
 * (a process cannot map itself beyond its own id; the parent, root on the host, can map any range).
 */
import { writeFileSync } from 'node:fs';
import { TsrunError } from '../errors.js';

export interface IdMapping { containerID: number; hostID: number; size: number }

export const formatIdMap = (m: IdMapping[]) => m.map((e) => `${e.containerID} ${e.hostID} ${e.size}\n`).join('');

/** One write of /proc/<pid>/<file> (uid_map, gid_map, setgroups: the kernel takes each in a single write). */
export function writeIdMapFile(pid: number, file: 'uid_map' | 'gid_map' | 'setgroups', text: string): void {
  try {
    writeFileSync(`/proc/${pid}/${file}`, text);
  } catch (e) {
    throw new TsrunError('ERR_TSRUN_IDMAP', `write /proc/${pid}/${file}: ${(e as Error).message}`, { cause: e });
  }
}

export function writeIdMaps(pid: number, uid: IdMapping[], gid: IdMapping[], setgroups: 'allow' | 'deny' | undefined): void {
  // setgroups must be written before gid_map (user_namespaces(7)).
  if (setgroups) writeIdMapFile(pid, 'setgroups', setgroups);
  writeIdMapFile(pid, 'uid_map', formatIdMap(uid));
  writeIdMapFile(pid, 'gid_map', formatIdMap(gid));
}

/** The host id that container id 0 maps to (the owner of the exec fifo and of the console). */
export function hostIdOf(containerId: number, maps: IdMapping[] | undefined): number {
  if (!maps || maps.length === 0) return containerId;
  for (const m of maps) if (containerId >= m.containerID && containerId < m.containerID + m.size) return m.hostID + (containerId - m.containerID);
  return 65534;
}
