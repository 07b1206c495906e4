import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pipeline } from '../../src/core/pipeline.js';
import { chunkAt } from '../../src/testing/run-format.js';
import { collector, lines, memoryInput } from './helpers.js';

/** Lines of printable text, some of them the rejected line. */
const lineArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !/[\r\n]/.test(s)),
  },
  { weight: 1, arbitrary: fc.constant('BAD') },
);

async function runLines(
  bytes: Uint8Array,
  cuts: number[],
  opts: { concurrency: number; ordered: boolean; delays?: number[] },
) {
  const out = collector();
  let n = 0;
  const stats = await pipeline({
    inputs: [memoryInput('p', chunkAt(bytes, cuts))],
    from: lines,
    to: lines,
    output: out,
    onError: 'skip',
    concurrency: opts.concurrency,
    ordered: opts.ordered,
    transforms: [
      async (s: string) => {
        const d = opts.delays?.[n++ % (opts.delays.length || 1)] ?? 0;
        if (d > 0) await new Promise((r) => setTimeout(r, d));
        return s;
      },
    ],
  });
  return { text: out.text(), stats };
}

describe('pipeline properties', () => {
  it('gives the same ordered output for any concurrency, chunking and task timing as serial', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { maxLength: 60 }),
        fc.array(fc.nat(600), { maxLength: 12 }),
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
        async (ls, cuts, concurrency, delays) => {
          const bytes = Buffer.from(ls.map((l) => `${l}\n`).join(''));
          const serial = await runLines(bytes, [], { concurrency: 1, ordered: true });
          const parallel = await runLines(bytes, cuts, { concurrency, ordered: true, delays });
          expect(parallel.text).toBe(serial.text);
          expect(parallel.stats.records).toEqual(serial.stats.records);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives the same multiset of records unordered as ordered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { maxLength: 60 }),
        fc.array(fc.nat(600), { maxLength: 12 }),
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
        async (ls, cuts, concurrency, delays) => {
          const bytes = Buffer.from(ls.map((l) => `${l}\n`).join(''));
          const ordered = await runLines(bytes, [], { concurrency: 1, ordered: true });
          const unordered = await runLines(bytes, cuts, { concurrency, ordered: false, delays });
          const sorted = (t: string) => t.split('\n').sort();
          expect(sorted(unordered.text)).toEqual(sorted(ordered.text));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('accounts for every record of arbitrary bytes: in = emitted + rejected, and emitted = written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        fc.integer({ min: 1, max: 64 }),
        async (bytes, cuts, maxRecordBytes) => {
          const out = collector();
          const stats = await pipeline({
            inputs: [memoryInput('g', chunkAt(bytes, cuts))],
            from: lines,
            to: lines,
            output: out,
            onError: 'skip',
            maxRecordBytes,
          });
          expect(stats.records.in).toBe(stats.records.emitted + stats.records.rejected);
          expect(stats.items.written).toBe(stats.records.emitted);
          const written = out.text() === '' ? 0 : out.text().split('\n').length - 1;
          expect(written).toBe(stats.items.written);
        },
      ),
      { numRuns: 100 },
    );
  });
});
