/**
 * NDJSON / JSON Lines: every line is one JSON text (RFC 8259), any JSON value.
 *
 * This is the hot path of the jq benchmark (for lines that are not copied through
 * verbatim, see canonical.ts), so a record costs one `JSON.parse` and one walk over the
 * parsed value's numbers:
 *
 * - A blank line makes `JSON.parse` throw, so blankness is only checked on the error
 *   path and costs nothing on good records.
 * - `JSON.parse` turns a number too large for a double (`1e400`) into `Infinity`,
 *   which would be written back as `null`: silent loss. So the parsed value is walked
 *   for a non-finite number ({@link hasNonFinite}): a loop over its properties, without
 *   allocation for a flat object, about ten times cheaper than a regular expression over
 *   the record's text looking for a big exponent (measured), and exact.
 * - Messages come from {@link jsonSyntaxError}, which runs only for bad records.
 *
 * `JSON.parse` is otherwise RFC 8259 strict: no comments, trailing commas, single
 * quotes, `NaN`, leading zeros or unescaped control characters; whitespace is exactly
 * space, tab, CR and LF. It accepts escaped lone surrogates (`"\ud800"`), which the
 * RFC grammar allows.
 */
import type { Position, Tokenizer } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { jsonSyntaxError } from './json-syntax.js';

/** Any value `JSON.parse` can return. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** ndjson has no options. */
export type NdjsonOptions = Record<never, never>;

/** A blank line: nothing but spaces, tabs and CRs (the decoder already removed the LF). */
const BLANK = /^[ \t\r]*$/;

export function createNdjsonTokenizer(): Tokenizer<JsonValue> {
  return {
    tokenize(record: string, at: Position, out: JsonValue[]): void {
      let value: JsonValue;
      try {
        value = JSON.parse(record);
      } catch (e) {
        if (BLANK.test(record)) return;
        throw parseError(record, at, e);
      }
      if (hasNonFinite(value)) throw parseError(record, at, undefined);
      out.push(value);
    },
  };
}

function parseError(record: string, at: Position, cause: unknown): SluiceError {
  const message =
    jsonSyntaxError(record) ??
    // Unreachable unless the checker and V8 disagree; keep V8's words then.
    (cause instanceof Error ? cause.message : 'invalid JSON');
  return new SluiceError('SLUICE_E_PARSE', message, {
    stage: 'tokenize',
    position: { source: at.source, line: at.line, offset: at.offset },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * True if a number anywhere in `value` is NaN or infinite. Iterative (depth is
 * unbounded); a flat object costs one `for...in` loop and no allocation. Only own
 * properties count: a property someone made enumerable on `Object.prototype` is not
 * the record's.
 */
export function hasNonFinite(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'number' && !Number.isFinite(value);
  }
  let todo: object[] | undefined;
  let v: object = value;
  for (;;) {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x === 'number') {
          if (!Number.isFinite(x)) return true;
        } else if (typeof x === 'object' && x !== null) {
          if (todo === undefined) todo = [];
          todo.push(x);
        }
      }
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const x = o[k];
        if (typeof x === 'number') {
          if (!Number.isFinite(x) && Object.hasOwn(o, k)) return true;
        } else if (typeof x === 'object' && x !== null && Object.hasOwn(o, k)) {
          if (todo === undefined) todo = [];
          todo.push(x);
        }
      }
    }
    const next = todo?.pop();
    if (next === undefined) return false;
    v = next;
  }
}
