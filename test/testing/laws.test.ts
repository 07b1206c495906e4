/**
 * Each law of sluice/testing catches the bug it is there for, in process, on small
 * formats broken one way at a time, and passes the same format unbroken.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Framer, Position, Tokenizer } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { checkFormat, type LawId } from '../../src/testing/index.js';
import { failure, lineArbitrary, lineSamples, linesFormat, only } from './helpers.js';

const RUNS = 60;
const inputs = { arbitrary: lineArbitrary, samples: lineSamples, runs: RUNS };
const check = async (format: ReturnType<typeof linesFormat>, law: LawId, extra: object = {}) =>
  only(await checkFormat(format, { ...inputs, laws: [law], ...extra }));

/** A tokenizer made of one function, for breaking the lines format. */
const tokenizing = (fn: (record: string, at: Position, out: string[]) => void) => (): Tokenizer<string> => ({
  tokenize: fn,
});

describe('the well-behaved lines format', () => {
  it('passes every law', async () => {
    const results = await checkFormat(linesFormat(), inputs);
    expect(results.map((r) => [r.law, r.status])).toEqual([
      ['robustness', 'passed'],
      ['framing', 'passed'],
      ['purity', 'passed'],
      ['round-trip', 'passed'],
      ['no-record-dropped', 'passed'],
      ['parallel', 'passed'],
    ]);
  });
});

