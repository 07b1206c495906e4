import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordScanner } from '../../src/core/contracts.js';
import { newlineFramer, quotedFramer } from '../../src/core/framers.js';

function scanAll(scanner: RecordScanner, text: string, from = 0): number[] {
  const ends: number[] = [];
  scanner.scan(Buffer.from(text, 'latin1'), from, ends);
  return ends;
}

describe('newlineFramer', () => {
  it('is named newline and is not multi-line', () => {
    expect(newlineFramer.name).toBe('newline');
    expect(newlineFramer.multiline).toBe(false);
  });

  it('reports every LF as a record end', () => {
    expect(scanAll(newlineFramer.scanner(), 'a\nb\r\n\n')).toEqual([1, 4, 5]);
  });

  it('reports only the LFs at or after `from`', () => {
    expect(scanAll(newlineFramer.scanner(), 'a\nb\nc\n', 2)).toEqual([3, 5]);
  });

  it('reports nothing when there is no LF', () => {
    expect(scanAll(newlineFramer.scanner(), 'abc\r')).toEqual([]);
  });

  it('never has a pending error', () => {
    expect(newlineFramer.scanner().pendingError?.()).toBeUndefined();
  });
});

describe('quotedFramer', () => {
  it('is multi-line and named after its quote', () => {
    const f = quotedFramer("'", ';');
    expect(f.multiline).toBe(true);
    expect(f.name).toBe("quoted(')");
  });

  it('skips LFs inside a quoted field', () => {
    expect(scanAll(quotedFramer('"', ',').scanner(), '"a\nb"\nc\n')).toEqual([5, 7]);
  });

  it('keeps its quote state between calls', () => {
    const s = quotedFramer('"', ',').scanner();
    const ends: number[] = [];
    s.scan(Buffer.from('x,"a\n'), 0, ends);
    expect(ends).toEqual([]);
    s.scan(Buffer.from('x,"a\nb"\n'), 5, ends);
    expect(ends).toEqual([7]);
  });

  it('reopens the field when a doubled quote is split between calls', () => {
    const s = quotedFramer('"', ',').scanner();
    const ends: number[] = [];
    s.scan(Buffer.from('"a"'), 0, ends);
    s.scan(Buffer.from('"a""\n"\n'), 3, ends);
    expect(ends).toEqual([6]);
  });

  it('treats a quote in the middle of a field as data', () => {
    expect(scanAll(quotedFramer('"', ',').scanner(), 'a"b\nc\n')).toEqual([3, 5]);
  });

  it('uses its own delimiter to find field starts', () => {
    expect(scanAll(quotedFramer('"', ';').scanner(), 'a;"b\nc"\n')).toEqual([7]);
    expect(scanAll(quotedFramer('"', ';').scanner(), 'a,"b\nc"\n')).toEqual([4, 7]);
  });

  it('supports a tab delimiter and a single-quote quote', () => {
    expect(scanAll(quotedFramer("'", '\t').scanner(), "a\t'b\nc'\n")).toEqual([7]);
  });

  it('reports an unterminated quote as the pending error', () => {
    const s = quotedFramer('"', ',').scanner();
    scanAll(s, 'a,"b\n');
    expect(s.pendingError?.()).toBe('SLUICE_E_UNTERMINATED_QUOTE');
  });

  it('reports no pending error once the quote closes', () => {
    const s = quotedFramer('"', ',').scanner();
    scanAll(s, 'a,"b\n"');
    expect(s.pendingError?.()).toBeUndefined();
  });

  it('gives each scanner its own state', () => {
    const f = quotedFramer('"', ',');
    const open = f.scanner();
    scanAll(open, '"');
    expect(scanAll(f.scanner(), 'a\n')).toEqual([1]);
  });

  it('rejects a quote or delimiter that is not one ASCII character other than CR or LF', () => {
    for (const [q, d] of [
      ['', ','],
      ['""', ','],
      ['"', 'é'],
      ['"', '\n'],
      ['\r', ','],
      ['"', ''],
    ] as const) {
      expect(() => quotedFramer(q, d)).toThrow(TypeError);
    }
  });

  it('names the offending argument in its error', () => {
    expect(() => quotedFramer('"', '::')).toThrow(/delimiter must be one ASCII character/);
  });
});

