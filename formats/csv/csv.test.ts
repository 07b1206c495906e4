import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { resolveOptions } from '../../src/core/options.js';
import { serializeAll } from '../../src/testing/run-format.js';
import { arbitrary } from './arbitrary.js';
import csv, { samples } from './index.js';
import type { CsvOptions } from './options.js';
import type { Row } from './table.js';
import { everyByte, fixtures, run, summary, utf8 } from './test/helpers.js';

const options = (raw: Record<string, unknown> = {}): CsvOptions =>
  resolveOptions(csv.options, raw, 'csv.') as CsvOptions;

/** Serializes tokens with the csv serializer (header + one line per token). */
const write = (tokens: readonly Record<string, unknown>[], raw: Record<string, unknown> = {}): string =>
  serializeAll(csv, tokens as Row[], raw);

/** Throws what `fn` throws, for asserting on codes and messages. */
function thrown(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error('expected a throw');
}

describe('csv format definition', () => {
  it('declares its name, media type and extension', () => {
    expect(csv.name).toBe('csv');
    expect(csv.mediaTypes).toEqual(['text/csv']);
    expect(csv.extensions).toEqual(['csv']);
    expect(csv.parallel).toBe(true);
  });

  it('reads every sample without a rejection', () => {
    for (const sample of samples) expect(run(csv, sample).rejects).toEqual([]);
  });

  it('exports an arbitrary whose tokens all have the same keys', () => {
    expect(typeof arbitrary.generate).toBe('function');
  });
});

describe('csv reading: fields', () => {
  it('keys each row by the header row', () => {
    const r = run(csv, 'id,name,city\n1,Ada,London\n2,Grace,New York\n');
    expect(r.items).toEqual([
      { id: '1', name: 'Ada', city: 'London' },
      { id: '2', name: 'Grace', city: 'New York' },
    ]);
    expect(r.records).toBe(2);
    expect(r.skipped).toBe(1);
  });

  it('keeps the columns in header order', () => {
    const r = run(csv, 'c,a,b\n1,2,3\n');
    expect(Object.keys(r.items[0]!)).toEqual(['c', 'a', 'b']);
  });

  it('keeps leading and trailing spaces of unquoted fields', () => {
    expect(run(csv, 'a,b\n  x , y\n').items).toEqual([{ a: '  x ', b: ' y' }]);
  });

  it('reads a trailing delimiter as a last empty field', () => {
    expect(run(csv, 'a,b\nx,\n').items).toEqual([{ a: 'x', b: '' }]);
  });

  it('reads empty fields everywhere', () => {
    expect(run(csv, 'a,b,c\n,,\n').items).toEqual([{ a: '', b: '', c: '' }]);
  });

  it('reads a quoted field holding the delimiter', () => {
    expect(run(csv, 'a,b\n"x,y",z\n').items).toEqual([{ a: 'x,y', b: 'z' }]);
  });

  it('reads a doubled quote inside a quoted field as one quote', () => {
    expect(run(csv, 'a\n"say ""hi"""\n').items).toEqual([{ a: 'say "hi"' }]);
  });

  it('reads a quoted empty field as empty', () => {
    expect(run(csv, 'a,b\n"",""\n').items).toEqual([{ a: '', b: '' }]);
  });

  it('reads a quoted field ending with a delimiter-terminated empty field', () => {
    expect(run(csv, 'a,b\n"x",\n').items).toEqual([{ a: 'x', b: '' }]);
  });

  it('keeps LF and CRLF inside a quoted field', () => {
    const r = run(csv, 'a,b\r\n"one\ntwo","three\r\nfour"\r\n');
    expect(r.items).toEqual([{ a: 'one\ntwo', b: 'three\r\nfour' }]);
  });

  it('strips the CR of a CRLF record terminator', () => {
    expect(run(csv, 'a,b\r\n1,2\r\n').items).toEqual([{ a: '1', b: '2' }]);
  });

  it('reads a quote inside an unquoted field as data', () => {
    expect(run(csv, 'a,b\nsay "hi",5" tall\n').items).toEqual([{ a: 'say "hi"', b: '5" tall' }]);
  });

  it('keeps a stray quote from swallowing the following lines', () => {
    const r = run(csv, 'a,b\n5" tall,x\n1,2\n');
    expect(r.items).toEqual([
      { a: '5" tall', b: 'x' },
      { a: '1', b: '2' },
    ]);
  });

  it('reads the last record without a final newline', () => {
    expect(run(csv, 'a,b\n1,2').items).toEqual([{ a: '1', b: '2' }]);
  });

  it('reads non-BMP characters and U+2028 unchanged', () => {
    expect(run(csv, 'a,b\n😀\u2028,"𝄞,x"\n').items).toEqual([{ a: '😀\u2028', b: '𝄞,x' }]);
  });

  it('reads a one-column file whose quoted empty field is a row', () => {
    const r = run(csv, 'a\n""\nx\n');
    expect(r.items).toEqual([{ a: '' }, { a: 'x' }]);
  });
});

