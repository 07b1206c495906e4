/**
 * The ndjson serializer's two paths, one output: the fast path (plain data, nested)
 * must write exactly what JSON.stringify writes, and everything it does not take must
 * still be refused by the general path with the path-naming message.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { isSluiceError } from '../../src/core/errors.js';
import { createNdjsonSerializer, type JsonValue } from './index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

const serialize = (v: unknown, s = createNdjsonSerializer()): string => s.serialize(v as JsonValue);

function refusal(v: unknown): string {
  try {
    serialize(v);
  } catch (e) {
    expect(isSluiceError(e) && e.code).toBe('SLUICE_E_SERIALIZE');
    return (e as Error).message;
  }
  throw new Error('expected the value to be refused');
}

/** Strings of any UTF-16 units: escapes, control characters, lone surrogates, emoji. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('a', '"', '\\', '\n', '\u0000', '\u001f', '\ud800', '\udc00', '😀', 'é'),
    maxLength: 8,
  }),
  fc.string({ unit: 'grapheme-ascii', minLength: 20, maxLength: 40 }),
);

/** Keys from a small set (so shapes repeat and the key trie is reused) or any string. */
const key = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('id', 'remove', 'segments', 'user_id', 'ts', '1', '0', '__proto__', ''),
  },
  { weight: 1, arbitrary: anyString },
);

const scalar = fc.oneof(
  anyString,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constant(-0),
  fc.boolean(),
  fc.constant(null),
);

/** An object with `entries` as own enumerable data properties, `__proto__` included. */
function objectOf(entries: [string, unknown][], nullProto: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = nullProto ? Object.create(null) : {};
  for (const [k, v] of entries) {
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return o;
}

/** Plain JSON data nested a few levels: the values the fast path takes. */
const plain: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .tuple(fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }), fc.boolean())
      .map(([entries, nullProto]) => objectOf(entries, nullProto)),
  ),
})).value;

/** Rows shaped like the reshaped users (the benchmark's tokens), with keys that come and go. */
const row = fc
  .record(
    {
      user_id: anyString,
      segments: fc.array(fc.record({ id: anyString, remove: fc.boolean() }), { maxLength: 8 }),
      timestamp: fc.oneof(anyString, fc.integer()),
      ttl: fc.oneof(fc.integer(), fc.constant(null)),
    },
    { requiredKeys: ['user_id', 'segments'] },
  )
  .map((r) => r as unknown);

describe('the fast path', () => {
  test('writes exactly what JSON.stringify writes, for any sequence of nested plain values', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(plain, row, fc.jsonValue()), { maxLength: 25 }), (tokens) => {
        // One serializer for the whole sequence: its key tries carry over from token to token.
        const s = createNdjsonSerializer();
        for (const t of tokens) expect(serialize(t, s)).toBe(JSON.stringify(t));
      }),
      { numRuns: 300 },
    );
  });

  test('writes the reshaped rows of the benchmark', () => {
    const s = createNdjsonSerializer();
    const r = {
      user_id: 'u1',
      segments: [
        { id: 'seg1', remove: false },
        { id: 'seg2', remove: true },
      ],
      timestamp: '1700000000',
    };
    expect(serialize(r, s)).toBe(
      '{"user_id":"u1","segments":[{"id":"seg1","remove":false},{"id":"seg2","remove":true}],"timestamp":"1700000000"}',
    );
    expect(serialize({ ...r, segments: [] }, s)).toBe(
      '{"user_id":"u1","segments":[],"timestamp":"1700000000"}',
    );
    expect(serialize({ segments: [{ remove: null, id: 'a"b' }], user_id: '' }, s)).toBe(
      '{"segments":[{"remove":null,"id":"a\\"b"}],"user_id":""}',
    );
  });

  test('keys in JSON.stringify order: integer-like keys first, then insertion order, at every level', () => {
    const v = { b: 1, 2: { z: true, 1: [{ y: 'x', 0: null }] }, a: [] };
    expect(serialize(v)).toBe(JSON.stringify(v));
    expect(serialize(v)).toBe('{"2":{"1":[{"0":null,"y":"x"}],"z":true},"b":1,"a":[]}');
  });

  test('strings after strings, booleans and nulls: closing quotes land in the right place', () => {
    const s = createNdjsonSerializer();
    for (const v of [
      { a: 'x', b: 'y', c: true, d: 'z', e: null, f: 'w' },
      { a: 'x', b: 'y\n', c: 'q' },
      { a: 'x' },
      { a: 'x', b: 2.5, c: [] },
      { a: 'x', b: { c: 'd' }, e: 'f' },
      {},
      { a: {} },
      { a: '' },
    ]) {
      expect(serialize(v, s)).toBe(JSON.stringify(v));
    }
  });

  test('values nested deeper than the fast path goes are still written as JSON.stringify writes them', () => {
    let v: unknown = { leaf: 'x' };
    for (let i = 0; i < 200; i++) v = i % 2 ? [v] : { k: v };
    expect(serialize(v)).toBe(JSON.stringify(v));
  });

  test('objects with ever-new keys (more than the trie holds) are still written correctly', () => {
    const s = createNdjsonSerializer();
    for (let i = 0; i < 6000; i++) {
      const v = { [`k${i}`]: { [`n${i}`]: i } };
      expect(serialize(v, s)).toBe(JSON.stringify(v));
    }
  });

  describe('without JSON.stringify', () => {
    afterEach(() => vi.restoreAllMocks());

    test('nested plain rows need no JSON.stringify call once their keys are known', () => {
      const s = createNdjsonSerializer();
      const r = (id: string) => ({ user_id: id, segments: [{ id: `s${id}`, remove: id === '2' }], n: 1 });
      serialize(r('1'), s); // learns the keys
      const spy = vi.spyOn(JSON, 'stringify');
      expect(serialize(r('2'), s)).toBe('{"user_id":"2","segments":[{"id":"s2","remove":true}],"n":1}');
      expect(spy).not.toHaveBeenCalled();
    });
  });
});

