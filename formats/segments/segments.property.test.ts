import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type SegmentEvent, validateSegmentEvent } from '../../src/audience/index.js';
import type { Position } from '../../src/core/contracts.js';
import { ERROR_CODES, isSluiceError } from '../../src/core/errors.js';
import { chunkAt, runFormat, serializeAll } from '../../src/testing/run-format.js';
import { arbitrary, segmentEventArbitrary } from './arbitrary.js';
import segments, {
  createSegmentsSerializer,
  createSegmentsTokenizer,
  type SegmentsOptions,
} from './index.js';

const NOW = 1_714_564_900_000;
const at: Position = { source: 'test', line: 1, offset: 0 };

/** The format with a fixed clock, so two runs over the same input agree. */
const fixedClock = {
  ...segments,
  tokenizer: (o: SegmentsOptions) => createSegmentsTokenizer(o, () => NOW),
};

/** Pieces segments lines are made of, good and bad. */
const piece = fc.constantFrom(
  'u1',
  'user-é',
  '😀',
  '\t',
  '\t',
  ',',
  ',',
  '-',
  ':',
  '*',
  '-*',
  'sports',
  'news',
  ':60',
  ':-1',
  ':x',
  ' ',
  '\r',
  '1714564800',
  '1714564800123',
  '2024-05-01T12:00:00Z',
  '2024-13-45',
  '2024-05-01T14:00:00.5+02:00',
  '\u0000',
  '',
);
const lineish = fc.oneof(
  { weight: 3, arbitrary: fc.array(piece, { maxLength: 10 }).map((p) => p.join('')) },
  { weight: 2, arbitrary: arbitrary.map((e) => createSegmentsSerializer({ ns: 'default' }).serialize(e)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);
const inputBytes = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 5, arbitrary: lineish.map((s) => Buffer.from(s, 'utf8')) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b)) },
      ),
      fc.constantFrom('\n', '\r\n', ''),
    ),
    { maxLength: 12 },
  )
  .map((parts) => Buffer.concat(parts.flatMap(([b, sep]) => [b, Buffer.from(sep)])));
const cutPoints = fc.array(fc.nat(), { maxLength: 12 });

/** What tokenizing one line alone gives: 'skip', 'reject', or its events. */
function tokenizeAlone(line: string): 'skip' | 'reject' | SegmentEvent[] {
  const out: SegmentEvent[] = [];
  try {
    createSegmentsTokenizer({ ns: 'default' }, () => NOW).tokenize(line, at, out);
  } catch (e) {
    expect(isSluiceError(e)).toBe(true);
    return 'reject';
  }
  return out.length === 0 ? 'skip' : out;
}

/**
 * The records the core framer cuts from `bytes`, as its contract says: a leading byte
 * order mark is dropped, LF ends a record, a CR just before that LF is part of the
 * terminator, a final record needs no LF, and a record that is not UTF-8 is rejected
 * (`undefined` here) before any tokenizer sees it.
 */
function records(bytes: Uint8Array): (string | undefined)[] {
  let b = Buffer.from(bytes);
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const out: (string | undefined)[] = [];
  let start = 0;
  for (let lf = b.indexOf(0x0a); lf !== -1; lf = b.indexOf(0x0a, start)) {
    const end = lf > start && b[lf - 1] === 0x0d ? lf - 1 : lf;
    out.push(decode(b.subarray(start, end)));
    start = lf + 1;
  }
  if (start < b.length) out.push(decode(b.subarray(start)));
  return out;
}

function decode(b: Buffer): string | undefined {
  return isUtf8(b) ? b.toString('utf8') : undefined;
}

/** What the whole run must be, computed line by line with fresh tokenizers. */
function expectedRun(bytes: Uint8Array) {
  const alone = records(bytes).map((r) => (r === undefined ? ('reject' as const) : tokenizeAlone(r)));
  const producing = alone.filter((r) => Array.isArray(r));
  return {
    rejects: alone.filter((r) => r === 'reject').length,
    producing: producing.length,
    items: producing.flat(),
    skipped: alone.filter((r) => r === 'skip').length,
  };
}