describe('csv reading: errors', () => {
  it('rejects a closing quote followed by other characters with SLUICE_E_PARSE', () => {
    const r = run(csv, 'a,b\n"ab"c,d\n1,2\n');
    expect(r.items).toEqual([{ a: '1', b: '2' }]);
    expect(r.rejects).toEqual([
      expect.objectContaining({
        code: 'SLUICE_E_PARSE',
        stage: 'tokenize',
        line: 2,
        offset: 4,
        record: '"ab"c,d',
        at: 0,
        message: 'field 1: "c" after the closing quote, expected "," or the end of the record',
      }),
    ]);
  });

  it('rejects a row with too many fields with SLUICE_E_FIELD_COUNT', () => {
    const r = run(csv, 'a,b,c\n1,2,3,4\n');
    expect(r.rejects).toEqual([
      expect.objectContaining({ code: 'SLUICE_E_FIELD_COUNT', line: 2, message: 'expected 3 fields, got 4' }),
    ]);
  });

  it('rejects a row with too few fields with SLUICE_E_FIELD_COUNT', () => {
    const r = run(csv, 'a,b,c\n1,2\n');
    expect(r.rejects).toEqual([
      expect.objectContaining({ code: 'SLUICE_E_FIELD_COUNT', message: 'expected 3 fields, got 2' }),
    ]);
  });

  it('rejects a quote left open at the end of input with SLUICE_E_UNTERMINATED_QUOTE', () => {
    const r = run(csv, 'a,b\n1,2\n3,"open\n4,5\n');
    expect(r.items).toEqual([{ a: '1', b: '2' }]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_UNTERMINATED_QUOTE', line: 3 })]);
  });

  it('counts every data record as emitted or rejected', () => {
    const r = run(csv, 'a,b\n1,2\n1,2,3\n"x"y,1\n\n3,4\n');
    expect(r.records).toBe(r.items.length + r.rejects.length);
    expect(r.items.length).toBe(2);
    expect(r.rejects.length).toBe(2);
  });

  it('gives a rejection the index of the items emitted before it', () => {
    const r = run(csv, 'a\n1\n2\n"x"y\n3\n');
    expect(r.rejects.map((x) => x.at)).toEqual([2]);
  });

  it('throws a SluiceError carrying a copy of the position', () => {
    const tokenizer = csv.tokenizer(options());
    const at = { source: 's', line: 1, offset: 0 };
    tokenizer.tokenize('a,b', at, []);
    at.line = 2;
    at.offset = 4;
    const e = thrown(() => tokenizer.tokenize('1,2,3', at, []));
    at.line = 99;
    expect(e.code).toBe('SLUICE_E_FIELD_COUNT');
    expect(e.stage).toBe('tokenize');
    expect(e.position).toEqual({ source: 's', line: 2, offset: 4 });
  });

  it('rejects an unclosed quote handed over by another framer with SLUICE_E_UNTERMINATED_QUOTE', () => {
    const tokenizer = csv.tokenizer(options({ header: false }));
    const e = thrown(() => tokenizer.tokenize('1,"open', { source: 's', line: 1, offset: 0 }, []));
    expect(e.code).toBe('SLUICE_E_UNTERMINATED_QUOTE');
  });
});

describe('csv reading: lines, blank lines and framing', () => {
  it('skips blank lines before the header and between rows', () => {
    const r = run(csv, '\n\na,b\n\n1,2\n\n\n3,4\n\n');
    expect(r.items).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(r.rejects).toEqual([]);
  });

  it('skips CRLF blank lines', () => {
    expect(run(csv, 'a\r\n\r\n1\r\n').items).toEqual([{ a: '1' }]);
  });

  it('reads a header-only input as no rows', () => {
    const r = run(csv, 'a,b\n');
    expect(r.items).toEqual([]);
    expect(r.records).toBe(0);
    expect(r.skipped).toBe(1);
  });

  it('reads an empty input as nothing', () => {
    expect(run(csv, '')).toEqual({ items: [], rejects: [], records: 0, skipped: 0 });
  });

  it('numbers the record after a multi-line record by its real line', () => {
    const r = run(csv, 'a,b\n"1\n2\n3",x\n1,2,3\n');
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_FIELD_COUNT', line: 5 })]);
  });

  it('numbers a rejected multi-line record by the line it starts on', () => {
    const r = run(csv, 'a,b\r\n"x\r\ny",1\r\n"p\r\nq"z,2\r\n');
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_PARSE', line: 4, offset: 15 })]);
  });

  it('drops a BOM at the start of the input', () => {
    const r = run(csv, '\uFEFFid,name\n1,Ada\n');
    expect(Object.keys(r.items[0]!)).toEqual(['id', 'name']);
  });

  it('keeps U+FEFF that is not at the start of the input', () => {
    expect(run(csv, 'a,b\n\uFEFFx,y\n').items).toEqual([{ a: '\uFEFFx', b: 'y' }]);
  });

  it('gives the same result whatever the writes the input is split into', () => {
    const input = 'id,note\r\n1,"a, ""b""\r\nc"\r\n2,é😀\r\n';
    const whole = run(csv, input);
    for (let cut = 1; cut < utf8(input).length; cut++)
      expect(run(csv, input, { cuts: [cut] })).toEqual(whole);
  });

  it('gives the same result fed one byte at a time, multi-byte characters included', () => {
    const input = 'ключ,値\n"😀\n𝄞",é\n';
    expect(run(csv, input, { cuts: everyByte(input) })).toEqual(run(csv, input));
    expect(run(csv, input).items).toEqual([{ ключ: '😀\n𝄞', 値: 'é' }]);
  });

  it('reads a CRLF split between two writes', () => {
    const input = 'a,b\r\n1,2\r\n3,4\r\n';
    const r = run(csv, input, { cuts: [4, 9] });
    expect(r.items).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
  });

  it('rejects a character truncated at the end of input with SLUICE_E_UTF8', () => {
    const bytes = utf8('a,b\n1,2\nx,é');
    const r = run(csv, bytes.subarray(0, bytes.length - 1));
    expect(r.items).toEqual([{ a: '1', b: '2' }]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_UTF8', line: 3, offset: 8 })]);
  });

  it('rejects invalid UTF-8 in one row and reads the others', () => {
    const bytes = Buffer.concat([Buffer.from('a\n1\n'), Buffer.from([0xff, 0x0a]), Buffer.from('2\n')]);
    const r = run(csv, new Uint8Array(bytes));
    expect(r.items).toEqual([{ a: '1' }, { a: '2' }]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_UTF8', line: 3 })]);
  });

  it('rejects a record over maxRecordBytes and reads the next one on its own line', () => {
    const input = 'a,b\n1,2\nxxxxxxxxxxxxxxxxxxxx,y\n3,4\n';
    const r = run(csv, input, { maxRecordBytes: 10 });
    expect(r.items).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 3 })]);
  });

  it('keeps a quote in an over-long record cut just before it from swallowing the next records', () => {
    const input = 'aaaaaaa"b\nc\nd\n';
    const options = { header: false };
    const r = run(csv, input, { options, maxRecordBytes: 4, cuts: [7] });
    expect(r).toEqual(run(csv, input, { options, maxRecordBytes: 4 }));
    expect(r.items).toEqual([{ 1: 'c' }, { 1: 'd' }]);
  });

  it('rejects a last record without newline that is one byte over maxRecordBytes', () => {
    const options = { header: false };
    expect(run(csv, 'abcd', { options, maxRecordBytes: 3 }).rejects.map((x) => x.code)).toEqual([
      'SLUICE_E_RECORD_TOO_LARGE',
    ]);
  });

  it('rejects an over-long multi-line quoted record as one record', () => {
    const input = 'a,b\n"1\n2\n3\n4\n5\n6",y\n3,4\n5\n';
    const r = run(csv, input, { maxRecordBytes: 10, cuts: [6, 9, 12] });
    expect(r.items).toEqual([{ a: '3', b: '4' }]);
    expect(r.rejects).toEqual([
      expect.objectContaining({ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2 }),
      expect.objectContaining({ code: 'SLUICE_E_FIELD_COUNT', line: 9 }),
    ]);
  });
});

