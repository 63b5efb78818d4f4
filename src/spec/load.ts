/**
 * Reading <bundle>/config.json. Synchronous on purpose: it is one small file on the create path, and an async read
 * would only add event-loop turns to the start-up time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpecInvalid, TsrunError, errnoText, isErrno } from '../errors.js';
import type { Spec } from './types.js';
import { locateJsonError } from './json-error.js';
import { validateConfig } from './validate.js';

export const CONFIG_FILE = 'config.json';

/**
 * Read, parse and validate <bundleDir>/config.json.
 * @throws TsrunError ERR_TSRUN_SPEC_MISSING with runc's message when the file does not exist,
 *         TsrunError ERR_TSRUN_SPEC_READ when it cannot be read,
 *         SpecInvalid (ERR_TSRUN_SPEC_INVALID) when it is not JSON or fails validation.
 */
export function loadConfig(bundleDir: string): Spec {
  const file = join(bundleDir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) {
      throw new TsrunError('ERR_TSRUN_SPEC_MISSING', `JSON specification file ${CONFIG_FILE} not found`, {
        hint: `looked for ${file}; pass the bundle directory with --bundle (default: the current directory)`,
        cause: e,
      });
    }
    const errno = typeof (e as { errno?: unknown }).errno === 'number' ? Math.abs((e as { errno: number }).errno) : 0;
    throw new TsrunError('ERR_TSRUN_SPEC_READ', `open ${CONFIG_FILE}: ${errno ? errnoText(errno) : String(e)}`, { cause: e });
  }
  const spec = parseConfig(text);
  const issues = validateConfig(spec);
  if (issues.length > 0) throw new SpecInvalid(issues, CONFIG_FILE);
  return spec as Spec;
}

/** JSON.parse with an error that says where, as an Issue at pointer "" (the whole document). */
export function parseConfig(text: string, file = CONFIG_FILE): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const where = locateJsonError(text);
    const message = where
      ? `not valid JSON: ${where.problem} at line ${where.line}, column ${where.column} (offset ${where.offset})`
      : `not valid JSON: ${(e as Error).message.slice(0, 200)}`;
    throw new SpecInvalid([{ pointer: '', message }], file);
  }
}
