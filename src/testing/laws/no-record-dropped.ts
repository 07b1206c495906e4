/**
 * No record dropped: every valid record comes back as a token. Tokens of the format's
 * arbitrary are written with its serializer, and reading the text back must give as
 * many tokens as were written.
 *
 * It protects the ledger's promise of no silent loss: a tokenizer that appends nothing
 * for a record with data (a record mistaken for a comment or a blank line, a parse error
 * swallowed instead of thrown) makes the record vanish as "skipped", which no error
 * policy will ever report.
 */
import fc from 'fast-check';
import { frameInput, LawViolation, showOutcome, showRecord, tokenizeRange } from '../records.js';
import { runFormat } from '../run-format.js';
import { showValue } from '../show.js';
import { syncCheck } from './check.js';
import { count, needsTokensWritten, writeValid, written } from './round-trip.js';
import type { LawDefinition } from './types.js';

export const noRecordDroppedLaw: LawDefinition = {
  id: 'no-record-dropped',
  title: 'no record dropped',
  statement: 'every valid record written comes back as a token: as many tokens are read as were written',
  skip: needsTokensWritten,
  checks: (ctx) => {
    const arbitrary = ctx.arbitrary!;
    return [
      syncCheck(ctx, {
        label: 'count of tokens read back',
        arbitrary: fc.array(arbitrary, { minLength: 1, maxLength: 8 }),
        show: (tokens) => `tokens ${showValue(tokens)}, ${written(ctx, tokens)}`,
        brief: (tokens) => `tokens ${showValue(tokens)}`,
        predicate: (tokens) => {
          const text = writeValid(ctx, tokens);
          const run = runFormat(ctx.format, [text], { options: ctx.rawOptions });
          if (run.items.length === tokens.length) return;
          // Say which records gave nothing (a header row legitimately does).
          const input = frameInput(ctx.format, ctx.options, [Buffer.from(text, 'utf8')]);
          const outcomes = tokenizeRange(ctx.format.tokenizer(ctx.options), input);
          const empty = outcomes
            .map((o, i) => (o.kind === 'tokens' ? undefined : `${showRecord(input, i)}: ${showOutcome(o)}`))
            .filter((s) => s !== undefined);
          throw new LawViolation(
            `wrote ${count(tokens.length)} and read back ${count(run.items.length)}${empty.length > 0 ? `; records that gave no token: ${empty.join('; ')}` : ''}`,
          );
        },
      }),
    ];
  },
};
