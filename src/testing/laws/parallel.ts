/**
 * Parallel invariance, in two parts.
 *
 * Chunked tokenizers (for formats that do not say `parallel: false`): the records of an
 * input, split anywhere into chunks, each chunk tokenized by a FRESH tokenizer that is
 * first fed the input's preamble (the records before the first one that yields a
 * token: a CSV header row; and, for every chunk but the first, that first data record
 * too, its tokens discarded: it fixes the width of a headerless table), give the same
 * results as one tokenizer over everything.
 * This is exactly what the worker-thread engine does, so the law is what makes
 * `parallel: true` a promise rather than a hope: a tokenizer that carries anything else
 * from record to record (a running counter, a value filled down from the previous
 * line) fails it, and must say `parallel: false`.
 *
 * Pipeline: the real `pipeline()`, with one to three inputs cut into chunks and a
 * transform that finishes in a shuffled order, at any concurrency, gives the serial
 * output: the same tokens in the same order (ordered), or the same multiset
 * (unordered), and the same ledger.
 */
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import fc from 'fast-check';
import type { Sink } from '../../core/contracts.js';
import { pipeline } from '../../core/pipeline.js';
import { streamInput } from '../../core/sources.js';
import { sameData } from '../equal.js';
import { chunksOf, cuts, lawInputs, showChunks } from '../inputs.js';
import {
  flushOne,
  frameInput,
  LawViolation,
  sameOutcome,
  showOutcome,
  showRecord,
  tokenizeRange,
} from '../records.js';
import { runFormat } from '../run-format.js';
import { showBytes, showValue } from '../show.js';
import { asyncCheck, syncCheck } from './check.js';
import type { LawCheck, LawContext, LawDefinition } from './types.js';

/** Record indexes where chunks start, after the preamble: `p`, then the cuts, each in (p, n). */
function chunkStarts(p: number, n: number, splits: readonly number[]): number[] {
  const span = n - p;
  const inner = splits.map((s) => p + (s % (span + 1))).filter((x) => x > p && x < n);
  return [p, ...[...new Set(inner)].sort((a, b) => a - b)];
}

function chunkedTokenizers(ctx: LawContext): LawCheck {
  return syncCheck(ctx, {
    label: 'fresh tokenizers per chunk',
    arbitrary: fc.record({
      bytes: lawInputs(ctx),
      splits: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
    }),
    brief: ({ bytes, splits }) => `input ${showBytes(bytes)}, records split at ${showValue(splits)}`,
    show: ({ bytes, splits }) => {
      const input = frameInput(ctx.format, ctx.options, [bytes]);
      const serial = tokenizeRange(ctx.format.tokenizer(ctx.options), input);
      const p = serial.findIndex((o) => o.kind === 'tokens');
      const starts = p === -1 ? [] : chunkStarts(p, input.records.length, splits);
      return `input ${showBytes(bytes)}: preamble of ${Math.max(p, 0)} records, chunks starting at records ${starts.map((s) => s + 1).join(', ')}`;
    },
    predicate: ({ bytes, splits }) => {
      const { format, options } = ctx;
      const input = frameInput(format, options, [bytes]);
      const whole = format.tokenizer(options);
      const serial = tokenizeRange(whole, input);
      const serialFlush = flushOne(whole);
      const p = serial.findIndex((o) => o.kind === 'tokens');
      if (p === -1) return;
      const n = input.records.length;
      const starts = chunkStarts(p, n, splits);
      for (let c = 0; c < starts.length; c++) {
        const from = starts[c]!;
        const to = starts[c + 1] ?? n;
        const fresh = format.tokenizer(options);
        // The worker-thread engine replays the first data record too for later chunks.
        const replay = from > p ? p + 1 : p;
        tokenizeRange(fresh, input, 0, replay);
        const got = tokenizeRange(fresh, input, from, to);
        for (let k = 0; k < got.length; k++) {
          const i = from + k;
          if (!sameOutcome(got[k]!, serial[i]!)) {
            throw new LawViolation(
              `${showRecord(input, i)} gave ${showOutcome(got[k]!)} in a fresh tokenizer for the chunk starting at record ${from + 1} (fed the first ${replay} records first), but ${showOutcome(serial[i]!)} in one tokenizer over the whole input: its tokens depend on more than the record and the preamble (state carried from record to record, or the clock), so the format must say parallel: false`,
            );
          }
        }
        const flushed = flushOne(fresh);
        const last = c === starts.length - 1;
        if (last ? !sameOutcome(flushed, serialFlush) : flushed.kind !== 'skipped') {
          throw new LawViolation(
            last
              ? `flush after the last chunk gave ${showOutcome(flushed)}, but ${showOutcome(serialFlush)} after the whole input`
              : `flush after the chunk ending at record ${to} gave ${showOutcome(flushed)}: a parallel tokenizer holds nothing back for flush`,
          );
        }
      }
    },
  });
}

