/**
 * A deliberately small option schema: formats have a handful of scalar options, and
 * the CLI must be able to parse each from a `key=value` string. Validation errors
 * name the option path and say "expected X, got Y".
 */
import { SluiceError } from './errors.js';

export type OptionType = 'string' | 'char' | 'boolean' | 'integer' | 'string[]';

export interface OptionSpec {
  type: OptionType;
  description: string;
  default?: unknown;
  /** Allowed values, for `string`. */
  enum?: readonly string[];
  /** Minimum, for `integer`. */
  min?: number;
}

export type OptionsSchema<O extends object> = { readonly [K in keyof O]-?: OptionSpec };

function describe(v: unknown): string {
  // `typeof null` is 'object' and String({}) is '[object Object]': name those plainly.
  if (v === null) return 'null';
  return typeof v === 'string'
    ? JSON.stringify(v)
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `${typeof v} ${String(v)}`;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new SluiceError('SLUICE_E_OPTION', `option ${path}: expected ${expected}, got ${describe(got)}`, {
    stage: 'config',
  });
}

/** Converts a command-line string to the option's type; values already typed pass through. */
export function coerceOption(spec: OptionSpec, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  switch (spec.type) {
    case 'boolean':
      if (['true', '1', 'yes', ''].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      return raw;
    case 'integer': {
      // Past 2^53 Number() rounds; keep the string so the error shows what was typed.
      const n = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      return Number.isSafeInteger(n) ? n : raw;
    }
    case 'string[]':
      return raw === '' ? [] : raw.split(',');
    case 'char':
      return raw === '\\t' || raw === 'tab' ? '\t' : raw;
    default:
      return raw;
  }
}

function check(path: string, spec: OptionSpec, v: unknown): void {
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string') fail(path, 'a string', v);
      if (spec.enum && !spec.enum.includes(v)) fail(path, `one of ${spec.enum.join(', ')}`, v);
      return;
    case 'char':
      if (typeof v !== 'string' || [...v].length !== 1) fail(path, 'a single character', v);
      if (v === '\n' || v === '\r') fail(path, 'a character other than CR or LF', v);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') fail(path, 'true or false', v);
      return;
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(path, 'an integer', v);
      if (spec.min !== undefined && v < spec.min) fail(path, `an integer >= ${spec.min}`, v);
      return;
    case 'string[]':
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(path, 'a list of strings', v);
      return;
  }
}

/**
 * Validates raw options against a schema, fills defaults and rejects unknown keys.
 * `prefix` names the owner in messages, e.g. `csv.delimiter`.
 */
export function resolveOptions<O extends object>(
  schema: OptionsSchema<O> | undefined,
  raw: Record<string, unknown> = {},
  prefix = '',
): O {
  const specs = (schema ?? {}) as Record<string, OptionSpec>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(specs, key)) {
      const known = Object.keys(specs);
      throw new SluiceError(
        'SLUICE_E_OPTION',
        `unknown option ${prefix}${key}${known.length ? ` (known: ${known.join(', ')})` : ' (this format has no options)'}`,
        { stage: 'config' },
      );
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    const given = raw[key];
    if (given === undefined) {
      // A list default is copied: the schema is shared by every input, its options are not.
      if (spec.default !== undefined)
        out[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      continue;
    }
    const v = coerceOption(spec, given);
    check(`${prefix}${key}`, spec, v);
    out[key] = v;
  }
  return out as O;
}
