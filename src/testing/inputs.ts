/**
 * The inputs the laws feed a format: its samples, its own serialized tokens, hostile
 * text and random bytes, each possibly mutated (bytes inserted, deleted, duplicated,
 * replaced, the end cut off), and cut into chunks at arbitrary points, with cuts drawn
 * on purpose inside multi-byte characters, between CR and LF, and next to quotes.
 *
 * Mutations and cuts are drawn independently of the input (positions are taken modulo
 * its length) so that fast-check shrinks the input, the mutations and the cuts apart.
 */
import fc from 'fast-check';
import { anyBytes, HOSTILE_BYTES, hostileBytes } from './arbitraries.js';
import type { LawContext } from './laws/types.js';
import { chunkAt, serializeAll } from './run-format.js';
import { showBytes } from './show.js';

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

export type Mutation =
  | { op: 'insert'; at: number; bytes: readonly number[] }
  | { op: 'delete'; at: number; length: number }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'replace'; at: number; byte: number }
  | { op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.constantFrom(...HOSTILE_BYTES),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('duplicate' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 24 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
);

/** Applies the mutations in order; positions are taken modulo the current length. */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = [...bytes];
  for (const m of mutations) {
    const at = m.at % (b.length + 1);
    switch (m.op) {
      case 'insert':
        b.splice(at, 0, ...m.bytes);
        break;
      case 'delete':
        b.splice(at, m.length);
        break;
      case 'duplicate':
        b.splice(at, 0, ...b.slice(at, at + m.length));
        break;
      case 'replace':
        if (at < b.length) b[at] = m.byte;
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
    }
  }
  return Uint8Array.from(b);
}

/** The format's own tokens written with its serializer, or undefined when it refuses them. */
export function serializeTokens<T>(ctx: LawContext<T>, tokens: readonly T[]): Uint8Array | undefined {
  try {
    return utf8(serializeAll(ctx.format, tokens, ctx.rawOptions));
  } catch {
    // The round-trip law reports a serializer that refuses valid tokens; here it only means one input fewer.
    return undefined;
  }
}

export interface InputWeights {
  /** Weight of uniformly random bytes among the inputs. @default 1 */
  random?: number;
  /** Weight of unmutated inputs against mutated ones (3). @default 2 */
  plain?: number;
}

/** Inputs before mutation: samples, serialized tokens, hostile text, random bytes. */
export function baseInputs<T>(ctx: LawContext<T>, weights: InputWeights = {}): fc.Arbitrary<Uint8Array> {
  const sources: fc.WeightedArbitrary<Uint8Array>[] = [
    { weight: 2, arbitrary: hostileBytes() },
    { weight: weights.random ?? 1, arbitrary: anyBytes() },
  ];
  if (ctx.samples.length > 0) sources.push({ weight: 4, arbitrary: fc.constantFrom(...ctx.samples) });
  const { arbitrary } = ctx;
  if (arbitrary && ctx.format.serializer) {
    sources.push({
      weight: 4,
      arbitrary: fc
        .array(arbitrary, { minLength: 1, maxLength: 8 })
        .map((tokens) => serializeTokens(ctx, tokens) ?? new Uint8Array(0)),
    });
  }
  return fc.oneof(...sources);
}

/** Inputs for the laws: {@link baseInputs}, mutated more often than not. */
export function lawInputs<T>(ctx: LawContext<T>, weights: InputWeights = {}): fc.Arbitrary<Uint8Array> {
  const mutations = fc.oneof(
    { weight: weights.plain ?? 2, arbitrary: fc.constant<Mutation[]>([]) },
    { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }) },
  );
  return fc.tuple(baseInputs(ctx, weights), mutations).map(([bytes, ms]) => mutate(bytes, ms));
}

/** Where to cut an input, independent of the input: resolved against it by {@link resolveCuts}. */
export interface Cuts {
  /** Any positions (modulo the length + 1). */
  anywhere: number[];
  /** Indexes into the input's interesting positions (see {@link interestingCuts}). */
  interesting: number[];
  /** Feed the input one byte at a time. */
  everyByte: boolean;
}

export const cuts: fc.Arbitrary<Cuts> = fc.record({
  anywhere: fc.array(fc.nat(), { maxLength: 6 }),
  interesting: fc.array(fc.nat(), { maxLength: 6 }),
  everyByte: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

const CR = 0x0d;
const LF = 0x0a;

/**
 * Cut points that have broken framers before: inside a multi-byte UTF-8 character
 * (before a continuation byte), between CR and LF, on either side of a quote (inside
 * and at the edge of a quoted field), on either side of an LF, and inside a leading BOM.
 */
export function interestingCuts(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i]!;
    const prev = bytes[i - 1]!;
    if (
      (b >= 0x80 && b <= 0xbf) ||
      (prev === CR && b === LF) ||
      b === 0x22 ||
      prev === 0x22 ||
      b === 0x27 ||
      prev === 0x27 ||
      b === LF ||
      prev === LF ||
      (i <= 2 && bytes[0] === 0xef)
    ) {
      out.push(i);
    }
  }
  return out;
}

/** The cut points of `c` for `bytes`, sorted, without duplicates or ends. */
export function resolveCuts(bytes: Uint8Array, c: Cuts): number[] {
  const n = bytes.length;
  if (c.everyByte) return Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1);
  const points = c.anywhere.map((x) => x % (n + 1));
  const interesting = interestingCuts(bytes);
  if (interesting.length > 0)
    for (const k of c.interesting) points.push(interesting[k % interesting.length]!);
  return [...new Set(points.filter((p) => p > 0 && p < n))].sort((a, b) => a - b);
}

/** The chunks `bytes` is cut into. */
export function chunksOf(bytes: Uint8Array, c: Cuts): Uint8Array[] {
  return chunkAt(bytes, resolveCuts(bytes, c));
}

/** `input "…" cut into 3 chunks: "…" | "…" | "…"` */
export function showChunks(bytes: Uint8Array, chunks: readonly Uint8Array[]): string {
  if (chunks.length <= 1) return `input ${showBytes(bytes)} in one chunk`;
  return `input ${showBytes(bytes)} cut into ${chunks.length} chunks: ${chunks.map(showBytes).join(' | ')}`;
}