// ---- compiled shapes: a key sequence seen often is written by generated code

/** What serializing `v` gives: its text, or the refusal's message. */
function outcome(v: unknown, s: ReturnType<typeof createNdjsonSerializer>): string {
  try {
    return `text ${serialize(v, s)}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

/** Walks of one key sequence after which it is compiled (COMPILE_AFTER in serializer.ts), with room. */
const WARM = 40;

describe('compiled shapes', () => {
  test('a serializer that has compiled shapes writes and refuses exactly as a fresh one', () => {
    // A few key sequences, so each is seen often enough to be compiled, then tokens of
    // those keys (in that order or not, with a key more or less) holding any value,
    // refused ones (undefined, NaN, a Date, a class instance) included.
    const anyValue = fc.oneof(
      { weight: 6, arbitrary: plain },
      { weight: 1, arbitrary: fc.constantFrom(...bads).map((b) => b.make()) },
    );
    const shapes = fc.array(fc.uniqueArray(key, { minLength: 1, maxLength: 5 }), {
      minLength: 1,
      maxLength: 3,
    });
    fc.assert(
      fc.property(
        shapes,
        fc.array(
          fc.record({
            shape: fc.nat(),
            values: fc.array(anyValue, { minLength: 6, maxLength: 6 }),
            change: fc.constantFrom('none', 'none', 'none', 'drop', 'add', 'swap', 'nullProto', 'nested'),
          }),
          { minLength: WARM, maxLength: 3 * WARM },
        ),
        (keyLists, draws) => {
          const warm = createNdjsonSerializer();
          for (const d of draws) {
            const keys = keyLists[d.shape % keyLists.length]!;
            let entries: [string, unknown][] = keys.map((k, i) => [k, d.values[i]]);
            if (d.change === 'drop') entries = entries.slice(1);
            if (d.change === 'add') entries.push(['extra', d.values[5]]);
            if (d.change === 'swap') entries.reverse();
            if (d.change === 'nested') entries = entries.map(([k, v]) => [k, { inner: v, again: [v] }]);
            const token = objectOf(entries, d.change === 'nullProto');
            expect(outcome(token, warm)).toBe(outcome(token, createNdjsonSerializer()));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test('arrays of objects in a compiled shape: written or refused exactly as a fresh serializer does', () => {
    // The array field's elements go straight to their trie's compiled shape; anything
    // else in them (another key order, a key more, a null prototype, a bad value, a
    // hole, a nested array, toJSON) must come out as the walk and JSON.stringify say.
    const segment = (id: string, remove: boolean) => ({ id, remove });
    const element = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(anyString, fc.boolean()).map(([id, r]) => segment(id, r)) },
      fc.tuple(anyString, fc.boolean()).map(([id, remove]) => ({ remove, id })),
      fc.tuple(anyString, plain).map(([id, extra]) => ({ id, remove: false, extra })),
      fc.tuple(anyString, fc.boolean()).map(([id, r]) =>
        objectOf(
          [
            ['id', id],
            ['remove', r],
          ],
          true,
        ),
      ),
      fc.constantFrom(...bads).map((b) => ({ id: 'x', remove: b.make() })),
      fc.constantFrom(...bads).map((b) => b.make()),
      plain,
      fc.constant({ id: 'x', remove: true, toJSON: () => 'y' }),
    );
    const segments = fc.tuple(fc.array(element, { maxLength: 6 }), fc.nat({ max: 7 })).map(([es, hole]) => {
      const a: unknown[] = [...es];
      // Sometimes a hole (an index past the end, with nothing set in between), an array
      // with toJSON, or an array of a subclass.
      if (hole === 0 && a.length > 0) a.length += 1;
      if (hole === 1) return Object.assign(a, { toJSON: () => [] });
      if (hole === 2) return Object.setPrototypeOf(a, Tagged.prototype);
      return a;
    });
    const warmRow = (i: number) => ({
      user_id: `u${i}`,
      segments: [segment(`s${i}`, i % 2 === 0), segment(`t${i}`, false)],
      timestamp: `${i}`,
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(anyString, segments), { minLength: 1, maxLength: 20 }), (rows) => {
        const warm = createNdjsonSerializer();
        for (let i = 0; i < WARM; i++) expect(serialize(warmRow(i), warm)).toBe(JSON.stringify(warmRow(i)));
        for (const [user_id, segs] of rows) {
          const token = { user_id, segments: segs, timestamp: '1' };
          const warmOutcome = outcome(token, warm);
          expect(warmOutcome).toBe(outcome(token, createNdjsonSerializer()));
          if (warmOutcome.startsWith('text ')) expect(warmOutcome).toBe(`text ${JSON.stringify(token)}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('arrays of objects nested past the fast path, in a compiled shape, are still written as JSON.stringify writes them', () => {
    const s = createNdjsonSerializer();
    const row = (segments: unknown) => ({ id: 'u', segments });
    for (let i = 0; i < WARM; i++) serialize(row([{ id: `${i}`, remove: true }]), s);
    let deep: unknown = [{ id: 'bottom', remove: false }];
    for (let i = 0; i < 70; i++) deep = [{ id: `${i}`, remove: deep }];
    expect(serialize(row(deep), s)).toBe(JSON.stringify(row(deep)));
  });

  test('after compiling, every kind of value in a known shape is still written or refused with its path', () => {
    const s = createNdjsonSerializer();
    const row = (v: unknown) => ({ id: 'u', value: v, after: 'x' });
    for (let i = 0; i < WARM; i++) expect(serialize(row(`v${i}`), s)).toBe(JSON.stringify(row(`v${i}`)));
    for (const v of ['a"b', '\ud800', -0, 1.5, true, false, null, [], [{ id: 'x' }], { a: { b: 'c' } }, '']) {
      expect(serialize(row(v), s)).toBe(JSON.stringify(row(v)));
    }
    for (const b of bads) {
      expect(() => serialize(row(b.make()), s)).toThrow(`cannot write as JSON: $.value: ${b.reason}`);
    }
    // A getter is read as JSON.stringify reads it.
    const withGetter = {
      id: 'u',
      get value() {
        return 'got';
      },
      after: 'x',
    };
    expect(serialize(withGetter, s)).toBe('{"id":"u","value":"got","after":"x"}');
  });

  test('a shape that stops coming is replaced by the one that does', () => {
    const s = createNdjsonSerializer();
    for (let i = 0; i < 2000; i++) {
      const v = i < 1000 ? { a: `${i}`, b: i } : { b: i, a: `${i}`, c: [i] };
      expect(serialize(v, s)).toBe(JSON.stringify(v));
    }
  });

  test('where code generation is disallowed, objects are still written (by the walk)', () => {
    const module = join(ROOT, 'dist/formats/ndjson/serializer.js');
    const script = `
      const { createNdjsonSerializer } = await import(${JSON.stringify(pathToFileURL(module).href)});
      const s = createNdjsonSerializer();
      const out = [];
      for (let i = 0; i < 100; i++) out.push(s.serialize({ id: String(i), ok: i % 2 === 0, n: [i] }));
      process.stdout.write(out.join('\\n'));
    `;
    const r = spawnSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    const expected = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify({ id: String(i), ok: i % 2 === 0, n: [i] }),
    );
    expect(r.stdout).toBe(expected.join('\n'));
  });
});

