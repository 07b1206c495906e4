/**
 * The verbatim fast path (ADR 0008) changes nothing but speed: ndjson to ndjson with it
 * writes the same bytes, rejects the same records at the same lines and keeps the same
 * ledger as with it turned off (`verbatim: false`), in-process and with worker threads,
 * for any input: valid lines, mutated lines, blank lines, invalid UTF-8, CRLF, a BOM.
 * And it is taken: canonical records never reach the tokenizer.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { arbitrary as ndjsonValue } from '../../formats/ndjson/arbitrary.js';
import ndjson from '../../formats/ndjson/index.js';
import type { Tokenizer } from '../../src/core/contracts.js';
import { pipeline } from '../../src/core/pipeline.js';
import { createStats } from '../../src/core/stats.js';
import { verbatimApplies } from '../../src/core/verbatim.js';
import { convert, hostile, ledger, rejectionSet, requireBuild } from '../threads/helpers.js';
import { collector, memoryInput } from './helpers.js';

beforeAll(() => requireBuild());

/** Flat objects like most ndjson files hold: the records the fast path is for. */
const common = fc
  .dictionary(
    fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/),
    fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.constantFrom(true, false, null)),
    { maxKeys: 5 },
  )
  .map((o) => JSON.stringify(o));

/** A serialized value with one edit: often still valid JSON, but not canonical. */
const edited = fc
  .tuple(
    ndjsonValue.map((v) => JSON.stringify(v)),
    fc.nat(),
    fc.constantFrom(' ', '\\/', '\\u0041', '-0', '1.0', '1e400', ',"a":1', '"1":', '\t', '{', '}', '\udc00'),
  )
  .map(([s, at, piece]) => {
    const i = at % (s.length + 1);
    return s.slice(0, i) + piece + s.slice(i);
  });

/** Flat objects written by hand, with the forms JSON.stringify would write otherwise. */
const handWritten = fc
  .array(
    fc.tuple(
      fc.constantFrom('a', 'b', '1', '__proto__', 'a\\/b'),
      fc.oneof(
        fc
          .array(fc.constantFrom('x', '\\/', '\\u0041', '\\n', '\\"', '\t', 'é', '\ud800', ' '), {
            maxLength: 4,
          })
          .map((ps) => `"${ps.join('')}"`),
        fc.constantFrom('1', '-0', '01', '1.0', '1.5', '1e2', '1e400', '9007199254740993', 'true', 'null'),
      ),
    ),
    { minLength: 1, maxLength: 3 },
  )
  .map((fields) => `{${fields.map(([k, v]) => `"${k}":${v}`).join(',')}}`);

const records = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: common },
    { weight: 3, arbitrary: handWritten },
    { weight: 2, arbitrary: ndjsonValue.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: edited },
    { weight: 1, arbitrary: fc.constantFrom('{"a":1,"a":2}', '{"b":1,"0":2}', '{"a": 1}', '-0', '') },
  ),
  { maxLength: 14 },
);

const input = hostile(records);
const chunkArb = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 600 }));
const piecesArb = fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 4 });

