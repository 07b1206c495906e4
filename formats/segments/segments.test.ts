import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { SegmentEvent } from '../../src/audience/index.js';
import type { Position } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { FormatRegistry } from '../../src/core/registry.js';
import { runFormat, serializeAll } from '../../src/testing/run-format.js';
import segments, {
  createSegmentsSerializer,
  createSegmentsTokenizer,
  type SegmentsOptions,
  samples,
} from './index.js';

const NOW = 1_714_564_900_000;
const at: Position = { source: 'test', line: 7, offset: 0 };
const defaults: SegmentsOptions = { ns: 'default' };

/** Tokenizes lines with a fixed clock, through the real decoder. */
function run(
  input: string | Uint8Array | (string | Uint8Array)[],
  opts: { options?: SegmentsOptions; maxRecordBytes?: number } = {},
) {
  const format = {
    ...segments,
    tokenizer: (o: SegmentsOptions) => createSegmentsTokenizer(o, () => NOW),
  };
  return runFormat(format, Array.isArray(input) ? input : [input], {
    ...(opts.options ? { options: { ...opts.options } } : {}),
    ...(opts.maxRecordBytes ? { maxRecordBytes: opts.maxRecordBytes } : {}),
  });
}

function tokenize(record: string, options: SegmentsOptions = defaults): SegmentEvent[] {
  const out: SegmentEvent[] = [];
  createSegmentsTokenizer(options, () => NOW).tokenize(record, at, out);
  return out;
}

