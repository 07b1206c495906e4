/**
 * The worked example of docs/guides/writing-a-format.md, examples/formats/logfmt: what
 * it reads and writes, and that it obeys the laws. It is imported as a user would run
 * it, through the package's own name ('sluice', 'sluice/testing': this repository's
 * build), so that its SluiceError is the one the kit checks for.
 */

import { describeFormatLaws, runFormat, serializeAll } from 'sluice/testing';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript without declarations, as a user's format may be.
import { arbitrary } from '../../examples/formats/logfmt/arbitrary.js';
// @ts-expect-error: as above.
import logfmt, { samples, writeLine } from '../../examples/formats/logfmt/index.js';

const read = (text: string) => runFormat(logfmt, [text]);

await describeFormatLaws(logfmt, { arbitrary, samples, name: 'the logfmt example obeys the format laws' });

describe('the logfmt example reads', () => {
  it('bare, quoted and empty values, keeping the order of the keys', () => {
    const r = read('level=info msg="user \\"ada\\" logged in" empty= flag path=C:\\Temp\n');
    expect(r.rejects).toEqual([]);
    expect(r.items).toEqual([
      { level: 'info', msg: 'user "ada" logged in', empty: '', flag: '', path: 'C:\\Temp' },
    ]);
    expect(Object.keys(r.items[0] as object)).toEqual(['level', 'msg', 'empty', 'flag', 'path']);
  });

  it('JSON escapes in quoted values, non-BMP characters included', () => {
    expect(read('a="tab\\there\\nnewline \\ud83d\\ude00 😀"\n').items).toEqual([
      { a: 'tab\there\nnewline 😀 😀' },
    ]);
  });

  it('a __proto__ key as an ordinary own key', () => {
    const [row] = read('__proto__=x\n').items as Record<string, string>[];
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('x');
  });

  it('a line of spaces and tabs as no record', () => {
    expect(read(' \t \n\na=1\n')).toMatchObject({ items: [{ a: '1' }], skipped: 2, records: 1 });
  });
});

describe('the logfmt example rejects, with the column', () => {
  const reject = (line: string) => read(`${line}\n`).rejects.map((r) => `${r.code}: ${r.message}`);

  it('a duplicate key, rather than losing a value', () => {
    expect(reject('x=1 x=2')).toEqual(['SLUICE_E_VALIDATION: duplicate key "x" at column 5']);
  });

  it('a quoted value that is not closed', () => {
    expect(reject('a="open')).toEqual(['SLUICE_E_PARSE: quoted value is not closed at column 3']);
  });

  it('a key that starts with U+FEFF, in the middle of a file too', () => {
    expect(read('a=1\nb=1 \uFEFFk=2\n').rejects.map((r) => `${r.code}: ${r.message}`)).toEqual([
      'SLUICE_E_PARSE: a key cannot start with U+FEFF (a byte order mark) at column 5',
    ]);
  });

  it('a pair without a key', () => {
    expect(reject('=1')).toEqual(['SLUICE_E_PARSE: expected a key, got "=" at column 1']);
  });

  it('text glued to a quoted value, and a second = in a bare one', () => {
    expect(reject('a="x"y')).toEqual([
      'SLUICE_E_PARSE: expected a space after the value of "a", got "y" at column 6',
    ]);
    expect(reject('a=b=c')).toEqual([
      'SLUICE_E_PARSE: expected a space after the value of "a", got "=" at column 4',
    ]);
  });

  it('a bad escape in a quoted value', () => {
    expect(reject('a="\\q"')[0]).toMatch(/^SLUICE_E_PARSE: bad quoted value \(.*\) at column 3$/);
  });
});

describe('the logfmt example writes', () => {
  it('values bare when they read back as themselves, quoted otherwise', () => {
    expect(writeLine({ a: 'x', b: 'two words', c: '', d: 'q"', e: 'k=v', f: 'é😀' })).toBe(
      'a=x b="two words" c="" d="q\\"" e="k=v" f=é😀',
    );
  });

  it('numbers and booleans as their text', () => {
    expect(serializeAll(logfmt, [{ n: 1.5, ok: true }])).toBe('n=1.5 ok=true\n');
  });

  it('nothing for a record it cannot represent, with a coded serialize error', () => {
    for (const [token, why] of [
      [{}, 'a record needs at least one key'],
      [{ 'a b': '1' }, 'key "a b" contains a space'],
      // At the start of a file a reader would drop it as a byte order mark.
      [{ '\uFEFF': '', level: '' }, 'starts with U+FEFF'],
      [{ a: { nested: true } }, 'the value of "a" is object, not a string'],
      [[1, 2], 'expected an object of key/value pairs, got an array'],
    ] as const) {
      expect(() => writeLine(token)).toThrow(
        expect.objectContaining({ code: 'SLUICE_E_SERIALIZE', message: expect.stringContaining(why) }),
      );
    }
  });
});
