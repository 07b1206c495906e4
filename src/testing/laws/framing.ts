/**
 * Framing invariance: the same bytes, cut into chunks anywhere (inside a multi-byte
 * character, between CR and LF, inside a quoted field, one byte at a time), give the
 * same tokens and the same rejections, with the same lines, offsets and messages.
 *
 * It protects every input that arrives over a pipe, a socket or an HTTP body, where
 * chunk boundaries fall wherever the kernel put them. The core decoder owns chunking;
 * what this law catches in a format is a custom framer whose scanner loses its state
 * between calls, or a tokenizer that depends on how records were batched.
 */
import fc from 'fast-check';
import { sameData } from '../equal.js';
import { chunksOf, cuts, lawInputs, showChunks } from '../inputs.js';
import { LawViolation } from '../records.js';
import { type FormatRun, runFormat } from '../run-format.js';
import { showValue } from '../show.js';
import { syncCheck } from './check.js';
import type { LawDefinition } from './types.js';

/** The first way two runs differ, in words. */
export function firstDifference<T>(whole: FormatRun<T>, cut: FormatRun<T>): string {
  const n = Math.max(whole.items.length, cut.items.length);
  for (let i = 0; i < n; i++) {
    if (!sameData(whole.items[i], cut.items[i])) {
      return `token ${i + 1} is ${showValue(cut.items[i])} when cut, ${showValue(whole.items[i])} in one chunk`;
    }
  }
  const m = Math.max(whole.rejects.length, cut.rejects.length);
  for (let i = 0; i < m; i++) {
    if (!sameData(whole.rejects[i], cut.rejects[i])) {
      return `rejection ${i + 1} is ${showValue(cut.rejects[i])} when cut, ${showValue(whole.rejects[i])} in one chunk`;
    }
  }
  return `the counts differ: ${showValue({ records: cut.records, skipped: cut.skipped })} when cut, ${showValue({ records: whole.records, skipped: whole.skipped })} in one chunk`;
}

export const framingLaw: LawDefinition = {
  id: 'framing',
  title: 'framing invariance',
  statement: 'the same bytes cut into chunks anywhere give the same tokens and the same rejections',
  skip: () => undefined,
  checks: (ctx) => [
    syncCheck(ctx, {
      label: 'any cut',
      arbitrary: fc.record({
        bytes: lawInputs(ctx),
        cuts,
        // Now and then a small record size limit, so records are cut off mid-chunk too.
        maxRecordBytes: fc.option(fc.integer({ min: 1, max: 48 }), { freq: 5, nil: undefined }),
      }),
      show: ({ bytes, cuts: c, maxRecordBytes }) =>
        `${showChunks(bytes, chunksOf(bytes, c))}${maxRecordBytes === undefined ? '' : ` with maxRecordBytes ${maxRecordBytes}`}`,
      predicate: ({ bytes, cuts: c, maxRecordBytes }) => {
        const run = { options: ctx.rawOptions, ...(maxRecordBytes === undefined ? {} : { maxRecordBytes }) };
        const whole = runFormat(ctx.format, [bytes], run);
        const cut = runFormat(ctx.format, chunksOf(bytes, c), run);
        if (!sameData(cut, whole)) {
          throw new LawViolation(`cutting the input changed the result: ${firstDifference(whole, cut)}`);
        }
      },
    }),
  ],
};
