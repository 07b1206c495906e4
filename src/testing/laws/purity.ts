/**
 * Purity: the same records given to two fresh tokenizers give the same result, even
 * while a third tokenizer works on other input in between; and a token, once
 * appended, never changes afterwards.
 *
 * It protects retries, replays and worker threads, which all tokenize the same bytes
 * again in a fresh tokenizer and must get the same answer. It catches state kept at
 * module level instead of in the tokenizer (a shared counter, a header cached in a
 * global), randomness, and tokens that alias something the tokenizer reuses: the `at`
 * position object (which the engine reuses between records), or an object recycled
 * for the next record.
 */
import fc from 'fast-check';
import type { Position } from '../../core/contracts.js';
import { sameData } from '../equal.js';
import { lawInputs } from '../inputs.js';
import {
  frameInput,
  LawViolation,
  type Outcome,
  sameOutcome,
  showOutcome,
  showRecord,
  tokenizeOne,
} from '../records.js';
import { showBytes, showValue } from '../show.js';
import { syncCheck } from './check.js';
import type { LawDefinition } from './types.js';

/** A deep copy, or undefined for tokens that cannot be cloned (functions, class instances with hidden state). */
function snapshot<T>(tokens: readonly T[]): T[] | undefined {
  try {
    return structuredClone(tokens) as T[];
  } catch {
    return undefined;
  }
}

export const purityLaw: LawDefinition = {
  id: 'purity',
  title: 'purity',
  statement:
    'the same records in fresh tokenizers give the same result, and a token never changes once appended',
  skip: () => undefined,
  checks: (ctx) => [
    syncCheck(ctx, {
      label: 'fresh tokenizers',
      arbitrary: fc.record({ bytes: lawInputs(ctx), other: lawInputs(ctx) }),
      show: ({ bytes, other }) => `input ${showBytes(bytes)}, with ${showBytes(other)} tokenized in between`,
      predicate: ({ bytes, other }) => {
        const input = frameInput(ctx.format, ctx.options, [bytes]);
        const noise = frameInput(ctx.format, ctx.options, [other]);
        const { format, options } = ctx;

        // First pass: alone, snapshotting each record's tokens as they are appended.
        const first = format.tokenizer(options);
        const at: Position = { source: input.source, line: 0, offset: 0 };
        const firstOutcomes: Outcome<unknown>[] = [];
        const snapshots: (unknown[] | undefined)[] = [];
        for (let i = 0; i < input.records.length; i++) {
          at.line = input.lines[i]!;
          at.offset = input.offsets[i]!;
          const o = tokenizeOne(first, input.records[i]!, at);
          firstOutcomes.push(o);
          snapshots.push(o.kind === 'tokens' ? snapshot(o.tokens) : undefined);
        }

        // Tokens appended earlier must not have changed since.
        for (let i = 0; i < firstOutcomes.length; i++) {
          const o = firstOutcomes[i]!;
          const snap = snapshots[i];
          if (o.kind !== 'tokens' || snap === undefined) continue;
          // Compared clone to clone, so that prototypes (which cloning drops) do not count.
          if (!sameData(snapshot(o.tokens), snap)) {
            throw new LawViolation(
              `the tokens of ${showRecord(input, i)} changed after they were appended: ${showValue(snap)} became ${showValue(o.tokens)} (does a token keep the reused \`at\` object, or an object the tokenizer recycles?)`,
            );
          }
        }

        // Second pass: a fresh tokenizer, interleaved record by record with a third one
        // reading other input, so state shared between tokenizers shows.
        const second = format.tokenizer(options);
        const third = format.tokenizer(options);
        const at2: Position = { source: input.source, line: 0, offset: 0 };
        const at3: Position = { source: noise.source, line: 0, offset: 0 };
        for (let i = 0; i < input.records.length; i++) {
          if (i < noise.records.length) {
            at3.line = noise.lines[i]!;
            at3.offset = noise.offsets[i]!;
            tokenizeOne(third, noise.records[i]!, at3);
          }
          at2.line = input.lines[i]!;
          at2.offset = input.offsets[i]!;
          const again = tokenizeOne(second, input.records[i]!, at2);
          if (!sameOutcome(firstOutcomes[i]!, again)) {
            throw new LawViolation(
              `${showRecord(input, i)} gave ${showOutcome(firstOutcomes[i]!)} in one fresh tokenizer and ${showOutcome(again)} in another`,
            );
          }
        }
      },
    }),
  ],
};
