/**
 * The chunker (`--threads`) cuts an input into framing-aligned chunks that fresh
 * decoders, given each chunk's start line and offset, decode exactly as one decoder
 * decodes the whole input: same records at the same lines and offsets, same
 * rejections. Checked for any bytes (quotes, CR, LF, BOM, invalid UTF-8, over-long
 * records), both framers, any chunk size, record limit and read sizes, and both ways
 * of feeding it (a stream's chunks, or reads straight into its buffers).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Framer } from '../../src/core/contracts.js';
import { FrameDecoder } from '../../src/core/frame-decoder.js';
import { newlineFramer, quotedFramer } from '../../src/core/framers.js';
import { type ChunkEvent, Chunker, countLF } from '../../src/parallel/threads/chunker.js';

const PIECES: (string | number[])[] = [
  'a',
  'bc',
  'x'.repeat(30),
  ',',
  '"',
  '""',
  '"q,\n"',
  '\n',
  '\n',
  '\r\n',
  '\r',
  'é',
  '😀',
  '\uFEFF',
  [0xff],
  [0xc3],
  [0xef, 0xbb, 0xbf],
];

const bytesArb = fc
  .tuple(fc.boolean(), fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }))
  .map(([bom, pieces]) => {
    const parts: Buffer[] = bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
    for (const p of pieces) parts.push(typeof p === 'string' ? Buffer.from(p) : Buffer.from(p));
    return new Uint8Array(Buffer.concat(parts));
  });

/** The same framer with a scanner that only has `scan` (the chunker then lists every end). */
function withoutLastEnd(framer: Framer): Framer {
  return {
    name: `${framer.name}-lastEnd`,
    multiline: framer.multiline,
    scanner() {
      const s = framer.scanner();
      return { scan: (buf, from, ends) => s.scan(buf, from, ends), pendingError: () => s.pendingError?.() };
    },
  };
}

/** A framer whose scanner's `lastEnd` is written in terms of `scan`. */
function withLastEnd(framer: Framer): Framer {
  return {
    name: `${framer.name}+lastEnd`,
    multiline: framer.multiline,
    scanner() {
      const s = framer.scanner();
      return Object.assign(s, {
        lastEnd(buf: Uint8Array, from: number): number {
          const ends: number[] = [];
          s.scan(buf, from, ends);
          return ends.length > 0 ? ends[ends.length - 1]! : -1;
        },
      });
    },
  };
}

const FRAMERS: Framer[] = [
  newlineFramer,
  // Its own lastEnd (the fast path), scan only, and a lastEnd made of scan.
  quotedFramer('"', ','),
  withoutLastEnd(quotedFramer('"', ',')),
  withLastEnd(quotedFramer('"', ',')),
];

interface Seen {
  records: [string, number, number][];
  rejects: string[];
}

function collect(into: Seen, batch: ReturnType<FrameDecoder['push']>): void {
  if (!batch) return;
  for (let i = 0; i < batch.records.length; i++) {
    into.records.push([batch.records[i]!, batch.lines[i]!, batch.offsets[i]!]);
  }
  for (const r of batch.rejects)
    into.rejects.push(`${r.code} ${r.line}:${r.offset} ${JSON.stringify(r.record)}`);
}

function splits(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes.length === 0 ? bytes.length : Math.max(1, sizes[i % sizes.length]!);
    out.push(bytes.slice(at, at + n));
    at += n;
  }
  return out;
}

function reference(bytes: Uint8Array, framer: Framer, maxRecordBytes: number): Seen {
  const seen: Seen = { records: [], rejects: [] };
  const d = new FrameDecoder({ source: 's', framer, maxRecordBytes });
  collect(seen, d.push(bytes));
  collect(seen, d.end());
  return seen;
}

function chunked(
  bytes: Uint8Array,
  framer: Framer,
  maxRecordBytes: number,
  chunkBytes: number,
  reads: number[],
  /** Read straight into buffers with this room before each read (as the pipeline does), or pushed. */
  rooms: number[] | null,
  /** Pushed: whether to flush after each piece (cycled), as the pipeline does when a pipe goes quiet. */
  flushes: boolean[] = [],
): { seen: Seen; events: ChunkEvent[] } {
  const chunker = new Chunker({ source: 's', framer, maxRecordBytes, chunkBytes });
  const events: ChunkEvent[] = [];
  if (rooms !== null) {
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const n = Math.max(1, reads.length === 0 ? chunkBytes : reads[i % reads.length]!);
      // Room before the read as the pipeline leaves it, sometimes too small for the
      // record under way (then it is copied), filled with junk the chunks must not show.
      const room = rooms.length === 0 ? 0 : rooms[i % rooms.length]!;
      const piece = bytes.subarray(at, at + n);
      const buf = new Uint8Array(room + n + 3).fill(0x0a);
      buf.set(piece, room);
      at += piece.length;
      events.push(...chunker.commit(buf, room, piece.length));
    }
  } else {
    splits(bytes, reads).forEach((piece, i) => {
      events.push(...chunker.push(piece));
      if (flushes.length > 0 && flushes[i % flushes.length]) events.push(...chunker.flush());
    });
  }
  events.push(...chunker.end());
  const seen: Seen = { records: [], rejects: [] };
  for (const ev of events) {
    if (ev.kind === 'rejected') {
      const r = ev.rejection;
      seen.rejects.push(`${r.code} ${r.line}:${r.offset} ${JSON.stringify(r.record)}`);
      continue;
    }
    const d = new FrameDecoder({
      source: 's',
      framer,
      maxRecordBytes,
      startLine: ev.startLine,
      startOffset: ev.startOffset,
    });
    collect(seen, d.push(ev.bytes));
    collect(seen, d.end());
  }
  return { seen, events };
}