// ---- refusals: a bad value anywhere is named with its path, as before the fast path

interface Bad {
  make: () => unknown;
  reason: string;
}
/** An array of a subclass: JSON.stringify writes it as an array, the serializer refuses it. */
class Tagged extends Array {}

class Point {
  x = 1;
}
class MyArray extends Array {}
const bads: Bad[] = [
  { make: () => undefined, reason: 'undefined is not a JSON value' },
  { make: () => Number.NaN, reason: 'NaN is not a JSON number' },
  { make: () => Number.POSITIVE_INFINITY, reason: 'Infinity is not a JSON number' },
  { make: () => Number.NEGATIVE_INFINITY, reason: '-Infinity is not a JSON number' },
  { make: () => () => 1, reason: 'a function is not a JSON value' },
  { make: () => Symbol('s'), reason: 'a symbol is not a JSON value' },
  { make: () => 10n, reason: 'a bigint is not a JSON value' },
  { make: () => new Date(0), reason: 'a Date is not a JSON value (convert it to plain data first)' },
  { make: () => new Map(), reason: 'a Map is not a JSON value (convert it to plain data first)' },
  { make: () => new Point(), reason: 'a Point is not a JSON value (convert it to plain data first)' },
  { make: () => ({ toJSON: () => 1 }), reason: 'an object with toJSON would not read back as itself' },
  {
    make: () => Object.assign(['a'], { toJSON: () => 'b' }),
    reason: 'an array with toJSON would not read back as itself',
  },
  { make: () => MyArray.from([1]), reason: 'a MyArray is not a plain array' },
  {
    make: () => new Uint8Array(1),
    reason: 'a Uint8Array is not a JSON value (convert it to plain data first)',
  },
];

