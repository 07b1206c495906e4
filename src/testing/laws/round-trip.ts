/**
 * Round trip: tokens written with the format's serializer read back as the same
 * tokens, for tokens full of delimiters, quotes, line breaks, tabs, backslashes and
 * non-BMP characters (as the format's arbitrary generates them).
 *
 * It protects every conversion that ends in this format (`sluice -t <format>`): a
 * serializer that forgets to quote or escape writes output that reads back as other
 * data, silently.
 */
import fc from 'fast-check';
import { isSluiceError } from '../../core/errors.js';
import { sameData } from '../equal.js';
import { LawViolation } from '../records.js';
import { runFormat, serializeAll } from '../run-format.js';
import { showError, showText, showValue } from '../show.js';
import { syncCheck } from './check.js';
import type { LawContext, LawDefinition } from './types.js';

/** Why a law that needs valid tokens written out cannot run, or undefined. */
export function needsTokensWritten(ctx: LawContext): string | undefined {
  if (!ctx.format.serializer) return 'no serializer';
  if (!ctx.arbitrary)
    return 'no arbitrary of valid tokens (export `arbitrary` from the module or a sibling arbitrary.js)';
  return undefined;
}

/** Writes `tokens`; a serializer that refuses a valid token breaks the law that asked. */
export function writeValid<T>(ctx: LawContext<T>, tokens: readonly T[]): string {
  try {
    return serializeAll(ctx.format, tokens, ctx.rawOptions);
  } catch (e) {
    const token = tokens.find((t) => {
      try {
        serializeAll(ctx.format, [t], ctx.rawOptions);
        return false;
      } catch {
        return true;
      }
    });
    throw new LawViolation(
      `the serializer refused a token of the arbitrary${token === undefined ? '' : ` (${showValue(token)})`} with ${showError(e)}${isSluiceError(e) ? '' : ' (and not even with a SluiceError)'}: the arbitrary must only generate tokens the format can write, or the serializer is wrong`,
    );
  }
}

export const roundTripLaw: LawDefinition = {
  id: 'round-trip',
  title: 'round trip',
  statement: 'tokenize(serialize(tokens)) gives back the tokens',
  skip: needsTokensWritten,
  checks: (ctx) => {
    const arbitrary = ctx.arbitrary!;
    return [
      syncCheck(ctx, {
        label: 'written and read back',
        arbitrary: fc.array(arbitrary, { maxLength: 8 }),
        show: (tokens) => `tokens ${showValue(tokens)}, ${written(ctx, tokens)}`,
        brief: (tokens) => `tokens ${showValue(tokens)}`,
        predicate: (tokens) => {
          const text = writeValid(ctx, tokens);
          const run = runFormat(ctx.format, [text], { options: ctx.rawOptions });
          const first = run.rejects[0];
          if (first) {
            throw new LawViolation(
              `the written text does not read back: line ${first.line} is rejected with ${first.code}: ${first.message}`,
            );
          }
          if (!sameData(run.items, tokens)) {
            const i = run.items.findIndex((t, k) => !sameData(t, tokens[k]));
            const at = i === -1 ? Math.min(run.items.length, tokens.length) : i;
            const what =
              at >= run.items.length
                ? `token ${at + 1}, ${showValue(tokens[at])}, did not come back`
                : at >= tokens.length
                  ? `token ${at + 1}, ${showValue(run.items[at])}, was never written`
                  : `token ${at + 1} was written as ${showValue(tokens[at])} and read back as ${showValue(run.items[at])}`;
            throw new LawViolation(
              `wrote ${count(tokens.length)} and read back ${count(run.items.length)}; ${what}`,
            );
          }
        },
      }),
    ];
  },
};

/** `1 token`, `3 tokens` */
export function count(n: number): string {
  return n === 1 ? '1 token' : `${n} tokens`;
}

/** What the serializer wrote, for showing a counterexample: `written as "…"`, or why nothing was. */
export function written<T>(ctx: LawContext<T>, tokens: readonly T[]): string {
  try {
    return `written as ${showText(serializeAll(ctx.format, tokens, ctx.rawOptions))}`;
  } catch (e) {
    return `not written: the serializer threw ${showError(e)}`;
  }
}