describe('csv reading: header names', () => {
  it('suffixes duplicate header names with _2, _3', () => {
    const r = run(csv, 'a,a,a\n1,2,3\n');
    expect(r.items).toEqual([{ a: '1', a_2: '2', a_3: '3' }]);
  });

  it('never gives a duplicate a name the header already has', () => {
    const r = run(csv, 'a,a,a_2\n1,2,3\n');
    expect(r.items).toEqual([{ a: '1', a_3: '2', a_2: '3' }]);
  });

  it('keeps empty header names as the empty key', () => {
    expect(run(csv, ',a\n1,2\n').items).toEqual([{ '': '1', a: '2' }]);
  });

  it('makes __proto__, constructor and numeric names own properties of a plain object', () => {
    const r = run(csv, '__proto__,constructor,toString,1\np,c,t,n\n');
    const row = r.items[0]!;
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row).sort()).toEqual(['1', '__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('p');
    expect(row.constructor).toBe('c');
    expect(row['1']).toBe('n');
  });

  it('reads header names that look like code as plain names', () => {
    const name = '"];process.exit(1);//';
    const r = run(csv, `"""];process.exit(1);//",\\\n1,2\n`);
    expect(r.items).toEqual([{ [name]: '1', '\\': '2' }]);
  });

  it('builds rows of a header too wide for a generated builder, __proto__ included', () => {
    const names = Array.from({ length: 1500 }, (_, i) => (i === 700 ? '__proto__' : `c${i}`));
    const r = run(csv, `${names.join(',')}\n${names.map((_, i) => i).join(',')}\n`);
    const row = r.items[0]!;
    expect(Object.keys(row).length).toBe(1500);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('700');
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row.c1499).toBe('1499');
  });

  it('builds rows of one header with the same key order', () => {
    const r = run(csv, 'b,a\n1,2\n3,4\n');
    expect(r.items.map((row) => Object.keys(row))).toEqual([
      ['b', 'a'],
      ['b', 'a'],
    ]);
  });

  it('rejects the rows after a header row that does not parse instead of renaming them', () => {
    const r = run(csv, '"a"x,b\n1,2\n3,4\n');
    expect(r.items).toEqual([]);
    expect(r.rejects.map((x) => [x.code, x.line])).toEqual([
      ['SLUICE_E_PARSE', 1],
      ['SLUICE_E_VALIDATION', 2],
      ['SLUICE_E_VALIDATION', 3],
    ]);
    expect(r.rejects[1]!.message).toBe(
      'no header: the header row (line 1) was rejected, so the fields of this row cannot be named',
    );
  });

  it('does not take a data row for the header when the header line was rejected for invalid UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from(',prix\n1,2\n3,4\n')]);
    const r = run(csv, new Uint8Array(bytes));
    expect(r.items).toEqual([]);
    expect(r.rejects.map((x) => [x.code, x.line])).toEqual([
      ['SLUICE_E_UTF8', 1],
      ['SLUICE_E_VALIDATION', 2],
      ['SLUICE_E_VALIDATION', 3],
    ]);
  });

  it('does not take a data row for the header when the header line was too long', () => {
    const r = run(csv, '\na_very_long_header,b\n\n1,2\n', { maxRecordBytes: 8 });
    expect(r.rejects).toEqual([
      expect.objectContaining({ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2 }),
      expect.objectContaining({
        code: 'SLUICE_E_VALIDATION',
        line: 4,
        message: 'no header: the header row (line 2) was rejected, so the fields of this row cannot be named',
      }),
    ]);
  });

  it('reads the rows with the given columns when a header row to be replaced does not parse', () => {
    const r = run(csv, '"a"x,b\n1,2\n', { options: { columns: ['p', 'q'], header: true } });
    expect(r.items).toEqual([{ p: '1', q: '2' }]);
    expect(r.rejects.map((x) => x.code)).toEqual(['SLUICE_E_PARSE']);
  });

  it('reads the rows with the given columns when the framer rejected a header row to be replaced', () => {
    const r = run(csv, 'a_very_long_header,b\n1,2\n', {
      options: { columns: ['p', 'q'], header: true },
      maxRecordBytes: 8,
    });
    expect(r.items).toEqual([{ p: '1', q: '2' }]);
    expect(r.rejects.map((x) => x.code)).toEqual(['SLUICE_E_RECORD_TOO_LARGE']);
  });

  it('names a non-BMP character after a closing quote whole in the message', () => {
    const r = run(csv, 'a\n"x"😀\n');
    expect(r.rejects[0]!.message).toBe(
      'field 1: "😀" after the closing quote, expected "," or the end of the record',
    );
  });
});

