import { getEventListeners } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { merge } from '../../src/parallel/index.js';
import { closed, collect, collector, countingSource, manualSource, settle } from './helpers.js';

const from = (...items: unknown[]): Readable => Readable.from(items);

describe('merge options', () => {
  it.each([0, 1.5, -3])('rejects a concurrency of %s', (concurrency) => {
    expect(() => merge([], { ordered: false, concurrency })).toThrow(
      expect.objectContaining({
        code: 'SLUICE_E_OPTION',
        message: `concurrency: expected an integer >= 1 or Infinity, got ${concurrency}`,
      }),
    );
  });

  it('accepts an unbounded concurrency', async () => {
    expect(
      await collect(merge([from(1)], { ordered: false, concurrency: Number.POSITIVE_INFINITY })),
    ).toEqual([1]);
  });

  it('rejects inputs that are not iterable', () => {
    expect(() => merge(42 as unknown as [])).toThrow(SluiceError);
  });

  it('rejects an input that is neither a Readable nor a function, naming its index', () => {
    expect(() => merge([from(1), 'file.csv' as unknown as Readable])).toThrow(
      'inputs[1]: expected a Readable or a function returning one, got "file.csv"',
    );
  });

  it('fails when a factory returns something that is not a Readable', async () => {
    const merged = merge([() => 'nope' as unknown as Readable]);
    await expect(collect(merged)).rejects.toMatchObject({
      code: 'SLUICE_E_OPTION',
      message: 'inputs[0]: expected the function to return a Readable, got "nope"',
    });
  });
});

describe('merge ordered (the default)', () => {
  it('ends at once when there are no inputs', async () => {
    expect(await collect(merge([]))).toEqual([]);
  });

  it('concatenates the inputs in the order given', async () => {
    const merged = merge([from(1, 2), () => from(3), from(), () => from(4, 5)]);
    expect(await collect(merged)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps the order even when a later input is ready first', async () => {
    const slow = manualSource();
    const fast = from('b1', 'b2');
    const merged = merge([slow, fast]);
    const out = collect(merged);
    await settle();
    slow.push('a1');
    await settle();
    slow.push('a2');
    slow.push(null);
    expect(await out).toEqual(['a1', 'a2', 'b1', 'b2']);
  });

  it('opens a lazy input only after the one before it has ended', async () => {
    const log: string[] = [];
    const input = (name: string) => () => {
      log.push(`open ${name}`);
      const r = from(name);
      r.on('end', () => log.push(`end ${name}`));
      return r;
    };
    await collect(merge([input('a'), input('b'), input('c')]));
    expect(log).toEqual(['open a', 'end a', 'open b', 'end b', 'open c', 'end c']);
  });

  it('opens nothing before the merged stream is read', async () => {
    let opened = 0;
    const merged = merge([
      () => {
        opened++;
        return from(1);
      },
    ]);
    await settle();
    expect(opened).toBe(0);
    expect(await collect(merged)).toEqual([1]);
    expect(opened).toBe(1);
  });

  it('merges byte streams when objectMode is false', async () => {
    const merged = merge([from(Buffer.from('ab')), () => from(Buffer.from('cd'))], { objectMode: false });
    const chunks = await collect<Buffer>(merged);
    expect(Buffer.concat(chunks).toString()).toBe('abcd');
  });
});

describe('merge unordered', () => {
  it('interleaves the inputs as their chunks arrive', async () => {
    const a = manualSource();
    const b = manualSource();
    const merged = merge([a, b], { ordered: false });
    const out = collect(merged);
    await settle();
    b.push('b1');
    await settle();
    a.push('a1');
    await settle();
    b.push('b2');
    b.push(null);
    await settle();
    a.push(null);
    expect(await out).toEqual(['b1', 'a1', 'b2']);
  });

  it('produces the same items as the ordered merge', async () => {
    const inputs = () => [from(1, 2, 3), () => from(4, 5), from(6)];
    const unordered = await collect<number>(merge(inputs(), { ordered: false }));
    expect(unordered.sort((x, y) => x - y)).toEqual(await collect(merge(inputs())));
  });

  it('keeps at most concurrency inputs open at once', async () => {
    let open = 0;
    let maxOpen = 0;
    const input = (i: number) => () => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      const r = from(i, i);
      r.on('close', () => open--);
      return r;
    };
    const out = await collect(
      merge(
        Array.from({ length: 10 }, (_, i) => input(i)),
        { ordered: false, concurrency: 3 },
      ),
    );
    expect(out).toHaveLength(20);
    expect(maxOpen).toBe(3);
  });
});

