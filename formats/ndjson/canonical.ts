/**
 * Is this ndjson record already exactly what the ndjson serializer would write for it?
 * When it is, a run from ndjson to ndjson with nothing in between copies it through as
 * it is, without `JSON.parse` and `JSON.stringify` (the verbatim fast path, ADR 0008).
 *
 * One scan for escapes and control characters (when there are none, strings end at
 * their next quote, found with `indexOf`), then one pass over the structure, with no
 * allocation on the common path; {@link createCanonicalChecker} adds a faster match
 * for lines shaped like the ones before them. It must be
 * sound, never complete: `true` promises that `JSON.parse` accepts the record, that the
 * tokenizer keeps the value (no number overflows), and that `JSON.stringify` of the value
 * gives the record back, character for character. Anything else, or any doubt, is
 * `false`, and the record takes the normal path (which also gives the exact errors).
 * What `JSON.stringify(JSON.parse(s)) !== s` comes from, and so what answers false:
 *
 * - whitespace anywhere outside strings (`JSON.stringify` writes none);
 * - escapes other than `\"` `\\` `\n` `\r` `\t` `\b` `\f`: `\/` and `\u0041` are
 *   written back as `/` and `A` (the `\u` forms `JSON.stringify` does write, for other
 *   control characters and lone surrogates, are refused too: rare, and not worth a rule);
 * - raw control characters (invalid anyway) and raw lone surrogates (written escaped;
 *   they cannot come out of the strict UTF-8 decoder, but a caller may pass any string);
 * - a number whose `String(Number(text))` differs from its text (`-0`, `1.50`, `1e2`,
 *   `1E+2`, more digits than a double holds, `1e400` which overflows). Integers of up to
 *   15 digits are canonical as they are (below 2^53 and without leading zeros); any
 *   other number is checked with exactly that conversion;
 * - duplicate keys (`JSON.parse` keeps the last value at the first key's position);
 * - keys made only of digits: array-index keys (`"0"` to `"4294967294"`) are listed
 *   before all others, so `{"b":1,"1":2}` is written `{"1":2,"b":1}`. All-digit keys of
 *   any length are refused, a superset that needs no arithmetic;
 * - nesting deeper than {@link MAX_DEPTH}, objects with more than {@link MAX_KEYS} keys
 *   along the current path (only to bound the work of the duplicate-key check).
 *
 * `__proto__` needs nothing special: `JSON.parse` makes it an ordinary own property
 * (it never sets a prototype), and both `JSON.stringify` and the serializer write own
 * enumerable properties in order, that one included (tested).
 */

/**
 * A checker with a memory of record shapes, for one stream of records: the same answers
 * as {@link isCanonicalJson}, faster on the commonest records, flat objects whose keys
 * come in the same order line after line.
 *
 * A flat object (values are strings, numbers, `true`, `false`, `null`) found canonical
 * by the full check teaches it its key sequence, compiled into one anchored regular
 * expression, `^\{"user_id":V,"segments":V\}$`, where V matches only values
 * `JSON.stringify` writes as they are: a string without escapes, control characters or
 * surrogates, an integer of up to 15 digits without a leading zero and other than `-0`,
 * `true`, `false`, `null`. A record that matches has those keys in that order (learnt
 * from a canonical record: distinct, none made only of digits) and canonical values,
 * so it is canonical; the native regular expression checks it in one pass, about three
 * times faster than the loop over characters. A record that matches no shape gets the
 * full check. At most {@link MAX_SHAPES} shapes are learnt, so objects with ever-new
 * keys (maps in disguise) only cost the full check.
 */
export function createCanonicalChecker(): (record: string) => boolean {
  const shapes: RegExp[] = [];
  let last: RegExp | undefined;
  return (record: string): boolean => {
    const object = record.charCodeAt(0) === OPEN_BRACE;
    if (object && last !== undefined) {
      if (last.test(record)) return true;
      for (const shape of shapes) {
        if (shape !== last && shape.test(record)) {
          last = shape;
          return true;
        }
      }
    }
    if (!isCanonicalJson(record)) return false;
    if (object && shapes.length < MAX_SHAPES) {
      const shape = shapeOf(record);
      if (shape !== undefined) {
        shapes.push(shape);
        last = shape;
      }
    }
    return true;
  };
}

/** Shapes one checker learns at most. */
export const MAX_SHAPES = 8;

