/**
 * `threads: N` converts exactly as `threads: 0` does: for every built-in format, any
 * input (hostile lines, invalid UTF-8, over-long records, BOM, CRLF, CSV quoted newlines
 * across chunk boundaries), any chunk size and thread count, the ordered output is the
 * same bytes, the rejections are the same (same lines and offsets), and so is the
 * ledger; unordered output is the same multiset of lines.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { arbitrary as csvRow, tableOf } from '../../formats/csv/arbitrary.js';
import csv from '../../formats/csv/index.js';
import { arbitrary as ndjsonValue } from '../../formats/ndjson/arbitrary.js';
import { arbitrary as segmentEvent } from '../../formats/segments/arbitrary.js';
import { arbitrary as tsvRow } from '../../formats/tsv/arbitrary.js';
import { defaultRegistry } from '../../src/core/builtins.js';
import { defineFormat, type Serializer } from '../../src/core/contracts.js';
import { resolveOptions } from '../../src/core/options.js';
import { convert, fixture, hostile, ledger, rejectionSet, requireBuild } from './helpers.js';

beforeAll(() => requireBuild());

function records<T>(format: string, tokens: T[]): string[] {
  const f = defaultRegistry.get(format);
  const s = f.serializer!(resolveOptions(f.options, {}, '')) as Serializer<T>;
  if (tokens.length === 0) return [];
  const h = s.header?.(tokens[0]);
  return [...(h === undefined ? [] : [h]), ...tokens.map((t) => s.serialize(t))];
}

/** Valid records of each format (then made hostile). Segments lines always carry a timestamp. */
const VALID: Record<string, fc.Arbitrary<string[]>> = {
  csv: fc.oneof(
    tableOf({ maxRows: 12 }).map((t) => records('csv', t.rows.length > 0 ? t.rows : [])),
    fc.array(csvRow, { maxLength: 12 }).map((rows) => records('csv', rows)),
  ),
  tsv: fc.array(tsvRow, { maxLength: 12 }).map((rows) => records('tsv', rows)),
  ndjson: fc.array(ndjsonValue, { maxLength: 12 }).map((vs) => records('ndjson', vs)),
  segments: fc.array(segmentEvent, { maxLength: 12 }).map((es) => records('segments', es)),
};

/** Hostile lines that cannot read as a segments line without a timestamp (which would read the clock). */
const SEGMENTS_HOSTILE: (string | number[])[] = [
  '',
  '   ',
  '\t',
  'x'.repeat(90),
  [0xff, 0x41],
  [0xc3],
  '\t\t\t',
];

function input(format: string) {
  return hostile(VALID[format]!, format === 'segments' ? SEGMENTS_HOSTILE : undefined);
}

const PAIRS: [string, string][] = [
  ['csv', 'csv'],
  ['csv', 'ndjson'],
  ['tsv', 'tsv'],
  ['ndjson', 'ndjson'],
  ['ndjson', 'csv'],
  ['segments', 'segments'],
  ['segments', 'ndjson'],
];

/** Threads, the main thread among them or (isolate) not: threads 1 without isolate is the main thread converting chunks alone. */
const threadsArb = fc.record({ threads: fc.integer({ min: 1, max: 3 }), isolate: fc.boolean() });
const chunkArb = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 600 }));
const piecesArb = fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 4 });
const maxRecordArb = fc.oneof(fc.constant(undefined), fc.integer({ min: 20, max: 120 }));

