/**
 * NDJSON / JSON Lines: every line is one JSON text (RFC 8259), any JSON value.
 *
 * This is the hot path of the jq benchmark, so a record costs one `JSON.parse` and,
 * for almost every record, one short regular-expression test:
 *
 * - A blank line makes `JSON.parse` throw, so blankness is only checked on the error
 *   path and costs nothing on good records.
 * - `JSON.parse` turns a number too large for a double (`1e400`) into `Infinity`,
 *   which would be written back as `null`: silent loss. Such a number needs an
 *   exponent of three significant digits or a run of at least 210 digits, so only a
 *   record that shows one of those has its parsed value walked for a non-finite
 *   number. False alarms (`"e100"` inside a string) only cost that walk.
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
/** An exponent with three or more significant digits: the only way to overflow under 210 digits. */
const BIG_EXPONENT = /[eE]\+?0*[1-9]\d\d/;
/** 10^209 times an exponent below 100 stays under Number.MAX_VALUE; 210 digits may not. */
const LONG_DIGITS = /\d{210}/;

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
      if (
        (BIG_EXPONENT.test(record) || (record.length >= 210 && LONG_DIGITS.test(record))) &&
        hasNonFinite(value)
      ) {
        throw parseError(record, at, undefined);
      }
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

/** True if a number anywhere in `value` is NaN or infinite. Iterative: depth is unbounded. */
export function hasNonFinite(value: unknown): boolean {
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v)) {
        for (const x of v) todo.push(x);
      } else {
        for (const k of Object.keys(v)) todo.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return false;
}
