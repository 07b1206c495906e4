import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Position } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { FormatRegistry } from '../../src/core/registry.js';
import { runFormat, serializeAll } from '../../src/testing/run-format.js';
import ndjson, { createNdjsonSerializer, createNdjsonTokenizer, type JsonValue, samples } from './index.js';
import { columnAt, jsonSyntaxError } from './json-syntax.js';

const at: Position = { source: 'test', line: 1, offset: 0 };

function run(input: string | Uint8Array | (string | Uint8Array)[], maxRecordBytes?: number) {
  return runFormat(ndjson, Array.isArray(input) ? input : [input], maxRecordBytes ? { maxRecordBytes } : {});
}

/** The error a tokenizer throws for one record. */
function tokenizeError(record: string): SluiceError {
  try {
    createNdjsonTokenizer().tokenize(record, at, []);
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error(`expected ${JSON.stringify(record)} to be rejected`);
}

function serializeError(token: unknown): SluiceError {
  try {
    createNdjsonSerializer().serialize(token as JsonValue);
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error('expected the token to be refused');
}

describe('ndjson format object', () => {
  test('it is named ndjson with the JSON Lines media types and extensions', () => {
    expect(ndjson.name).toBe('ndjson');
    expect(ndjson.mediaTypes).toEqual([
      'application/x-ndjson',
      'application/jsonl',
      'application/x-jsonlines',
    ]);
    expect(ndjson.extensions).toEqual(['ndjson', 'jsonl']);
  });

  test('a registry finds it by media type and by file name', () => {
    const registry = new FormatRegistry([ndjson]);
    expect(registry.forMediaType('application/x-ndjson; charset=utf-8')).toBe(ndjson);
    expect(registry.forPath('events.jsonl.gz')).toBe(ndjson);
  });

  test('an unknown option is refused with SLUICE_E_OPTION', () => {
    expect(() => runFormat(ndjson, ['1\n'], { options: { maxDepth: 3 } })).toThrow(
      expect.objectContaining({ code: 'SLUICE_E_OPTION' }),
    );
  });

  test('every sample reads without a rejection', () => {
    for (const sample of samples) expect(run(sample).rejects).toEqual([]);
  });
});

describe('ndjson tokenizer', () => {
  test('each line holding an object becomes one token', () => {
    const r = run('{"a":1}\n{"b":[true,null]}\n');
    expect(r.items).toEqual([{ a: 1 }, { b: [true, null] }]);
    expect(r.records).toBe(2);
  });

  test('a line may hold any JSON value, and an array is one token', () => {
    const r = run('[1,2,3]\n"text"\n-1.5e3\ntrue\nfalse\nnull\n{}\n[]\n');
    expect(r.items).toEqual([[1, 2, 3], 'text', -1500, true, false, null, {}, []]);
  });

  test('whitespace around the value is allowed', () => {
    expect(run(' \t{"a" : [ 1 , 2 ] } \t\n').items).toEqual([{ a: [1, 2] }]);
  });

  test('blank lines of spaces, tabs and CRs are skipped and counted as skipped', () => {
    const r = run('\n   \n\t\t\n \r\n1\n\n');
    expect(r.items).toEqual([1]);
    expect(r.skipped).toBe(5);
    expect(r.records).toBe(1);
    expect(r.rejects).toEqual([]);
  });

  test('CRLF line ends are removed before parsing', () => {
    expect(run('{"a":1}\r\n[2]\r\n').items).toEqual([{ a: 1 }, [2]]);
  });

  test('a final line without a newline is a record', () => {
    expect(run('1\n2').items).toEqual([1, 2]);
  });

  test('a byte order mark at the start of the input is ignored', () => {
    expect(run('\uFEFF{"a":1}\n').items).toEqual([{ a: 1 }]);
  });

  test('a record split across writes reads as if written at once', () => {
    expect(run(['{"a":', '"b"}\n{"c"', ':2}\n']).items).toEqual([{ a: 'b' }, { c: 2 }]);
  });

  test('multi-byte UTF-8 fed one byte at a time decodes intact', () => {
    const bytes = Buffer.from('{"k":"café 😀 中文"}\n"é"\n');
    const chunks = [...bytes].map((b) => Uint8Array.of(b));
    expect(run(chunks).items).toEqual([{ k: 'café 😀 中文' }, 'é']);
  });

  test('a character cut off at the end of input is rejected as SLUICE_E_UTF8 on its line', () => {
    const bytes = Buffer.concat([Buffer.from('1\n"caf'), Buffer.from('é').subarray(0, 1)]);
    const r = run(bytes);
    expect(r.items).toEqual([1]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_UTF8', line: 2, offset: 2 })]);
    expect(r.records).toBe(2);
  });

  test('invalid UTF-8 inside the input rejects only its own line', () => {
    const r = run(Buffer.concat([Buffer.from('1\n"'), Buffer.from([0xff]), Buffer.from('"\n3\n')]));
    expect(r.items).toEqual([1, 3]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_UTF8', line: 2 })]);
  });

  test('a record over maxRecordBytes is rejected as too large and the next one still reads', () => {
    const r = run(`1\n[${'1,'.repeat(50)}1]\n2\n`, 16);
    expect(r.items).toEqual([1, 2]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2 })]);
    expect(r.records).toBe(3);
  });

  test('a syntax error is rejected with SLUICE_E_PARSE on the right line and the others still read', () => {
    const r = run('{"a":1}\n{"a":}\n{"a":3}\n');
    expect(r.items).toEqual([{ a: 1 }, { a: 3 }]);
    expect(r.rejects).toEqual([
      expect.objectContaining({
        code: 'SLUICE_E_PARSE',
        stage: 'tokenize',
        line: 2,
        offset: 8,
        record: '{"a":}',
        message: 'Unexpected token } in JSON at column 6 (expected a value)',
      }),
    ]);
  });

  test('the line number of a rejection counts blank lines', () => {
    expect(run('\n\n\nnope\n').rejects[0]).toMatchObject({ line: 4, code: 'SLUICE_E_PARSE' });
  });

  test('a rejection keeps its place among the items', () => {
    expect(run('1\nx\n2\n').rejects[0]!.at).toBe(1);
  });

  test('the mixed fixture reads as recorded in its expected file', () => {
    const url = new URL('./fixtures/mixed.ndjson', import.meta.url);
    const expected = JSON.parse(
      readFileSync(new URL('./fixtures/mixed.expected.json', import.meta.url), 'utf8'),
    );
    const r = run(readFileSync(url));
    expect(r.items).toEqual(expected.items);
    expect(r.rejects.map(({ line, code, message }) => ({ line, code, message }))).toEqual(expected.rejects);
    expect(r.records).toBe(expected.records);
    expect(r.skipped).toBe(expected.skipped);
  });
});

describe('ndjson strictness (RFC 8259)', () => {
  test.each([
    ["{'a':1}", "Unexpected token ' in JSON at column 2 (expected a property name in double quotes)"],
    ['{"a":1,}', 'Unexpected token } in JSON at column 8 (expected a property name in double quotes)'],
    ['[1,2,]', 'Unexpected token ] in JSON at column 6 (expected a value)'],
    ['{a:1}', 'Unexpected token a in JSON at column 2 (expected a property name in double quotes)'],
    ['// comment', 'Unexpected token / in JSON at column 1 (expected a value)'],
    ['[1 /* c */]', "Unexpected token / in JSON at column 4 (expected ',' or ']')"],
    ['NaN', 'Unexpected token N in JSON at column 1 (expected a value)'],
    ['Infinity', 'Unexpected token I in JSON at column 1 (expected a value)'],
    ['-Infinity', 'Unexpected token I in JSON at column 2 (expected a digit)'],
    ['01', 'Unexpected token 1 in JSON at column 2 (expected end of input after the JSON value)'],
    ['+1', 'Unexpected token + in JSON at column 1 (expected a value)'],
    ['.5', 'Unexpected token . in JSON at column 1 (expected a value)'],
    ['1.', 'Unexpected end of JSON at column 3 (expected a digit after the decimal point)'],
    ['1e', 'Unexpected end of JSON at column 3 (expected a digit in the exponent)'],
    ['0x1F', 'Unexpected token x in JSON at column 2 (expected end of input after the JSON value)'],
    ['"tab\there"', 'Unescaped control character U+0009 in JSON string at column 5'],
    ['"\\x41"', 'Bad escape \\x in JSON string at column 2'],
    ['"\\u12"', 'Bad Unicode escape in JSON string at column 2 (expected 4 hex digits after \\u)'],
    ["'single'", "Unexpected token ' in JSON at column 1 (expected a value)"],
    ['tru', 'Unexpected end of JSON at column 4 (expected true)'],
    ['nul1', 'Unexpected token 1 in JSON at column 4 (expected null)'],
    [
      '{"a":1} {"b":2}',
      'Unexpected token { in JSON at column 9 (expected end of input after the JSON value)',
    ],
    ['{"a":1', "Unexpected end of JSON at column 7 (expected ',' or '}')"],
    ['"open', 'Unterminated string in JSON at column 1'],
    ['\fnull', 'Unexpected token U+000C in JSON at column 1 (expected a value)'],
    ['\u00a0null', 'Unexpected token U+00A0 in JSON at column 1 (expected a value)'],
    ['\uFEFFnull', 'Unexpected token U+FEFF in JSON at column 1 (expected a value)'],
    ['"😀" x', 'Unexpected token x in JSON at column 5 (expected end of input after the JSON value)'],
  ])('%j is rejected with a message naming the problem and its column', (record, message) => {
    const e = tokenizeError(record);
    expect(e.code).toBe('SLUICE_E_PARSE');
    expect(e.message).toBe(message);
  });

  test('escaped lone surrogates are accepted, as the RFC grammar allows', () => {
    const out: JsonValue[] = [];
    createNdjsonTokenizer().tokenize('["\\ud800","\\udc00x"]', at, out);
    expect(out).toEqual([['\ud800', '\udc00x']]);
  });

  test('a number too large for a double is rejected instead of becoming Infinity', () => {
    expect(tokenizeError('{"x":[1,-1e400]}').message).toBe(
      'Number out of range in JSON at column 9 (too large for a 64-bit float)',
    );
  });

  test('an integer of 310 digits is rejected as out of range', () => {
    expect(tokenizeError(`1${'0'.repeat(309)}`).message).toMatch(/^Number out of range/);
  });

  test('the largest doubles and numbers that underflow are accepted', () => {
    const out: JsonValue[] = [];
    const t = createNdjsonTokenizer();
    t.tokenize('[1.7976931348623157e308, 1e-400, 9e0099]', at, out);
    t.tokenize(`${'9'.repeat(300)}`, at, out);
    expect(out).toEqual([[Number.MAX_VALUE, 0, 9e99], Number(`${'9'.repeat(300)}`)]);
  });

  test('numbers that overflow are found at any depth, in objects and arrays', () => {
    for (const record of [
      '1e400',
      '[[[[1e999]]]]',
      '{"a":{"b":[{"c":-1e309}]}}',
      '[{"x":1},{"y":[2,1e400]}]',
    ]) {
      expect(tokenizeError(record).message, record).toMatch(/^Number out of range/);
    }
  });

  test('an enumerable property on Object.prototype is not taken for the record', () => {
    const proto = Object.prototype as Record<string, unknown>;
    const pollution = { enumerable: true, configurable: true, writable: true };
    Object.defineProperty(proto, 'polluted', { value: Infinity, ...pollution });
    Object.defineProperty(proto, 'pollutedObject', { value: { x: Infinity }, ...pollution });
    let thrown: unknown;
    const out: JsonValue[] = [];
    try {
      createNdjsonTokenizer().tokenize('{"a":{"b":1},"c":[{"d":2}]}', at, out);
    } catch (e) {
      thrown = e;
    } finally {
      delete proto.polluted;
      delete proto.pollutedObject;
    }
    expect(thrown).toBeUndefined();
    expect(out).toEqual([{ a: { b: 1 }, c: [{ d: 2 }] }]);
  });

  test('text that only looks like a big exponent is accepted', () => {
    const out: JsonValue[] = [];
    createNdjsonTokenizer().tokenize('{"id":"e400","n":1e100}', at, out);
    expect(out).toEqual([{ id: 'e400', n: 1e100 }]);
  });

  test('duplicate keys are accepted and the last one wins, as JSON.parse does', () => {
    expect(run('{"a":1,"a":2}\n').items).toEqual([{ a: 2 }]);
  });

  test('a __proto__ key is an ordinary property and does not change the prototype', () => {
    const [item] = run('{"__proto__":{"polluted":true}}\n').items as Record<string, unknown>[];
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(Object.keys(item!)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a value nested a hundred thousand levels deep parses without overflowing the stack', () => {
    const depth = 100_000;
    expect(run(`${'['.repeat(depth)}${']'.repeat(depth)}\n`).rejects).toEqual([]);
  });

  test('an error after a hundred thousand open brackets is located without overflowing the stack', () => {
    const depth = 100_000;
    expect(tokenizeError(`${'['.repeat(depth)}}`).message).toBe(
      `Unexpected token } in JSON at column ${depth + 1} (expected a value)`,
    );
  });

  test('columns count characters, not UTF-16 units', () => {
    expect(columnAt('😀😀x', 4)).toBe(3);
  });

  test('the syntax checker accepts what JSON.parse accepts in the samples', () => {
    for (const line of samples.join('\n').split('\n')) {
      if (line.trim() !== '') expect(jsonSyntaxError(line.replace(/\r$/, ''))).toBeUndefined();
    }
  });
});

describe('ndjson serializer', () => {
  test('each token is written as one JSON text without a newline', () => {
    expect(serializeAll(ndjson, [{ a: [1, 'x\ny'] }, null, 'é', 2.5])).toBe(
      '{"a":[1,"x\\ny"]}\nnull\n"é"\n2.5\n',
    );
  });

  test('written tokens read back as themselves', () => {
    const tokens: JsonValue[] = [{ a: { b: [1, null, true] } }, [], 'x', -3.25e-7, false];
    expect(run(serializeAll(ndjson, tokens)).items).toEqual(tokens);
  });

  test('a lone surrogate is escaped so that it reads back as itself', () => {
    const text = serializeAll(ndjson, ['\ud800x']);
    expect(text).toBe('"\\ud800x"\n');
    expect(run(text).items).toEqual(['\ud800x']);
  });

  test('-0 is written as 0, since JSON has no negative zero', () => {
    expect(createNdjsonSerializer().serialize(-0)).toBe('0');
  });

  test('undefined is refused with SLUICE_E_SERIALIZE instead of being written as nothing', () => {
    const e = serializeError(undefined);
    expect(e.code).toBe('SLUICE_E_SERIALIZE');
    expect(e.stage).toBe('serialize');
    expect(e.message).toBe('cannot write as JSON: $: undefined is not a JSON value');
  });

  test('an undefined property is refused with its path instead of being dropped', () => {
    expect(serializeError({ user: { tags: ['a', undefined] } }).message).toBe(
      'cannot write as JSON: $.user.tags[1]: undefined is not a JSON value',
    );
  });

  test('NaN and Infinity are refused instead of being written as null', () => {
    expect(serializeError({ x: Number.NaN }).message).toBe(
      'cannot write as JSON: $.x: NaN is not a JSON number',
    );
    expect(serializeError([Number.POSITIVE_INFINITY]).message).toBe(
      'cannot write as JSON: $[0]: Infinity is not a JSON number',
    );
  });

  test('a BigInt is refused with its path', () => {
    expect(serializeError({ 'big n': 1n }).message).toBe(
      'cannot write as JSON: $["big n"]: a bigint is not a JSON value',
    );
  });

  test('a function and a symbol are refused', () => {
    expect(serializeError(() => 1).code).toBe('SLUICE_E_SERIALIZE');
    expect(serializeError({ s: Symbol('x') }).message).toBe(
      'cannot write as JSON: $.s: a symbol is not a JSON value',
    );
  });

  test('a Date is refused because it would read back as a string', () => {
    expect(serializeError({ when: new Date(0) }).message).toMatch(/\$\.when: a Date is not a JSON value/);
  });

  test('a Map and a class instance are refused because they would read back as plain objects', () => {
    expect(serializeError(new Map([[1, 2]])).message).toMatch(/a Map is not a JSON value/);
    class Point {
      x = 1;
    }
    expect(serializeError(new Point()).message).toMatch(/a Point is not a JSON value/);
  });

  test('an array hole is refused because it would read back as null', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test.
    expect(serializeError([1, , 3]).message).toBe(
      'cannot write as JSON: $[1]: an array hole is not a JSON value',
    );
  });

  test('a circular structure is refused with a clear reason', () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(serializeError(o).message).toBe('cannot write as JSON: the value contains a circular reference');
  });

  test('a value nested deeper than JSON.stringify can go is refused with a clear reason', () => {
    let v: JsonValue = [];
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(serializeError(v).message).toBe('cannot write as JSON: the value is nested too deeply to write');
  });

  test('an object without a prototype is plain data and is written', () => {
    const o = Object.create(null) as Record<string, JsonValue>;
    o.a = 1;
    expect(createNdjsonSerializer().serialize(o)).toBe('{"a":1}');
  });
});
