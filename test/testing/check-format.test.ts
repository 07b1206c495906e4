/**
 * The kit's entry points: `checkFormat` (results, seeds, replay, option errors, the
 * fixed clock), `formatLaws`, and `describeFormatLaws` (with a stand-in test API, and
 * with vitest itself).
 */
import { describe, expect, it } from 'vitest';
import { LAW_NAMES } from '../../src/cli/check-format-command.js';
import type { Format } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import {
  checkFormat,
  describeFormatLaws,
  failureMessage,
  formatLaws,
  LAW_IDS,
  lawLine,
  type TestApi,
} from '../../src/testing/index.js';
import { failure, lineArbitrary, lineSamples, linesFormat } from './helpers.js';

const inputs = { arbitrary: lineArbitrary, samples: lineSamples, runs: 20 };

/** A format that drops every record holding a space: the no-record-dropped and round-trip laws fail. */
const spaceDropping = linesFormat({
  tokenizer: () => ({
    tokenize(record, _at, out) {
      if (record !== '' && !record.includes(' ')) out.push(record);
    },
  }),
});

describe('checkFormat', () => {
  it('returns one result per law, in the order of the laws, each with the seed it ran with', async () => {
    const results = await checkFormat(linesFormat(), { ...inputs, seed: 99 });
    expect(results.map((r) => r.law)).toEqual(LAW_IDS);
    for (const r of results) expect(r).toMatchObject({ status: 'passed', seed: 99 });
  });

  it('finds the same shrunk counterexample again with the same seed', async () => {
    const run = () =>
      checkFormat(spaceDropping, { ...inputs, laws: ['no-record-dropped'], runs: 100, seed: 4242 });
    const [a, b] = [failure((await run())[0]!), failure((await run())[0]!)];
    expect(a.counterexample).toBe(b.counterexample);
    expect(a.path).toBe(b.path);
    expect(a.seed).toBe(4242);
  });

  it('rejects a run count, seed or time limit it cannot use, with a coded option error', () => {
    for (const bad of [
      { runs: 0 },
      { runs: 1.5 },
      { seed: 2 ** 31 },
      { caseTimeoutMs: 0 },
      { fixedTime: Number.NaN },
    ]) {
      expect(() => formatLaws(linesFormat(), bad)).toThrow(SluiceError);
    }
    expect(() => formatLaws(linesFormat(), { runs: 0 })).toThrow('runs: expected an integer >= 1, got 0');
  });

  it('rejects format options the format does not know, naming the option', () => {
    expect(() => formatLaws(linesFormat(), { options: { strict: true } })).toThrow(
      'unknown option lines.strict (this format has no options)',
    );
  });

  it('rejects an unknown law, listing the laws', () => {
    // @ts-expect-error: not a law id
    expect(() => formatLaws(linesFormat(), { laws: ['speed'] })).toThrow(
      'laws: unknown law "speed" (known: robustness, framing, purity, round-trip, no-record-dropped, parallel)',
    );
  });

  it('rejects something that is not a format, as the registry does', () => {
    // @ts-expect-error: not a format
    expect(() => formatLaws({ name: 'x' })).toThrow('not a sluice format: x: tokenizer must be a function');
  });

  it('rejects an arbitrary that is not a fast-check Arbitrary', () => {
    // @ts-expect-error: not an Arbitrary
    expect(() => formatLaws(linesFormat(), { arbitrary: { not: 'an arbitrary' } })).toThrow(
      /^arbitrary: expected a fast-check Arbitrary of valid tokens/,
    );
  });

  it('fails a law whose arbitrary throws while generating, instead of throwing', async () => {
    const throwing = lineArbitrary.map((s) => {
      if (s.length > 0) throw new Error('generator bug');
      return s;
    });
    const results = await checkFormat(linesFormat(), {
      ...inputs,
      arbitrary: throwing,
      laws: ['round-trip'],
    });
    expect(failure(results[0]!).reason).toMatch(/^the law could not run: it threw Error: generator bug/);
  });

  it('stops the clock at fixedTime while a case runs, and gives the real Date back afterwards', async () => {
    const RealDate = Date;
    const stamped: Format<{ record: string; now: number; date: number }, Record<string, never>> = {
      ...linesFormat({ serializer: undefined }),
      serializer: undefined,
      tokenizer: () => ({
        tokenize(record, _at, out) {
          // biome-ignore lint/complexity/useDateNow: what `new Date()` gives is the point here.
          if (record !== '') out.push({ record, now: Date.now(), date: new Date().getTime() });
        },
      }),
    };
    const time = Date.UTC(2024, 4, 1);
    const results = await checkFormat(stamped, { samples: lineSamples, runs: 30, fixedTime: time });
    expect(results.map((r) => r.status)).toEqual([
      'passed',
      'passed',
      'passed',
      'skipped',
      'skipped',
      'passed',
    ]);
    expect(globalThis.Date).toBe(RealDate);
    expect(new Date(0).getTime()).toBe(0);
  });
});

