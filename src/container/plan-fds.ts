import { closeSync } from 'node:fs';
import type { Plan } from '../plan/steps.js';

/**
 * Close the fds we opened for a plan's fd table (kind 'path'); the log's, the console's and the caller's are not
 * ours to close. Kept apart from create.ts so exec does not load create's dependencies.
 */
export function closeOwned(plan: Plan, fds: number[]): void {
  fds.forEach((fd, i) => {
    if (plan.fds[i]?.kind === 'path') try { closeSync(fd); } catch { /* already closed */ }
  });
}
