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