describe('csv options', () => {
  it('splits on another delimiter', () => {
    const r = run(csv, 'a;b\n"x;y";1,5\n', { options: { delimiter: ';' } });
    expect(r.items).toEqual([{ a: 'x;y', b: '1,5' }]);
  });

  it('splits on TAB given as \\t on the command line', () => {
    expect(run(csv, 'a\tb\n1\t2\n', { options: { delimiter: '\\t' } }).items).toEqual([{ a: '1', b: '2' }]);
  });

  it('quotes with another quote character', () => {
    const r = run(csv, "a,b\n'it''s, ok',\"x\"\n", { options: { quote: "'" } });
    expect(r.items).toEqual([{ a: "it's, ok", b: '"x"' }]);
  });

  it('keeps a newline inside a field quoted with another quote character in one record', () => {
    const r = run(csv, "a|b\n'1\n2'|3\n", { options: { quote: "'", delimiter: '|' } });
    expect(r.items).toEqual([{ a: '1\n2', b: '3' }]);
  });

  it('names columns 1, 2, 3 when there is no header row and no columns', () => {
    const r = run(csv, 'x,y\n1,2\n', { options: { header: false } });
    expect(r.items).toEqual([
      { 1: 'x', 2: 'y' },
      { 1: '1', 2: '2' },
    ]);
  });

  it('fixes the field count from the first row when there is no header row', () => {
    const r = run(csv, '\n1,2\n3\n', { options: { header: false } });
    expect(r.rejects).toEqual([
      expect.objectContaining({ code: 'SLUICE_E_FIELD_COUNT', line: 3, message: 'expected 2 fields, got 1' }),
    ]);
  });

  it('reads every record as a row when columns are given', () => {
    const r = run(csv, 'a,b\n1,2\n', { options: { columns: ['x', 'y'] } });
    expect(r.items).toEqual([
      { x: 'a', y: 'b' },
      { x: '1', y: '2' },
    ]);
  });

  it('consumes the header row and uses the given columns when header is true too', () => {
    const r = run(csv, 'a,b\n1,2\n', { options: { columns: ['x', 'y'], header: true } });
    expect(r.items).toEqual([{ x: '1', y: '2' }]);
    expect(r.skipped).toBe(1);
  });

  it('accepts columns from the command line as a comma-separated list', () => {
    const r = run(csv, '1,2\n', { options: { columns: 'x,y' } });
    expect(r.items).toEqual([{ x: '1', y: '2' }]);
  });

  it('rejects a header row whose width differs from the given columns and reads the rows', () => {
    const r = run(csv, 'a,b,c\n1,2\n', { options: { columns: ['x', 'y'], header: true } });
    expect(r.items).toEqual([{ x: '1', y: '2' }]);
    expect(r.rejects).toEqual([
      expect.objectContaining({
        code: 'SLUICE_E_FIELD_COUNT',
        line: 1,
        message: 'header row has 3 fields but 2 columns were given',
      }),
    ]);
  });

  it('pads short rows with empty fields when relaxColumnCount is set', () => {
    const r = run(csv, 'a,b,c\n1\n', { options: { relaxColumnCount: true } });
    expect(r.items).toEqual([{ a: '1', b: '', c: '' }]);
  });

  it('keys extra fields by position when relaxColumnCount is set', () => {
    const r = run(csv, 'a,b\n1,2,3,4\n', { options: { relaxColumnCount: true } });
    expect(r.items).toEqual([{ a: '1', b: '2', 3: '3', 4: '4' }]);
  });

  it('rejects an extra field that would overwrite a column named by its position', () => {
    const r = run(csv, 'a,3\n1,2,3\n', { options: { relaxColumnCount: true } });
    expect(r.rejects).toEqual([
      expect.objectContaining({
        code: 'SLUICE_E_FIELD_COUNT',
        message: 'expected 2 fields, got 3: extra field 3 would overwrite column "3"',
      }),
    ]);
  });

  it.each([
    [{ delimiter: 'é' }, 'option csv.delimiter: expected one ASCII character other than CR or LF, got "é"'],
    [{ quote: '😀' }, 'option csv.quote: expected one ASCII character other than CR or LF, got "😀"'],
    [{ delimiter: '"' }, 'option csv.quote: expected a character other than the delimiter, got "\\""'],
    [{ columns: [] }, 'option csv.columns: expected at least one column name, got an empty list'],
    [{ columns: ['a', 'a'] }, 'option csv.columns: expected distinct names, got "a" twice'],
  ])('refuses the options %j with SLUICE_E_OPTION', (raw, message) => {
    for (const make of [csv.tokenizer, csv.serializer!, csv.framer!]) {
      const e = thrown(() => make(options(raw)));
      expect(e.code).toBe('SLUICE_E_OPTION');
      expect(e.message).toBe(message);
    }
  });

  it('refuses an unknown option', () => {
    expect(thrown(() => options({ delimeter: ';' })).code).toBe('SLUICE_E_OPTION');
  });
});