describe('formatLaws', () => {
  it('gives each law its title, its statement and, when it does not apply, why', () => {
    const laws = formatLaws(linesFormat({ serializer: undefined }), { samples: lineSamples });
    expect(laws.map((l) => [l.id, l.title, l.skip])).toEqual([
      ['robustness', 'accounting and robustness', undefined],
      ['framing', 'framing invariance', undefined],
      ['purity', 'purity', undefined],
      ['round-trip', 'round trip', 'no serializer'],
      ['no-record-dropped', 'no record dropped', 'no serializer'],
      ['parallel', 'parallel invariance', undefined],
    ]);
    for (const l of laws) expect(l.statement).toMatch(/^[a-z].+[a-z)]$/);
  });

  it('lists in the CLI help the same laws as the kit', () => {
    expect(LAW_NAMES).toBe(LAW_IDS.join(', '));
  });
});

describe('lawLine and failureMessage', () => {
  it('print a passed, a skipped and a failed law on one line each', async () => {
    const results = await checkFormat(spaceDropping, {
      ...inputs,
      runs: 100,
      seed: 1,
      laws: ['purity', 'no-record-dropped'],
    });
    const skipped = (await checkFormat(linesFormat({ serializer: undefined }), { laws: ['round-trip'] }))[0]!;
    expect(lawLine(results[0]!)).toBe('✓ purity (100 runs)');
    expect(lawLine(skipped)).toBe('- round trip: skipped (no serializer)');
    expect(lawLine(results[1]!)).toMatch(
      /^✗ no record dropped: counterexample tokens \[.*\], written as ".*" seed 1$/,
    );
  });

  it('make a failure message with the law, the reason, the counterexample and the seed', async () => {
    const r = failure(
      (await checkFormat(spaceDropping, { ...inputs, runs: 100, seed: 3, laws: ['no-record-dropped'] }))[0]!,
    );
    const lines = failureMessage(r).split('\n');
    expect(lines[0]).toMatch(/^no record dropped fails: wrote \d+ tokens? and read back/);
    expect(lines[1]).toMatch(/^counterexample: tokens /);
    expect(lines[2]).toMatch(
      /^found after \d+ runs?, shrunk in \d+ steps?; replay with seed 3 \(fast-check path ".*"\)$/,
    );
  });
});

/** A stand-in for vitest's describe/it that records what is registered. */
function recorder(): TestApi & {
  tests: { name: string; skipped: boolean; fn: () => unknown }[];
  suites: string[];
} {
  const tests: { name: string; skipped: boolean; fn: () => unknown }[] = [];
  const suites: string[] = [];
  const it = Object.assign((name: string, fn: () => unknown) => tests.push({ name, skipped: false, fn }), {
    skip: (name: string, fn: () => unknown) => tests.push({ name, skipped: true, fn }),
  });
  return {
    tests,
    suites,
    describe: (name, fn) => {
      suites.push(name);
      fn();
    },
    it,
  };
}

describe('describeFormatLaws', () => {
  it('registers one test per law in one describe block, and the laws that do not apply as skipped', async () => {
    const api = recorder();
    await describeFormatLaws(linesFormat({ serializer: undefined }), { samples: lineSamples, test: api });
    expect(api.suites).toEqual(['lines obeys the format laws']);
    expect(api.tests.map((t) => [t.name.split(':')[0], t.skipped])).toEqual([
      ['accounting and robustness', false],
      ['framing invariance', false],
      ['purity', false],
      ['round trip', true],
      ['no record dropped', true],
      ['parallel invariance', false],
    ]);
    expect(api.tests[3]?.name).toBe('round trip: skipped (no serializer)');
  });

  it('makes the test of a failing law throw with the law, the counterexample and the seed', async () => {
    const api = recorder();
    await describeFormatLaws(spaceDropping, { ...inputs, runs: 100, seed: 5, test: api, name: 'spaces' });
    const test = api.tests.find((t) => t.name.startsWith('no record dropped'))!;
    await expect(test.fn()).rejects.toThrow(
      /^no record dropped fails: .*\ncounterexample: .*\n.*replay with seed 5/,
    );
  });

  it('throws at once, not in every test, when the options are wrong', async () => {
    await expect(describeFormatLaws(linesFormat(), { runs: -1, test: recorder() })).rejects.toThrow(
      'runs: expected an integer >= 1, got -1',
    );
  });
});

// Registered with vitest itself (imported by the helper): these tests appear below.
await describeFormatLaws(linesFormat(), {
  ...inputs,
  name: 'describeFormatLaws registers with vitest by itself',
});
