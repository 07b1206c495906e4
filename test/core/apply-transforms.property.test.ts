/**
 * applyTransforms has a shorter path for one transform (no per-item arrays). Whatever
 * the transforms do (return, fan out with nulls inside, drop, throw, coded throw,
 * resolve or reject later), the result must be exactly that of the general algorithm,
 * kept here as the reference: items, lines, offsets, rejections and their places, counts.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Batch, Rejection, TransformFn } from '../../src/core/contracts.js';
import { isSluiceError, SluiceError } from '../../src/core/errors.js';
import { applyTransforms, type ItemCounts, preview } from '../../src/core/write-batch.js';

/** The general algorithm, as applyTransforms had it before the one-transform path. */
async function reference(
  batch: Batch<unknown>,
  transforms: readonly TransformFn[],
  counts: ItemCounts,
  signal: AbortSignal,
): Promise<Batch<unknown>> {
  const out: unknown[] = [];
  const lines: number[] = [];
  const offsets: number[] = [];
  const rejects: Rejection[] = [];
  let nextReject = 0;
  const ctx = { signal };
  counts.tokenized += batch.items.length;
  for (let i = 0; i < batch.items.length; i++) {
    while (nextReject < batch.rejects.length && batch.rejects[nextReject]!.at <= i) {
      rejects.push({ ...batch.rejects[nextReject++]!, at: out.length });
    }
    const line = batch.lines?.[i] ?? 0;
    const offset = batch.offsets?.[i] ?? 0;
    let values: unknown[] = [batch.items[i]];
    try {
      for (const t of transforms) {
        const next: unknown[] = [];
        for (const v of values) {
          let r = t(v, ctx);
          if (r instanceof Promise) r = await r;
          if (r === undefined || r === null) continue;
          if (Array.isArray(r)) for (const x of r) next.push(x);
          else next.push(r);
        }
        values = next;
        if (values.length === 0) break;
      }
    } catch (e) {
      counts.rejected++;
      const coded = isSluiceError(e);
      rejects.push({
        code: coded ? e.code : 'SLUICE_E_TRANSFORM',
        stage: 'transform',
        message: e instanceof Error ? e.message : String(e),
        source: batch.source,
        line,
        offset,
        record: preview(batch.items[i]),
        at: out.length,
      });
      continue;
    }
    if (values.length === 0) counts.filtered++;
    for (const v of values) {
      out.push(v);
      lines.push(line);
      offsets.push(offset);
    }
  }
  while (nextReject < batch.rejects.length) rejects.push({ ...batch.rejects[nextReject++]!, at: out.length });
  return { ...batch, items: out, lines, offsets, rejects };
}

const behaviours = [
  'same',
  'object',
  'null',
  'undefined',
  'fan-out',
  'empty',
  'throw',
  'throw-coded',
  'throw-string',
  'async',
  'async-fan-out',
  'async-null',
  'reject',
] as const;
type Behaviour = (typeof behaviours)[number];

function act(b: Behaviour, x: unknown): unknown {
  switch (b) {
    case 'same':
      return x;
    case 'object':
      return { v: x };
    case 'null':
      return null;
    case 'undefined':
      return undefined;
    case 'fan-out':
      return [x, null, undefined, { w: x }];
    case 'empty':
      return [];
    case 'throw':
      throw new Error(`bad ${JSON.stringify(x)}`);
    case 'throw-coded':
      throw new SluiceError('SLUICE_E_PARSE', 'coded');
    case 'throw-string':
      throw 'a string';
    case 'async':
      return Promise.resolve({ a: x });
    case 'async-fan-out':
      return Promise.resolve([x, x]);
    case 'async-null':
      return Promise.resolve(null);
    case 'reject':
      return Promise.reject(new Error('later'));
  }
}

/** A transform whose behaviour depends only on its input, so both algorithms see the same one. */
function transform(table: Behaviour[]): TransformFn {
  return (x) => {
    const key = JSON.stringify(x) ?? 'undefined';
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
    return act(table[Math.abs(h) % table.length]!, x) as ReturnType<TransformFn>;
  };
}

const batchArb = fc
  .tuple(
    fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.string({ maxLength: 3 })), { maxLength: 20 }),
    fc.array(fc.nat({ max: 25 }), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([items, rejectAt, withLines]): Batch<unknown> => {
    const rejects: Rejection[] = rejectAt
      .map((at) => Math.min(at, items.length))
      .sort((a, b) => a - b)
      .map((at, k) => ({
        code: 'SLUICE_E_PARSE',
        stage: 'tokenize',
        message: `earlier ${k}`,
        source: 's',
        line: 100 + k,
        offset: 1000 + k,
        at,
      }));
    return {
      source: 's',
      items,
      rejects,
      records: items.length + rejects.length,
      skipped: 0,
      bytes: 10,
      ...(withLines ? { lines: items.map((_, i) => i + 2), offsets: items.map((_, i) => i * 7) } : {}),
    };
  });

const table = fc.array(fc.constantFrom(...behaviours), { minLength: 1, maxLength: 6 });
const counts = (): ItemCounts => ({ tokenized: 0, filtered: 0, rejected: 0, written: 0 });

describe('applyTransforms', () => {
  test('with one transform, the same result as the general algorithm', async () => {
    await fc.assert(
      fc.asyncProperty(batchArb, table, async (batch, t) => {
        const signal = new AbortController().signal;
        const [ca, cb] = [counts(), counts()];
        const got = await applyTransforms(batch, [transform(t)], ca, signal);
        const want = await reference(batch, [transform(t)], cb, signal);
        expect(got).toEqual(want);
        expect(ca).toEqual(cb);
      }),
      { numRuns: 300 },
    );
  });

  test('with two or three transforms, the same result as the general algorithm', async () => {
    await fc.assert(
      fc.asyncProperty(batchArb, fc.array(table, { minLength: 2, maxLength: 3 }), async (batch, ts) => {
        const signal = new AbortController().signal;
        const [ca, cb] = [counts(), counts()];
        const got = await applyTransforms(batch, ts.map(transform), ca, signal);
        const want = await reference(batch, ts.map(transform), cb, signal);
        expect(got).toEqual(want);
        expect(ca).toEqual(cb);
      }),
      { numRuns: 200 },
    );
  });

  test('one transform: fan-out keeps nulls inside the array, drops count as filtered, throws as rejections', async () => {
    const batch: Batch<unknown> = {
      source: 'in',
      items: [1, 2, 3, 4],
      rejects: [],
      records: 4,
      skipped: 0,
      bytes: 4,
      lines: [2, 3, 4, 5],
      offsets: [0, 2, 4, 6],
    };
    const c = counts();
    const out = await applyTransforms(
      batch,
      [
        (x) => {
          if (x === 1) return [x, null];
          if (x === 2) return undefined;
          if (x === 3) throw new Error('three');
          return Promise.resolve({ x });
        },
      ],
      c,
      new AbortController().signal,
    );
    expect(out.items).toEqual([1, null, { x: 4 }]);
    expect(out.lines).toEqual([2, 2, 5]);
    expect(out.offsets).toEqual([0, 0, 6]);
    expect(out.rejects).toEqual([
      {
        code: 'SLUICE_E_TRANSFORM',
        stage: 'transform',
        message: 'three',
        source: 'in',
        line: 4,
        offset: 4,
        record: '3',
        at: 2,
      },
    ]);
    expect(c).toEqual({ tokenized: 4, filtered: 1, rejected: 1, written: 0 });
  });
});
