import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Position } from '../../src/core/contracts.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { chunkAt, runFormat, serializeAll } from '../../src/testing/run-format.js';
import { arbitrary, normalizeNegativeZero } from './arbitrary.js';
import ndjson, { createNdjsonSerializer, createNdjsonTokenizer, type JsonValue } from './index.js';
import { jsonSyntaxError } from './json-syntax.js';

const at: Position = { source: 'test', line: 1, offset: 0 };

/** Characters and pieces that JSON is made of, plus a few that it must refuse. */
const jsonish = fc.string({
  unit: fc.constantFrom(
    ...'{}[]:,"\\ \t\r0123456789-+.eEx/\u0000\u00a0é😀'.split(''),
    'true',
    'false',
    'null',
    'tru',
    '\\u00e9',
    '\\ud800',
    '\\u12',
    'e400',
    '😀',
  ),
  maxLength: 40,
});

/** Number literals around the edge of the double range, alone or inside an array. */
const bigNumber = fc
  .oneof(
    fc
      .tuple(
        fc.constantFrom('', '-'),
        fc.stringMatching(/^[1-9][0-9]{0,4}(\.[0-9]{1,3})?$/),
        fc.constantFrom('e', 'E', 'e+', 'e-', 'e00'),
        fc.integer({ min: 0, max: 400 }),
      )
      .map((parts) => parts.join('')),
    fc.integer({ min: 200, max: 320 }).map((n) => '9'.repeat(n)),
  )
  .chain((n) => fc.constantFrom(n, `[${n}]`, `{"n":${n}}`, `"${n}"`));

/** A line of input: a valid JSON value, JSON-like text (often invalid), blanks, or arbitrary text. */
const line = fc.oneof(
  arbitrary.map((v) => JSON.stringify(v)),
  jsonish,
  bigNumber,
  fc.constantFrom('', '   ', '\t', '\r', '{"a":', '1e400', '"\\ud800"', '[1,]'),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** Input bytes: lines joined by LF or CRLF, sometimes with raw invalid bytes mixed in. */
const inputBytes = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: line.map((s) => Buffer.from(s, 'utf8')) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b)) },
      ),
      fc.constantFrom('\n', '\r\n', ''),
    ),
    { maxLength: 12 },
  )
  .map((parts) => Buffer.concat(parts.flatMap(([b, sep]) => [b, Buffer.from(sep)])));

const cutPoints = fc.array(fc.nat(), { maxLength: 12 });

function parsesStrictly(s: string): boolean {
  try {
    const v: unknown = JSON.parse(s);
    return !containsNonFinite(v);
  } catch {
    return false;
  }
}

function containsNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(containsNonFinite);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(containsNonFinite);
  return false;
}