describe('merge errors', () => {
  it('fails with the second input error, releasing the open inputs and opening no more', async () => {
    const first = manualSource();
    const failure = new Error('disk on fire');
    const second = manualSource();
    let thirdOpened = false;
    const merged = merge(
      [
        first,
        () => second,
        () => {
          thirdOpened = true;
          return from(3);
        },
      ],
      { ordered: false, concurrency: 2 },
    );
    const out = collect(merged);
    await settle();
    second.destroy(failure);
    await expect(out).rejects.toBe(failure);
    expect(first.destroyed).toBe(true);
    expect(thirdOpened).toBe(false);
  });

  it('in ordered mode, fails with the input error and never opens the inputs after it', async () => {
    const failure = new Error('truncated gzip');
    const later = manualSource();
    let lazyOpened = false;
    const merged = merge([
      from(1),
      () => {
        const r = manualSource();
        setImmediate(() => r.destroy(failure));
        return r;
      },
      () => {
        lazyOpened = true;
        return from(3);
      },
      later,
    ]);
    await expect(collect(merged)).rejects.toBe(failure);
    expect(lazyOpened).toBe(false);
    // A stream handed over but not reached is owned by the merge, so it is released too.
    expect(later.destroyed).toBe(true);
  });

  it('fails when an input handed over errors before its turn, instead of crashing', async () => {
    const failure = new Error('ENOENT');
    const notYet = manualSource();
    const current = manualSource();
    const merged = merge([current, notYet]);
    const out = collect(merged);
    await settle();
    notYet.destroy(failure);
    await expect(out).rejects.toBe(failure);
    expect(current.destroyed).toBe(true);
  });

  it('fails when an input closes before its end', async () => {
    const input = manualSource();
    const merged = merge([input]);
    const out = collect(merged);
    await settle();
    input.destroy();
    await expect(out).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('fails with the error a factory throws', async () => {
    const failure = new Error('EMFILE');
    const merged = merge([
      () => {
        throw failure;
      },
    ]);
    await expect(collect(merged)).rejects.toBe(failure);
  });

  it('reports only the first error when several inputs fail', async () => {
    const a = manualSource();
    const b = manualSource();
    const merged = merge([a, b], { ordered: false });
    const errors: unknown[] = [];
    merged.on('error', (e) => errors.push(e));
    const whenClosed = closed(merged);
    merged.resume();
    await settle();
    const first = new Error('first');
    a.destroy(first);
    b.destroy(new Error('second'));
    await whenClosed;
    await settle();
    expect(errors).toEqual([first]);
  });
});

describe('merge abort and destroy', () => {
  it('is destroyed with SLUICE_E_ABORTED when the signal aborts, releasing its inputs', async () => {
    const controller = new AbortController();
    const input = manualSource();
    const merged = merge([input], { signal: controller.signal });
    const out = collect(merged);
    await settle();
    controller.abort('shutdown');
    await expect(out).rejects.toMatchObject({ code: 'SLUICE_E_ABORTED', cause: 'shutdown' });
    expect(input.destroyed).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('fails at once when the signal has already aborted, opening nothing', async () => {
    let opened = false;
    const merged = merge(
      [
        () => {
          opened = true;
          return from(1);
        },
      ],
      { signal: AbortSignal.abort() },
    );
    await expect(collect(merged)).rejects.toMatchObject({ code: 'SLUICE_E_ABORTED' });
    expect(opened).toBe(false);
  });

  it('releases every input it opened or was handed, and calls no factory, when destroyed', async () => {
    const open = [manualSource(), manualSource()];
    const handedOver = manualSource();
    let factoryCalled = false;
    const merged = merge(
      [
        open[0]!,
        () => open[1]!,
        () => {
          factoryCalled = true;
          return from(1);
        },
        handedOver,
      ],
      { ordered: false, concurrency: 2 },
    );
    merged.resume();
    await settle();
    const whenClosed = closed(merged);
    merged.destroy();
    await whenClosed;
    expect([...open, handedOver].map((r) => r.destroyed)).toEqual([true, true, true]);
    expect(factoryCalled).toBe(false);
  });

  it('can be destroyed twice without a second error or close', async () => {
    const merged = merge([manualSource()]);
    const errors: unknown[] = [];
    let closes = 0;
    merged.on('error', (e) => errors.push(e));
    merged.on('close', () => closes++);
    const first = new Error('first');
    merged.destroy(first);
    merged.destroy(new Error('second'));
    merged.destroy();
    await settle();
    await settle();
    expect(errors).toEqual([first]);
    expect(closes).toBe(1);
  });
});

describe('merge backpressure', () => {
  it.each([
    ['ordered', true],
    ['unordered', false],
  ])('does not read an input faster than the merged stream is consumed (%s)', async (_, ordered) => {
    const inputs = [countingSource(2), countingSource(2)];
    const merged = merge(inputs, { ordered, highWaterMark: 4 });
    merged.read(0);
    for (let i = 0; i < 5; i++) await settle();
    const pulled = () => inputs[0]!.pulled() + inputs[1]!.pulled();
    const before = pulled();
    // The merged buffer (4) and each open input's own buffer (2) fill, a chunk or so each in transit.
    expect(before).toBeLessThanOrEqual(4 + 2 * (2 + 1));
    expect(merged.readableLength).toBeLessThanOrEqual(5);
    for (let i = 0; i < 5; i++) await settle();
    expect(pulled()).toBe(before);
    for (let i = 0; i < 10; i++) merged.read();
    for (let i = 0; i < 5; i++) await settle();
    expect(pulled()).toBeGreaterThan(before);
    expect(pulled()).toBeLessThanOrEqual(10 + 4 + 2 * (2 + 1));
    merged.destroy();
  });

  it('opens the next input paused when the merged stream is full', async () => {
    const first = manualSource();
    first.push('a');
    first.push(null);
    const next = countingSource(1);
    let opened = false;
    const merged = merge(
      [
        first,
        () => {
          opened = true;
          return next;
        },
      ],
      { highWaterMark: 1 },
    );
    merged.read(0);
    for (let i = 0; i < 5; i++) await settle();
    // 'a' fills the merged buffer, then the first input ends and the next one opens.
    expect(opened).toBe(true);
    expect(merged.readableLength).toBe(1);
    expect(next.pulled()).toBeLessThanOrEqual(2);
    merged.destroy();
  });
});

describe('merge in stream/promises pipeline', () => {
  it('composes with pipeline', async () => {
    const sink = collector<number>();
    await pipeline(merge([from(1, 2), () => from(3)]), sink);
    expect(sink.items).toEqual([1, 2, 3]);
  });

  it('releases its inputs when a later stage fails', async () => {
    const input = countingSource();
    const failure = new Error('sink full');
    const failing = new PassThrough({
      objectMode: true,
      transform(_chunk, _enc, cb) {
        cb(failure);
      },
    });
    await expect(pipeline(merge([input]), failing, collector())).rejects.toBe(failure);
    expect(input.destroyed).toBe(true);
  });
});