function tokenizeError(record: string): SluiceError {
  try {
    tokenize(record);
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error(`expected ${JSON.stringify(record)} to be rejected`);
}

function serializeError(event: unknown, options: SegmentsOptions = defaults): SluiceError {
  try {
    createSegmentsSerializer(options).serialize(event as SegmentEvent);
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error('expected the event to be refused');
}

const add = (uid: string, seg: string, ts = NOW, ttl?: number): SegmentEvent => ({
  ns: 'default',
  uid,
  seg,
  op: 'add',
  ts,
  ...(ttl === undefined ? {} : { ttl }),
});
const remove = (uid: string, seg: string, ts = NOW): SegmentEvent => ({
  ns: 'default',
  uid,
  seg,
  op: 'remove',
  ts,
});

describe('segments format object', () => {
  test('it is named segments with its media type and extensions', () => {
    expect(segments.name).toBe('segments');
    expect(segments.mediaTypes).toEqual(['text/x-sluice-segments']);
    expect(segments.extensions).toEqual(['segments', 'seg']);
  });

  test('a registry finds it by media type and by file name', () => {
    const registry = new FormatRegistry([segments]);
    expect(registry.forMediaType('text/x-sluice-segments')).toBe(segments);
    expect(registry.forPath('daily.seg')).toBe(segments);
    expect(registry.forPath('daily.segments.gz')).toBe(segments);
  });

  test('the namespace defaults to "default"', () => {
    expect(runFormat(segments, ['u1\ts\t1714564800\n']).items).toEqual([add('u1', 's', 1714564800000)]);
  });

  test('an empty namespace option is refused with SLUICE_E_OPTION', () => {
    expect(() => runFormat(segments, ['u1\ts\n'], { options: { ns: '' } })).toThrow(
      expect.objectContaining({ code: 'SLUICE_E_OPTION', message: expect.stringMatching(/segments\.ns/) }),
    );
  });

  test('a negative defaultTtl is refused with SLUICE_E_OPTION', () => {
    expect(() => runFormat(segments, ['u1\ts\n'], { options: { defaultTtl: '-1' } })).toThrow(
      expect.objectContaining({
        code: 'SLUICE_E_OPTION',
        message: expect.stringMatching(/segments\.defaultTtl/),
      }),
    );
  });

  test('an unknown option is refused with SLUICE_E_OPTION', () => {
    expect(() => runFormat(segments, ['u1\ts\n'], { options: { namespace: 'x' } })).toThrow(
      expect.objectContaining({ code: 'SLUICE_E_OPTION' }),
    );
  });

  test('options given directly to the tokenizer are checked too', () => {
    expect(() => createSegmentsTokenizer({ ns: 'a\nb' })).toThrow(
      expect.objectContaining({ code: 'SLUICE_E_OPTION' }),
    );
  });

  test('every sample reads without a rejection', () => {
    for (const sample of samples) expect(run(sample).rejects).toEqual([]);
  });
});

describe('segments tokenizer', () => {
  test('a line with one segment gives one add event stamped with the namespace option', () => {
    expect(tokenize('u1\tsports', { ns: 'acme' })).toEqual([{ ...add('u1', 'sports'), ns: 'acme' }]);
  });

  test('each item of a line becomes one event, in order', () => {
    expect(tokenize('u1\tsports,news,-travel')).toEqual([
      add('u1', 'sports'),
      add('u1', 'news'),
      remove('u1', 'travel'),
    ]);
  });

  test('a ttl after a colon is kept in seconds', () => {
    expect(tokenize('u1\tsports:86400,news:0')).toEqual([
      add('u1', 'sports', NOW, 86400),
      add('u1', 'news', NOW, 0),
    ]);
  });

  test('a leading minus removes the segment', () => {
    expect(tokenize('u1\t-sports')).toEqual([remove('u1', 'sports')]);
  });

  test('-* removes the user from every segment', () => {
    expect(tokenize('u1\t-*')).toEqual([remove('u1', '*')]);
  });

  test('a timestamp in unix seconds is read as seconds', () => {
    expect(tokenize('u1\ts\t1714564800')[0]!.ts).toBe(1_714_564_800_000);
  });

  test('a timestamp in unix milliseconds is read as milliseconds', () => {
    expect(tokenize('u1\ts\t1714564800123')[0]!.ts).toBe(1_714_564_800_123);
  });

  test('an RFC 3339 timestamp with an offset and a fraction is read', () => {
    expect(tokenize('u1\ts\t2024-05-01T14:00:00.250+02:00')[0]!.ts).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 250));
  });

  test('all items of a line share its timestamp', () => {
    expect(tokenize('u1\ta,b,-c\t1714564800').map((e) => e.ts)).toEqual([
      1_714_564_800_000, 1_714_564_800_000, 1_714_564_800_000,
    ]);
  });

  test('without a timestamp the clock gives the time, read once per line', () => {
    let calls = 0;
    const clock = () => 1_000_000_000_000 + 1000 * calls++;
    const t = createSegmentsTokenizer(defaults, clock);
    const out: SegmentEvent[] = [];
    t.tokenize('u1\ta,b', at, out);
    t.tokenize('u2\tc\t1714564800', at, out);
    t.tokenize('u3\td', at, out);
    expect(out.map((e) => e.ts)).toEqual([
      1_000_000_000_000, 1_000_000_000_000, 1_714_564_800_000, 1_000_000_001_000,
    ]);
    expect(calls).toBe(2);
  });

  test('the format reads Date.now when no clock is injected', () => {
    const before = Date.now();
    const [event] = runFormat(segments, ['u1\ts\n']).items;
    expect(event!.ts).toBeGreaterThanOrEqual(before);
    expect(event!.ts).toBeLessThanOrEqual(Date.now());
  });

  test('defaultTtl applies to added segments without a ttl, not to removals or explicit ttls', () => {
    expect(tokenize('u1\ta,b:5,-c', { ns: 'default', defaultTtl: 60 })).toEqual([
      add('u1', 'a', NOW, 60),
      add('u1', 'b', NOW, 5),
      remove('u1', 'c'),
    ]);
  });

  test('ids may hold any non-space Unicode character and dashes after the first', () => {
    expect(tokenize('usér-😀\tsegment-中文.v2/x')).toEqual([add('usér-😀', 'segment-中文.v2/x')]);
  });

  test('a uid may start with a minus', () => {
    expect(tokenize('-u1\ts')).toEqual([add('-u1', 's')]);
  });

  test('blank lines of spaces, tabs and CRs are skipped and counted as skipped', () => {
    const r = run('\n  \n\t\n \t\r\nu1\ts\n\n');
    expect(r.items).toEqual([add('u1', 's')]);
    expect(r.skipped).toBe(5);
    expect(r.records).toBe(1);
  });

  test('CRLF line ends are removed before the line is read', () => {
    expect(run('u1\ta\t1714564800\r\nu2\tb\r\n').items).toEqual([
      add('u1', 'a', 1714564800000),
      add('u2', 'b'),
    ]);
  });

  test('a line split across writes reads as if written at once', () => {
    expect(run(['u1\tspo', 'rts,ne', 'ws\t17145', '64800\nu2', '\t-x\n']).items).toEqual([
      add('u1', 'sports', 1714564800000),
      add('u1', 'news', 1714564800000),
      remove('u2', 'x'),
    ]);
  });

  test('multi-byte UTF-8 fed one byte at a time decodes intact', () => {
    const bytes = Buffer.from('usér😀\tcafé,中文:5\n');
    expect(run([...bytes].map((b) => Uint8Array.of(b))).items).toEqual([
      add('usér😀', 'café'),
      add('usér😀', '中文', NOW, 5),
    ]);
  });

  test('a character cut off at the end of input is rejected as SLUICE_E_UTF8 on its line', () => {
    const r = run(Buffer.concat([Buffer.from('u1\ta\nu2\tcaf'), Buffer.from('é').subarray(0, 1)]));
    expect(r.items).toEqual([add('u1', 'a')]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_UTF8', line: 2, offset: 5 })]);
  });

  test('a line over maxRecordBytes is rejected as too large and the next one still reads', () => {
    const r = run(`u1\ta\nu2\t${'s,'.repeat(40)}s\nu3\tb\n`, { maxRecordBytes: 32 });
    expect(r.items).toEqual([add('u1', 'a'), add('u3', 'b')]);
    expect(r.rejects).toEqual([expect.objectContaining({ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2 })]);
  });

  test('a rejected line is reported with its line number and emits none of its events', () => {
    const r = run('u1\ta\n\nu2\tgood,*,also-good\nu3\tb\n');
    expect(r.items).toEqual([add('u1', 'a'), add('u3', 'b')]);
    expect(r.rejects).toEqual([
      expect.objectContaining({
        code: 'SLUICE_E_VALIDATION',
        stage: 'tokenize',
        line: 3,
        offset: 6,
        record: 'u2\tgood,*,also-good',
      }),
    ]);
    expect(r.records).toBe(3);
  });

  test('the provider fixture reads as recorded in its expected file', () => {
    const expected = JSON.parse(
      readFileSync(new URL('./fixtures/provider.expected.json', import.meta.url), 'utf8'),
    );
    const format = {
      ...segments,
      tokenizer: (o: SegmentsOptions) => createSegmentsTokenizer(o, () => expected.clock),
    };
    const r = runFormat(format, [readFileSync(new URL('./fixtures/provider.segments', import.meta.url))]);
    expect(r.items).toEqual(expected.items);
    expect(r.rejects.map(({ line, code, message }) => ({ line, code, message }))).toEqual(expected.rejects);
    expect(r.records).toBe(expected.records);
    expect(r.skipped).toBe(expected.skipped);
  });
});

describe('segments tokenizer errors', () => {
  test.each([
    ['u1 sports', 'SLUICE_E_FIELD_COUNT', 'missing TAB: expected <uid> TAB <segments> [TAB <timestamp>]'],
    [
      'u1\ta\t1714564800\textra',
      'SLUICE_E_FIELD_COUNT',
      'too many fields: expected <uid> TAB <segments> [TAB <timestamp>], got 4 TAB-separated fields',
    ],
    ['\tsports', 'SLUICE_E_PARSE', 'empty uid: the line starts with a TAB'],
    ['u1\t', 'SLUICE_E_PARSE', 'no segments after the uid at column 4'],
    ['u1\t\t1714564800', 'SLUICE_E_PARSE', 'no segments after the uid at column 4'],
    [
      'u1\ta,,b',
      'SLUICE_E_PARSE',
      'empty item at column 6 (two commas in a row, or a comma at the start or end)',
    ],
    [
      'u1\t,a',
      'SLUICE_E_PARSE',
      'empty item at column 4 (two commas in a row, or a comma at the start or end)',
    ],
    [
      'u1\ta,',
      'SLUICE_E_PARSE',
      'empty item at column 6 (two commas in a row, or a comma at the start or end)',
    ],
    ['u1\t-', 'SLUICE_E_PARSE', 'empty segment id in item "-" at column 4'],
    ['u1\t:60', 'SLUICE_E_PARSE', 'empty segment id in item ":60" at column 4'],
    [
      'u1\tsports:abc',
      'SLUICE_E_VALIDATION',
      'bad ttl "abc" in item "sports:abc" at column 11: expected a whole number of seconds >= 0',
    ],
    [
      'u1\tsports:-5',
      'SLUICE_E_VALIDATION',
      'bad ttl "-5" in item "sports:-5" at column 11: expected a whole number of seconds >= 0',
    ],
    [
      'u1\tsports:1.5',
      'SLUICE_E_VALIDATION',
      'bad ttl "1.5" in item "sports:1.5" at column 11: expected a whole number of seconds >= 0',
    ],
    [
      'u1\tsports:',
      'SLUICE_E_VALIDATION',
      'bad ttl "" in item "sports:" at column 11: expected a whole number of seconds >= 0',
    ],
    [
      'u1\tsports:99999999999999999999',
      'SLUICE_E_VALIDATION',
      'bad ttl "99999999999999999999" in item "sports:99999999999999999999" at column 11: expected a whole number of seconds >= 0',
    ],
    [
      'u1\tsports:1:2',
      'SLUICE_E_VALIDATION',
      'bad ttl "1:2" in item "sports:1:2" at column 11: expected a whole number of seconds >= 0',
    ],
    [
      'u1\t-sports:60',
      'SLUICE_E_VALIDATION',
      'a removal cannot have a ttl: item "-sports:60" at column 4 (only an added membership expires)',
    ],
    [
      'u1\tnews,*',
      'SLUICE_E_VALIDATION',
      'segment "*" at column 9 cannot be added: "-*" removes the user from every segment',
    ],
    [
      'u1\t--sports',
      'SLUICE_E_VALIDATION',
      `segment id "-sports" at column 5 starts with '-' (a single '-' before the segment means remove)`,
    ],
    [
      'u 1\tsports',
      'SLUICE_E_VALIDATION',
      `uid "u 1" contains U+0020 at column 2 (ids cannot contain whitespace, control characters, ',' or ':')`,
    ],
    [
      'u:1\tsports',
      'SLUICE_E_VALIDATION',
      `uid "u:1" contains ':' at column 2 (ids cannot contain whitespace, control characters, ',' or ':')`,
    ],
    [
      'u1\tnews, sports',
      'SLUICE_E_VALIDATION',
      `segment id " sports" contains U+0020 at column 9 (ids cannot contain whitespace, control characters, ',' or ':')`,
    ],
    [
      'u1\tsp\rorts',
      'SLUICE_E_VALIDATION',
      `segment id "sp\\rorts" contains U+000D at column 6 (ids cannot contain whitespace, control characters, ',' or ':')`,
    ],
    [
      'u1\tsp\u0000',
      'SLUICE_E_VALIDATION',
      `segment id "sp\\u0000" contains U+0000 at column 6 (ids cannot contain whitespace, control characters, ',' or ':')`,
    ],
    [
      'u😀 1\ts',
      'SLUICE_E_VALIDATION',
      `uid "u😀 1" contains U+0020 at column 3 (ids cannot contain whitespace, control characters, ',' or ':')`,
    ],
    [
      'u1\ts\t2024-13-45',
      'SLUICE_E_VALIDATION',
      'bad timestamp "2024-13-45" at column 6: expected unix seconds, unix milliseconds (digits only) or an RFC 3339 date-time such as 2024-05-01T12:00:00Z',
    ],
    [
      'u1\ts\t2024-13-01T00:00:00Z',
      'SLUICE_E_VALIDATION',
      'bad timestamp "2024-13-01T00:00:00Z" at column 6: month 13 is out of range (01-12)',
    ],
    [
      'u1\ts\t 1714564800',
      'SLUICE_E_VALIDATION',
      'bad timestamp " 1714564800" at column 6: expected unix seconds, unix milliseconds (digits only) or an RFC 3339 date-time such as 2024-05-01T12:00:00Z',
    ],
    [
      'u1\ts\t',
      'SLUICE_E_PARSE',
      'empty timestamp at column 6 (leave out the last TAB to use the time of reading)',
    ],
  ])('%j is rejected with %s', (record, code, message) => {
    const e = tokenizeError(record);
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
    expect(e.stage).toBe('tokenize');
  });

  test('the first problem from the left is the one reported', () => {
    expect(tokenizeError('u1\t*,a,,b\tnot-a-time').message).toMatch(/^segment "\*" at column 4/);
  });

  test('a rejection copies the position instead of keeping the reused one', () => {
    const e = tokenizeError('u1');
    expect(e.position).toEqual({ source: 'test', line: 7, offset: 0 });
    expect(e.position).not.toBe(at);
  });

  test('a clock that returns a non-integer time is an internal error, not bad input', () => {
    const t = createSegmentsTokenizer(defaults, () => Number.NaN);
    expect(() => t.tokenize('u1\ts', at, [])).toThrow(expect.objectContaining({ code: 'SLUICE_E_INTERNAL' }));
  });
});

describe('segments serializer', () => {
  test('an event is written as uid, item and timestamp in milliseconds', () => {
    expect(
      serializeAll(segments, [add('u1', 'sports', 1714564800123, 60), remove('u2', '*', 1714564800000)]),
    ).toBe('u1\tsports:60\t1714564800123\nu2\t-*\t1714564800000\n');
  });

  test('a time before March 1973 is written as RFC 3339, which reads back exactly', () => {
    const events = [add('u1', 's', 86_400_123), add('u1', 's', 0), add('u1', 's', 99_999_999_999)];
    const text = serializeAll(segments, events);
    expect(text).toBe(
      'u1\ts\t1970-01-02T00:00:00.123Z\nu1\ts\t1970-01-01T00:00:00.000Z\nu1\ts\t1973-03-03T09:46:39.999Z\n',
    );
    expect(run(text).items).toEqual(events);
  });

  test('written events read back as themselves', () => {
    const events = [add('u1', 'a', NOW, 0), remove('u1', 'b'), remove('u2', '*'), add('ü😀', 'c-d.e/f')];
    expect(run(serializeAll(segments, events)).items).toEqual(events);
  });

  test('an event of another namespace is refused, since the format has no namespace column', () => {
    const e = serializeError({ ...add('u1', 's'), ns: 'acme' });
    expect(e.code).toBe('SLUICE_E_SERIALIZE');
    expect(e.stage).toBe('serialize');
    expect(e.message).toBe(
      'cannot write as a segments line: the event is for namespace "acme" but segments.ns is "default" (the format has no namespace column)',
    );
  });

  test('an event of the namespace option is written', () => {
    expect(createSegmentsSerializer({ ns: 'acme' }).serialize({ ...add('u1', 's'), ns: 'acme' })).toBe(
      `u1\ts\t${NOW}`,
    );
  });

  test.each([
    ['a TAB in the uid', add('u\t1', 's'), /segment event uid contains U\+0009 at index 1/],
    ['a comma in the uid', add('u,1', 's'), /uid "u,1" contains ','/],
    ['a colon in the segment', add('u1', 'iab:12'), /segment id "iab:12" contains ':'/],
    ['a newline in the segment', add('u1', 'a\nb'), /segment event seg contains U\+000A at index 1/],
    ['a space in the segment', add('u1', 'a b'), /segment id "a b" contains U\+0020/],
    ['a segment starting with a minus', add('u1', '-x'), /segment id "-x" starts with '-'/],
    ['a lone surrogate in the uid', add('u\ud800', 's'), /uid .* U\+D800/],
  ])('an event with %s is refused', (_what, event, message) => {
    const e = serializeError(event);
    expect(e.code).toBe('SLUICE_E_SERIALIZE');
    expect(e.message).toMatch(message);
  });

  test('an event that is not a valid SegmentEvent is refused with the validation message', () => {
    expect(serializeError({ ...add('u1', '*') }).message).toMatch(
      /^cannot write as a segments line: segment event seg: expected a segment id other than "\*"/,
    );
    expect(serializeError({ ...add('u1', 's'), ts: Number.NaN }).message).toMatch(/segment event ts/);
    expect(serializeError({ ...remove('u1', 's'), extra: 1 }).message).toMatch(/unknown field "extra"/);
  });

  test('with defaultTtl, an added event without a ttl is refused because it would read back with one', () => {
    expect(serializeError(add('u1', 's'), { ns: 'default', defaultTtl: 60 }).message).toBe(
      'cannot write as a segments line: the event has no ttl, but with segments.defaultTtl=60 it would read back with one',
    );
  });

  test('with defaultTtl, events with a ttl and removals are written and read back', () => {
    const options = { ns: 'default', defaultTtl: 60 };
    const events = [add('u1', 's', NOW, 60), add('u1', 't', NOW, 5), remove('u1', 'r')];
    expect(run(serializeAll(segments, events, options), { options }).items).toEqual(events);
  });
});
