import { describe, expect, it } from 'vitest';
import type { Position, RecordBatch, Rejection, Tokenizer } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { MAX_REJECTED_TEXT, rejection } from '../../src/core/frame-decoder.js';
import { emptyBatch, flushTokenizer, tokenizeBatch } from '../../src/core/tokenize.js';

function recordBatch(records: string[], rejects: Rejection[] = []): RecordBatch {
  return {
    source: 'src',
    records,
    lines: records.map((_, i) => i + 1),
    offsets: records.map((_, i) => i * 10),
    rejects,
    bytes: 123,
  };
}

/** Pushes the record; throws on `bad`, a coded error on `coded`, nothing on `skip`, two tokens on `two`. */
const tokenizer: Tokenizer<string> = {
  tokenize(record, _at, out) {
    if (record === 'skip') return;
    if (record === 'bad') throw new Error('not good');
    if (record === 'coded') throw new SluiceError('SLUICE_E_FIELD_COUNT', 'expected 3 fields, got 2');
    if (record === 'half') {
      out.push('partial');
      throw new Error('failed half way');
    }
    if (record === 'string') throw 'a string';
    out.push(record);
    if (record === 'two') out.push('two again');
  },
};

describe('tokenizeBatch', () => {
  it('emits every token the tokenizer appends, in order', () => {
    const b = tokenizeBatch(tokenizer, recordBatch(['a', 'two', 'b']));
    expect(b.items).toEqual(['a', 'two', 'two again', 'b']);
  });

  it('keeps the source and byte count of the record batch', () => {
    const b = tokenizeBatch(tokenizer, recordBatch(['a']));
    expect(b.source).toBe('src');
    expect(b.bytes).toBe(123);
  });

  it('passes each record its line, offset and source', () => {
    const seen: Position[] = [];
    tokenizeBatch<string>(
      {
        tokenize(_r, at) {
          seen.push({ ...at });
        },
      },
      recordBatch(['a', 'b']),
    );
    expect(seen).toEqual([
      { source: 'src', line: 1, offset: 0 },
      { source: 'src', line: 2, offset: 10 },
    ]);
  });

  it('counts records that carried data and skipped records that gave no token', () => {
    const b = tokenizeBatch(tokenizer, recordBatch(['a', 'skip', 'two', 'skip']));
    expect(b.records).toBe(2);
    expect(b.skipped).toBe(2);
  });

  it('keeps the code of a SluiceError the tokenizer throws', () => {
    const b = tokenizeBatch(tokenizer, recordBatch(['coded']));
    expect(b.rejects).toEqual([
      {
        code: 'SLUICE_E_FIELD_COUNT',
        stage: 'tokenize',
        message: 'expected 3 fields, got 2',
        source: 'src',
        line: 1,
        offset: 0,
        record: 'coded',
        at: 0,
      },
    ]);
  });

  it('turns a plain Error into SLUICE_E_PARSE with its message', () => {
    const [r] = tokenizeBatch(tokenizer, recordBatch(['a', 'bad'])).rejects;
    expect(r).toMatchObject({
      code: 'SLUICE_E_PARSE',
      message: 'not good',
      line: 2,
      offset: 10,
      record: 'bad',
    });
  });

  it('turns a thrown non-Error into SLUICE_E_PARSE with its text', () => {
    const [r] = tokenizeBatch(tokenizer, recordBatch(['string'])).rejects;
    expect(r).toMatchObject({ code: 'SLUICE_E_PARSE', message: 'a string' });
  });

  it('uses the message of the code when the thrown Error has none', () => {
    const b = tokenizeBatch<string>(
      {
        tokenize() {
          throw new Error();
        },
      },
      recordBatch(['x']),
    );
    expect(b.rejects[0]?.message).toBe('record does not parse');
  });

  it('rolls back the tokens a failing tokenizer appended before throwing', () => {
    const b = tokenizeBatch(tokenizer, recordBatch(['a', 'half', 'b']));
    expect(b.items).toEqual(['a', 'b']);
    expect(b.rejects.map((r) => r.at)).toEqual([1]);
  });

  it('counts a rejected record as a record', () => {
    const b = tokenizeBatch(tokenizer, recordBatch(['a', 'bad', 'skip']));
    expect(b.records).toBe(2);
    expect(b.skipped).toBe(1);
    expect(b.records).toBe(b.items.length + b.rejects.length);
  });

  it('gives a tokenizer rejection the count of items before it as `at`', () => {
    const b = tokenizeBatch(tokenizer, recordBatch(['two', 'skip', 'bad', 'a', 'coded']));
    expect(b.rejects.map((r) => r.at)).toEqual([2, 3]);
  });

  it('cuts the text of a rejected record to 1 KiB', () => {
    const long = `bad${'x'.repeat(2000)}`;
    const b = tokenizeBatch<string>(
      {
        tokenize() {
          throw new Error('no');
        },
      },
      recordBatch([long]),
    );
    expect(b.rejects[0]?.record).toHaveLength(MAX_REJECTED_TEXT);
  });

  it('carries framing rejections over, counted as records', () => {
    const frame = rejection('src', 'SLUICE_E_UTF8', 9, 90, undefined, 1);
    const b = tokenizeBatch(tokenizer, recordBatch(['a', 'b'], [frame]));
    expect(b.rejects).toEqual([{ ...frame, at: 1 }]);
    expect(b.records).toBe(3);
  });

  it('re-expresses the `at` of a framing rejection in items', () => {
    // Record 0 gives two items, record 1 none, then the framing rejection.
    const frame = rejection('src', 'SLUICE_E_RECORD_TOO_LARGE', 3, 30, 'xx', 2);
    const b = tokenizeBatch(tokenizer, recordBatch(['two', 'skip', 'a'], [frame]));
    expect(b.rejects.map((r) => r.at)).toEqual([2]);
    expect(b.items).toEqual(['two', 'two again', 'a']);
  });

  it('places framing rejections before the first record and after the last', () => {
    const before = rejection('src', 'SLUICE_E_UTF8', 1, 0, undefined, 0);
    const after = rejection('src', 'SLUICE_E_UNTERMINATED_QUOTE', 3, 9, '"x', 1);
    const b = tokenizeBatch(tokenizer, recordBatch(['two'], [before, after]));
    expect(b.rejects.map((r) => [r.code, r.at])).toEqual([
      ['SLUICE_E_UTF8', 0],
      ['SLUICE_E_UNTERMINATED_QUOTE', 2],
    ]);
  });

  it('merges framing and tokenizer rejections in input order', () => {
    const frame = rejection('src', 'SLUICE_E_UTF8', 2, 10, undefined, 1);
    const b = tokenizeBatch(tokenizer, recordBatch(['a', 'bad'], [frame]));
    expect(b.rejects.map((r) => r.code)).toEqual(['SLUICE_E_UTF8', 'SLUICE_E_PARSE']);
    expect(b.rejects.map((r) => r.at)).toEqual([1, 1]);
  });

  it('handles a record batch that holds only rejections', () => {
    const frame = rejection('src', 'SLUICE_E_UTF8', 1, 0, undefined, 0);
    const b = tokenizeBatch(tokenizer, recordBatch([], [frame]));
    expect(b.items).toEqual([]);
    expect(b.rejects).toHaveLength(1);
    expect(b.records).toBe(1);
  });

  it('does not change the record batch it is given', () => {
    const frame = rejection('src', 'SLUICE_E_UTF8', 9, 90, undefined, 1);
    const input = recordBatch(['two', 'a'], [frame]);
    tokenizeBatch(tokenizer, input);
    expect(input.rejects[0]?.at).toBe(1);
  });
});

