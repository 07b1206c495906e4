import { getEventListeners, once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { parallelTransform } from '../../src/parallel/index.js';
import {
  closed,
  collect,
  collector,
  countingSource,
  type Deferred,
  deferred,
  settle,
  unhandledDuring,
} from './helpers.js';

const double = (x: number): number => x * 2;

describe('parallelTransform options', () => {
  it('rejects a concurrency of 0 with a coded option error naming the value', () => {
    expect(() => parallelTransform(double, { concurrency: 0 })).toThrow(
      expect.objectContaining({
        name: 'SluiceError',
        code: 'SLUICE_E_OPTION',
        stage: 'config',
        message: 'concurrency: expected an integer >= 1, got 0',
      }),
    );
  });

  it.each([
    [1.5, '1.5'],
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    ['4', '"4"'],
  ])('rejects a concurrency of %s', (concurrency, shown) => {
    expect(() => parallelTransform(double, { concurrency: concurrency as number })).toThrow(
      `concurrency: expected an integer >= 1, got ${shown}`,
    );
  });

  it('rejects a negative highWaterMark', () => {
    expect(() => parallelTransform(double, { highWaterMark: -1 })).toThrow(
      'highWaterMark: expected an integer >= 0, got -1',
    );
  });

  it('rejects an ordered option that is not a boolean', () => {
    expect(() => parallelTransform(double, { ordered: 'yes' as unknown as boolean })).toThrow(
      'ordered: expected true or false, got "yes"',
    );
  });

  it('rejects a signal that is not an AbortSignal', () => {
    expect(() => parallelTransform(double, { signal: {} as AbortSignal })).toThrow(
      'signal: expected an AbortSignal, got an object (Object)',
    );
  });

  it('rejects a task function that is not a function', () => {
    expect(() => parallelTransform(42 as unknown as typeof double)).toThrow(SluiceError);
  });

  it('accepts a highWaterMark of 0 and still delivers every result', async () => {
    const out = await collect(Readable.from([1, 2, 3]).pipe(parallelTransform(double, { highWaterMark: 0 })));
    expect(out).toEqual([2, 4, 6]);
  });
});

describe('parallelTransform output', () => {
  it('emits results in input order when later items finish first', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const t = parallelTransform(
      async (i: number) => {
        await gates[i]!.promise;
        return `r${i}`;
      },
      { concurrency: 3 },
    );
    const out = collect(t);
    t.write(0);
    t.write(1);
    t.end(2);
    await settle();
    gates[2]!.resolve();
    await settle();
    gates[1]!.resolve();
    await settle();
    gates[0]!.resolve();
    expect(await out).toEqual(['r0', 'r1', 'r2']);
  });

  it('emits results as they complete when ordered is false', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const t = parallelTransform(
      async (i: number) => {
        await gates[i]!.promise;
        return `r${i}`;
      },
      { concurrency: 3, ordered: false },
    );
    const out = collect(t);
    t.write(0);
    t.write(1);
    t.end(2);
    await settle();
    gates[2]!.resolve();
    await settle();
    gates[0]!.resolve();
    await settle();
    gates[1]!.resolve();
    expect(await out).toEqual(['r2', 'r0', 'r1']);
  });

  it('drops undefined and null results', async () => {
    const out = await collect(
      Readable.from([1, 2, 3, 4, 5]).pipe(
        parallelTransform((x: number) => (x % 2 === 0 ? null : x === 5 ? undefined : x), { concurrency: 2 }),
      ),
    );
    expect(out).toEqual([1, 3]);
  });

  it('emits the result of a synchronous function within the write call', () => {
    // The synchronous fast path: no promise and no tick between write() and push().
    const t = parallelTransform(double);
    t.write(21);
    expect(t.readableLength).toBe(1);
    expect(t.read()).toBe(42);
  });

  it('adopts a result that is a thenable but not a native promise', async () => {
    // biome-ignore lint/suspicious/noThenProperty: a foreign thenable is exactly what this test needs.
    const thenable = (x: number) => ({ then: (resolve: (v: number) => void) => resolve(x * 10) });
    const t = parallelTransform(thenable as unknown as (x: number) => Promise<number>, { concurrency: 2 });
    t.write(1);
    t.end(2);
    expect(await collect(t)).toEqual([10, 20]);
  });

  it('ends without output when given no items', async () => {
    const t = parallelTransform(double, { concurrency: 4 });
    t.end();
    expect(await collect(t)).toEqual([]);
  });

  it('ends only after every task in flight has finished and been emitted', async () => {
    const gate = deferred();
    const t = parallelTransform(
      async (x: number) => {
        await gate.promise;
        return x;
      },
      { concurrency: 2 },
    );
    const ended = once(t, 'end');
    const out: number[] = [];
    t.on('data', (x: number) => out.push(x));
    t.write(1);
    t.end(2);
    await settle();
    expect(t.readableEnded).toBe(false);
    expect(t.writableFinished).toBe(false);
    gate.resolve();
    await ended;
    expect(out).toEqual([1, 2]);
  });

  it('passes the item and a context with a signal to the task function', async () => {
    const seen: unknown[] = [];
    const t = parallelTransform((x: number, ctx) => {
      seen.push(x, ctx.signal instanceof AbortSignal, ctx.signal.aborted);
      return x;
    });
    t.end(7);
    await collect(t);
    expect(seen).toEqual([7, true, false]);
  });
});

