import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { coerceOption, type OptionSpec, type OptionsSchema, resolveOptions } from '../../src/core/options.js';

const spec = (type: OptionSpec['type'], extra: Partial<OptionSpec> = {}): OptionSpec => ({
  type,
  description: type,
  ...extra,
});

interface Opts {
  delimiter: string;
  header: boolean;
  skip: number;
  columns: string[];
  mode: string;
}

const schema: OptionsSchema<Opts> = {
  delimiter: spec('char', { default: ',' }),
  header: spec('boolean', { default: true }),
  skip: spec('integer', { default: 0, min: 0 }),
  columns: spec('string[]', { default: ['a', 'b'] }),
  mode: spec('string', { enum: ['strict', 'lax'] }),
};

function errorOf(f: () => unknown): SluiceError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error('expected a throw');
}

describe('coerceOption', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads the boolean string %j as %s', (raw, value) => {
    expect(coerceOption(spec('boolean'), raw)).toBe(value);
  });

  it('leaves an unrecognised boolean string for validation to reject', () => {
    expect(coerceOption(spec('boolean'), 'maybe')).toBe('maybe');
  });

  it('reads an integer string as a number', () => {
    expect(coerceOption(spec('integer'), '42')).toBe(42);
    expect(coerceOption(spec('integer'), '-7')).toBe(-7);
  });

  it('leaves a non-integer string for validation to reject', () => {
    for (const raw of ['1.5', '1e3', ' 4', '0x10', '', 'ten']) {
      expect(coerceOption(spec('integer'), raw)).toBe(raw);
    }
  });

  it('leaves an integer string too large to hold exactly as the string', () => {
    expect(coerceOption(spec('integer'), '12345678901234567890')).toBe('12345678901234567890');
  });

  it('splits a list string on commas', () => {
    expect(coerceOption(spec('string[]'), 'a,b,,c')).toEqual(['a', 'b', '', 'c']);
  });

  it('reads an empty list string as an empty list', () => {
    expect(coerceOption(spec('string[]'), '')).toEqual([]);
  });

  it('reads \\t and tab as a tab character', () => {
    expect(coerceOption(spec('char'), '\\t')).toBe('\t');
    expect(coerceOption(spec('char'), 'tab')).toBe('\t');
  });

  it('keeps a string option as given', () => {
    expect(coerceOption(spec('string'), 'true')).toBe('true');
  });

  it('passes values that are already typed through unchanged', () => {
    const list = ['x'];
    expect(coerceOption(spec('string[]'), list)).toBe(list);
    expect(coerceOption(spec('integer'), 5)).toBe(5);
    expect(coerceOption(spec('boolean'), false)).toBe(false);
  });
});

describe('resolveOptions', () => {
  it('fills defaults for options not given', () => {
    expect(resolveOptions(schema, {})).toEqual({
      delimiter: ',',
      header: true,
      skip: 0,
      columns: ['a', 'b'],
    });
  });

  it('leaves out an option with no default that was not given', () => {
    expect(resolveOptions(schema, {})).not.toHaveProperty('mode');
  });

  it('treats an option given as undefined as not given', () => {
    expect(resolveOptions(schema, { skip: undefined }).skip).toBe(0);
  });

  it('gives each call its own copy of a list default', () => {
    const first = resolveOptions(schema, {});
    first.columns.push('mutated');
    expect(resolveOptions(schema, {}).columns).toEqual(['a', 'b']);
  });

  it('coerces command-line strings to each option type', () => {
    expect(
      resolveOptions(schema, { delimiter: 'tab', header: 'no', skip: '3', columns: 'x,y', mode: 'lax' }),
    ).toEqual({ delimiter: '\t', header: false, skip: 3, columns: ['x', 'y'], mode: 'lax' });
  });

  it('accepts typed values from the library API', () => {
    expect(resolveOptions(schema, { delimiter: ';', header: false, skip: 2, columns: [] })).toMatchObject({
      delimiter: ';',
      header: false,
      skip: 2,
      columns: [],
    });
  });

  it('returns an empty object for a format without a schema', () => {
    expect(resolveOptions(undefined)).toEqual({});
  });

  it('rejects an unknown option, naming it with the prefix and listing the known ones', () => {
    const e = errorOf(() => resolveOptions(schema, { delimeter: ';' }, 'csv.'));
    expect(e.code).toBe('SLUICE_E_OPTION');
    expect(e.stage).toBe('config');
    expect(e.message).toBe('unknown option csv.delimeter (known: delimiter, header, skip, columns, mode)');
  });

  it('says so when a format without options is given one', () => {
    expect(errorOf(() => resolveOptions(undefined, { x: 1 }, 'lines.')).message).toBe(
      'unknown option lines.x (this format has no options)',
    );
  });

  it('does not take inherited object keys for options', () => {
    expect(errorOf(() => resolveOptions(schema, { toString: 'x' })).message).toMatch(
      /unknown option toString/,
    );
  });

  it.each<[keyof Opts, unknown, string]>([
    ['header', 'maybe', 'option csv.header: expected true or false, got "maybe"'],
    ['header', 2, 'option csv.header: expected true or false, got number 2'],
    ['skip', '1.5', 'option csv.skip: expected an integer, got "1.5"'],
    ['skip', 1.5, 'option csv.skip: expected an integer, got number 1.5'],
    ['skip', '-1', 'option csv.skip: expected an integer >= 0, got number -1'],
    ['skip', '12345678901234567890', 'option csv.skip: expected an integer, got "12345678901234567890"'],
    ['delimiter', ';;', 'option csv.delimiter: expected a single character, got ";;"'],
    ['delimiter', '', 'option csv.delimiter: expected a single character, got ""'],
    ['delimiter', '\n', 'option csv.delimiter: expected a character other than CR or LF, got "\\n"'],
    ['delimiter', '\r', 'option csv.delimiter: expected a character other than CR or LF, got "\\r"'],
    ['columns', [1, 2], 'option csv.columns: expected a list of strings, got an array'],
    ['columns', 5, 'option csv.columns: expected a list of strings, got number 5'],
    ['mode', 'fast', 'option csv.mode: expected one of strict, lax, got "fast"'],
    ['mode', 3, 'option csv.mode: expected a string, got number 3'],
    ['mode', null, 'option csv.mode: expected a string, got null'],
    ['mode', { a: 1 }, 'option csv.mode: expected a string, got an object'],
  ])('rejects %s = %j with "%s"', (key, value, message) => {
    const e = errorOf(() => resolveOptions(schema, { [key]: value }, 'csv.'));
    expect(e.code).toBe('SLUICE_E_OPTION');
    expect(e.message).toBe(message);
  });

  it('accepts a single non-ASCII character for a char option', () => {
    expect(resolveOptions(schema, { delimiter: '😀' }).delimiter).toBe('😀');
  });
});