describe('flushTokenizer', () => {
  const end: Position = { source: 'src', line: 7, offset: 70 };

  it('gives an empty batch when the tokenizer has no flush', () => {
    expect(flushTokenizer(tokenizer, 'src', end)).toEqual(emptyBatch('src'));
  });

  it('emits the tokens flush appends', () => {
    const b = flushTokenizer<string>(
      {
        tokenize() {},
        flush(out) {
          out.push('x', 'y');
        },
      },
      'src',
      end,
    );
    expect(b.items).toEqual(['x', 'y']);
    expect(b.rejects).toEqual([]);
  });

  it('turns a throwing flush into one rejection at the end position, dropping its tokens', () => {
    const b = flushTokenizer<string>(
      {
        tokenize() {},
        flush(out) {
          out.push('x');
          throw new SluiceError('SLUICE_E_VALIDATION', 'trailer missing');
        },
      },
      'src',
      end,
    );
    expect(b.items).toEqual([]);
    expect(b.records).toBe(1);
    expect(b.rejects).toEqual([
      {
        code: 'SLUICE_E_VALIDATION',
        stage: 'tokenize',
        message: 'trailer missing',
        source: 'src',
        line: 7,
        offset: 70,
        at: 0,
      },
    ]);
  });
});

describe('rejected record text', () => {
  it('is cut to at most 1 KiB of UTF-8 on a character boundary', async () => {
    const { truncateText } = await import('../../src/core/frame-decoder.js');
    for (const text of [`x${'a'.repeat(1022)}😀`, 'é'.repeat(2000), '😀'.repeat(600)]) {
      const cut = truncateText(text);
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
      expect(text.startsWith(cut)).toBe(true);
      expect(Buffer.from(cut).toString()).toBe(cut);
    }
  });
});
