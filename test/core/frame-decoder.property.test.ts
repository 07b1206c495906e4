/**
 * Laws of the frame decoder, for any bytes and any chunking:
 * - chunk-boundary invariance: records, lines, offsets, rejections and byte counts do
 *   not depend on where the input was cut (newline and quoted framers, with and
 *   without a small record limit);
 * - accounting: every input byte belongs to exactly one record or rejection, each at
 *   the right line, with the right code, and `at` counts the records before it;
 * - reference models: a round trip and `String.split` for the newline framer, a naive
 *   byte-at-a-time state machine for the quoted framer.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineFormat, type Framer } from '../../src/core/contracts.js';
import { MAX_REJECTED_TEXT } from '../../src/core/frame-decoder.js';
import { newlineFramer, quotedFramer } from '../../src/core/framers.js';
import { chunkAt, runFormat } from '../../src/testing/run-format.js';
import { type Decoded, decodeAll } from './helpers.js';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const BOM = [0xef, 0xbb, 0xbf];

const framers: Record<'newline' | 'quoted', () => Framer> = {
  newline: () => newlineFramer,
  quoted: () => quotedFramer('"', ','),
};

/** Byte pieces chosen to hit the decoder's edges: terminators, quotes, BOMs, UTF-8 good and bad. */
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom([LF], [CR], [CR, LF], [QUOTE], [COMMA], [QUOTE, QUOTE]) },
  { weight: 3, arbitrary: fc.constantFrom([0x61], [0x62, 0x63], [0x20]) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      [0xc3, 0xa9], // é
      [0xe2, 0x82, 0xac], // €
      [0xf0, 0x9f, 0x98, 0x80], // 😀
      BOM,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      [0xff],
      [0x80],
      [0xc3], // truncated 2-byte
      [0xe2, 0x82], // truncated 3-byte
      [0xc0, 0x80], // overlong
      [0xed, 0xa0, 0x80], // surrogate
      [0xef, 0xbb], // truncated BOM
    ),
  },
);

const biasedBytes = fc
  .tuple(fc.boolean(), fc.array(piece, { maxLength: 60 }))
  .map(([bom, pieces]) => Uint8Array.from([...(bom ? BOM : []), ...pieces.flat()]));

const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 120 }), biasedBytes, biasedBytes);

/** Cut points: a few random ones, or every byte. */
const cuts = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.integer({ min: 1, max: 250 }), { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 250 }, (_, i) => i + 1)) },
);

const framerName = fc.constantFrom('newline' as const, 'quoted' as const);
const maxRecordBytes = fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined });

function decode(chunks: Uint8Array[], framer: 'newline' | 'quoted', max: number | undefined): Decoded {
  return decodeAll(chunks, { framer: framers[framer](), maxRecordBytes: max });
}

function withoutBatchCount(d: Decoded): Omit<Decoded, 'batches'> {
  const { batches: _, ...rest } = d;
  return rest;
}

describe('FrameDecoder chunk-boundary invariance', () => {
  it('gives the same result for any chunking as for one chunk', () => {
    fc.assert(
      fc.property(anyBytes, cuts, framerName, maxRecordBytes, (input, at, framer, max) => {
        const whole = decode([input], framer, max);
        const chunked = decode(chunkAt(input, at), framer, max);
        expect(withoutBatchCount(chunked)).toEqual(withoutBatchCount(whole));
      }),
      { numRuns: 1500 },
    );
  });

  it('gives the same result for any chunking when records are longer than the limit by far', () => {
    const long = fc
      .array(fc.oneof(piece, fc.constant(Array(40).fill(0x78) as number[])), { maxLength: 20 })
      .map((p) => Uint8Array.from(p.flat()));
    fc.assert(
      fc.property(long, cuts, framerName, fc.integer({ min: 1, max: 8 }), (input, at, framer, max) => {
        const whole = decode([input], framer, max);
        const chunked = decode(chunkAt(input, at), framer, max);
        expect(withoutBatchCount(chunked)).toEqual(withoutBatchCount(whole));
      }),
      { numRuns: 500 },
    );
  });
});

interface Item {
  offset: number;
  line: number;
  record?: string;
  code?: string;
  at?: number;
  rejectedText?: string;
}

