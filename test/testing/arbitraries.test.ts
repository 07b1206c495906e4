/** The arbitraries sluice/testing offers format authors, and the inputs the laws build from them. */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraries } from '../../src/testing/index.js';
import { interestingCuts, mutate, resolveCuts } from '../../src/testing/inputs.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const sample = <T>(a: fc.Arbitrary<T>, n = 2000): T[] => fc.sample(a, { numRuns: n, seed: 1 });

describe('arbitraries.hostileString', () => {
  it('draws delimiters, quotes, line breaks, tabs, backslashes, non-BMP characters and the empty string', () => {
    const strings = sample(arbitraries.hostileString());
    for (const piece of [',', ';', '|', '"', "'", '\t', '\r\n', '\n', '\\', '=', '\0', '\uFEFF', '\u2028']) {
      expect(strings.some((s) => s.includes(piece))).toBe(true);
    }
    expect(strings.some((s) => /[\u{10000}-\u{10FFFF}]/u.test(s))).toBe(true);
    expect(strings).toContain('');
  });

  it('never draws a lone surrogate unless asked to', () => {
    expect(sample(arbitraries.hostileString()).some((s) => LONE_SURROGATE.test(s))).toBe(false);
    expect(
      sample(arbitraries.hostileString({ loneSurrogates: true })).some((s) => LONE_SURROGATE.test(s)),
    ).toBe(true);
  });

  it('draws only the hostile pieces it is given, and never the empty string with minPieces 1', () => {
    const strings = sample(arbitraries.hostileString({ pieces: ['|'], minPieces: 1 }));
    expect(strings).not.toContain('');
    expect(strings.some((s) => s.includes('|'))).toBe(true);
    expect(strings.some((s) => s.includes('\r\n'))).toBe(false);
  });
});

describe('arbitraries.codePoint', () => {
  it('draws one Unicode scalar value: controls, BMP and astral characters, never a surrogate', () => {
    const cps = sample(arbitraries.codePoint());
    for (const c of cps) {
      expect([...c]).toHaveLength(1);
      expect(LONE_SURROGATE.test(c)).toBe(false);
    }
    expect(cps.some((c) => c.codePointAt(0)! < 0x20)).toBe(true);
    expect(cps.some((c) => c.codePointAt(0)! > 0xffff)).toBe(true);
  });
});

describe('arbitraries.hostileBytes', () => {
  it('draws text with line ends and, sometimes, invalid UTF-8', () => {
    const inputs = sample(arbitraries.hostileBytes());
    expect(inputs.some((b) => b.includes(0x0a))).toBe(true);
    expect(inputs.some((b) => !isUtf8(b))).toBe(true);
  });
});

describe('law inputs', () => {
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

  it('mutates by inserting, deleting, duplicating, replacing and truncating, positions taken modulo the length', () => {
    const b = bytes('abcd');
    expect(Buffer.from(mutate(b, [{ op: 'insert', at: 6, bytes: [0x0a] }])).toString()).toBe('a\nbcd');
    expect(Buffer.from(mutate(b, [{ op: 'delete', at: 1, length: 2 }])).toString()).toBe('ad');
    expect(Buffer.from(mutate(b, [{ op: 'duplicate', at: 2, length: 5 }])).toString()).toBe('abcdcd');
    expect(Buffer.from(mutate(b, [{ op: 'replace', at: 0, byte: 0x7a }])).toString()).toBe('zbcd');
    expect(Buffer.from(mutate(b, [{ op: 'truncate', at: 3 }])).toString()).toBe('abc');
  });

  it('offers cuts inside a multi-byte character, between CR and LF, and beside quotes', () => {
    const b = bytes('é"x"\r\ny');
    // é is 2 bytes (0-1), then " x " at 2-4, CR LF at 5-6, y at 7.
    expect(interestingCuts(b)).toEqual(expect.arrayContaining([1, 2, 3, 4, 5, 6, 7]));
  });

  it('resolves cuts to sorted, distinct points strictly inside the input', () => {
    const b = bytes('abcdef');
    expect(resolveCuts(b, { anywhere: [3, 0, 6, 10, 3], interesting: [], everyByte: false })).toEqual([3]);
    expect(resolveCuts(b, { anywhere: [], interesting: [], everyByte: true })).toEqual([1, 2, 3, 4, 5]);
  });
});
