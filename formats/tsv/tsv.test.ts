import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { serializeAll } from '../../src/testing/run-format.js';
import type { Row } from '../csv/table.js';
import { everyByte, fixtures, run, summary, utf8 } from '../csv/test/helpers.js';
import { arbitrary } from './arbitrary.js';
import tsv, { samples } from './index.js';
import { escapeField } from './serializer.js';
import { unescapeField } from './tokenizer.js';

const write = (tokens: readonly Record<string, unknown>[], raw: Record<string, unknown> = {}): string =>
  serializeAll(tsv, tokens as Row[], raw);

function thrown(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error('expected a throw');
}

describe('tsv format definition', () => {
  it('declares its name, media type and extensions', () => {
    expect(tsv.name).toBe('tsv');
    expect(tsv.mediaTypes).toEqual(['text/tab-separated-values']);
    expect(tsv.extensions).toEqual(['tsv', 'tab']);
    expect(tsv.parallel).toBe(true);
    expect(tsv.framer).toBeUndefined();
  });

  it('reads every sample without a rejection', () => {
    for (const sample of samples) expect(run(tsv, sample).rejects).toEqual([]);
  });

  it('exports an arbitrary of tokens', () => {
    expect(typeof arbitrary.generate).toBe('function');
  });
});

describe('tsv reading', () => {
  it('keys each row by the header row', () => {
    const r = run(tsv, 'id\tname\n1\tAda\n2\tGrace Hopper\n');
    expect(r.items).toEqual([
      { id: '1', name: 'Ada' },
      { id: '2', name: 'Grace Hopper' },
    ]);
    expect(r.skipped).toBe(1);
  });

  it('treats quotes and commas as data', () => {
    expect(run(tsv, 'a\tb\n"x,y"\t"\n').items).toEqual([{ a: '"x,y"', b: '"' }]);
  });

  it('reads empty fields and a trailing TAB as a last empty field', () => {
    expect(run(tsv, 'a\tb\tc\n\t\t\nx\t\t\n').items).toEqual([
      { a: '', b: '', c: '' },
      { a: 'x', b: '', c: '' },
    ]);
  });

  it.each([
    ['\\t', '\t'],
    ['\\n', '\n'],
    ['\\r', '\r'],
    ['\\\\', '\\'],
    ['a\\tb\\nc', 'a\tb\nc'],
    ['\\\\t', '\\t'],
    ['\\\\\\n', '\\\n'],
  ])('decodes the escape %j to %j', (text, value) => {
    expect(run(tsv, `a\tb\n${text}\tx\n`).items).toEqual([{ a: value, b: 'x' }]);
  });

  it.each([
    ['C:\\Users', 'C:\\Users'],
    ['\\x', '\\x'],
    ['\\0', '\\0'],
    ['end\\', 'end\\'],
    ['\\', '\\'],
    ['\\😀', '\\😀'],
  ])('keeps the backslash of %j, which is not an escape', (text, value) => {
    expect(run(tsv, `a\tb\n${text}\tx\n`).items).toEqual([{ a: value, b: 'x' }]);
  });

  it('decodes escapes in header names', () => {
    expect(run(tsv, 'a\\tb\tc\n1\t2\n').items).toEqual([{ 'a\tb': '1', c: '2' }]);
  });

  it('strips the CR of a CRLF line ending', () => {
    expect(run(tsv, 'a\tb\r\n1\t2\r\n').items).toEqual([{ a: '1', b: '2' }]);
  });

  it('keeps a CR inside a line as data', () => {
    expect(run(tsv, 'a\tb\n1\r2\t3\n').items).toEqual([{ a: '1\r2', b: '3' }]);
  });

  it('rejects a row with the wrong number of fields with SLUICE_E_FIELD_COUNT', () => {
    const r = run(tsv, 'a\tb\tc\n1\t2\t3\t4\n5\t6\t7\n');
    expect(r.items).toEqual([{ a: '5', b: '6', c: '7' }]);
    expect(r.rejects).toEqual([
      expect.objectContaining({
        code: 'SLUICE_E_FIELD_COUNT',
        stage: 'tokenize',
        line: 2,
        offset: 6,
        message: 'expected 3 fields, got 4',
        record: '1\t2\t3\t4',
        at: 0,
      }),
    ]);
  });

  it('skips blank lines in a table of several columns', () => {
    const r = run(tsv, '\na\tb\n\n1\t2\n\r\n');
    expect(r.items).toEqual([{ a: '1', b: '2' }]);
    expect(r.rejects).toEqual([]);
  });

  it('reads a blank line of a one-column table as an empty field', () => {
    const r = run(tsv, '\nid\n1\n\n2\n');
    expect(r.items).toEqual([{ id: '1' }, { id: '' }, { id: '2' }]);
  });

  it('reads an empty input as nothing', () => {
    expect(run(tsv, '')).toEqual({ items: [], rejects: [], records: 0, skipped: 0 });
  });

  it('drops a BOM at the start of the input', () => {
    expect(Object.keys(run(tsv, '\uFEFFid\tx\n1\t2\n').items[0]!)).toEqual(['id', 'x']);
  });

  it('suffixes duplicate header names and keeps special names as own properties', () => {
    const r = run(tsv, 'a\ta\t__proto__\n1\t2\t3\n');
    expect(r.items).toEqual([JSON.parse('{"a":"1","a_2":"2","__proto__":"3"}')]);
    expect(Object.getPrototypeOf(r.items[0])).toBe(Object.prototype);
  });

  it('gives the same result whatever the writes the input is split into', () => {
    const input = 'id\tnote\r\n1\ta\\tb\r\n2\té😀\r\n';
    const whole = run(tsv, input);
    for (let cut = 1; cut < utf8(input).length; cut++)
      expect(run(tsv, input, { cuts: [cut] })).toEqual(whole);
  });

  it('gives the same result fed one byte at a time, multi-byte characters included', () => {
    const input = 'ключ\t値\n😀\t𝄞\n';
    expect(run(tsv, input, { cuts: everyByte(input) })).toEqual(run(tsv, input));
    expect(run(tsv, input).items).toEqual([{ ключ: '😀', 値: '𝄞' }]);
  });

  it('reads a CRLF split between two writes', () => {
    expect(run(tsv, 'a\r\n1\r\n2\r\n', { cuts: [2, 5] }).items).toEqual([{ a: '1' }, { a: '2' }]);
  });

  it('rejects a character truncated at the end of input with SLUICE_E_UTF8', () => {
    const bytes = utf8('a\n1\n😀');
    const r = run(tsv, bytes.subarray(0, bytes.length - 2));
    expect(r.items).toEqual([{ a: '1' }]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_UTF8', line: 3, offset: 4 })]);
  });

  it('rejects a line over maxRecordBytes and reads the next line', () => {
    const r = run(tsv, 'a\tb\n0123456789\t1\n3\t4\n', { maxRecordBytes: 8, cuts: [6, 9] });
    expect(r.items).toEqual([{ a: '3', b: '4' }]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2 })]);
  });

  it('rejects the rows after a header line that was rejected instead of renaming them', () => {
    const bytes = Buffer.concat([Buffer.from([0x61, 0xff]), Buffer.from('\tb\n1\t2\n')]);
    const r = run(tsv, new Uint8Array(bytes));
    expect(r.rejects.map((x) => [x.code, x.line])).toEqual([
      ['SLUICE_E_UTF8', 1],
      ['SLUICE_E_VALIDATION', 2],
    ]);
  });
});