function items(d: Decoded): Item[] {
  const all: Item[] = [
    ...d.records.map((record, i) => ({ record, line: d.lines[i]!, offset: d.offsets[i]! })),
    ...d.rejects.map((r) => ({
      offset: r.offset,
      line: r.line,
      code: r.code,
      at: r.at,
      ...(r.record !== undefined ? { rejectedText: r.record } : {}),
    })),
  ];
  return all.sort((a, b) => a.offset - b.offset);
}

function startsWithBom(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}

describe('FrameDecoder accounting', () => {
  it('puts every input byte in exactly one record or rejection, at the right line, with the right code', () => {
    fc.assert(
      fc.property(anyBytes, cuts, framerName, maxRecordBytes, (input, at, framer, max) => {
        const d = decode(chunkAt(input, at), framer, max);
        const limit = max ?? Number.POSITIVE_INFINITY;
        const all = items(d);
        const first = startsWithBom(input) ? 3 : 0;
        const openAtEnd = framer === 'quoted' && quotedReference(input).openAtEnd;
        expect(d.bytes).toBe(input.length);
        if (first === input.length) {
          expect(all).toEqual([]);
          return;
        }
        expect(all[0]?.offset).toBe(first);
        // Records start where the framing rules say, whatever the size limit.
        const expectedStarts =
          framer === 'quoted'
            ? quotedReference(input).starts
            : [first, ...[...input.keys()].filter((i) => i > first && input[i - 1] === LF)];
        expect(all.map((i) => i.offset)).toEqual(expectedStarts);
        let recordsBefore = 0;
        for (let i = 0; i < all.length; i++) {
          const item = all[i]!;
          const next = all[i + 1];
          // Where this item's bytes end, and whether an LF terminates it.
          let end: number;
          let terminated: boolean;
          if (next) {
            expect(next.offset).toBeGreaterThan(item.offset);
            expect(input[next.offset - 1]).toBe(LF);
            end = next.offset - 1;
            terminated = true;
          } else if (openAtEnd) {
            // The last record never ended: its LFs, if any, are all inside quotes.
            end = input.length;
            terminated = false;
          } else {
            terminated = input[input.length - 1] === LF;
            end = terminated ? input.length - 1 : input.length;
          }
          const contentEnd = terminated && end > item.offset && input[end - 1] === CR ? end - 1 : end;
          const content = input.subarray(item.offset, contentEnd);
          const lfBefore = input.subarray(0, item.offset).filter((b) => b === LF).length;
          expect(item.line).toBe(1 + lfBefore);
          if (item.record !== undefined) {
            expect(Buffer.from(item.record, 'utf8')).toEqual(Buffer.from(content));
            expect(content.length).toBeLessThanOrEqual(limit);
            recordsBefore++;
            continue;
          }
          expect(item.at).toBe(recordsBefore);
          if (content.length > limit) {
            expect(item.code).toBe('SLUICE_E_RECORD_TOO_LARGE');
            const head = Buffer.from(content.subarray(0, MAX_REJECTED_TEXT)).toString('utf8');
            expect(item.rejectedText).toBe(head);
          } else if (!next && openAtEnd) {
            expect(item.code).toBe('SLUICE_E_UNTERMINATED_QUOTE');
            expect(item.rejectedText).toBe(Buffer.from(content).toString('utf8'));
          } else {
            expect(item.code).toBe('SLUICE_E_UTF8');
            expect(isUtf8(content)).toBe(false);
            expect(item.rejectedText).toBeUndefined();
          }
        }
      }),
      { numRuns: 1500 },
    );
  });
});

/** The newline framer's records, computed the slow and obvious way. */
function newlineReference(text: string): string[] {
  let body = text.startsWith('\ufeff') ? text.slice(1) : text;
  if (body === '') return [];
  if (body.endsWith('\n')) body = body.slice(0, -1);
  const lines = body.split('\n');
  // Every line but the last was terminated by an LF, which a CR before it belongs to.
  return lines.map((line, i) =>
    i < lines.length - 1 || text.endsWith('\n') ? line.replace(/\r$/, '') : line,
  );
}

const textPiece = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom('\n', '\r', '\r\n', '\ufeff', '"', ',') },
);
const text = fc.array(textPiece, { maxLength: 30 }).map((p) => p.join(''));