describe("quotedFramer lastEnd (the thread chunker's fast path)", () => {
  /** Bytes dense in what the state machine looks at: quotes (doubled too), delimiters, CR, LF. */
  const ALPHABET = ['"', '"', ',', ';', '\n', '\r', 'a', 'b', '\t', "'"];
  const bytesArb = fc
    .tuple(
      fc
        .array(fc.constantFrom(...ALPHABET), { maxLength: 120 })
        .map((cs) => Buffer.from(cs.join(''), 'latin1')),
      fc.uint8Array({ maxLength: 40 }),
      fc.boolean(),
    )
    .map(([dense, raw, mix]) => (mix ? Buffer.concat([dense, Buffer.from(raw), dense]) : dense));
  const framerArb = fc.constantFrom(quotedFramer('"', ','), quotedFramer("'", '\t'), quotedFramer('"', ';'));

  /** The input cut into pieces at the given sizes (cycled), each piece a view at an odd offset half the time. */
  function pieces(bytes: Buffer, sizes: number[], plain: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = sizes.length === 0 ? bytes.length : sizes[i % sizes.length]!;
      out.push(bytes.subarray(at, at + n));
      at += n;
    }
    return out.map((p) => (plain ? new Uint8Array(p) : p));
  }

  /** Concatenates into a buffer whose view starts at `shift` (a plain Uint8Array or a Buffer). */
  function joined(a: Uint8Array, b: Uint8Array, shift: number, plain: boolean): Uint8Array {
    const backing = new Uint8Array(shift + a.length + b.length);
    backing.set(a, shift);
    backing.set(b, shift + a.length);
    const view = backing.subarray(shift);
    return plain ? view : Buffer.from(view.buffer, view.byteOffset, view.length);
  }

  it('finds the last of the record ends scan finds, and leaves the same state, over any pieces', () => {
    fc.assert(
      fc.property(
        framerArb,
        bytesArb,
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.nat(7),
        (framer, bytes, sizes, useLastEnd, plain, shift) => {
          // Two scanners fed the same buffers as the chunker feeds them: the bytes after the
          // last cut, then the new piece, `from` at the first new byte. `full` always scans;
          // `fast` takes lastEnd on the calls `useLastEnd` says, scan on the others.
          const full = framer.scanner();
          const fast = framer.scanner();
          let tail: Uint8Array = new Uint8Array(0);
          pieces(bytes, sizes, plain).forEach((piece, call) => {
            const buf = joined(tail, piece, shift, plain);
            const ends: number[] = [];
            full.scan(buf, tail.length, ends);
            const expected = ends.length > 0 ? ends[ends.length - 1]! : -1;
            let got: number;
            if (useLastEnd[call % useLastEnd.length]) {
              got = fast.lastEnd(buf, tail.length);
            } else {
              const e: number[] = [];
              fast.scan(buf, tail.length, e);
              expect(e).toEqual(ends);
              got = e.length > 0 ? e[e.length - 1]! : -1;
            }
            expect(got).toBe(expected);
            tail = buf.slice(expected + 1);
          });
          expect(fast.pendingError?.()).toBe(full.pendingError?.());
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('continues a quoted field, a doubled quote and a closing quote across calls', () => {
    const s = quotedFramer('"', ',').scanner();
    // `"a` opens a field: its LF does not end a record.
    expect(s.lastEnd(Buffer.from('x\n"a\n'), 0)).toBe(1);
    // The field closes, then a quote right after the close (split between calls) re-opens it.
    expect(s.lastEnd(Buffer.from('"a\nb"'), 3)).toBe(-1);
    expect(s.lastEnd(Buffer.from('"a\nb""\n"\nz'), 5)).toBe(8);
    expect(s.pendingError?.()).toBeUndefined();
    expect(s.lastEnd(Buffer.from('z,"'), 1)).toBe(-1);
    expect(s.pendingError?.()).toBe('SLUICE_E_UNTERMINATED_QUOTE');
  });

  it('takes one search each way for a buffer without quotes', () => {
    const s = quotedFramer('"', ',').scanner();
    const buf = Buffer.from('a,b\nc,d\ne,f\ntail');
    expect(s.lastEnd(buf, 0)).toBe(11);
    expect(s.lastEnd(buf, 12)).toBe(-1);
  });

  it('stays linear on a long record of many quoted fields without an LF', () => {
    // A search back from every quote to the last LF would be quadratic here (~10^11 steps).
    const buf = Buffer.from(`x\n${'"a",'.repeat(500_000)}`);
    const t0 = performance.now();
    expect(quotedFramer('"', ',').scanner().lastEnd(buf, 0)).toBe(1);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
