/**
 * Parsers for option values, in commander's `(value, previous) => parsed` shape. They
 * throw commander's InvalidArgumentError, which commander turns into a usage error
 * naming the option ("expected X, got Y"); the CLI exits 64 for it.
 */
import { InvalidArgumentError } from 'commander';
import type { ErrorPolicy } from '../index.js';

/** `--concurrency 8`: a whole number >= 1. */
export function parsePositiveInt(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected an integer >= 1, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `--threads 2` or `--threads auto` (one per core the process may use). */
export function parseThreads(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`expected an integer >= 0 or auto, got ${JSON.stringify(value)}`);
  }
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `--seed -12345`: a 32-bit integer, as fast-check reports it. */
export function parseSeed(value: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new InvalidArgumentError(`expected a 32-bit integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `--fixed-time 1714564800000` or `--fixed-time 2024-05-01T12:00:00Z`: ms since the epoch. */
export function parseTime(value: string): number {
  const n = /^\d+$/.test(value)
    ? Number(value)
    : /^\d{4}-\d\d-\d\dT/.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(
      `expected ms since 1970 or an RFC 3339 time such as 2024-05-01T12:00:00Z, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** `--max-record-bytes 64k`: bytes, with an optional binary suffix (k, m, g; `kb`, `KiB` also accepted). */
export function parseSize(value: string): number {
  const m = /^(\d+)\s*(?:([kmg])(?:i?b)?|b)?$/i.exec(value.trim());
  const n = m ? Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]! : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(
      `expected a size in bytes >= 1 such as 65536, 64k or 1m, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * `-i delimiter=';'`, repeatable: collects `key=value` pairs into one object, the last
 * value of a key winning. Values stay strings; the format's option schema converts
 * and validates them (`header=false`, `columns=a,b`).
 */
export function parseKeyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  const key = eq < 0 ? '' : value.slice(0, eq).trim();
  if (key === '') throw new InvalidArgumentError(`expected key=value, got ${JSON.stringify(value)}`);
  return { ...previous, [key]: value.slice(eq + 1) };
}

/** `--transform a.mjs --transform b.mjs`: collects in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--on-error fail|skip|dead-letter=<path>`. */
export function parseErrorPolicy(value: string): ErrorPolicy {
  if (value === 'fail' || value === 'skip') return value;
  if (value.startsWith('dead-letter=') && value.length > 'dead-letter='.length) {
    return value as `dead-letter=${string}`;
  }
  throw new InvalidArgumentError(`expected fail, skip or dead-letter=<path>, got ${JSON.stringify(value)}`);
}
