import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  type ErrorCode,
  isSluiceError,
  SluiceError,
  toSluiceError,
} from '../../src/core/errors.js';

const at = { source: 'in.csv', line: 12, offset: 345 };

describe('ERROR_CODES', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it('names every code SLUICE_E_*', () => {
    for (const c of codes) expect(c).toMatch(/^SLUICE_E_[A-Z0-9_]+$/);
  });

  it('gives every code an HTTP error status and a non-zero exit code', () => {
    for (const c of codes) {
      expect(ERROR_CODES[c].status).toBeGreaterThanOrEqual(400);
      expect(ERROR_CODES[c].status).toBeLessThan(600);
      expect(ERROR_CODES[c].exit).toBeGreaterThan(0);
      expect(ERROR_CODES[c].exit).toBeLessThan(256);
      expect(ERROR_CODES[c].message).not.toBe('');
    }
  });

  it('uses the data-error exit code 65 for exactly the record-level codes', () => {
    const record = codes.filter((c) => ERROR_CODES[c].exit === 65).sort();
    expect(record).toEqual(
      [
        'SLUICE_E_UTF8',
        'SLUICE_E_RECORD_TOO_LARGE',
        'SLUICE_E_UNTERMINATED_QUOTE',
        'SLUICE_E_PARSE',
        'SLUICE_E_FIELD_COUNT',
        'SLUICE_E_VALIDATION',
        'SLUICE_E_TRANSFORM',
        'SLUICE_E_SERIALIZE',
      ].sort(),
    );
  });

  it.each<[ErrorCode, number, number]>([
    ['SLUICE_E_USAGE', 400, 64],
    ['SLUICE_E_OPTION', 400, 64],
    ['SLUICE_E_RECORD_TOO_LARGE', 413, 65],
    ['SLUICE_E_UNKNOWN_FORMAT', 415, 64],
    ['SLUICE_E_INPUT', 400, 66],
    ['SLUICE_E_INTERNAL', 500, 70],
    ['SLUICE_E_OUTPUT', 500, 73],
    ['SLUICE_E_SINK', 503, 74],
    ['SLUICE_E_ABORTED', 499, 130],
  ])('maps %s to status %i and exit code %i', (code, status, exit) => {
    const e = new SluiceError(code);
    expect(e.status).toBe(status);
    expect(e.exitCode).toBe(exit);
  });
});

describe('SluiceError', () => {
  it('is an Error named SluiceError', () => {
    const e = new SluiceError('SLUICE_E_PARSE');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SluiceError');
    expect(String(e)).toBe('SluiceError: record does not parse');
    expect(e.stack?.split('\n')[0]).toBe('SluiceError: record does not parse');
  });

  it('uses the message of its code when none is given', () => {
    expect(new SluiceError('SLUICE_E_UTF8').message).toBe('invalid UTF-8 in record');
  });

  it('defaults to the pipeline stage and no position', () => {
    const e = new SluiceError('SLUICE_E_INTERNAL', 'x');
    expect(e.stage).toBe('pipeline');
    expect(e.position).toBeUndefined();
  });

  it('keeps its stage, position and cause', () => {
    const cause = new Error('root');
    const e = new SluiceError('SLUICE_E_SINK', 'sink down', { stage: 'sink', position: at, cause });
    expect(e.stage).toBe('sink');
    expect(e.position).toEqual(at);
    expect(e.cause).toBe(cause);
  });

  it('has no cause property when none is given', () => {
    expect(Object.hasOwn(new SluiceError('SLUICE_E_PARSE'), 'cause')).toBe(false);
  });

  it('tells record errors from run errors', () => {
    expect(new SluiceError('SLUICE_E_FIELD_COUNT').isRecordError).toBe(true);
    expect(new SluiceError('SLUICE_E_SINK').isRecordError).toBe(false);
    expect(new SluiceError('SLUICE_E_OPTION').isRecordError).toBe(false);
  });

  it('describes itself as source:line: message [CODE]', () => {
    const e = new SluiceError('SLUICE_E_FIELD_COUNT', 'expected 3 fields, got 2', { position: at });
    expect(e.describe()).toBe('in.csv:12: expected 3 fields, got 2 [SLUICE_E_FIELD_COUNT]');
  });

  it('describes itself without a place when it has no position', () => {
    expect(new SluiceError('SLUICE_E_USAGE', 'no input').describe()).toBe('no input [SLUICE_E_USAGE]');
  });

  it('serializes code, stage, message and position to JSON', () => {
    const e = new SluiceError('SLUICE_E_PARSE', 'bad', {
      stage: 'tokenize',
      position: at,
      cause: new Error('x'),
    });
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'SLUICE_E_PARSE',
      stage: 'tokenize',
      message: 'bad',
      source: 'in.csv',
      line: 12,
      offset: 345,
    });
  });

  it('serializes without position fields when it has no position', () => {
    expect(new SluiceError('SLUICE_E_USAGE', 'u', { stage: 'config' }).toJSON()).toEqual({
      code: 'SLUICE_E_USAGE',
      stage: 'config',
      message: 'u',
    });
  });
});

describe('isSluiceError', () => {
  it('is true only for SluiceErrors', () => {
    expect(isSluiceError(new SluiceError('SLUICE_E_PARSE'))).toBe(true);
    expect(isSluiceError(new Error('x'))).toBe(false);
    expect(isSluiceError({ code: 'SLUICE_E_PARSE' })).toBe(false);
    expect(isSluiceError(undefined)).toBe(false);
  });
});

describe('toSluiceError', () => {
  it('wraps an Error with the given code and stage, keeping its message and cause', () => {
    const cause = new TypeError('x is not a function');
    const e = toSluiceError(cause, 'SLUICE_E_TRANSFORM', 'transform', at);
    expect(e).toBeInstanceOf(SluiceError);
    expect(e).toMatchObject({
      code: 'SLUICE_E_TRANSFORM',
      stage: 'transform',
      message: 'x is not a function',
    });
    expect(e.cause).toBe(cause);
    expect(e.position).toEqual(at);
  });

  it('wraps a thrown non-Error using its text', () => {
    const e = toSluiceError('boom', 'SLUICE_E_SINK', 'sink');
    expect(e.message).toBe('boom');
    expect(e.cause).toBe('boom');
    expect(e.position).toBeUndefined();
  });

  it('falls back to the message of the code when the thrown Error has none', () => {
    expect(toSluiceError(new Error(), 'SLUICE_E_SINK', 'sink').message).toBe('sink failed');
  });

  it('returns a SluiceError as it is, keeping its code and stage', () => {
    const original = new SluiceError('SLUICE_E_FIELD_COUNT', 'n', { stage: 'tokenize' });
    const e = toSluiceError(original, 'SLUICE_E_PARSE', 'transform');
    expect(e).toBe(original);
    expect(e.code).toBe('SLUICE_E_FIELD_COUNT');
    expect(e.stage).toBe('tokenize');
  });

  it('gives a SluiceError without a position the given one', () => {
    const e = toSluiceError(new SluiceError('SLUICE_E_PARSE'), 'SLUICE_E_PARSE', 'tokenize', at);
    expect(e.position).toEqual(at);
  });

  it('keeps the position a SluiceError already has', () => {
    const own = { source: 'a', line: 1, offset: 0 };
    const e = toSluiceError(
      new SluiceError('SLUICE_E_PARSE', 'm', { position: own }),
      'SLUICE_E_PARSE',
      'tokenize',
      at,
    );
    expect(e.position).toEqual(own);
  });
});