describe.each(PAIRS)('%s -> %s', (from, to) => {
  it('ordered: the same bytes, rejections and ledger as threads: 0', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(input(from), { minLength: 1, maxLength: 2 }),
        threadsArb,
        chunkArb,
        piecesArb,
        maxRecordArb,
        fc.boolean(),
        async (inputs, threads, chunkBytes, pieces, maxRecordBytes, transform) => {
          const options = {
            from,
            to,
            pieces,
            ...(maxRecordBytes !== undefined ? { maxRecordBytes } : {}),
          };
          const serial = await convert(inputs, {
            ...options,
            ...(transform ? { transforms: [fixture('reshape.mjs')] } : {}),
          });
          const threaded = await convert(inputs, {
            ...options,
            ...threads,
            chunkBytes,
            ...(transform ? { transforms: [fixture('reshape.mjs')] } : {}),
          });
          expect(threaded.error).toBe(serial.error);
          expect(threaded.out.toString('latin1')).toBe(serial.out.toString('latin1'));
          expect(rejectionSet(threaded.rejects)).toEqual(rejectionSet(serial.rejects));
          expect(ledger(threaded.stats)).toEqual(ledger(serial.stats));
          expect(threaded.stats.threads).toMatchObject({ requested: threads.threads, used: threads.threads });
        },
      ),
      { numRuns: 8 },
    );
  });

  it('unordered: the same lines in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(input(from), { minLength: 1, maxLength: 2 }),
        threadsArb,
        chunkArb,
        async (inputs, threads, chunkBytes) => {
          const serial = await convert(inputs, { from, to: 'ndjson' });
          const threaded = await convert(inputs, {
            from,
            to: 'ndjson',
            ...threads,
            chunkBytes,
            ordered: false,
          });
          const lines = (b: Buffer) => b.toString('latin1').split('\n').sort();
          expect(lines(threaded.out)).toEqual(lines(serial.out));
          expect(rejectionSet(threaded.rejects)).toEqual(rejectionSet(serial.rejects));
          expect(ledger(threaded.stats)).toEqual(ledger(serial.stats));
        },
      ),
      { numRuns: 4 },
    );
  });

  it('fail: the same bytes before the first bad record, and the same error', async () => {
    await fc.assert(
      fc.asyncProperty(input(from), threadsArb, chunkArb, async (bytes, threads, chunkBytes) => {
        const serial = await convert([bytes], { from, to, onError: 'fail', maxRecordBytes: 60 });
        const threaded = await convert([bytes], {
          from,
          to,
          onError: 'fail',
          maxRecordBytes: 60,
          ...threads,
          chunkBytes,
        });
        expect(threaded.out.toString('latin1')).toBe(serial.out.toString('latin1'));
        const describe = (e: unknown) =>
          e === undefined ? undefined : { ...(e as { toJSON(): object }).toJSON(), name: (e as Error).name };
        expect(describe(threaded.error)).toEqual(describe(serial.error));
      }),
      { numRuns: 4 },
    );
  });
});

/**
 * A tokenizer with a `flush` (no built-in format has one, so only `threads: 1` runs it in
 * the chunk engine): the chunk that may be the input's last is held until it is known to
 * be, and the flush runs on a fresh tokenizer fed the replayed preamble. The footer it
 * writes depends on that preamble (the input's first record), so a replay that missed
 * or repeated a record would show.
 */
describe('csv with a flush -> ndjson, threads: 1', () => {
  const footed = defineFormat({
    ...csv,
    name: 'footed-csv',
    tokenizer: (options) => {
      const inner = csv.tokenizer(options);
      let first: string | undefined;
      let seen = 0;
      return {
        tokenize(record, at, out) {
          first ??= record;
          seen++;
          inner.tokenize(record, at, out);
        },
        flush(out) {
          // How many records this tokenizer saw is not the format's to write (chunks get
          // their own tokenizers): only that it saw the first.
          out.push({ footer: first ?? '', sawAny: String(seen > 0) });
        },
      };
    },
  });

  it('ordered: the same bytes, rejections and ledger as threads: 0', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(input('csv'), { minLength: 1, maxLength: 2 }),
        chunkArb,
        piecesArb,
        maxRecordArb,
        async (inputs, chunkBytes, pieces, maxRecordBytes) => {
          const options = {
            from: footed,
            to: 'ndjson',
            pieces,
            ...(maxRecordBytes !== undefined ? { maxRecordBytes } : {}),
          };
          const serial = await convert(inputs, options);
          const one = await convert(inputs, { ...options, threads: 1, chunkBytes });
          expect(one.error).toBe(serial.error);
          expect(one.out.toString('latin1')).toBe(serial.out.toString('latin1'));
          expect(rejectionSet(one.rejects)).toEqual(rejectionSet(serial.rejects));
          expect(ledger(one.stats)).toEqual(ledger(serial.stats));
          expect(one.stats.threads).toMatchObject({ requested: 1, used: 1, workers: 0 });
        },
      ),
      { numRuns: 40 },
    );
  });
});
