/** What the resource planners produce and what apply.ts carries out. */

export interface CgroupWrite {
  /**
   * v1: the subsystem whose hierarchy holds the file (memory, cpu, cpuset, blkio, pids, hugetlb, net_cls,
   * net_prio, rdma, devices). v2: the controller that must be enabled for the file ("cgroup" = core file).
   */
  controller: string;
  file: string;
  value: string;
  /** ENOENT → skip it: a feature this kernel does not have (cpu.cfs_burst_us, hugetlb.*.rsvd.*). */
  optional?: boolean;
  /** EINVAL → write it again right after the next write succeeds (a period before its quota, as runc does). */
  deferOnEinval?: boolean;
  /** After the write: check the result with a reader of the same cgroup directory; a string is the error. */
  verify?: (read: (file: string) => string | undefined) => string | undefined;
  /** v2: this write comes from linux.resources.unified[unifiedKey] (runc words its errors differently). */
  unifiedKey?: string;
  /** For the error when the write fails: what this is, e.g. "linux.resources.memory.limit". */
  what?: string;
}

export interface CgroupPlan {
  writes: CgroupWrite[];
  /** Settings this driver ignores (deprecated or absent on this cgroup version), worded for the log. */
  warnings: string[];
}

/** The planners' only view of the live cgroup: a file's content, or undefined when it does not exist. */
export interface CgroupProbe {
  read(controller: string, file: string): string | undefined;
}