describe('csv writing', () => {
  it('writes the header from the keys of the first token', () => {
    expect(write([{ id: '1', name: 'Ada' }])).toBe('id,name\n1,Ada\n');
  });

  it('writes the header from the columns option in its order', () => {
    expect(write([{ a: '1', b: '2' }], { columns: ['b', 'a'], header: true })).toBe('b,a\n2,1\n');
  });

  it('writes no header row when columns are given without header', () => {
    expect(write([{ a: '1', b: '2' }], { columns: ['b', 'a'] })).toBe('2,1\n');
  });

  it('writes no header row when header is false', () => {
    expect(write([{ a: '1', b: '2' }], { header: false })).toBe('1,2\n');
  });

  it('writes a header-only file for no tokens when columns and header are given', () => {
    expect(write([], { columns: ['a', 'b'], header: true })).toBe('a,b\n');
  });

  it('writes nothing for no tokens and no columns', () => {
    expect(write([])).toBe('');
  });

  it.each([
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['"', '""""'],
    ['line\nbreak', '"line\nbreak"'],
    ['cr\rhere', '"cr\rhere"'],
    ['\uFEFFbom', '"\uFEFFbom"'],
  ])('quotes %j as %j', (value, text) => {
    expect(write([{ a: value, b: 'x' }])).toBe(`a,b\n${text},x\n`);
  });

  it.each([' padded ', 'tab\there', 'back\\slash', "it's", '😀', ''])('does not quote %j', (value) => {
    expect(write([{ a: value, b: 'x' }])).toBe(`a,b\n${value},x\n`);
  });

  it('quotes with the configured quote and delimiter', () => {
    expect(write([{ a: "it's;", b: '"' }], { delimiter: ';', quote: "'" })).toBe(`a;b\n'it''s;';"\n`);
  });

  it('quotes an empty value in a one-column file so it is not read as a blank line', () => {
    const text = write([{ a: '' }, { a: 'x' }]);
    expect(text).toBe('a\n""\nx\n');
    expect(run(csv, text).items).toEqual([{ a: '' }, { a: 'x' }]);
  });

  it('quotes the empty name of a one-column header', () => {
    expect(write([{ '': 'x' }])).toBe('""\nx\n');
  });

  it('writes a missing column as an empty field', () => {
    expect(write([{ a: '1', b: '2' }, { b: '3' }])).toBe('a,b\n1,2\n,3\n');
  });

  it('writes a missing inherited name such as constructor as an empty field', () => {
    expect(write([{ toString: 'x', constructor: 'y' }, {}])).toBe('toString,constructor\nx,y\n,\n');
  });

  it('writes an own __proto__ property', () => {
    const token = JSON.parse('{"__proto__":"p","a":"1"}') as Row;
    expect(write([token])).toBe('__proto__,a\np,1\n');
  });

  it('writes numbers, booleans and null as text', () => {
    expect(write([{ n: 1.5, b: false, z: null, u: undefined }])).toBe('n,b,z,u\n1.5,false,,\n');
  });

  it('refuses a key that is not a column with SLUICE_E_SERIALIZE naming it', () => {
    const e = thrown(() => write([{ a: '1' }, { a: '2', extra: '3' }]));
    expect(e.code).toBe('SLUICE_E_SERIALIZE');
    expect(e.stage).toBe('serialize');
    expect(e.message).toBe('csv: field "extra" is not a column (columns: "a")');
  });

  it('refuses an object value with SLUICE_E_SERIALIZE naming the key', () => {
    const e = thrown(() => write([{ a: { nested: true } }]));
    expect(e.code).toBe('SLUICE_E_SERIALIZE');
    expect(e.message).toBe(
      'csv: field "a" holds an object; only strings, numbers, booleans and null can be written',
    );
  });

  it('refuses a first token without keys', () => {
    expect(thrown(() => write([{}])).code).toBe('SLUICE_E_SERIALIZE');
  });

  it('fixes the columns from the first token when header() was never called', () => {
    const s = csv.serializer!(options({ header: false }));
    expect(s.serialize({ a: '1', b: '2' })).toBe('1,2');
    expect(thrown(() => s.serialize({ c: '3' })).code).toBe('SLUICE_E_SERIALIZE');
  });

  it('reads back what it wrote for a hostile table', () => {
    const rows: Row[] = [
      { 'x,y': 'a"b', '': '\r\n', __q: '""', sp: ' ' },
      { 'x,y': '', '': '\uFEFF', __q: '😀\n', sp: 'a,b,"c"' },
    ];
    expect(run(csv, write(rows)).items).toEqual(rows);
  });
});

describe('csv fixtures', () => {
  const dir = new URL('./fixtures/', import.meta.url);
  it.each(fixtures(dir, 'csv'))(
    'reads fixtures/$name.csv as its expected.json says',
    ({ bytes, expected }) => {
      const { options, ...rest } = expected;
      expect(summary(run(csv, bytes, { options }))).toEqual(rest);
    },
  );

  it.each(fixtures(dir, 'csv'))(
    'reads fixtures/$name.csv the same fed one byte at a time',
    ({ bytes, expected }) => {
      const { options } = expected;
      expect(run(csv, bytes, { options, cuts: everyByte(bytes) })).toEqual(run(csv, bytes, { options }));
    },
  );
});