describe('chunker', () => {
  it('chunks decode, each with a fresh decoder, exactly as the whole input decodes', () => {
    fc.assert(
      fc.property(
        bytesArb,
        fc.constantFrom(...FRAMERS),
        fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(1024 * 1024)),
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 6 }),
        fc.option(fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 4 })),
        fc.array(fc.boolean(), { maxLength: 5 }),
        (bytes, framer, maxRecordBytes, chunkBytes, reads, rooms, flushes) => {
          const whole = reference(bytes, framer, maxRecordBytes);
          const { seen, events } = chunked(bytes, framer, maxRecordBytes, chunkBytes, reads, rooms, flushes);
          expect(seen.records).toEqual(whole.records);
          expect([...seen.rejects].sort()).toEqual([...whole.rejects].sort());
          // Every input byte is accounted for once, and chunks follow each other.
          expect(events.reduce((n, e) => n + e.inputBytes, 0)).toBe(bytes.length);
          let line = 1;
          for (const e of events) {
            if (e.kind !== 'chunk') continue;
            expect(e.startLine).toBeGreaterThanOrEqual(line);
            expect(e.lines).toBe(countLF(e.bytes, 0, e.bytes.length));
            line = e.startLine + e.lines;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('flushes the complete records pushed so far, keeping the record under way', () => {
    const chunker = new Chunker({
      source: 's',
      framer: newlineFramer,
      maxRecordBytes: 1024,
      chunkBytes: 1000,
    });
    const text = (e: ChunkEvent | undefined) =>
      e?.kind === 'chunk' ? [Buffer.from(e.bytes).toString(), e.startLine, e.startOffset, e.lines] : e;
    expect(chunker.push(Buffer.from('a\nbb\nc'))).toEqual([]);
    expect(chunker.pending).toBe(6);
    expect(chunker.flush().map(text)).toEqual([['a\nbb\n', 1, 0, 2]]);
    expect(chunker.pending).toBe(0);
    // Nothing new: nothing to flush, the record under way included.
    expect(chunker.flush()).toEqual([]);
    expect(chunker.push(Buffer.from('c\nd'))).toEqual([]);
    expect(chunker.flush().map(text)).toEqual([['cc\n', 3, 5, 1]]);
    expect(chunker.end().map(text)).toEqual([['d', 4, 8, 0]]);
  });

  it('cuts only after a record end, except for the last chunk', () => {
    const csv = Buffer.from('id,note\n1,"two\nlines"\n2,"a ""q"" \n"\n3,x\n');
    for (let chunkBytes = 1; chunkBytes < csv.length + 2; chunkBytes++) {
      const chunker = new Chunker({
        source: 's',
        framer: quotedFramer('"', ','),
        maxRecordBytes: 1024,
        chunkBytes,
      });
      const events = [...chunker.push(csv), ...chunker.end()];
      const texts = events.map((e) => (e.kind === 'chunk' ? Buffer.from(e.bytes).toString() : '?'));
      expect(texts.join('')).toBe(csv.toString());
      // A quoted newline never ends a chunk.
      for (const t of texts) expect(t.endsWith('"two\n') || t.endsWith(' \n')).toBe(false);
    }
  });

  it('counts LF bytes at any alignment and length', () => {
    fc.assert(
      // Long enough for several of the word loop's blocks, and for a partial one.
      fc.property(fc.uint8Array({ maxLength: 2200 }), fc.nat(7), (raw, shift) => {
        const bytes = raw.map((b) => (b % 3 === 0 ? 0x0a : b));
        const padded = new Uint8Array(bytes.length + shift);
        padded.set(bytes, shift);
        const view = padded.subarray(shift);
        const expected = [...view].filter((b) => b === 0x0a).length;
        expect(countLF(view, 0, view.length)).toBe(expected);
      }),
      { numRuns: 500 },
    );
    // Every byte an LF: the most each of the word loop's byte lanes ever sums.
    expect(countLF(new Uint8Array(5003).fill(0x0a), 1, 5002)).toBe(5001);
  });

  it('drops an over-long record as it streams by, in bounded memory', () => {
    const chunker = new Chunker({ source: 's', framer: newlineFramer, maxRecordBytes: 100, chunkBytes: 64 });
    const events: ChunkEvent[] = [];
    events.push(...chunker.push(Buffer.from('ok\n')));
    for (let i = 0; i < 1000; i++) events.push(...chunker.push(Buffer.alloc(1000, 0x61)));
    events.push(...chunker.push(Buffer.from('\r\nnext\n')), ...chunker.end());
    const rejected = events.filter((e) => e.kind === 'rejected');
    expect(rejected).toHaveLength(1);
    const r = rejected[0]!.kind === 'rejected' ? rejected[0]!.rejection : undefined;
    expect(r).toMatchObject({ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2, offset: 3 });
    expect(r!.record).toBe('a'.repeat(1024));
    expect(events.reduce((n, e) => n + e.inputBytes, 0)).toBe(3 + 1000 * 1000 + 7);
    const last = events.at(-1)!;
    expect(last.kind === 'chunk' && Buffer.from(last.bytes).toString()).toBe('next\n');
    expect(last.kind === 'chunk' && last.startLine).toBe(3);
  });
});