describe('tsv options', () => {
  it('names columns 1, 2, 3 when there is no header row', () => {
    expect(run(tsv, 'x\ty\n', { options: { header: false } }).items).toEqual([{ 1: 'x', 2: 'y' }]);
  });

  it('reads every line as a row when columns are given', () => {
    expect(run(tsv, 'x\ty\n', { options: { columns: ['a', 'b'] } }).items).toEqual([{ a: 'x', b: 'y' }]);
  });

  it('consumes the header row and uses the given columns when header is true too', () => {
    const r = run(tsv, 'p\tq\nx\ty\n', { options: { columns: ['a', 'b'], header: true } });
    expect(r.items).toEqual([{ a: 'x', b: 'y' }]);
  });

  it('reads a blank line as a row when the header row to be replaced was rejected by the framer', () => {
    const bytes = Buffer.concat([Buffer.from([0xff]), Buffer.from('\n\nx\n')]);
    const r = run(tsv, new Uint8Array(bytes), { options: { columns: ['a'], header: true } });
    expect(r.items).toEqual([{ a: '' }, { a: 'x' }]);
    expect(r.rejects.map((x) => x.code)).toEqual(['SLUICE_E_UTF8']);
  });

  it('reads every blank line as a row of a one-column table given its column', () => {
    expect(run(tsv, '\nx\n', { options: { columns: ['a'] } }).items).toEqual([{ a: '' }, { a: 'x' }]);
  });

  it('pads short rows and keys extra fields by position when relaxColumnCount is set', () => {
    const r = run(tsv, 'a\tb\n1\n1\t2\t3\n', { options: { relaxColumnCount: true } });
    expect(r.items).toEqual([
      { a: '1', b: '' },
      { a: '1', b: '2', 3: '3' },
    ]);
  });

  it('refuses duplicate columns with SLUICE_E_OPTION', () => {
    expect(thrown(() => run(tsv, '', { options: { columns: ['a', 'a'] } })).code).toBe('SLUICE_E_OPTION');
  });

  it('refuses a delimiter option, which tsv does not have', () => {
    expect(thrown(() => run(tsv, '', { options: { delimiter: ',' } })).code).toBe('SLUICE_E_OPTION');
  });
});

