/**
 * The mounts a container WITHOUT a mount namespace leaves in the caller's one (runtime-spec: a namespace type that
 * is not listed is inherited). Its executor binds the rootfs onto itself there and mounts /proc, /dev, … under
 * that bind; `delete` detaches the bind, which takes every mount under it along (runc never cleans these up).
 *
 * What is detached is pinned down by mount ID: the bind is found right after create (the topmost mount on the
 * rootfs path that was not there before), and delete detaches the topmost mount on that path only if it still has
 * that ID and only in the mount namespace create ran in — never a mount someone else stacked or another
 * namespace's copy (mount IDs are unique system-wide while mounted).
 */
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';

export interface HostMounts {
  /** The rootfs path the bind was made on (the bundle's rootfs, resolved). */
  rootfs: string;
  /** readlink /proc/self/ns/mnt of the creating tsrun: "mnt:[4026531841]". */
  mntNs: string;
  /** ID of the topmost mount on `rootfs` before the executor ran (undefined: none). */
  before?: number;
  /** ID of the container's bind, once create has seen it. */
  bind?: number;
}

export interface MountEntry { id: number; parent: number; mountpoint: string }

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    out.push({ id: Number(f[0]), parent: Number(f[1]), mountpoint: unescape(f[4]!) });
  }
  return out;
}

/**
 * The topmost mount on `path`: of the mounts whose mount point is `path`, the one no other of them sits on (a
 * mount stacked on another has the lower one as its parent).
 */
export function topMountAt(entries: readonly MountEntry[], path: string): number | undefined {
  const at = entries.filter((e) => e.mountpoint === path);
  const below = new Set(at.map((e) => e.parent));
  return at.find((e) => !below.has(e.id))?.id;
}

const mountinfo = () => parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
const ownMntNs = () => readlinkSync('/proc/self/ns/mnt');

/** Before the executor runs: where things stand on the rootfs path. */
export function recordHostMounts(path: string): HostMounts {
  const rootfs = realpathSync(path); // mountinfo shows the resolved path the executor's bind lands on
  const before = topMountAt(mountinfo(), rootfs);
  return { rootfs, mntNs: ownMntNs(), ...(before !== undefined ? { before } : {}) };
}

/** After create: the container's bind is the new topmost mount on the rootfs path. */
export function findBind(h: HostMounts): HostMounts {
  const top = topMountAt(mountinfo(), h.rootfs);
  return top !== undefined && top !== h.before ? { ...h, bind: top } : h;
}

/**
 * Detach the container's mounts; returns a warning when they cannot be (another mount namespace), else undefined.
 * `detach` is umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) (src/sys/libc.ts, injected so this stays testable).
 */
export function releaseHostMounts(h: HostMounts, detach: (path: string) => void, io = { mountinfo, ownMntNs }): string | undefined {
  if (io.ownMntNs() !== h.mntNs) return `the container's mounts under ${h.rootfs} are in the mount namespace ${h.mntNs}, not ours: left there`;
  const top = topMountAt(io.mountinfo(), h.rootfs);
  const ours = h.bind !== undefined ? top === h.bind : top !== undefined && top !== h.before;
  if (ours) detach(h.rootfs);
  return undefined;
}

/** releaseHostMounts with the real umount2 (koffi is loaded only here, only for such containers). */
export async function releaseContainerMounts(h: HostMounts): Promise<string | undefined> {
  const { detachMount } = await import('../sys/libc.js');
  return releaseHostMounts(h, detachMount);
}