/** Two token lists as multisets: equal when every token appears as often in both. */
function sameMultiset(a: readonly unknown[], b: readonly unknown[]): string | undefined {
  if (a.length !== b.length) return `${a.length} tokens instead of ${b.length}`;
  const key = (v: unknown): string =>
    inspect(v, {
      depth: Number.POSITIVE_INFINITY,
      sorted: true,
      compact: true,
      breakLength: Number.POSITIVE_INFINITY,
      maxArrayLength: Number.POSITIVE_INFINITY,
      maxStringLength: Number.POSITIVE_INFINITY,
    });
  const counts = new Map<string, number>();
  for (const v of b) counts.set(key(v), (counts.get(key(v)) ?? 0) + 1);
  for (const v of a) {
    const k = key(v);
    const c = counts.get(k) ?? 0;
    if (c === 0) return `token ${showValue(v)} appears more often than serially`;
    counts.set(k, c - 1);
  }
  return undefined;
}

interface PipelineCase {
  inputs: { bytes: Uint8Array; cuts: Parameters<typeof chunksOf>[1] }[];
  concurrency: number;
  ordered: boolean;
  /** How many event-loop turns each item's transform waits, in turn: shuffles completion order. */
  yields: number[];
}

function showPipelineCase(c: PipelineCase): string {
  const inputs = c.inputs.map((i, k) => `#${k + 1} ${showChunks(i.bytes, chunksOf(i.bytes, i.cuts))}`);
  return `${c.ordered ? 'ordered' : 'unordered'}, concurrency ${c.concurrency}, transform delays ${showValue(c.yields)}; inputs ${inputs.join('; ')}`;
}

/**
 * The pipeline gunzips an input that starts with gzip's magic bytes (1f 8b), which the
 * format never sees; such an input gets an LF in front, on both sides of the comparison.
 */
function notGzip(bytes: Uint8Array): Uint8Array {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out[0] = 0x0a;
  out.set(bytes, 1);
  return out;
}

function pipelineRuns(ctx: LawContext): LawCheck {
  return asyncCheck(ctx, {
    label: 'pipeline at any concurrency',
    arbitrary: fc.record({
      inputs: fc.array(fc.record({ bytes: lawInputs(ctx).map(notGzip), cuts }), {
        minLength: 1,
        maxLength: 3,
      }),
      concurrency: fc.integer({ min: 1, max: 8 }),
      ordered: fc.boolean(),
      yields: fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 8 }),
    }),
    show: showPipelineCase,
    predicate: async (c) => {
      const serial = c.inputs.map((input, k) =>
        runFormat(ctx.format, [input.bytes], { options: ctx.rawOptions, source: `input-${k + 1}` }),
      );
      const expected = serial.flatMap((r) => r.items);
      const expectedLedger = {
        in: serial.reduce((n, r) => n + r.records, 0),
        rejected: serial.reduce((n, r) => n + r.rejects.length, 0),
        skipped: serial.reduce((n, r) => n + r.skipped, 0),
      };
      const items: unknown[] = [];
      const sink: Sink<unknown> = {
        name: 'law',
        write: async (batch) => {
          for (const item of batch) items.push(item);
        },
        close: async () => {},
      };
      let n = 0;
      const stats = await pipeline({
        inputs: c.inputs.map((input, k) =>
          streamInput(
            Readable.from(
              chunksOf(input.bytes, input.cuts).map((b) => Buffer.from(b)),
              { objectMode: false },
            ),
            `input-${k + 1}`,
          ),
        ),
        from: ctx.format,
        fromOptions: ctx.rawOptions,
        sinks: [sink],
        // Wrapped in an array so that a token that is itself an array (or null) stays one item.
        transforms: [
          async (item: unknown) => {
            const turns = c.yields[n++ % c.yields.length]!;
            for (let t = 0; t < turns; t++) await new Promise((r) => setImmediate(r));
            return [item];
          },
        ],
        concurrency: c.concurrency,
        ordered: c.ordered,
        onError: 'skip',
      });
      if (c.ordered && !sameData(items, expected)) {
        const i = items.findIndex((t, k) => !sameData(t, expected[k]));
        const at = i === -1 ? Math.min(items.length, expected.length) : i;
        throw new LawViolation(
          `the pipeline gave ${items.length} tokens, serial tokenizing ${expected.length}; token ${at + 1} is ${showValue(items[at])}, serially ${showValue(expected[at])}`,
        );
      }
      if (!c.ordered) {
        const why = sameMultiset(items, expected);
        if (why)
          throw new LawViolation(`the unordered pipeline output is not the serial output reordered: ${why}`);
      }
      const ledger = {
        in: stats.records.in,
        rejected: stats.records.rejected,
        skipped: stats.records.skipped,
      };
      if (!sameData(ledger, expectedLedger)) {
        throw new LawViolation(
          `the pipeline's ledger ${showValue(ledger)} differs from serial tokenizing's ${showValue(expectedLedger)}`,
        );
      }
    },
  });
}

export const parallelLaw: LawDefinition = {
  id: 'parallel',
  title: 'parallel invariance',
  statement:
    'fresh tokenizers over any split of the records, and the pipeline at any concurrency, give the serial output',
  skip: () => undefined,
  note: (ctx) =>
    ctx.format.parallel === false
      ? 'parallel: false, so only the pipeline part applies (no chunked tokenizers)'
      : undefined,
  checks: (ctx) => (ctx.format.parallel === false ? [] : [chunkedTokenizers(ctx)]).concat(pipelineRuns(ctx)),
};