describe('ndjson laws', () => {
  test('any re-chunking of the input bytes gives the same items and rejections', () => {
    fc.assert(
      fc.property(inputBytes, cutPoints, (bytes, cuts) => {
        const whole = runFormat(ndjson, [bytes]);
        const cut = runFormat(
          ndjson,
          chunkAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          ),
        );
        expect(cut).toEqual(whole);
      }),
    );
  });

  test('any re-chunking gives the same result under a small maxRecordBytes too', () => {
    fc.assert(
      fc.property(inputBytes, cutPoints, fc.integer({ min: 1, max: 40 }), (bytes, cuts, maxRecordBytes) => {
        const whole = runFormat(ndjson, [bytes], { maxRecordBytes });
        const cut = runFormat(
          ndjson,
          chunkAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          ),
          { maxRecordBytes },
        );
        expect(cut).toEqual(whole);
      }),
    );
  });

  test('serialized arbitrary tokens read back as themselves', () => {
    fc.assert(
      fc.property(fc.array(arbitrary, { maxLength: 20 }), (tokens) => {
        const run = runFormat(ndjson, [serializeAll(ndjson, tokens)]);
        expect(run.rejects).toEqual([]);
        expect(run.items).toEqual(tokens);
      }),
    );
  });

  test('tokens with any Unicode strings, lone surrogates included, read back as themselves', () => {
    const unicodeTokens = fc
      .jsonValue({ stringUnit: 'binary' })
      .map((v) => normalizeNegativeZero(v as JsonValue));
    fc.assert(
      fc.property(fc.array(unicodeTokens, { maxLength: 10 }), (tokens) => {
        expect(runFormat(ndjson, [serializeAll(ndjson, tokens)]).items).toEqual(tokens);
      }),
    );
  });

  test('-0 anywhere in a token reads back as 0', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const run = runFormat(ndjson, [serializeAll(ndjson, [v as JsonValue])]);
        expect(run.items).toEqual([normalizeNegativeZero(v as JsonValue)]);
      }),
    );
  });

  test('every record is an item or a coded rejection, for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const run = runFormat(ndjson, [bytes]);
        expect(run.records).toBe(run.items.length + run.rejects.length);
        for (const r of run.rejects) expect(Object.keys(ERROR_CODES)).toContain(r.code);
      }),
    );
  });

  test('every record is an item or a coded rejection, for line-shaped text', () => {
    fc.assert(
      fc.property(inputBytes, (bytes) => {
        const run = runFormat(ndjson, [bytes]);
        expect(run.records).toBe(run.items.length + run.rejects.length);
        const lines = bytes.toString('latin1').split('\n').length;
        for (const r of run.rejects) {
          expect(Object.keys(ERROR_CODES)).toContain(r.code);
          expect(r.line).toBeGreaterThanOrEqual(1);
          expect(r.line).toBeLessThanOrEqual(lines);
        }
      }),
    );
  });

  test('the syntax checker finds an error exactly when JSON.parse fails or a number overflows', () => {
    fc.assert(
      fc.property(fc.oneof(jsonish, bigNumber), (s) => {
        expect(jsonSyntaxError(s) === undefined).toBe(parsesStrictly(s));
      }),
      { numRuns: 2000 },
    );
  });

  test('the syntax checker agrees with JSON.parse on valid JSON with one character changed', () => {
    const mutated = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', ',', '}', ']', '"', ':', '0', '-', ' ', 'e', '\\', '\t'),
      )
      .map(([text, i, ch]) => {
        const k = i % (text.length + 1);
        return `${text.slice(0, k)}${ch}${text.slice(k + 1)}`;
      });
    fc.assert(
      fc.property(mutated, (s) => {
        expect(jsonSyntaxError(s) === undefined).toBe(parsesStrictly(s));
      }),
      { numRuns: 2000 },
    );
  });

  test('every token the tokenizer produces can be written and reads back the same', () => {
    fc.assert(
      fc.property(fc.oneof(jsonish, fc.json(), bigNumber), (record) => {
        const out: JsonValue[] = [];
        try {
          createNdjsonTokenizer().tokenize(record, at, out);
        } catch {
          return;
        }
        for (const token of out) {
          const back: JsonValue[] = [];
          createNdjsonTokenizer().tokenize(createNdjsonSerializer().serialize(token), at, back);
          expect(back).toEqual([normalizeNegativeZero(token)]);
        }
      }),
    );
  });
});

describe('the flat-object fast path', () => {
  const flatRow = fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), { maxKeys: 6 });

  test('writes exactly what JSON.stringify writes, for any sequence of flat string objects', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(flatRow, fc.jsonValue()), { maxLength: 20 }), (tokens) => {
        const serializer = createNdjsonSerializer();
        for (const t of tokens) expect(serializer.serialize(t as JsonValue)).toBe(JSON.stringify(t));
      }),
    );
  });

  test('writes an own __proto__ key as data', () => {
    const row: Record<string, string> = {};
    Object.defineProperty(row, '__proto__', {
      value: 'x',
      enumerable: true,
      writable: true,
      configurable: true,
    });
    row.b = 'y';
    expect(createNdjsonSerializer().serialize(row as JsonValue)).toBe('{"__proto__":"x","b":"y"}');
  });
});

describe('the flat-object fast path with scalar values', () => {
  const scalar = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(-0),
  );
  const row = fc.dictionary(fc.constantFrom('ns', 'uid', 'seg', 'ts', 'ttl', '1', '__x'), scalar, {
    maxKeys: 6,
  });

  test('writes exactly what JSON.stringify writes, or rejects what JSON cannot hold', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), (tokens) => {
        const serializer = createNdjsonSerializer();
        for (const t of tokens) {
          const finite = Object.values(t).every((v) => typeof v !== 'number' || Number.isFinite(v));
          if (finite) expect(serializer.serialize(t as JsonValue)).toBe(JSON.stringify(t));
          else expect(() => serializer.serialize(t as JsonValue)).toThrow(/cannot write as JSON/);
        }
      }),
    );
  });
});