describe('segments laws', () => {
  test('any re-chunking of the input bytes gives the same items and rejections', () => {
    fc.assert(
      fc.property(inputBytes, cutPoints, (bytes, cuts) => {
        const whole = runFormat(fixedClock, [bytes]);
        const cut = runFormat(
          fixedClock,
          chunkAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          ),
        );
        expect(cut).toEqual(whole);
      }),
    );
  });

  test('any re-chunking gives the same result under a small maxRecordBytes too', () => {
    fc.assert(
      fc.property(inputBytes, cutPoints, fc.integer({ min: 1, max: 40 }), (bytes, cuts, maxRecordBytes) => {
        const whole = runFormat(fixedClock, [bytes], { maxRecordBytes });
        const cut = runFormat(
          fixedClock,
          chunkAt(
            bytes,
            cuts.map((c) => c % (bytes.length + 1)),
          ),
          { maxRecordBytes },
        );
        expect(cut).toEqual(whole);
      }),
    );
  });

  test('serialized arbitrary events read back as themselves', () => {
    fc.assert(
      fc.property(fc.array(arbitrary, { maxLength: 20 }), (events) => {
        const run = runFormat(segments, [serializeAll(segments, events)]);
        expect(run.rejects).toEqual([]);
        expect(run.items).toEqual(events);
      }),
    );
  });

  test('events of any namespace read back as themselves when the ns option names it', () => {
    const ns = fc
      .string({ minLength: 1, maxLength: 8 })
      .filter((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s));
    fc.assert(
      fc.property(
        ns.chain((n) => fc.tuple(fc.constant(n), fc.array(segmentEventArbitrary(n), { maxLength: 5 }))),
        ([n, events]) => {
          const options = { ns: n };
          const run = runFormat(segments, [serializeAll(segments, events, options)], { options });
          expect(run.items).toEqual(events);
        },
      ),
    );
  });

  test('every arbitrary event is a valid SegmentEvent', () => {
    fc.assert(
      fc.property(arbitrary, (event) => {
        expect(validateSegmentEvent(event)).toEqual(event);
      }),
    );
  });

  test('every event the tokenizer produces is a valid SegmentEvent that writes and reads back the same', () => {
    fc.assert(
      fc.property(lineish, (line) => {
        const result = tokenizeAlone(line);
        if (!Array.isArray(result)) return;
        for (const event of result) {
          expect(validateSegmentEvent(event)).toEqual(event);
          const again = createSegmentsSerializer({ ns: 'default' }).serialize(event);
          expect(tokenizeAlone(again)).toEqual([event]);
        }
      }),
    );
  });

  test('a line either gives events, is skipped, or is rejected as a whole, for line-shaped bytes', () => {
    fc.assert(
      fc.property(inputBytes, (bytes) => {
        const run = runFormat(fixedClock, [bytes]);
        const expected = expectedRun(bytes);
        expect(run.records).toBe(run.rejects.length + expected.producing);
        expect(run.rejects.length).toBe(expected.rejects);
        expect(run.items).toEqual(expected.items);
        expect(run.skipped).toBe(expected.skipped);
        for (const r of run.rejects) expect(Object.keys(ERROR_CODES)).toContain(r.code);
      }),
    );
  });

  test('every record is an event-producing line or a coded rejection, for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const run = runFormat(fixedClock, [bytes]);
        const expected = expectedRun(bytes);
        expect(run.records).toBe(run.rejects.length + expected.producing);
        expect(run.items).toEqual(expected.items);
        for (const r of run.rejects) expect(Object.keys(ERROR_CODES)).toContain(r.code);
      }),
    );
  });

  test('the tokenizer throws nothing but coded errors, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(lineish, fc.string({ unit: 'binary' })), (line) => {
        tokenizeAlone(line);
      }),
    );
  });
});