describe('the accounting and robustness law', () => {
  it('fails a tokenizer that throws a plain Error, naming the error and the record', async () => {
    const format = linesFormat({
      tokenizer: tokenizing((record, _at, out) => {
        if (record.includes('"')) throw new RangeError('quotes are not handled');
        out.push(record);
      }),
    });
    const r = failure(await check(format, 'robustness'));
    expect(r.reason).toMatch(
      /^the tokenizer threw RangeError: quotes are not handled instead of a SluiceError with a record-level code, on record \d+ \(line \d+\) ".*"/,
    );
    expect(r.counterexample).toMatch(/^input ".*"$/);
  });

  it('fails a tokenizer that throws a SluiceError whose code is not a record-level code', async () => {
    const format = linesFormat({
      tokenizer: tokenizing((record) => {
        throw new SluiceError('SLUICE_E_OPTION', `cannot read ${record}`);
      }),
    });
    const r = failure(await check(format, 'robustness'));
    expect(r.reason).toMatch(
      /threw SluiceError \[SLUICE_E_OPTION\]: .*, whose code is not a record-level code \(record codes: SLUICE_E_UTF8, /,
    );
  });

  it('fails a tokenizer that removes the tokens of earlier records from out', async () => {
    const format = linesFormat({
      tokenizer: tokenizing((record, _at, out) => {
        // A "reset" that forgets `out` is shared by the whole batch.
        if (record === '') out.length = 0;
        else out.push(record);
      }),
    });
    const r = failure(await check(format, 'robustness'));
    expect(r.reason).toMatch(/^the tokenizer removed tokens from out .*: a tokenizer may only append/);
  });

  it('fails a flush that throws a plain error', async () => {
    const format = linesFormat({
      tokenizer: () => ({
        tokenize(record, _at, out) {
          if (record !== '') out.push(record);
        },
        flush() {
          throw new Error('flush is broken');
        },
      }),
    });
    const r = failure(await check(format, 'robustness'));
    expect(r.reason).toBe(
      'flush threw Error: flush is broken instead of a SluiceError with a record-level code',
    );
  });

  it('fails a case that returns but takes longer than the time limit', async () => {
    const format = linesFormat({
      tokenizer: tokenizing((record, _at, out) => {
        const until = performance.now() + 40;
        while (performance.now() < until) {
          // Busy: a regular expression that backtracks, say.
        }
        out.push(record);
      }),
    });
    const r = failure(await check(format, 'robustness', { caseTimeoutMs: 5, runs: 10 }));
    expect(r.reason).toMatch(/^the case took \d+ ms, over the limit of 5 ms per case/);
  });

  it('passes a tokenizer that rejects every record with a coded error', async () => {
    const format = linesFormat({
      tokenizer: tokenizing((_record, at) => {
        throw new SluiceError('SLUICE_E_VALIDATION', 'never', { stage: 'tokenize', position: { ...at } });
      }),
    });
    expect((await check(format, 'robustness')).status).toBe('passed');
  });
});

/**
 * A quote-aware framer whose scanner forgets, between calls, that it was inside a
 * quoted field: a chunk boundary inside quotes then ends the record at the next LF.
 */
const forgetfulFramer: Framer = {
  name: 'forgetful',
  multiline: true,
  scanner: () => ({
    scan(buf, from, ends) {
      let inQuote = false; // BUG: should persist across calls
      for (let i = from; i < buf.length; i++) {
        if (buf[i] === 0x22) inQuote = !inQuote;
        else if (buf[i] === 0x0a && !inQuote) ends.push(i);
      }
    },
  }),
};

describe('the framing invariance law', () => {
  it('fails a framer whose scanner loses its state between chunks', async () => {
    const format = linesFormat({ framer: () => forgetfulFramer, serializer: undefined });
    const r = failure(
      await check(format, 'framing', { samples: ['"a\nb"\nc\n', 'x\n"y\n\nz"\n'], runs: 200 }),
    );
    expect(r.reason).toMatch(/^cutting the input changed the result: /);
    expect(r.counterexample).toMatch(/cut into \d+ chunks: /);
  });
});

let globalCount = 0;

describe('the purity law', () => {
  it('fails a tokenizer that counts records in a module-level variable', async () => {
    const format = linesFormat({
      tokenizer: tokenizing((record, _at, out) => {
        if (record !== '') out.push(`${globalCount++}:${record}`);
      }),
    });
    const r = failure(await check(format, 'purity'));
    expect(r.reason).toMatch(
      /gave 1 token \[ '\d+:.*' \] in one fresh tokenizer and 1 token \[ '\d+:.*' \] in another/,
    );
  });

  it('fails a tokenizer whose tokens keep the position object the engine reuses', async () => {
    const format = {
      ...linesFormat(),
      serializer: undefined,
      tokenizer: (): Tokenizer<{ text: string; at: Position }> => ({
        tokenize(record, at, out) {
          if (record !== '') out.push({ text: record, at }); // BUG: `at` is reused for the next record
        },
      }),
    };
    const r = failure(
      only(await checkFormat(format, { samples: lineSamples, laws: ['purity'], runs: RUNS })),
    );
    expect(r.reason).toMatch(
      /changed after they were appended: .* \(does a token keep the reused `at` object/,
    );
  });

  it('fails a tokenizer that recycles one token object for every record', async () => {
    const format = {
      ...linesFormat(),
      serializer: undefined,
      tokenizer: (): Tokenizer<{ text: string }> => {
        const token = { text: '' };
        return {
          tokenize(record, _at, out) {
            token.text = record; // BUG: every record's token is the same object
            if (record !== '') out.push(token);
          },
        };
      },
    };
    const r = failure(
      only(await checkFormat(format, { samples: lineSamples, laws: ['purity'], runs: RUNS })),
    );
    expect(r.reason).toMatch(/changed after they were appended/);
  });
});

describe('the round-trip law', () => {
  it('fails a serializer that refuses a token of the arbitrary, naming the token', async () => {
    const format = linesFormat({
      serializer: () => ({
        serialize(line) {
          if (line.includes(' ')) throw new SluiceError('SLUICE_E_SERIALIZE', 'no spaces');
          return line;
        },
      }),
    });
    const r = failure(await check(format, 'round-trip', { arbitrary: fc.constantFrom('a', 'b c') }));
    expect(r.reason).toMatch(
      /^the serializer refused a token of the arbitrary \("b c"\) with SluiceError \[SLUICE_E_SERIALIZE\]: no spaces/,
    );
  });

  it('fails a serializer that writes a token the tokenizer reads differently', async () => {
    const format = linesFormat({ serializer: () => ({ serialize: (line: string) => line.trim() }) });
    const r = failure(await check(format, 'round-trip', { arbitrary: fc.constantFrom('a', ' b') }));
    expect(r.reason).toBe(
      'wrote 1 token and read back 1 token; token 1 was written as " b" and read back as "b"',
    );
  });

  it('passes a canonical check that keeps its promise', async () => {
    // Every line the serializer would write as itself: non-empty, no TAB, CR or LF.
    const format = linesFormat({ canonical: () => (record) => record !== '' && !/[\t\r]/.test(record) });
    expect((await check(format, 'round-trip')).status).toBe('passed');
  });

  it('fails a canonical check that calls a rejected record canonical, naming it', async () => {
    const format = linesFormat({ canonical: () => (record) => record !== '' && !record.includes('\r') });
    // Edits insert TABs (one of the hostile pieces) now and then: enough cases to meet one.
    const r = failure(await check(format, 'round-trip', { runs: 400, seed: 42 }));
    expect(r.reason).toMatch(
      /^canonical records round-trip verbatim: canonical\(".*\\t.*"\) is true, but the tokenizer rejects it with SluiceError \[SLUICE_E_PARSE\]: no TABs$/,
    );
  });

  it('fails a canonical check that calls a record canonical which is written differently', async () => {
    // The serializer writes a token without its surrounding spaces, which the check ignores.
    const format = linesFormat({
      serializer: () => ({ serialize: (line: string) => line.trim() || line }),
      canonical: () => (record) => record !== '' && !/[\t\r]/.test(record),
    });
    const r = failure(
      await check(format, 'round-trip', { arbitrary: fc.constantFrom('a', 'b'), runs: 400, seed: 42 }),
    );
    expect(r.reason).toMatch(
      /^canonical records round-trip verbatim: canonical\(".*"\) is true, but its token ".*" is written as ".*"$/,
    );
  });

  it('fails a canonical check that says true for a record giving no token', async () => {
    const format = linesFormat({ canonical: () => (record) => !/[\t\r]/.test(record) });
    const r = failure(await check(format, 'round-trip', { runs: 400, seed: 42 }));
    expect(r.reason).toMatch(/canonical\(""\) is true, but the tokenizer gives 0 tokens, not 1$/);
  });

  it('is skipped, saying why, for a format without a serializer', async () => {
    const r = await check(linesFormat({ serializer: undefined }), 'round-trip');
    expect(r).toEqual({ law: 'round-trip', title: 'round trip', status: 'skipped', reason: 'no serializer' });
  });

  it('is skipped, saying why, without an arbitrary of valid tokens', async () => {
    const r = await check(linesFormat(), 'round-trip', { arbitrary: undefined });
    expect(r.status === 'skipped' && r.reason).toMatch(/^no arbitrary of valid tokens \(export `arbitrary`/);
  });
});

describe('the no-record-dropped law', () => {
  it('fails a tokenizer that skips valid records, listing the records that gave nothing', async () => {
    const format = linesFormat({
      tokenizer: tokenizing((record, _at, out) => {
        if (record.startsWith('-')) return; // "a comment", but the serializer writes such lines
        if (record !== '') out.push(record);
      }),
    });
    const r = failure(await check(format, 'no-record-dropped', { arbitrary: fc.constantFrom('a', '-b') }));
    expect(r.reason).toMatch(
      /^wrote (\d+) tokens? and read back \d+ tokens?; records that gave no token: record \d+ \(line \d+\) "-b": no token \(skipped\)$/,
    );
  });
});

describe('the parallel invariance law', () => {
  /** Numbers the records of each tokenizer: state across records. */
  const numbering = () =>
    linesFormat({
      serializer: undefined,
      tokenizer: () => {
        let n = 0;
        return {
          tokenize(record, _at, out) {
            if (record !== '') out.push(`${n++}:${record}`);
          },
        };
      },
    });

  it('fails a tokenizer that numbers its records while claiming to be parallel', async () => {
    const r = failure(await check(numbering(), 'parallel'));
    expect(r.reason).toMatch(/^fresh tokenizers per chunk: .* so the format must say parallel: false$/);
  });

  it('passes the same tokenizer when the format says parallel: false, noting what was left out', async () => {
    const r = await check({ ...numbering(), parallel: false }, 'parallel');
    expect(r).toMatchObject({
      status: 'passed',
      note: 'parallel: false, so only the pipeline part applies (no chunked tokenizers)',
    });
  });

  it('runs the real pipeline at several concurrencies, ordered and not, on top of the chunk check', async () => {
    const r = await check(linesFormat(), 'parallel');
    expect(r).toMatchObject({ status: 'passed', runs: 2 * RUNS });
  });
});
