/**
 * Small in-memory formats for the kit's own tests: a well-behaved one, and a way to
 * break one piece of it at a time.
 */
import fc from 'fast-check';
import type { Format, Serializer, Tokenizer } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import type { LawResult } from '../../src/testing/index.js';

/** One token per non-blank line: the line's text. Lines with a TAB are rejected (coded). */
export function linesFormat(
  overrides: Partial<Format<string, Record<string, never>>> = {},
): Format<string, Record<string, never>> {
  return {
    name: 'lines',
    description: 'one string per line',
    mediaTypes: [],
    extensions: [],
    tokenizer: (): Tokenizer<string> => ({
      tokenize(record, at, out) {
        if (record.includes('\t')) {
          throw new SluiceError('SLUICE_E_PARSE', 'no TABs', { stage: 'tokenize', position: { ...at } });
        }
        if (record !== '') out.push(record);
      },
    }),
    serializer: (): Serializer<string> => ({
      serialize(line) {
        if (/[\t\r\n]/.test(line) || line === '')
          throw new SluiceError('SLUICE_E_SERIALIZE', 'cannot write it');
        return line;
      },
    }),
    ...overrides,
  };
}

/** Valid tokens of {@link linesFormat}: non-empty, no TAB, CR or LF, no lone surrogate. */
export const lineArbitrary: fc.Arbitrary<string> = fc
  .string({ minLength: 1, maxLength: 10 })
  .filter((s) => !/[\t\r\n]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s));

export const lineSamples = ['a\nbb\n\nccc\n', 'x\ty\nz\r\n'];

/** The result of the one law run, asserting there is exactly one. */
export function only(results: LawResult[]): LawResult {
  if (results.length !== 1) throw new Error(`expected one result, got ${results.length}`);
  return results[0]!;
}

/** The failure fields of a result, or a thrown error saying it did not fail. */
export function failure(r: LawResult): LawResult & { status: 'failed' } {
  if (r.status !== 'failed')
    throw new Error(
      `expected ${r.title} to fail, it ${r.status === 'passed' ? 'passed' : `was skipped (${r.reason})`}`,
    );
  return r;
}
