/**
 * Laws of the parallel stages under every interleaving fast-check's scheduler picks:
 * each async task (or input chunk) is a scheduled promise, and `drive` releases them
 * one at a time in the scheduler's order, letting the streams react in between.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merge, parallelTransform } from '../../src/parallel/index.js';
import { collect, collector, drive } from './helpers.js';

/** How the task function treats one item: answers at once, later, or drops it. */
type Mode = 'sync' | 'async' | 'drop';
interface Item {
  value: number;
  mode: Mode;
}

const itemArb: fc.Arbitrary<Item> = fc.record({
  value: fc.integer({ min: -1000, max: 1000 }),
  mode: fc.constantFrom<Mode>('sync', 'async', 'async', 'drop'),
});
const concurrencyArb = fc.integer({ min: 1, max: 6 });
const highWaterMarkArb = fc.integer({ min: 0, max: 4 });

/** The serial meaning of the task function. */
function serial(items: readonly Item[]): number[] {
  return items.filter((i) => i.mode !== 'drop').map((i) => i.value * 2);
}

/** The task function, with async answers released by the scheduler; records the peak of calls in flight. */
function task(s: fc.Scheduler) {
  const stats = { running: 0, maxRunning: 0 };
  const fn = (item: Item): number | null | Promise<number | null> => {
    if (item.mode === 'sync') return item.value * 2;
    stats.running++;
    stats.maxRunning = Math.max(stats.maxRunning, stats.running);
    const answer = item.mode === 'drop' ? null : item.value * 2;
    return s.schedule(Promise.resolve(answer), `item ${item.value}`).finally(() => {
      stats.running--;
    });
  };
  return { fn, stats };
}

const byNumber = (a: number, b: number): number => a - b;

describe('parallelTransform laws', () => {
  it('ordered output equals serial output for any concurrency, highWaterMark and completion order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(itemArb, { maxLength: 40 }),
        concurrencyArb,
        highWaterMarkArb,
        async (s, items, concurrency, highWaterMark) => {
          const { fn, stats } = task(s);
          const sink = collector<number>();
          await drive(
            s,
            pipeline(Readable.from(items), parallelTransform(fn, { concurrency, highWaterMark }), sink),
          );
          expect(sink.items).toEqual(serial(items));
          expect(stats.maxRunning).toBeLessThanOrEqual(concurrency);
        },
      ),
    );
  });

  it('unordered output is the same multiset as serial output', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(itemArb, { maxLength: 40 }),
        concurrencyArb,
        highWaterMarkArb,
        async (s, items, concurrency, highWaterMark) => {
          const { fn, stats } = task(s);
          const sink = collector<number>();
          await drive(
            s,
            pipeline(
              Readable.from(items),
              parallelTransform(fn, { concurrency, highWaterMark, ordered: false }),
              sink,
            ),
          );
          expect([...sink.items].sort(byNumber)).toEqual(serial(items).sort(byNumber));
          expect(stats.maxRunning).toBeLessThanOrEqual(concurrency);
        },
      ),
    );
  });

  it('never holds more than concurrency + highWaterMark items between intake and the consumer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.integer(), { maxLength: 40 }),
        concurrencyArb,
        highWaterMarkArb,
        fc.boolean(),
        async (s, items, concurrency, highWaterMark, ordered) => {
          let started = 0;
          let peak = 0;
          const sink = collector<number>();
          const t = parallelTransform(
            (x: number) => {
              started++;
              // Items started but not yet received by the consumer: running, waiting, or buffered.
              peak = Math.max(peak, started - sink.items.length);
              return s.schedule(Promise.resolve(x));
            },
            { concurrency, highWaterMark, ordered },
          );
          await drive(s, pipeline(Readable.from(items), t, sink));
          expect(peak).toBeLessThanOrEqual(concurrency + highWaterMark);
        },
      ),
    );
  });

  it('the first task to fail decides the error and ends the output, whatever the completion order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }).filter((f) => f.includes(true)),
        concurrencyArb,
        fc.boolean(),
        async (s, failing, concurrency, ordered) => {
          const failedInOrder: Error[] = [];
          const errors: unknown[] = [];
          const data: unknown[] = [];
          const t = parallelTransform(
            async (i: number) => {
              await s.schedule(Promise.resolve(), `item ${i}`);
              if (failing[i]) {
                const e = new Error(`item ${i}`);
                failedInOrder.push(e);
                throw e;
              }
              return i;
            },
            { concurrency, ordered },
          );
          let dataAtError = -1;
          t.on('data', (x) => data.push(x));
          t.on('error', (e) => {
            errors.push(e);
            dataAtError = data.length;
          });
          const done = pipeline(Readable.from(failing.map((_, i) => i)), t, collector());
          await drive(s, done).catch(() => {});
          expect(errors).toHaveLength(1);
          expect(errors[0]).toBe(failedInOrder[0]);
          // Nothing is emitted after the failure, even by tasks released later.
          expect(data).toHaveLength(dataAtError);
        },
      ),
    );
  });
});

/** An input whose chunks appear one by one as the scheduler releases them. */
function scheduledInput(s: fc.Scheduler, chunks: readonly number[], label: string): Readable {
  let next = 0;
  return new Readable({
    objectMode: true,
    highWaterMark: 1,
    read() {
      const i = next++;
      s.schedule(Promise.resolve(), `${label}[${i}]`).then(() =>
        this.push(i < chunks.length ? chunks[i] : null),
      );
    },
  });
}

describe('merge laws', () => {
  const inputsArb = fc.array(fc.array(fc.integer(), { maxLength: 8 }), { maxLength: 6 });

  it('ordered merge is the concatenation of the inputs, lazy or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        inputsArb,
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        highWaterMarkArb,
        async (s, inputs, lazy, highWaterMark) => {
          const streams = inputs.map((chunks, i) =>
            lazy[i] ? () => scheduledInput(s, chunks, `in${i}`) : scheduledInput(s, chunks, `in${i}`),
          );
          const out = await drive(s, collect<number>(merge(streams, { highWaterMark })));
          expect(out).toEqual(inputs.flat());
        },
      ),
    );
  });

  it('unordered merge keeps every item and the order within each input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        inputsArb,
        fc.integer({ min: 1, max: 4 }),
        async (s, inputs, concurrency) => {
          // Tag each chunk with its input so the order within an input can be checked.
          const tagged = inputs.map((chunks, i) => chunks.map((_, j) => i * 1000 + j));
          const streams = tagged.map((chunks, i) => () => scheduledInput(s, chunks, `in${i}`));
          const out = await drive(s, collect<number>(merge(streams, { ordered: false, concurrency })));
          expect([...out].sort(byNumber)).toEqual(tagged.flat().sort(byNumber));
          for (const [i, chunks] of tagged.entries()) {
            expect(out.filter((x) => Math.floor(x / 1000) === i)).toEqual(chunks);
          }
        },
      ),
    );
  });
});