describe('FrameDecoder newline reference', () => {
  it('reproduces valid UTF-8 input, minus BOM and the CR of each CRLF, when records are joined with LF', () => {
    fc.assert(
      fc.property(text, cuts, (t, at) => {
        const input = Buffer.from(t, 'utf8');
        const d = decode(chunkAt(input, at), 'newline', undefined);
        expect(d.rejects).toEqual([]);
        let expected = (t.startsWith('\ufeff') ? t.slice(1) : t).replace(/\r\n/g, '\n');
        if (expected.endsWith('\n')) expected = expected.slice(0, -1);
        expect(d.records.join('\n')).toBe(expected);
        expect(d.records).toEqual(newlineReference(t));
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the records of String.split on LF for valid UTF-8 text without CR', () => {
    const plain = text.map((t) => t.replace(/\r/g, '').replace(/^\ufeff+/, ''));
    fc.assert(
      fc.property(plain, cuts, (t, at) => {
        const d = decode(chunkAt(Buffer.from(t, 'utf8'), at), 'newline', undefined);
        const expected = t.split('\n');
        if (expected[expected.length - 1] === '') expected.pop();
        expect(d.records).toEqual(expected);
        expect(d.lines).toEqual(expected.map((_, i) => i + 1));
      }),
      { numRuns: 1000 },
    );
  });
});

/**
 * Where records start, by the quoting rules applied one byte at a time, and whether a
 * quote is still open at the end.
 */
function quotedReference(input: Uint8Array): { starts: number[]; openAtEnd: boolean } {
  const first = startsWithBom(input) ? 3 : 0;
  const starts: number[] = [];
  if (first < input.length) starts.push(first);
  let inQuote = false;
  let fieldStart = true;
  let justClosed = false;
  for (let i = first; i < input.length; i++) {
    const b = input[i];
    if (inQuote) {
      if (b === QUOTE) {
        inQuote = false;
        justClosed = true;
      }
      continue;
    }
    if (b === QUOTE) {
      inQuote = fieldStart || justClosed;
      fieldStart = false;
      justClosed = false;
      continue;
    }
    justClosed = false;
    fieldStart = b === COMMA || b === LF;
    if (b === LF && i + 1 < input.length) starts.push(i + 1);
  }
  return { starts, openAtEnd: inQuote };
}

describe('FrameDecoder quoted reference', () => {
  it('starts records where a byte-at-a-time model of the quoting rules does', () => {
    fc.assert(
      fc.property(anyBytes, cuts, (input, at) => {
        const d = decode(chunkAt(input, at), 'quoted', undefined);
        expect(items(d).map((i) => i.offset)).toEqual(quotedReference(input).starts);
      }),
      { numRuns: 1500 },
    );
  });
});

/**
 * Emits `record.length % 3` tokens per record (so some records are skipped), each
 * tagged with the record's offset, and throws on records that contain `!`
 * (after appending, to exercise the roll-back).
 */
const tagging = defineFormat<number, Record<string, never>>({
  name: 'tagging',
  description: 'test',
  mediaTypes: [],
  extensions: [],
  framer: () => quotedFramer('"', ','),
  tokenizer: () => ({
    tokenize(record, at, out) {
      for (let i = 0; i < record.length % 3; i++) out.push(at.offset);
      if (record.includes('!')) throw new Error('bang');
    },
  }),
});

const withBangs = fc
  .array(fc.oneof(piece, fc.constant([0x21])), { maxLength: 60 })
  .map((p) => Uint8Array.from(p.flat()));

describe('tokenized batches', () => {
  it('give every rejection an `at` that counts exactly the items of the records before it', () => {
    fc.assert(
      fc.property(withBangs, cuts, maxRecordBytes, (input, at, max) => {
        const run = runFormat(tagging, chunkAt(input, at), { maxRecordBytes: max });
        expect(run).toEqual(runFormat(tagging, [input], { maxRecordBytes: max }));
        expect(run.records).toBe(new Set(run.items).size + run.rejects.length);
        for (const r of run.rejects) {
          expect(run.items.slice(0, r.at).every((o) => o < r.offset)).toBe(true);
          expect(run.items.slice(r.at).every((o) => o > r.offset)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
