/**
 * The verbatim fast path's promise for ndjson (ADR 0008): a record the checker calls
 * canonical is valid, gives one token, and is exactly what the serializer writes for
 * that token. Soundness is checked against the real tokenizer and serializer for valid
 * values, mutated values and JSON-like noise; usefulness (the fast path is taken for
 * the lines real files are made of) with typical lines.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Position } from '../../src/core/contracts.js';
import { hostileString } from '../../src/testing/arbitraries.js';
import { arbitrary } from './arbitrary.js';
import { createCanonicalChecker, isCanonicalJson, MAX_DEPTH, MAX_SHAPES } from './canonical.js';
import { createNdjsonSerializer, createNdjsonTokenizer, type JsonValue } from './index.js';

const at: Position = { source: 'test', line: 1, offset: 0 };

/** What the engine's slow path does with a record: its one token written again, or why not. */
function slowPath(record: string): string | { tokens: number } | { error: unknown } {
  const out: JsonValue[] = [];
  try {
    createNdjsonTokenizer().tokenize(record, at, out);
  } catch (error) {
    return { error };
  }
  if (out.length !== 1) return { tokens: out.length };
  return createNdjsonSerializer().serialize(out[0]!);
}

/** The promise, for one record: canonical implies the slow path writes the record itself. */
function promiseHolds(record: string, canonical: boolean): void {
  if (!canonical) return;
  expect(slowPath(record)).toBe(record);
  expect(JSON.stringify(JSON.parse(record))).toBe(record);
}

/** Pieces JSON is made of, and pieces that break canonical form. */
const PIECES = [
  ...'{}[]:,"\\ \t\r0123456789-+.eE/\u0000\u001f\u007f\u00a0\u2028é😀'.split(''),
  'true',
  'false',
  'null',
  '\\u0041',
  '\\u00e9',
  '\\ud800',
  '\\/',
  '\\n',
  '\\t',
  '\\b',
  '\\f',
  '\\r',
  '\\"',
  '\\\\',
  '\ud800',
  '\udc00',
  '"1"',
  '"01"',
  '"4294967294"',
  '"4294967295"',
  '"__proto__"',
  '"a":1,"a":2',
  '-0',
  '1e400',
  '1E+2',
  '1.50',
  '9007199254740993',
  '123456789012345',
  '1234567890123456',
];

const piece = fc.constantFrom(...PIECES);

/** Serialized JSON values, then edited: pieces inserted, characters deleted or replaced. */
const mutated: fc.Arbitrary<string> = fc
  .tuple(
    arbitrary.map((v) => JSON.stringify(v)),
    fc.array(
      fc.tuple(
        fc.constantFrom('insert', 'delete', 'replace'),
        fc.nat(),
        fc.integer({ min: 1, max: 3 }),
        piece,
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([text, edits]) => {
    let s = text;
    for (const [kind, where, n, p] of edits) {
      const i = s.length === 0 ? 0 : where % (s.length + 1);
      if (kind === 'insert') s = s.slice(0, i) + p + s.slice(i);
      else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + n);
      else s = s.slice(0, i) + p + s.slice(i + n);
    }
    return s;
  });

/** Text made only of JSON-ish pieces: mostly invalid, sometimes valid, rarely canonical. */
const jsonish = fc.array(piece, { maxLength: 24 }).map((ps) => ps.join(''));

/** Objects and arrays of hostile strings (the kit's, lone surrogates included), serialized. */
const hostileJson = fc
  .oneof(
    fc.dictionary(hostileString({ loneSurrogates: true }), hostileString({ loneSurrogates: true }), {
      maxKeys: 4,
    }),
    fc.array(hostileString({ loneSurrogates: true }), { maxLength: 4 }),
  )
  .map((v) => JSON.stringify(v));

/** Any record text at all. */
const anyRecord = fc.oneof(
  { weight: 3, arbitrary: arbitrary.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: hostileJson },
  { weight: 3, arbitrary: mutated },
  { weight: 2, arbitrary: jsonish },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

/** Keys that are not array indices: V8 keeps such keys in insertion order. */
const plainKey = fc.stringMatching(/^[a-z_][a-z0-9_]{0,9}$/);

/** Flat objects of printable ASCII strings and safe integers: what most ndjson files hold. */
const commonObject = fc.dictionary(
  plainKey,
  fc.oneof(
    fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 20,
    }),
    fc.maxSafeInteger(),
    fc.integer({ min: -(2 ** 53) + 1, max: 0 }),
    fc.constantFrom(true, false, null),
  ),
  { maxKeys: 8 },
);