describe('verbatim fast path: ndjson -> ndjson', () => {
  it('property: the same bytes, rejections and ledger as without it, in-process and with threads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(input, { minLength: 1, maxLength: 2 }),
        piecesArb,
        chunkArb,
        fc.oneof(fc.constant(undefined), fc.integer({ min: 20, max: 120 })),
        async (inputs, pieces, chunkBytes, maxRecordBytes) => {
          const options = {
            from: 'ndjson',
            to: 'ndjson',
            pieces,
            ...(maxRecordBytes !== undefined ? { maxRecordBytes } : {}),
          };
          const slow = await convert(inputs, { ...options, verbatim: false });
          const runs = [
            await convert(inputs, options),
            await convert(inputs, { ...options, threads: 2, chunkBytes }),
            await convert(inputs, { ...options, threads: 2, chunkBytes, verbatim: false }),
          ];
          for (const fast of runs) {
            expect(fast.error).toBe(slow.error);
            expect(fast.out.toString('latin1')).toBe(slow.out.toString('latin1'));
            expect(rejectionSet(fast.rejects)).toEqual(rejectionSet(slow.rejects));
            expect(ledger(fast.stats)).toEqual(ledger(slow.stats));
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);

  it('property: under fail, the same bytes before the first bad record and the same error', async () => {
    const describeError = (e: unknown) =>
      e === undefined ? undefined : { ...(e as { toJSON(): object }).toJSON(), name: (e as Error).name };
    await fc.assert(
      fc.asyncProperty(input, chunkArb, async (bytes, chunkBytes) => {
        const options = { from: 'ndjson', to: 'ndjson', onError: 'fail' as const, maxRecordBytes: 60 };
        const slow = await convert([bytes], { ...options, verbatim: false });
        const fast = await convert([bytes], options);
        // Threads stop reading at a failure at their own pace: their ledger is not compared.
        const threaded = await convert([bytes], { ...options, threads: 2, chunkBytes });
        for (const run of [fast, threaded]) {
          expect(run.out.toString('latin1')).toBe(slow.out.toString('latin1'));
          expect(describeError(run.error)).toEqual(describeError(slow.error));
        }
        expect(ledger(fast.stats)).toEqual(ledger(slow.stats));
      }),
      { numRuns: 10 },
    );
  }, 120_000);

  it('is taken: canonical records never reach the tokenizer', async () => {
    let calls = 0;
    // The same format object on both sides, with a tokenizer that counts its records.
    const counted = {
      ...ndjson,
      tokenizer: (o: object): Tokenizer<unknown> => {
        const inner = ndjson.tokenizer(o);
        return {
          tokenize(record, at, out) {
            calls++;
            inner.tokenize(record, at, out as never[]);
          },
        };
      },
    };
    const text =
      '{"user_id":"u1","segments":"seg1;seg2","timestamp":"1702064562"}\n' +
      '{"user_id":"u2","segments":"seg3","timestamp":"1702064563"}\n' +
      '{"n":1,"ok":true,"x":null}\n' +
      '{"a": 1}\n' +
      '\n' +
      'not json\n' +
      '[1,2,{"b":"c"}]\n';
    const run = async (verbatim: boolean) => {
      calls = 0;
      const out = collector();
      const stats = createStats();
      await pipeline({
        inputs: [memoryInput('m', [text])],
        from: counted,
        to: counted,
        output: out,
        onError: 'skip',
        verbatim,
        stats,
      });
      return { text: out.text(), calls, stats };
    };
    const fast = await run(true);
    const slow = await run(false);
    expect(fast.text).toBe(slow.text);
    expect(fast.text).toBe(
      '{"user_id":"u1","segments":"seg1;seg2","timestamp":"1702064562"}\n' +
        '{"user_id":"u2","segments":"seg3","timestamp":"1702064563"}\n' +
        '{"n":1,"ok":true,"x":null}\n' +
        '{"a":1}\n' +
        '[1,2,{"b":"c"}]\n',
    );
    expect(slow.calls).toBe(7);
    // Only `{"a": 1}`, the blank line and `not json` are tokenized.
    expect(fast.calls).toBe(3);
    expect(fast.stats.records).toEqual(slow.stats.records);
    expect(fast.stats.items).toEqual(slow.stats.items);
    expect(fast.stats.records).toEqual({ in: 6, emitted: 5, rejected: 1, skipped: 1 });
  });
});

describe('verbatimApplies', () => {
  const serializer = ndjson.serializer!({});
  const base = {
    from: ndjson,
    fromOptions: {},
    to: ndjson,
    toOptions: {},
    serializer,
    transforms: 0,
    objectSinks: 0,
  };

  it('applies to a format converted to itself with nothing in between', () => {
    expect(verbatimApplies(base)).toBe(true);
  });

  it('does not apply with transforms, object sinks, another output format, no byte output or a header', () => {
    expect(verbatimApplies({ ...base, transforms: 1 })).toBe(false);
    expect(verbatimApplies({ ...base, objectSinks: 1 })).toBe(false);
    expect(verbatimApplies({ ...base, to: { ...ndjson } })).toBe(false);
    expect(verbatimApplies({ ...base, to: undefined })).toBe(false);
    expect(verbatimApplies({ ...base, serializer: undefined })).toBe(false);
    expect(verbatimApplies({ ...base, serializer: { ...serializer, header: () => 'h' } })).toBe(false);
    const { canonical: _, ...plain } = ndjson;
    expect(verbatimApplies({ ...base, from: plain, to: plain })).toBe(false);
  });

  it('needs the same options on both sides', () => {
    const withOptions = {
      ...ndjson,
      options: {
        pretty: { type: 'boolean' as const, description: 'x', default: false },
        tags: { type: 'string[]' as const, description: 'y', default: ['a'] },
      },
    };
    const run = { ...base, from: withOptions, to: withOptions };
    expect(verbatimApplies(run)).toBe(true);
    expect(verbatimApplies({ ...run, fromOptions: { pretty: false } })).toBe(true);
    expect(verbatimApplies({ ...run, toOptions: { pretty: true } })).toBe(false);
    expect(verbatimApplies({ ...run, toOptions: { tags: ['a', 'b'] } })).toBe(false);
    expect(verbatimApplies({ ...run, fromOptions: { tags: ['a'] }, toOptions: { tags: ['a'] } })).toBe(true);
  });
});