/** A value `JSON.stringify` writes exactly as it reads (see {@link createCanonicalChecker}). */
const FLAT_VALUE = '(?:"[^"\\\\\\u0000-\\u001f\\ud800-\\udfff]*"|-?[1-9][0-9]{0,14}|0|true|false|null)';

/**
 * The shape regular expression of a canonical record that is a flat object with at
 * least one key, or undefined for anything else.
 */
function shapeOf(record: string): RegExp | undefined {
  const value = JSON.parse(record) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length === 0) return undefined;
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === 'object' && v !== null) return undefined;
  }
  // The record is canonical, so each key is written in it exactly as JSON.stringify writes it.
  const fields = keys.map((k) => `${escapeRegExp(JSON.stringify(k))}:${FLAT_VALUE}`);
  return new RegExp(`^\\{${fields.join(',')}\\}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** More containers than this nested in one another answer false (the serializer's stack is never at risk). */
export const MAX_DEPTH = 64;
/** Keys of the objects open at any moment (the current path) beyond this answer false. */
export const MAX_KEYS = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const PLUS = 0x2b;

const IN_ARRAY = 1;
const IN_OBJECT = 2;

// Scratch space, reused by every call (the checker never re-enters itself).
/** For each open container: IN_ARRAY or IN_OBJECT. */
const kinds = new Uint8Array(MAX_DEPTH);
/** For each open object: where its keys start in `keys`. */
const keyBase = new Int32Array(MAX_DEPTH);
/** Start and end (exclusive, before the closing quote) of every key on the current path. */
const keys = new Int32Array(2 * MAX_KEYS);

/** What makes a string's text need a closer look: escapes, control characters, surrogates. */
const SPECIAL = /[\\\u0000-\u001f\ud800-\udfff]/;

/** The state machine's states. */
const VALUE = 0;
const AFTER_VALUE = 1;
const KEY = 2;

/**
 * True when `record` is one JSON text, exactly as the ndjson serializer writes its
 * value (so `JSON.stringify(JSON.parse(record)) === record` and the tokenizer accepts
 * it). False when it is not, or when this checker cannot tell cheaply.
 */
export function isCanonicalJson(record: string): boolean {
  // Without these, the end of a string is simply its next quote (found by indexOf,
  // far faster than a loop over characters); with them, every character is looked at.
  const plain = !SPECIAL.test(record);
  const n = record.length;
  let i = 0;
  let depth = 0;
  let keyTop = 0;
  let state = VALUE;
  for (;;) {
    if (state === VALUE) {
      const c = record.charCodeAt(i);
      if (c === QUOTE) {
        i = plain ? record.indexOf('"', i + 1) + 1 : stringEnd(record, i + 1);
        if (i <= 0) return false;
      } else if (c === OPEN_BRACE) {
        if (depth === MAX_DEPTH) return false;
        i++;
        if (record.charCodeAt(i) === CLOSE_BRACE) {
          i++;
        } else {
          kinds[depth] = IN_OBJECT;
          keyBase[depth] = keyTop;
          depth++;
          state = KEY;
          continue;
        }
      } else if (c === OPEN_BRACKET) {
        if (depth === MAX_DEPTH) return false;
        i++;
        if (record.charCodeAt(i) === CLOSE_BRACKET) {
          i++;
        } else {
          kinds[depth] = IN_ARRAY;
          depth++;
          continue;
        }
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        i = numberEnd(record, i);
        if (i < 0) return false;
      } else if (c === 0x74 /* t */) {
        if (!record.startsWith('true', i)) return false;
        i += 4;
      } else if (c === 0x66 /* f */) {
        if (!record.startsWith('false', i)) return false;
        i += 5;
      } else if (c === 0x6e /* n */) {
        if (!record.startsWith('null', i)) return false;
        i += 4;
      } else {
        return false;
      }
      state = AFTER_VALUE;
    } else if (state === AFTER_VALUE) {
      if (depth === 0) return i === n;
      const c = record.charCodeAt(i++);
      const kind = kinds[depth - 1];
      if (c === COMMA) {
        state = kind === IN_OBJECT ? KEY : VALUE;
      } else if (c === CLOSE_BRACE && kind === IN_OBJECT) {
        depth--;
        keyTop = keyBase[depth]!;
      } else if (c === CLOSE_BRACKET && kind === IN_ARRAY) {
        depth--;
      } else {
        return false;
      }
    } else {
      // KEY: a string, then a colon.
      if (record.charCodeAt(i) !== QUOTE) return false;
      const start = i + 1;
      const end = plain ? record.indexOf('"', start) + 1 : stringEnd(record, start);
      if (end <= 0) return false;
      const last = end - 1;
      if (!plainKey(record, start, last, keyBase[depth - 1]!, keyTop)) return false;
      if (keyTop === MAX_KEYS) return false;
      keys[2 * keyTop] = start;
      keys[2 * keyTop + 1] = last;
      keyTop++;
      if (record.charCodeAt(end) !== COLON) return false;
      i = end + 1;
      state = VALUE;
    }
  }
}

/**
 * Where the string whose contents start at `i` ends (just after its closing quote), or
 * -1 when it has anything `JSON.stringify` would write differently, or is not valid.
 */
function stringEnd(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i++);
    // The common case first: printable, not a quote or backslash, not a surrogate.
    if (c > QUOTE && c !== BACKSLASH && c < 0xd800) continue;
    if (c === QUOTE) return i;
    if (c === 0x20 || c === 0x21) continue;
    if (c === BACKSLASH) {
      const e = s.charCodeAt(i++);
      // \" \\ \b \f \n \r \t: each the only way JSON.stringify writes its character.
      if (
        e === QUOTE ||
        e === BACKSLASH ||
        e === 0x6e ||
        e === 0x74 ||
        e === 0x72 ||
        e === 0x62 ||
        e === 0x66
      ) {
        continue;
      }
      return -1;
    }
    // A control character, or the end of the text (NaN fails every comparison).
    if (!(c >= 0xd800)) return -1;
    if (c >= 0xe000) continue;
    // A surrogate: only a high one followed by a low one (a pair) is written raw.
    if (c >= 0xdc00) return -1;
    const d = s.charCodeAt(i);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return -1;
    i++;
  }
}

/**
 * Where the number starting at `i` ends, or -1 when it is not a JSON number or would
 * not be written back as the same text.
 */
function numberEnd(s: string, i: number): number {
  const start = i;
  let c = s.charCodeAt(i);
  if (c === MINUS) c = s.charCodeAt(++i);
  const digitsStart = i;
  if (c === ZERO) {
    c = s.charCodeAt(++i);
  } else if (c >= 0x31 && c <= NINE) {
    do c = s.charCodeAt(++i);
    while (c >= ZERO && c <= NINE);
  } else {
    return -1;
  }
  const digits = i - digitsStart;
  let plain = true;
  if (c === DOT) {
    plain = false;
    c = s.charCodeAt(++i);
    if (!(c >= ZERO && c <= NINE)) return -1;
    do c = s.charCodeAt(++i);
    while (c >= ZERO && c <= NINE);
  }
  if (c === LOWER_E || c === UPPER_E) {
    plain = false;
    c = s.charCodeAt(++i);
    if (c === PLUS || c === MINUS) c = s.charCodeAt(++i);
    if (!(c >= ZERO && c <= NINE)) return -1;
    do c = s.charCodeAt(++i);
    while (c >= ZERO && c <= NINE);
  }
  // A digit after a leading zero (`01`) is left for the caller, which refuses it.
  // An integer of up to 15 digits is exact and written as it is, except `-0`.
  if (
    plain &&
    digits <= 15 &&
    !(digits === 1 && start !== digitsStart && s.charCodeAt(digitsStart) === ZERO)
  ) {
    return i;
  }
  // Anything else: exactly the conversion JSON.parse and JSON.stringify apply. A
  // non-finite value (`1e400`) becomes `Infinity`, which is never the text.
  const text = s.slice(start, i);
  return String(Number(text)) === text ? i : -1;
}

/**
 * True when the key `s[start, end)` is neither made only of digits (array-index keys
 * are reordered) nor equal to a key before it in the same object (`keys[from, to)`).
 * Keys compare by their text: with the escapes allowed, a key has one spelling only.
 */
function plainKey(s: string, start: number, end: number, from: number, to: number): boolean {
  const first = s.charCodeAt(start);
  if (first >= ZERO && first <= NINE) {
    let k = start + 1;
    while (k < end && s.charCodeAt(k) >= ZERO && s.charCodeAt(k) <= NINE) k++;
    if (k === end) return false;
  }
  const length = end - start;
  for (let j = from; j < to; j++) {
    const a = keys[2 * j]!;
    if (keys[2 * j + 1]! - a !== length) continue;
    let k = 0;
    while (k < length && s.charCodeAt(a + k) === s.charCodeAt(start + k)) k++;
    if (k === length) return false;
  }
  return true;
}