describe('parallelTransform concurrency and backpressure', () => {
  function gated(concurrency: number, highWaterMark?: number, ordered = true) {
    const gates: Deferred<number>[] = [];
    let running = 0;
    let maxRunning = 0;
    const t = parallelTransform(
      async (x: number) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const gate = deferred<number>();
        gates[x] = gate;
        try {
          return await gate.promise;
        } finally {
          running--;
        }
      },
      { concurrency, ordered, ...(highWaterMark === undefined ? {} : { highWaterMark }) },
    );
    return { t, gates, maxRunning: () => maxRunning, calls: () => gates.length };
  }

  it('runs at most concurrency tasks at once', async () => {
    const { t, gates, maxRunning, calls } = gated(3, 10);
    const done = pipeline(Readable.from(Array.from({ length: 10 }, (_, i) => i)), t, collector());
    await settle();
    expect(calls()).toBe(3);
    gates[1]!.resolve(1);
    await settle();
    expect(calls()).toBe(4);
    for (let i = 0; i < 10; i++) {
      gates[i]?.resolve(i);
      await settle();
    }
    await done;
    expect(maxRunning()).toBe(3);
  });

  it('keeps starting items behind a slow head, up to concurrency + highWaterMark', async () => {
    const { t, gates, calls } = gated(2, 3);
    const sink = collector<number>();
    const done = pipeline(Readable.from(Array.from({ length: 20 }, (_, i) => i)), t, sink);
    await settle();
    // Item 0 is stuck; every item after it finishes at once.
    for (let i = 1; i < 20; i++) {
      gates[i]?.resolve(i);
      await settle();
    }
    expect(calls()).toBe(5);
    expect(sink.items).toEqual([]);
    gates[0]!.resolve(0);
    for (let i = 5; i < 20; i++) {
      await settle();
      gates[i]?.resolve(i);
    }
    await done;
    expect(sink.items).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('holds the write callback while the window is full', async () => {
    const { t, gates } = gated(1, 1);
    const acknowledged: number[] = [];
    t.write(0, () => acknowledged.push(0));
    t.write(1, () => acknowledged.push(1));
    await settle();
    // Task 0 is running: concurrency 1 is used up.
    expect(acknowledged).toEqual([]);
    gates[0]!.resolve(0);
    await settle();
    expect(acknowledged).toEqual([0]);
    gates[1]!.resolve(1);
    await settle();
    // Both results are unread: concurrency + highWaterMark = 2 items are held.
    expect(acknowledged).toEqual([0]);
    expect(t.read()).toBe(0);
    await settle();
    expect(acknowledged).toEqual([0, 1]);
  });

  it.each([
    ['ordered', true],
    ['unordered', false],
  ])(
    'stops calling fn at concurrency + highWaterMark when the consumer never reads (%s)',
    async (_, ordered) => {
      let calls = 0;
      const source = countingSource(2);
      const t = parallelTransform(
        (x: number) => {
          calls++;
          return x;
        },
        { concurrency: 3, highWaterMark: 4, ordered },
      );
      source.pipe(t);
      for (let i = 0; i < 5; i++) await settle();
      expect(calls).toBe(7);
      // The source is held too: the writable side's buffer (4) and its own (2) fill, then it stops.
      const pulled = source.pulled();
      expect(pulled).toBeLessThanOrEqual(7 + 4 + 2 + 1);
      for (let i = 0; i < 5; i++) await settle();
      expect(calls).toBe(7);
      expect(source.pulled()).toBe(pulled);
      source.destroy();
      t.destroy();
    },
  );

  it('resumes calling fn as the consumer reads', async () => {
    let calls = 0;
    const source = countingSource();
    const t = parallelTransform(
      (x: number) => {
        calls++;
        return x;
      },
      { concurrency: 2, highWaterMark: 2 },
    );
    source.pipe(t);
    await settle();
    expect(calls).toBe(4);
    expect([t.read(), t.read()]).toEqual([0, 1]);
    await settle();
    expect(calls).toBe(6);
    source.destroy();
    t.destroy();
  });

  it('respects push() returning false and resumes emitting on read', async () => {
    const t = parallelTransform(double, { concurrency: 4, highWaterMark: 1, ordered: false });
    // Four synchronous results complete while the readable side holds at most one.
    for (let i = 1; i <= 3; i++) t.write(i);
    await settle();
    expect(t.readableLength).toBe(1);
    expect(t.read()).toBe(2);
    await settle();
    expect(t.read()).toBe(4);
    t.end();
    expect(await collect(t)).toEqual([6]);
  });
});

describe('parallelTransform errors', () => {
  it('destroys the stream with the first error and ignores later ones', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const t = parallelTransform(
      async (i: number) => {
        await gates[i]!.promise;
        return i;
      },
      { concurrency: 3 },
    );
    const errors: unknown[] = [];
    t.on('error', (e) => errors.push(e));
    const whenClosed = closed(t);
    t.write(0);
    t.write(1);
    t.write(2);
    await settle();
    const first = new Error('first');
    gates[1]!.reject(first);
    await settle();
    gates[0]!.reject(new Error('second'));
    gates[2]!.resolve();
    await whenClosed;
    await settle();
    expect(errors).toEqual([first]);
    expect(t.errored).toBe(first);
  });

  it('aborts the other tasks signals when one fails, with the failure as cause', async () => {
    const signals: AbortSignal[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const t = parallelTransform(
      async (i: number, { signal }) => {
        signals[i] = signal;
        await gates[i]!.promise;
        return i;
      },
      { concurrency: 3 },
    );
    t.on('error', () => {});
    const whenClosed = closed(t);
    t.write(0);
    t.write(1);
    t.write(2);
    await settle();
    const failure = new Error('boom');
    gates[1]!.reject(failure);
    await whenClosed;
    expect(signals.map((s) => s.aborted)).toEqual([true, false, true]);
    expect(signals[0]!.reason).toMatchObject({ code: 'SLUICE_E_ABORTED', cause: failure });
  });

  it('emits no results after the failure, even from tasks that finish later', async () => {
    const gates = [deferred(), deferred()];
    const t = parallelTransform(
      async (i: number) => {
        await gates[i]!.promise;
        return i;
      },
      { concurrency: 2, ordered: false },
    );
    const data: unknown[] = [];
    t.on('data', (x) => data.push(x));
    t.on('error', () => {});
    t.write(0);
    t.write(1);
    await settle();
    gates[0]!.reject(new Error('boom'));
    await settle();
    gates[1]!.resolve();
    await settle();
    expect(data).toEqual([]);
  });

  it('fails the stream when the task function throws synchronously', async () => {
    const failure = new Error('sync');
    const source = Readable.from([1, 2, 3]);
    const done = pipeline(
      source,
      parallelTransform((x: number) => {
        if (x === 2) throw failure;
        return x;
      }),
      collector(),
    );
    await expect(done).rejects.toBe(failure);
    expect(source.destroyed).toBe(true);
  });

  it('wraps a rejection that is not an Error, keeping it as cause', async () => {
    const t = parallelTransform(() => Promise.reject('just a string'));
    t.end(1);
    await expect(collect(t)).rejects.toMatchObject({ message: 'just a string', cause: 'just a string' });
  });

  it('has no unhandled rejections when several tasks fail', async () => {
    const unhandled = await unhandledDuring(async () => {
      const t = parallelTransform(
        async (x: number) => {
          await settle();
          throw new Error(`fail ${x}`);
        },
        { concurrency: 4 },
      );
      t.on('error', () => {});
      const whenClosed = closed(t);
      for (let i = 0; i < 4; i++) t.write(i);
      await whenClosed;
      for (let i = 0; i < 3; i++) await settle();
    });
    expect(unhandled).toEqual([]);
  });
});

describe('parallelTransform abort and destroy', () => {
  it('is destroyed with SLUICE_E_ABORTED when the signal aborts, with the reason as cause', async () => {
    const controller = new AbortController();
    const taskSignals: AbortSignal[] = [];
    const t = parallelTransform(
      (_x: number, { signal }) => {
        taskSignals.push(signal);
        return new Promise<number>(() => {});
      },
      { concurrency: 2, signal: controller.signal },
    );
    t.write(1);
    const failed = once(t, 'error');
    controller.abort('user pressed ^C');
    const [error] = await failed;
    expect(error).toMatchObject({ code: 'SLUICE_E_ABORTED', cause: 'user pressed ^C' });
    expect(taskSignals[0]!.aborted).toBe(true);
    expect(taskSignals[0]!.reason).toBe(error);
  });

  it('fails at once when the signal has already aborted', async () => {
    const t = parallelTransform(double, { signal: AbortSignal.abort('too late') });
    const [error] = await once(t, 'error');
    expect(error).toMatchObject({ code: 'SLUICE_E_ABORTED', cause: 'too late' });
  });

  it('stops listening to the signal once the stream is closed', async () => {
    const controller = new AbortController();
    const t = parallelTransform(double, { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    t.end(1);
    await collect(t);
    await settle();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('can be destroyed twice without a second error or close', async () => {
    const t = parallelTransform(double);
    const errors: unknown[] = [];
    let closes = 0;
    t.on('error', (e) => errors.push(e));
    t.on('close', () => closes++);
    const first = new Error('first');
    t.destroy(first);
    t.destroy(new Error('second'));
    t.destroy();
    await settle();
    await settle();
    expect(errors).toEqual([first]);
    expect(closes).toBe(1);
  });

  it('releases every waiter when destroyed while saturated', async () => {
    const unhandled = await unhandledDuring(async () => {
      const signals: AbortSignal[] = [];
      const t = parallelTransform(
        (_x: number, { signal }) => {
          signals.push(signal);
          // A well-behaved task rejects when its signal aborts.
          return new Promise<number>((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason)),
          );
        },
        { concurrency: 2, highWaterMark: 0 },
      );
      const whenClosed = closed(t);
      const callbacks: Promise<unknown>[] = [];
      for (let i = 0; i < 5; i++) {
        callbacks.push(new Promise((resolve) => t.write(i, (e) => resolve(e ?? 'ok'))));
      }
      await settle();
      expect(signals).toHaveLength(2);
      t.destroy();
      // Every write callback is called: the two items taken by tasks (the second one's
      // callback was being held) as done, the buffered ones with the error Node gives
      // writes it never started.
      const results = await Promise.all(callbacks);
      const destroyed = expect.objectContaining({ code: 'ERR_STREAM_DESTROYED' });
      expect(results).toEqual(['ok', 'ok', destroyed, destroyed, destroyed]);
      expect(signals.every((s) => s.aborted)).toBe(true);
      expect(signals[0]!.reason).toMatchObject({ code: 'SLUICE_E_ABORTED' });
      await whenClosed;
    });
    expect(unhandled).toEqual([]);
  });

  it('gives the held write the stream error when destroyed with one', async () => {
    const t = parallelTransform(() => new Promise(() => {}), { concurrency: 1, highWaterMark: 0 });
    t.on('error', () => {});
    const acknowledged = new Promise((resolve) => t.write(1, resolve));
    await settle();
    const failure = new Error('stop');
    t.destroy(failure);
    expect(await acknowledged).toBe(failure);
  });

  it('hands an aborted signal to a task that asks for it after the stream was destroyed', async () => {
    let late: { signal: AbortSignal } | undefined;
    const gate = deferred();
    const t = parallelTransform(async (_x: number, ctx) => {
      await gate.promise;
      late = ctx;
      return 1;
    });
    t.write(1);
    await settle();
    t.destroy();
    gate.resolve();
    await settle();
    expect(late?.signal.aborted).toBe(true);
  });

  it('aborts running tasks when the consumer stops iterating early', async () => {
    const signals: AbortSignal[] = [];
    const t = parallelTransform(
      (x: number, { signal }) => {
        signals.push(signal);
        return x === 0 ? x : new Promise<number>(() => {});
      },
      { concurrency: 3, ordered: false },
    );
    Readable.from([0, 1, 2]).pipe(t);
    for await (const x of t) {
      expect(x).toBe(0);
      break;
    }
    expect(t.destroyed).toBe(true);
    expect(signals.slice(1).every((s) => s.aborted)).toBe(true);
  });
});

describe('parallelTransform in stream/promises pipeline', () => {
  it('composes with pipeline and produces the serial result', async () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    const sink = collector<number>();
    await pipeline(
      Readable.from(items),
      parallelTransform(
        async (x: number) => {
          // Uneven completion: odd items take an extra turn.
          if (x % 2) await settle();
          return x * 2;
        },
        { concurrency: 8 },
      ),
      sink,
    );
    expect(sink.items).toEqual(items.map(double));
  });

  it('rejects the pipeline with the task error and destroys every stage', async () => {
    const failure = new Error('bad batch');
    const source = countingSource();
    const sink = collector();
    const t = parallelTransform(
      async (x: number) => {
        if (x === 10) throw failure;
        return x;
      },
      { concurrency: 4 },
    );
    await expect(pipeline(source, t, sink)).rejects.toBe(failure);
    expect([source.destroyed, t.destroyed, sink.destroyed]).toEqual([true, true, true]);
  });

  it('aborts through the pipeline signal', async () => {
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    const t = parallelTransform(
      (_x: number, { signal }) => {
        signals.push(signal);
        if (signals.length === 3) controller.abort();
        return new Promise<number>(() => {});
      },
      { concurrency: 3 },
    );
    await expect(
      pipeline(countingSource(), t, collector(), { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(signals.every((s) => s.aborted)).toBe(true);
  });
});
