/** How counterexamples are printed: exactly which bytes, readable. */
import { describe, expect, it } from 'vitest';
import { showBytes, showText, showValue, truncate } from '../../src/testing/show.js';

describe('showBytes', () => {
  it('shows valid UTF-8 as text and every other byte as \\xNN', () => {
    expect(showBytes(new Uint8Array([0x61, 0xc3, 0xa9, 0xff, 0xc3, 0x0d, 0x0a]))).toBe(
      '"aé\\xff\\xc3\\r\\n"',
    );
  });

  it('shows a character cut in half (the first bytes of an emoji) byte by byte', () => {
    expect(showBytes(new Uint8Array([0xf0, 0x9f, 0x98]))).toBe('"\\xf0\\x9f\\x98"');
    expect(showBytes(Buffer.from('😀'))).toBe('"😀"');
  });

  it('escapes controls, a BOM and line separators, which would be invisible', () => {
    expect(showBytes(Buffer.from('\uFEFFa\u0000\u2028\t"\\'))).toBe('"\\ufeffa\\u0000\\u2028\\t\\"\\\\"');
  });
});

describe('showText and showValue', () => {
  it('quote a string with its escapes', () => {
    expect(showText('a\nb')).toBe('"a\\nb"');
    expect(showValue('x')).toBe('"x"');
  });

  it('show a token on one line, own __proto__ keys included', () => {
    const row: Record<string, string> = { a: '1' };
    Object.defineProperty(row, '__proto__', { value: 'p', enumerable: true });
    expect(showValue(row)).toBe("{ a: '1', ['__proto__']: 'p' }");
  });
});

describe('truncate', () => {
  it('cuts long text on a code point boundary and says how much was left out', () => {
    expect(truncate('ab😀cd', 3)).toBe('ab… (4 more characters)');
    expect(truncate('short', 10)).toBe('short');
  });
});
