/**
 * Validation of config.json (and of state / features / process.json) into Issues: where (RFC 6901 pointer), what
 * was expected, what was seen.
 *
 * Two stages: the schema validators that hack/gen-validators.mjs generated from schemas/ at build time (the ajv
 * compiler is never loaded here), then, only if the schema passed, the semantic checks in ./checks/.
 */
import type { Issue } from '../errors.js';
import type { Process, Spec } from './types.js';
import {
  validateConfigSchema, validateFeaturesSchema, validateProcessSchema, validateStateSchema,
} from './generated/validators.js';
import { runChecks, runProcessChecks, runProcessWarnings, runWarningChecks } from './checks/index.js';
import { escapeToken, valueAt } from './pointer.js';

/** The part of an ajv error object we use (messages are off in the generated code: we write our own). */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  propertyName?: string;
}
interface SchemaValidator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}
const asValidator = (f: unknown) => f as SchemaValidator;

/** All errors that prevent create: schema errors, or (if the schema passed) semantic check errors. */
export function validateConfig(obj: unknown): Issue[] {
  const v = asValidator(validateConfigSchema);
  return v(obj) ? runChecks(obj as Spec) : schemaIssues(v.errors, obj);
}

/** Things to log but not fail on (unknown capabilities, ignored seccomp settings). Call after validateConfig. */
export function configWarnings(spec: Spec): Issue[] {
  return runWarningChecks(spec);
}

/** A process.json for `exec --process`: same schema and rules as config.json's process, pointers relative to it. */
export function validateProcess(obj: unknown): Issue[] {
  const v = asValidator(validateProcessSchema);
  return v(obj) ? runProcessChecks(obj as Process) : schemaIssues(v.errors, obj);
}

export function processWarnings(p: Process): Issue[] {
  return runProcessWarnings(p);
}

export function validateState(obj: unknown): Issue[] {
  const v = asValidator(validateStateSchema);
  return v(obj) ? [] : schemaIssues(v.errors, obj);
}

export function validateFeatures(obj: unknown): Issue[] {
  const v = asValidator(validateFeaturesSchema);
  return v(obj) ? [] : schemaIssues(v.errors, obj);
}

// ---- ajv errors → Issues ----

/** Human text for every `pattern` in schemas/ (a test keeps this table and the schemas in step). */
export const PATTERN_TEXT: Readonly<Record<string, string>> = {
  '^/': 'must be an absolute path',
  '^[\\s\\S]': 'must not be empty',
  '^RLIMIT_[A-Z]+$': 'must be an rlimit name such as RLIMIT_NOFILE',
  '^[0-9, -]*$': 'must be a list of numbers and ranges such as 0-3,7',
  '^[rwm]+$': 'must be a combination of r (read), w (write) and m (mknod)',
  '^[1-9][0-9]*[KMG]B$': 'must be a page size such as 64KB, 2MB or 1GB',
  '^MB:[^\\n]*$': 'must start with "MB:" and be a single line',
  '^[^\\n]*$': 'must be a single line',
  '^CAP_[A-Z_]+$': 'must be a capability name such as CAP_CHOWN',
  '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-((0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?(\\+[0-9a-zA-Z-]+(\\.[0-9a-zA-Z-]+)*)?$':
    'must be a SemVer 2.0.0 version such as 1.2.1',
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$':
    'must be an RFC 3339 time such as 2024-05-01T12:00:00.123456789Z',
};

const TYPE_TEXT: Record<string, string> = {
  integer: 'an integer', number: 'a number', string: 'a string', boolean: 'a boolean (true or false)',
  object: 'an object', array: 'an array', null: 'null',
};

/** Integer bounds at the int64/uint64 edges print rounded in JS (2^64 → 18446744073709552000); show the real ones. */
function limitText(n: unknown): string {
  if (n === 2 ** 64) return '18446744073709551615';
  if (n === 2 ** 63) return '9223372036854775807';
  if (n === -(2 ** 63)) return '-9223372036854775808';
  return String(n);
}

const list = (vals: unknown) => (vals as unknown[]).map((v) => (v === '' ? '""' : String(v))).join(', ');

function messageFor(e: SchemaError): string {
  const p = e.params;
  switch (e.keyword) {
    case 'required': return 'is required';
    case 'type': return `must be ${String(p.type).split(',').map((t) => TYPE_TEXT[t] ?? t).join(' or ')}`;
    case 'enum': return `must be one of: ${list(p.allowedValues)}`;
    case 'const': return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern': return PATTERN_TEXT[String(p.pattern)] ?? `must match the pattern ${String(p.pattern)}`;
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return `must be ${String(p.comparison)} ${limitText(p.limit)}`;
    case 'minItems': return p.limit === 1 ? 'must not be empty' : `must have at least ${String(p.limit)} items`;
    case 'maxItems': return `must have at most ${String(p.limit)} items`;
    case 'minLength': return p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`;
    case 'maxLength': return `must be at most ${String(p.limit)} characters`;
    case 'uniqueItems': return `must not repeat items (items ${String(p.j)} and ${String(p.i)} are the same)`;
    default: return `is invalid (${e.keyword})`;
  }
}

/**
 * ajv (allErrors) reports each failed branch of anyOf/oneOf plus the anyOf itself, an `if` failure beside the `then`
 * failure that explains it, and a `propertyNames` failure beside the one about the key. Keep one Issue per problem.
 */
export function schemaIssues(errors: readonly SchemaError[] | null | undefined, root: unknown): Issue[] {
  const errs = [...(errors ?? [])];
  const out: Issue[] = [];
  const dropped = new Set<SchemaError>();

  for (const e of errs) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    const branches = errs.filter((b) => b !== e && b.instancePath === e.instancePath && b.schemaPath.startsWith(e.schemaPath + '/'));
    branches.forEach((b) => dropped.add(b));
    dropped.add(e);
    const names = branches.filter((b) => b.keyword === 'required').map((b) => String(b.params.missingProperty));
    const message = names.length === branches.length && names.length > 0
      ? `must set at least one of: ${names.join(', ')}`
      : 'does not match any of the allowed forms';
    out.push(withSeen({ pointer: e.instancePath, message }, root));
  }

  for (const e of errs) {
    if (dropped.has(e) || e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    if (e.propertyName !== undefined) {
      // An error about an object's key, not a value: point at the key and show it.
      out.push({ pointer: `${e.instancePath}/${escapeToken(e.propertyName)}`, message: `key ${messageFor(e)}`, seen: e.propertyName });
    } else if (e.keyword === 'required') {
      out.push({ pointer: `${e.instancePath}/${escapeToken(String(e.params.missingProperty))}`, message: messageFor(e) });
    } else {
      out.push(withSeen({ pointer: e.instancePath, message: messageFor(e) }, root));
    }
  }

  const seen = new Set<string>();
  return out.filter((i) => {
    const key = `${i.pointer}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function withSeen(i: Issue, root: unknown): Issue {
  const v = valueAt(root, i.pointer);
  if (v !== undefined) i.seen = v;
  return i;
}
