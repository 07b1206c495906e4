/**
 * fast-check arbitraries for the segments format, kept out of index.ts so that running
 * the format never loads fast-check (ADR 0005).
 */
import fc from 'fast-check';
import { MAX_TIMESTAMP_MS, SECONDS_CUTOFF, type SegmentEvent } from '../../src/audience/index.js';
import { forbiddenChar } from './syntax.js';

/** A character an id may hold: mostly ASCII, sometimes any Unicode character. */
const idChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-.*/=+@#'.split('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const id = fc
  .string({ unit: idChar, minLength: 1, maxLength: 12 })
  .filter((s) => forbiddenChar(s) === undefined);
const segId = id.filter((s) => s.charCodeAt(0) !== 0x2d && s !== '*');
const ts = fc.oneof(
  fc.integer({ min: 0, max: SECONDS_CUTOFF - 1 }),
  fc.integer({ min: SECONDS_CUTOFF, max: MAX_TIMESTAMP_MS }),
  fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
);

/** Events the segments format can write and read back exactly, for namespace `ns`. */
export function segmentEventArbitrary(ns = 'default'): fc.Arbitrary<SegmentEvent> {
  const add = fc.record(
    {
      ns: fc.constant(ns),
      uid: id,
      seg: segId,
      op: fc.constant('add' as const),
      ts,
      ttl: fc.oneof(fc.nat({ max: 31_536_000 }), fc.maxSafeNat()),
    },
    { requiredKeys: ['ns', 'uid', 'seg', 'op', 'ts'] },
  );
  const remove = fc.record({
    ns: fc.constant(ns),
    uid: id,
    seg: fc.oneof(segId, fc.constant('*')),
    op: fc.constant('remove' as const),
    ts,
  });
  return fc.oneof(add, remove);
}

/** Valid tokens for the default options (namespace `default`, no `defaultTtl`). */
export const arbitrary: fc.Arbitrary<SegmentEvent> = segmentEventArbitrary();
