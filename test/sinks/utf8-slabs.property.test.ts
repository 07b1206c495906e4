/**
 * The reused output buffers: a chunk's bytes are its text's UTF-8 and stay so until it
 * is released, however encodes and releases interleave; released slabs are reused, so
 * memory does not grow with the output.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Utf8Slabs } from '../../src/sinks/utf8-slabs.js';

/** Text of any UTF-16 units, lone surrogates and 4-byte characters included. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udfff', '\n'), maxLength: 20 }),
);

type Op = { kind: 'encode'; text: string } | { kind: 'release'; pick: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  text.map((t) => ({ kind: 'encode' as const, text: t })),
  fc.nat().map((pick) => ({ kind: 'release' as const, pick })),
);

describe('Utf8Slabs', () => {
  test('a chunk holds its text as UTF-8 until it is released, for any order of encodes and releases', () => {
    fc.assert(
      // Slabs of 240 bytes and more take every text (3 bytes a unit, 20 units, a quarter of
      // the slab), and fill up after a few dozen of them, so slabs are retired and reused.
      fc.property(
        fc.integer({ min: 240, max: 600 }),
        fc.array(op, { minLength: 60, maxLength: 200 }),
        (slabBytes, ops) => {
          const slabs = new Utf8Slabs(slabBytes);
          const live: { chunk: Buffer; expected: Buffer; release: () => void }[] = [];
          for (const o of ops) {
            if (o.kind === 'encode') {
              const { chunk, release } = slabs.encode(o.text);
              live.push({ chunk, expected: Buffer.from(o.text, 'utf8'), release });
            } else if (live.length > 0) {
              const [gone] = live.splice(o.pick % live.length, 1);
              gone!.release();
              // Releasing twice must not free a slab that other chunks still use.
              gone!.release();
            }
            for (const l of live) expect(l.chunk.equals(l.expected)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('released slabs are reused: a writer the stream keeps up with needs at most three', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 50, maxLength: 300 }), (texts) => {
        const slabs = new Utf8Slabs(256);
        const buffers = new Set<ArrayBufferLike>();
        for (const t of texts) {
          const { chunk, release } = slabs.encode(t);
          if (t.length * 3 <= 64) buffers.add(chunk.buffer);
          release();
        }
        expect(buffers.size).toBeLessThanOrEqual(3);
      }),
    );
  });

  test('text too large for a quarter of a slab gets a buffer of its own', () => {
    const slabs = new Utf8Slabs(64);
    const small = slabs.encode('abc');
    const large = slabs.encode('x'.repeat(6));
    expect(large.chunk.toString()).toBe('xxxxxx');
    expect(large.chunk.buffer).not.toBe(small.chunk.buffer);
  });
});
