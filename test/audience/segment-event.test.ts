import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  formatTimestamp,
  MAX_RFC3339_MS,
  MAX_TIMESTAMP_MS,
  parseTimestamp,
  readTimestamp,
  SECONDS_CUTOFF,
  type SegmentEvent,
  validateSegmentEvent,
} from '../../src/audience/index.js';
import { SluiceError } from '../../src/core/errors.js';

const event: SegmentEvent = { ns: 'acme', uid: 'u1', seg: 'sports', op: 'add', ts: 1_714_564_800_000 };

function validationError(run: () => unknown): SluiceError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    expect((e as SluiceError).code).toBe('SLUICE_E_VALIDATION');
    return e as SluiceError;
  }
  throw new Error('expected a validation error');
}

describe('validateSegmentEvent', () => {
  test('a well-formed event is returned as an equal copy', () => {
    const input = { ...event, ttl: 60 };
    const out = validateSegmentEvent(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
  });

  test('a removal from every segment is valid', () => {
    expect(validateSegmentEvent({ ...event, seg: '*', op: 'remove' })).toEqual({
      ...event,
      seg: '*',
      op: 'remove',
    });
  });

  test('a ttl of null or undefined means no ttl and is left out of the copy', () => {
    expect(Object.keys(validateSegmentEvent({ ...event, ttl: null }))).not.toContain('ttl');
    expect(Object.keys(validateSegmentEvent({ ...event, ttl: undefined }))).not.toContain('ttl');
  });

  test('a ttl of zero is valid', () => {
    expect(validateSegmentEvent({ ...event, ttl: 0 }).ttl).toBe(0);
  });

  test('ids may contain spaces, colons and any printable Unicode', () => {
    const e = { ...event, uid: 'a b:c', seg: 'iab:IAB1-2 😀' };
    expect(validateSegmentEvent(e)).toEqual(e);
  });

  test('a value that is not an object is refused', () => {
    expect(validationError(() => validateSegmentEvent('u1')).message).toBe(
      'segment event: expected an object, got "u1"',
    );
    expect(validationError(() => validateSegmentEvent(null)).message).toBe(
      'segment event: expected an object, got null',
    );
    expect(validationError(() => validateSegmentEvent([event])).message).toBe(
      'segment event: expected an object, got an array',
    );
  });

  test('an unknown field is refused, naming it', () => {
    expect(validationError(() => validateSegmentEvent({ ...event, tll: 60 })).message).toBe(
      'segment event: unknown field "tll" (known: ns, uid, seg, op, ts, ttl)',
    );
  });

  test.each([
    ['ns', { ns: 5 }, 'segment event ns: expected a non-empty string, got number 5'],
    ['ns', { ns: '' }, 'segment event ns is empty: ""'],
    ['uid', { uid: undefined }, 'segment event uid: expected a non-empty string, got undefined'],
    ['uid', { uid: 'a\tb' }, 'segment event uid contains U+0009 at index 1: "a\\tb"'],
    ['uid', { uid: 'a\u0085' }, 'segment event uid contains U+0085 at index 1: "a\u0085"'],
    ['seg', { seg: 'x\ud800' }, 'segment event seg contains U+D800 at index 1: "x\\ud800"'],
    ['seg', { seg: ['a'] }, 'segment event seg: expected a non-empty string, got an array'],
    [
      'seg',
      { seg: '*' },
      'segment event seg: expected a segment id other than "*" for op "add" ("*" can only be removed), got "*"',
    ],
    ['op', { op: 'delete' }, 'segment event op: expected "add" or "remove", got "delete"'],
    [
      'ts',
      { ts: '2024-05-01' },
      `segment event ts: expected an integer number of milliseconds since 1970-01-01T00:00:00Z, at most ${MAX_TIMESTAMP_MS}, got "2024-05-01"`,
    ],
    ['ts', { ts: 1.5 }, /ts: expected .*, got number 1\.5$/],
    ['ts', { ts: -1 }, /ts: expected .*, got number -1$/],
    ['ts', { ts: Number.NaN }, /ts: expected .*, got number NaN$/],
    ['ts', { ts: MAX_TIMESTAMP_MS + 1 }, /ts: expected .*, got number 8640000000000001$/],
    ['ttl', { ttl: -1 }, 'segment event ttl: expected a whole number of seconds >= 0, got number -1'],
    ['ttl', { ttl: 1.5 }, 'segment event ttl: expected a whole number of seconds >= 0, got number 1.5'],
    ['ttl', { ttl: '60' }, 'segment event ttl: expected a whole number of seconds >= 0, got "60"'],
    [
      'ttl',
      { op: 'remove', ttl: 60 },
      'segment event ttl: expected no ttl on a removal (only an added membership expires), got number 60',
    ],
  ])('a bad %s is refused with a message naming the field', (_field, patch, message) => {
    const e = validationError(() => validateSegmentEvent({ ...event, ...patch }));
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });
});

describe('parseTimestamp', () => {
  test('digits below 1e11 are unix seconds', () => {
    expect(parseTimestamp('1714564800')).toBe(1_714_564_800_000);
    expect(parseTimestamp('0')).toBe(0);
    expect(parseTimestamp('99999999999')).toBe(99_999_999_999_000);
  });

  test('digits from 1e11 on are unix milliseconds', () => {
    expect(parseTimestamp('100000000000')).toBe(100_000_000_000);
    expect(parseTimestamp('1714564800123')).toBe(1_714_564_800_123);
  });

  test('the seconds cutoff is 1e11', () => {
    expect(SECONDS_CUTOFF).toBe(1e11);
  });

  test('the largest Date is accepted in milliseconds and one more is refused', () => {
    expect(parseTimestamp(String(MAX_TIMESTAMP_MS))).toBe(MAX_TIMESTAMP_MS);
    expect(validationError(() => parseTimestamp(String(MAX_TIMESTAMP_MS + 1))).message).toBe(
      `bad timestamp "8640000000000001": out of range (at most ${MAX_TIMESTAMP_MS} ms)`,
    );
  });

  test('a very long string of digits is refused as out of range', () => {
    expect(validationError(() => parseTimestamp('9'.repeat(400))).message).toMatch(/out of range/);
  });

  test('an RFC 3339 time in UTC is read', () => {
    expect(parseTimestamp('2024-05-01T12:00:00Z')).toBe(Date.UTC(2024, 4, 1, 12));
  });

  test('an RFC 3339 time with an offset is converted to UTC', () => {
    expect(parseTimestamp('2024-05-01T14:30:00+02:30')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parseTimestamp('2024-05-01T07:00:00-05:00')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parseTimestamp('2024-05-01T12:00:00-00:00')).toBe(Date.UTC(2024, 4, 1, 12));
  });

  test('fractional seconds are truncated to the millisecond', () => {
    expect(parseTimestamp('2024-05-01T12:00:00.1Z')).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 100));
    expect(parseTimestamp('2024-05-01T12:00:00.123999999Z')).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 123));
  });

  test('lower-case t and z are accepted, as RFC 3339 allows', () => {
    expect(parseTimestamp('2024-05-01t12:00:00z')).toBe(Date.UTC(2024, 4, 1, 12));
  });

  test('29 February is accepted in a leap year', () => {
    expect(parseTimestamp('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTimestamp('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
  });

  test('a leap second at 23:59:60 UTC is read as the next second', () => {
    expect(parseTimestamp('2016-12-31T23:59:60Z')).toBe(Date.UTC(2017, 0, 1));
    expect(parseTimestamp('2017-01-01T05:29:60+05:30')).toBe(Date.UTC(2017, 0, 1));
  });

  test('the epoch and the last RFC 3339 instant are read', () => {
    expect(parseTimestamp('1970-01-01T00:00:00Z')).toBe(0);
    expect(parseTimestamp('9999-12-31T23:59:59.999Z')).toBe(MAX_RFC3339_MS);
  });

  test.each([
    [
      '2024-13-45',
      'expected unix seconds, unix milliseconds (digits only) or an RFC 3339 date-time such as 2024-05-01T12:00:00Z',
    ],
    ['2024-13-01T00:00:00Z', 'month 13 is out of range (01-12)'],
    ['2024-00-01T00:00:00Z', 'month 00 is out of range (01-12)'],
    ['2024-04-31T00:00:00Z', 'day 31 is out of range (01-30 for 2024-04)'],
    ['2023-02-29T00:00:00Z', 'day 29 is out of range (01-28 for 2023-02)'],
    ['1900-02-29T00:00:00Z', 'day 29 is out of range (01-28 for 1900-02)'],
    ['2024-05-00T00:00:00Z', 'day 00 is out of range (01-31 for 2024-05)'],
    ['2024-05-01T24:00:00Z', 'hour 24 is out of range (00-23)'],
    ['2024-05-01T12:60:00Z', 'minute 60 is out of range (00-59)'],
    ['2024-05-01T12:00:61Z', 'second 61 is out of range (00-60)'],
    ['2024-05-01T12:00:60Z', 'a leap second (:60) can only be 23:59:60 UTC'],
    ['2024-05-01T12:00:00+24:00', 'offset hour 24 is out of range (00-23)'],
    ['2024-05-01T12:00:00+01:60', 'offset minute 60 is out of range (00-59)'],
    ['1969-12-31T23:59:59Z', 'before 1970-01-01T00:00:00Z'],
    ['1970-01-01T00:00:00+00:01', 'before 1970-01-01T00:00:00Z'],
  ])('%j is refused: %s', (text, why) => {
    expect(validationError(() => parseTimestamp(text)).message).toBe(
      `bad timestamp ${JSON.stringify(text)}: ${why}`,
    );
  });

  test.each([
    ['a date without a time', '2024-05-01'],
    ['a missing offset', '2024-05-01T12:00:00'],
    ['a space instead of T', '2024-05-01 12:00:00Z'],
    ['a short year', '24-05-01T12:00:00Z'],
    ['one-digit fields', '2024-5-1T12:00:00Z'],
    ['an offset without a colon', '2024-05-01T12:00:00+0200'],
    ['an empty fraction', '2024-05-01T12:00:00.Z'],
    ['a negative number', '-1714564800'],
    ['a decimal number', '1714564800.5'],
    ['surrounding spaces', ' 1714564800 '],
    ['an exponent', '1.7e9'],
    ['hex', '0x10'],
    ['an empty string', ''],
    ['words', 'yesterday'],
    ['full-width digits', '１７１４５６４８００'],
  ])('%s is refused', (_what, text) => {
    expect(validationError(() => parseTimestamp(text)).message).toMatch(/^bad timestamp /);
  });

  test('a value that is not a string is refused rather than coerced', () => {
    expect(validationError(() => parseTimestamp(1714564800 as unknown as string)).message).toBe(
      'bad timestamp: expected a string, got number 1714564800',
    );
  });

  test('readTimestamp returns the reason instead of throwing', () => {
    expect(readTimestamp('2024-05-01T12:00:00Z')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(readTimestamp('2024-13-01T00:00:00Z')).toBe('month 13 is out of range (01-12)');
  });

  test('every RFC 3339 time from 1970 to 9999 reads as Date.parse reads it', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    const rfc3339 = fc
      .record({
        y: fc.integer({ min: 1971, max: 9998 }),
        mo: fc.integer({ min: 1, max: 12 }),
        d: fc.integer({ min: 1, max: 31 }),
        h: fc.integer({ min: 0, max: 23 }),
        mi: fc.integer({ min: 0, max: 59 }),
        s: fc.integer({ min: 0, max: 59 }),
        frac: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
        off: fc.option(
          fc.tuple(
            fc.constantFrom('+', '-'),
            fc.integer({ min: 0, max: 23 }),
            fc.integer({ min: 0, max: 59 }),
          ),
          {
            nil: undefined,
          },
        ),
      })
      .map(({ y, mo, d, h, mi, s, frac, off }) => {
        const offset = off ? `${off[0]}${two(off[1])}:${two(off[2])}` : 'Z';
        return `${y}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}:${two(s)}${frac ? `.${frac}` : ''}${offset}`;
      });
    fc.assert(
      fc.property(rfc3339, (text) => {
        const expected = Date.parse(text);
        const got = readTimestamp(text);
        // Date.parse rolls 31 April over to 1 May; sluice refuses it.
        if (typeof got === 'string') expect(got).toMatch(/^day \d\d is out of range/);
        else expect(got).toBe(expected);
      }),
    );
  });

  test('formatTimestamp writes what parseTimestamp reads back exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_RFC3339_MS }), (ms) => {
        expect(parseTimestamp(formatTimestamp(ms))).toBe(ms);
      }),
    );
  });

  test('unix seconds and milliseconds read back exactly on their side of the cutoff', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SECONDS_CUTOFF - 1 }),
        fc.integer({ min: SECONDS_CUTOFF, max: MAX_TIMESTAMP_MS }),
        (s, ms) => {
          expect(parseTimestamp(String(s))).toBe(s * 1000);
          expect(parseTimestamp(String(ms))).toBe(ms);
        },
      ),
    );
  });

  test('formatTimestamp refuses what RFC 3339 cannot write', () => {
    expect(() => formatTimestamp(-1)).toThrow(RangeError);
    expect(() => formatTimestamp(MAX_RFC3339_MS + 1)).toThrow(RangeError);
    expect(() => formatTimestamp(1.5)).toThrow(RangeError);
  });
});
