/**
 * fast-check arbitraries for ndjson, kept out of index.ts so that running the format
 * never loads fast-check (ADR 0005).
 */
import fc from 'fast-check';
import type { JsonValue } from './tokenizer.js';

/** Replaces `-0` (which JSON writes as `0`) by `0`, everywhere in a value. */
export function normalizeNegativeZero(v: JsonValue): JsonValue {
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (Array.isArray(v)) return v.map(normalizeNegativeZero);
  if (typeof v === 'object' && v !== null) {
    const out: { [key: string]: JsonValue } = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, {
        value: normalizeNegativeZero(v[k]!),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

/**
 * Valid tokens: any JSON value, with `-0` replaced by `0` so that every generated
 * token reads back as itself after serializing.
 */
export const arbitrary: fc.Arbitrary<JsonValue> = fc
  .jsonValue()
  .map((v) => normalizeNegativeZero(v as JsonValue));
