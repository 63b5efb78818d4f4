import type { Logger } from '../log.js';

/** What the lifecycle needs from the caller (the CLI's Context satisfies it; tests build their own). */
export interface RuntimeEnv {
  root: string;
  log: Logger;
  pkgRoot: string;
  debug: boolean;
  systemdCgroup: boolean;
}
