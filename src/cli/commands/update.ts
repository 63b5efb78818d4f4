import type { Command } from '../command.js';

export const update: Command = {
  name: 'update',
  describe: 'update container resource constraints',
  usage: '<container-id>',
  flags: {
    resources: { type: 'string', alias: 'r', describe: "path to the file containing the resources to update or '-' to read from the standard input" },
    'blkio-weight': { type: 'number', describe: 'Specifies per cgroup weight, range is from 10 to 1000' },
    'cpu-period': { type: 'string', describe: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
    'cpu-quota': { type: 'string', describe: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
    'cpu-burst': { type: 'string', describe: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period' },
    'cpu-share': { type: 'string', describe: 'CPU shares (relative weight vs. other containers)' },
    'cpu-rt-period': { type: 'string', describe: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
    'cpu-rt-runtime': { type: 'string', describe: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
    'cpuset-cpus': { type: 'string', describe: 'CPU(s) to use' },
    'cpuset-mems': { type: 'string', describe: 'Memory node(s) to use' },
    'kernel-memory': { type: 'string', describe: '(obsoleted; do not use)', hidden: true },
    'kernel-memory-tcp': { type: 'string', describe: '(obsoleted; do not use)', hidden: true },
    memory: { type: 'string', describe: 'Memory limit (in bytes)' },
    'cpu-idle': { type: 'string', describe: 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE' },
    'memory-reservation': { type: 'string', describe: 'Memory reservation or soft_limit (in bytes)' },
    'memory-swap': { type: 'string', describe: "Total memory usage (memory + swap); set '-1' to enable unlimited swap" },
    'pids-limit': { type: 'number', describe: 'Maximum number of pids allowed in the container' },
    'l3-cache-schema': { type: 'string', describe: 'The string of Intel RDT/CAT L3 cache schema' },
    'mem-bw-schema': { type: 'string', describe: 'The string of Intel RDT/MBA memory bandwidth schema' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const pos = p.positionals;
    const src = p.flags.resources === undefined ? '' : String(p.flags.resources);
    const f = p.flags;
    const { updateContainer, requestFrom } = await import('../../container/update.js');
    await updateContainer(ctx, pos[0]!, {
      resources: () => requestFrom(src, f),
      ...(f['l3-cache-schema'] ? { l3CacheSchema: String(f['l3-cache-schema']) } : {}),
      ...(f['mem-bw-schema'] ? { memBwSchema: String(f['mem-bw-schema']) } : {}),
    });
  },
};