describe('tsv writing', () => {
  it('writes a header row and one line per token', () => {
    expect(write([{ id: '1', name: 'Ada' }])).toBe('id\tname\n1\tAda\n');
  });

  it.each([
    ['a\tb', 'a\\tb'],
    ['a\nb', 'a\\nb'],
    ['a\rb', 'a\\rb'],
    ['C:\\x', 'C:\\\\x'],
    ['\\t', '\\\\t'],
    ['"q", x', '"q", x'],
    [' padded ', ' padded '],
  ])('writes %j as %j', (value, text) => {
    expect(write([{ a: value, b: 'x' }])).toBe(`a\tb\n${text}\tx\n`);
  });

  it('escapes header names', () => {
    expect(write([{ 'a\tb': '1', c: '2' }])).toBe('a\\tb\tc\n1\t2\n');
  });

  it('writes a missing column as an empty field and refuses an extra key', () => {
    expect(write([{ a: '1', b: '2' }, { a: '3' }])).toBe('a\tb\n1\t2\n3\t\n');
    const e = thrown(() => write([{ a: '1' }, { b: '2' }]));
    expect(e.code).toBe('SLUICE_E_SERIALIZE');
    expect(e.message).toBe('tsv: field "b" is not a column (columns: "a")');
  });

  it('writes an empty field of a one-column table as an empty line that reads back', () => {
    const text = write([{ a: '' }, { a: 'x' }, { a: '' }]);
    expect(text).toBe('a\n\nx\n\n');
    expect(run(tsv, text).items).toEqual([{ a: '' }, { a: 'x' }, { a: '' }]);
  });

  it('refuses to name the only column "", which would make the header line blank', () => {
    expect(thrown(() => write([{ '': 'x' }])).code).toBe('SLUICE_E_SERIALIZE');
  });

  it('refuses a first line starting with U+FEFF, which a reader would drop', () => {
    expect(thrown(() => write([{ '\uFEFFa': 'x' }])).code).toBe('SLUICE_E_SERIALIZE');
    expect(thrown(() => write([{ a: '\uFEFFx' }], { header: false })).code).toBe('SLUICE_E_SERIALIZE');
  });

  it('writes U+FEFF at the start of any later line', () => {
    expect(write([{ a: '\uFEFFx' }])).toBe('a\n\uFEFFx\n');
  });

  it('writes no header row when columns are given without header', () => {
    expect(write([{ a: '1', b: '2' }], { columns: ['b', 'a'] })).toBe('2\t1\n');
  });

  it('escapes and unescapes as inverse functions on a hostile value', () => {
    const value = 'a\\\tb\\n\r\n\\\\x\\';
    expect(unescapeField(escapeField(value))).toBe(value);
  });
});

describe('tsv fixtures', () => {
  const dir = new URL('./fixtures/', import.meta.url);
  it.each(fixtures(dir, 'tsv'))(
    'reads fixtures/$name.tsv as its expected.json says',
    ({ bytes, expected }) => {
      const { options, ...rest } = expected;
      expect(summary(run(tsv, bytes, { options }))).toEqual(rest);
    },
  );

  it.each(fixtures(dir, 'tsv'))(
    'reads fixtures/$name.tsv the same fed one byte at a time',
    ({ bytes, expected }) => {
      const { options } = expected;
      expect(run(tsv, bytes, { options, cuts: everyByte(bytes) })).toEqual(run(tsv, bytes, { options }));
    },
  );
});
