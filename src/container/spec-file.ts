import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsrunError, isErrno } from '../errors.js';
import { defaultSpec } from '../spec/defaults.js';

/** `tsrun spec`: write the default config.json; never overwrite one (runc refuses too). */
export function writeDefaultSpec(bundle: string, rootless: boolean): void {
  const path = join(resolve(bundle), 'config.json');
  try {
    writeFileSync(path, JSON.stringify(defaultSpec({ rootless }), null, '\t') + '\n', { flag: 'wx', mode: 0o666 });
  } catch (e) {
    if (isErrno(e, 'EEXIST')) throw new TsrunError('ERR_TSRUN_SPEC_EXISTS', 'File config.json exists. Remove it first.', { hint: path });
    if (isErrno(e, 'ENOENT')) throw new TsrunError('ERR_TSRUN_SPEC_BUNDLE', `bundle directory ${resolve(bundle)} does not exist`);
    throw e;
  }
}