describe('isCanonicalJson', () => {
  test.each([
    '{"user_id":"u291b1cf853cfa353","segments":"seg878492;seg1","timestamp":"1702064562"}',
    '{"ns":"acme","uid":"u1","seg":"sports","op":"add","ts":1714564800000,"ttl":86400}',
    '{"a":[1,2,{"b":null}],"c":{"d":true,"e":false},"f":-12,"g":0}',
    '{"escaped":"\\"\\\\\\n\\r\\t\\b\\f","emoji":"😀","accents":"é\u2028\u007f"}',
    '{"__proto__":{"x":1},"constructor":"c","toJSON":"t","1a":1,"-1":2,"0a":3,"4294967295x":4}',
    '{"price":12.99,"ratio":0.5,"tiny":1e-7,"huge":1e+21,"negative":-1.5}',
    '1',
    '-5',
    '0',
    '"x"',
    'null',
    'true',
    'false',
    '[]',
    '{}',
    '""',
    '[[[]]]',
  ])('canonical: %s', (record) => {
    expect(isCanonicalJson(record)).toBe(true);
    promiseHolds(record, true);
  });

  test.each([
    ['empty', ''],
    ['blank', '   '],
    ['space after colon', '{"a": 1}'],
    ['space after comma', '[1, 2]'],
    ['leading space', ' 1'],
    ['trailing space', '1 '],
    ['trailing CR', '{"a":1}\r'],
    ['tab', '{"a":1}\t'],
    ['escaped slash', '"a\\/b"'],
    ['unicode escape', '"\\u0041"'],
    ['unicode escape of a control character', '"\\u0001"'],
    ['escaped lone surrogate', '"\\ud800"'],
    ['raw lone high surrogate', '"\ud800"'],
    ['raw lone low surrogate', '"\udc00x"'],
    ['raw control character', '"a\u0001b"'],
    ['raw tab in a string', '"a\tb"'],
    ['negative zero', '-0'],
    ['negative zero in an object', '{"a":-0}'],
    ['leading zero', '01'],
    ['leading zero in an array', '[01]'],
    ['trailing zero in a fraction', '1.50'],
    ['zero fraction', '1.0'],
    ['exponent', '1e2'],
    ['capital exponent', '1E21'],
    ['exponent with plus written differently', '1e21'],
    ['16 digits that do not survive', '9007199254740993'],
    ['18 digits', '123456789012345678'],
    ['overflow', '1e400'],
    ['overflow in an object', '{"a":1e400}'],
    ['duplicate keys', '{"a":1,"a":2}'],
    ['duplicate keys apart', '{"a":1,"b":2,"a":3}'],
    ['duplicate nested keys', '{"x":{"k":1,"k":1}}'],
    ['array-index key', '{"b":1,"1":2}'],
    ['array-index key zero', '{"0":1}'],
    ['largest array index', '{"a":0,"4294967294":1}'],
    ['digit-only key past the indices', '{"4294967295":1}'],
    ['trailing comma in an object', '{"a":1,}'],
    ['trailing comma in an array', '[1,]'],
    ['unquoted key', '{a:1}'],
    ['single quotes', "{'a':1}"],
    ['two values', '1 2'],
    ['two objects', '{}{}'],
    ['unterminated string', '"abc'],
    ['unterminated object', '{"a":1'],
    ['unterminated array', '[1'],
    ['NaN', 'NaN'],
    ['bare minus', '-'],
    ['plus sign', '+1'],
    ['fraction without digits', '1.'],
    ['exponent without digits', '1e'],
    ['truncated literal', 'tru'],
    ['byte order mark', '\uFEFF{}'],
    ['too deep', `${'['.repeat(MAX_DEPTH + 1)}${']'.repeat(MAX_DEPTH + 1)}`],
  ])('not canonical: %s', (_why, record) => {
    expect(isCanonicalJson(record)).toBe(false);
  });

  test('nesting up to the bound is canonical', () => {
    const record = `${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`;
    expect(isCanonicalJson(record)).toBe(true);
    promiseHolds(record, true);
  });

  test('__proto__ is an ordinary key for JSON.parse and the serializer', () => {
    for (const record of ['{"__proto__":1}', '{"a":1,"__proto__":{"b":[2]},"c":3}', '{"__proto__":null}']) {
      expect(isCanonicalJson(record)).toBe(true);
      promiseHolds(record, true);
    }
  });

  test('property: canonical implies valid, one token, and written back as itself', () => {
    fc.assert(
      fc.property(anyRecord, (record) => {
        promiseHolds(record, isCanonicalJson(record));
      }),
      { numRuns: 3000 },
    );
  });

  test('property: every serialized JSON value that reads back as itself is canonical, unless it has a refused form', () => {
    // Completeness is not promised, but it should hold for everything outside the refused forms.
    fc.assert(
      fc.property(arbitrary, (v) => {
        const s = JSON.stringify(v);
        const refused = /\\u|"\d+":/.test(s);
        if (!refused) expect(isCanonicalJson(s)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  test('property: flat objects of ASCII strings and safe integers are canonical (the fast path is taken)', () => {
    fc.assert(
      fc.property(commonObject, (o) => {
        const s = JSON.stringify(o);
        expect(isCanonicalJson(s)).toBe(true);
        expect(slowPath(s)).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('createCanonicalChecker (shapes learnt)', () => {
  /** Records that share key sequences, with values of every kind and mutations. */
  const sameKeys = fc
    .tuple(
      fc.uniqueArray(
        fc.oneof(
          plainKey,
          fc.constantFrom('1', '__proto__', 'a"b', 'a\\b', 'é', '😀', 'a.b*', '(?:', '[^x]', '\u2028', '$'),
        ),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      fc.array(
        fc.array(fc.oneof(arbitrary, fc.constantFrom<JsonValue>(-0, 1.5, 'a\tb', 'x\\y')), { maxLength: 4 }),
        {
          minLength: 1,
          maxLength: 12,
        },
      ),
    )
    .map(([keys, rows]) =>
      rows.map((vs) => {
        const o: Record<string, JsonValue> = {};
        keys.forEach((k, i) => {
          // defineProperty: `o.__proto__ = v` would set the prototype, not a key.
          Object.defineProperty(o, k, {
            value: vs[i % Math.max(1, vs.length)] ?? null,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        });
        return JSON.stringify(o);
      }),
    );

  /** Value texts written by hand, canonical or not, to fill a learnt shape's slots. */
  const rawValue = fc.oneof(
    arbitrary.map((v) => JSON.stringify(v)),
    fc.constantFrom(
      '-0',
      '01',
      '1.0',
      '1e2',
      '1e400',
      '123456789012345',
      '-123456789012345',
      '1234567890123456',
      '9007199254740993',
      '99999999999999999',
      '"\\/"',
      '"\\u0041"',
      '"a\tb"',
      '"\ud800"',
      ' 1',
      'true ',
      'nul',
      '"x"',
      '{}',
      '[]',
    ),
  );
  const rawRows = fc
    .tuple(
      fc.uniqueArray(plainKey, { minLength: 1, maxLength: 3 }),
      fc.array(fc.array(rawValue, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
    )
    .map(([keys, rows]) => rows.map((vs) => `{${keys.map((k, i) => `"${k}":${vs[i]}`).join(',')}}`));

  const stream = fc
    .array(fc.oneof(sameKeys, rawRows, fc.array(anyRecord, { maxLength: 6 })), { minLength: 1, maxLength: 4 })
    .chain((groups) => fc.shuffledSubarray(groups.flat(), { minLength: groups.flat().length }));

  test('property: the same answers as the full check, record after record', () => {
    fc.assert(
      fc.property(stream, (records) => {
        const check = createCanonicalChecker();
        for (const r of records) {
          const answer = check(r);
          expect(answer).toBe(isCanonicalJson(r));
          promiseHolds(r, answer);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a learnt shape refuses values that are not canonical', () => {
    const check = createCanonicalChecker();
    expect(check('{"a":"x","b":1}')).toBe(true);
    for (const r of [
      '{"a":"x","b":-0}',
      '{"a":"x","b":01}',
      '{"a":"x","b":1.0}',
      '{"a":"x","b":1e2}',
      '{"a":"x","b":1234567890123456789}',
      '{"a":"x","b":9007199254740993}',
      '{"a":"x","b":1e400}',
      '{"a":"x\\/","b":1}',
      '{"a":"\\u0041","b":1}',
      '{"a":"x\ty","b":1}',
      '{"a":"\ud800","b":1}',
      '{"a":"x", "b":1}',
      '{"a":"x","b":1,"a":2}',
      '{"a":"x","b":1}\r',
    ]) {
      expect(check(r), r).toBe(false);
    }
    for (const r of ['{"a":"y","b":-2}', '{"a":"","b":0}', '{"a":"😀","b":null}', '{"a":true,"b":"z"}']) {
      expect(check(r), r).toBe(true);
      promiseHolds(r, true);
    }
  });

  test('keys are matched literally, not as patterns', () => {
    const check = createCanonicalChecker();
    expect(check('{"a.":1,"ab":2}')).toBe(true);
    expect(check('{"ab":1,"ab":2}')).toBe(false);
    expect(check('{"x*":1,"x":2}')).toBe(true);
    expect(check('{"x":1,"x":2}')).toBe(false);
    expect(check('{"[0-9]":1}')).toBe(true);
    expect(check('{"5":1}')).toBe(false);
  });

  test('learns a bounded number of shapes and still answers for every other one', () => {
    const check = createCanonicalChecker();
    for (let i = 0; i < MAX_SHAPES * 4; i++) {
      const r = `{"k${i}":${i},"v":"x"}`;
      expect(check(r)).toBe(true);
      expect(check(r)).toBe(true);
      expect(check(`{"k${i}":${i},"v":"x","k${i}":1}`)).toBe(false);
    }
  });
});