/** One step from a container down to the bad value: a key among plain siblings, or an index. */
type Step =
  | { kind: 'key'; key: string; siblings: [string, unknown][] }
  | { kind: 'index'; before: unknown[]; after: unknown[] };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc
    .tuple(key, fc.array(fc.tuple(key, plain), { maxLength: 3 }))
    .map(([k, siblings]) => ({ kind: 'key' as const, key: k, siblings: siblings.filter(([s]) => s !== k) })),
  fc
    .tuple(fc.array(plain, { maxLength: 3 }), fc.array(plain, { maxLength: 3 }))
    .map(([before, after]) => ({ kind: 'index' as const, before, after })),
);

function wrap(inner: unknown, s: Step): unknown {
  if (s.kind === 'index') return [...s.before, inner, ...s.after];
  return objectOf([...s.siblings, [s.key, inner]], false);
}

const segment = (s: Step): string =>
  s.kind === 'index'
    ? `[${s.before.length}]`
    : /^[A-Za-z_$][\w$]*$/.test(s.key)
      ? `.${s.key}`
      : `[${JSON.stringify(s.key)}]`;

describe('refusals', () => {
  test('one bad value anywhere in plain data is refused, named by its path', () => {
    fc.assert(
      fc.property(fc.constantFrom(...bads), fc.array(step, { maxLength: 5 }), (bad, steps) => {
        // steps[0] is the outermost container.
        let v = bad.make();
        for (let i = steps.length - 1; i >= 0; i--) v = wrap(v, steps[i]!);
        const path = `$${steps.map(segment).join('')}`;
        expect(refusal(v)).toBe(`cannot write as JSON: ${path}: ${bad.reason}`);
      }),
      { numRuns: 400 },
    );
  });

  test('an array hole anywhere is refused, named by its path', () => {
    fc.assert(
      fc.property(fc.array(plain, { maxLength: 3 }), fc.array(step, { maxLength: 4 }), (before, steps) => {
        const holey: unknown[] = [...before];
        holey.length = before.length + 1;
        holey.push('after');
        let v: unknown = holey;
        for (let i = steps.length - 1; i >= 0; i--) v = wrap(v, steps[i]!);
        const path = `$${steps.map(segment).join('')}[${before.length}]`;
        expect(refusal(v)).toBe(`cannot write as JSON: ${path}: an array hole is not a JSON value`);
      }),
      { numRuns: 200 },
    );
  });

  test('a refused token does not disturb the next one', () => {
    const s = createNdjsonSerializer();
    const good = { a: [{ b: 'c' }], d: 'e' };
    expect(serialize(good, s)).toBe(JSON.stringify(good));
    expect(() => serialize({ a: [{ b: undefined }], d: 'e' }, s)).toThrow(
      'cannot write as JSON: $.a[0].b: undefined is not a JSON value',
    );
    expect(serialize(good, s)).toBe(JSON.stringify(good));
  });

  test('a cycle below the top level is refused as circular', () => {
    const inner: Record<string, unknown> = { id: 'x' };
    inner.self = [inner];
    expect(refusal({ a: inner })).toBe('cannot write as JSON: the value contains a circular reference');
  });
});
