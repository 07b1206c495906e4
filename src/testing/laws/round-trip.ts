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
import type { Position } from '../../core/contracts.js';
import { isSluiceError } from '../../core/errors.js';
import { HOSTILE_PIECES } from '../arbitraries.js';
import { sameData } from '../equal.js';
import { frameInput, LawViolation } from '../records.js';
import { runFormat, serializeAll } from '../run-format.js';
import { showError, showText, showValue } from '../show.js';
import { syncCheck } from './check.js';
import type { LawCheck, LawContext, LawDefinition } from './types.js';

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
  statement:
    'tokenize(serialize(tokens)) gives back the tokens; a record the format calls canonical is written back as itself',
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
      // Formats that offer the verbatim fast path (ADR 0008) promise more.
      ...(ctx.format.canonical ? [canonicalVerbatim(ctx)] : []),
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

/**
 * One edit of a written record: a hostile piece inserted or put in place of some
 * characters, characters deleted, a stretch of the written text (of any record) copied
 * in, or the stretch between two separators repeated.
 */
type Edit =
  | { kind: 'insert' | 'replace'; at: number; n: number; piece: string }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'copy'; at: number; from: number; n: number }
  | { kind: 'repeat'; from: number; to: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('insert' as const, 'replace' as const),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 3 }),
    piece: fc.constantFrom(...HOSTILE_PIECES),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    kind: fc.constant('copy' as const),
    at: fc.nat(),
    from: fc.nat(),
    n: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({ kind: fc.constant('repeat' as const), from: fc.nat(), to: fc.nat() }),
);

/** Characters that commonly separate fields: a `repeat` edit repeats what lies between two of them. */
const SEPARATORS = /[,;|:=\t {}[\]]/g;

function applyEdits(text: string, all: string, edits: readonly Edit[]): string {
  let s = text;
  for (const e of edits) {
    if (e.kind === 'repeat') {
      // A field repeated in place (`{"a":1,"b":2}` → `{"a":1,"b":2,"b":2}`): a repeated key, say.
      const cuts = [...s.matchAll(SEPARATORS)].map((m) => m.index);
      if (cuts.length < 2) continue;
      const a = cuts[e.from % cuts.length]!;
      const b = cuts[e.to % cuts.length]!;
      const [p, q] = a < b ? [a, b] : [b, a];
      s = s.slice(0, q) + s.slice(p, q) + s.slice(q);
      continue;
    }
    const i = e.at % (s.length + 1);
    if (e.kind === 'copy') {
      const from = e.from % (all.length + 1);
      s = s.slice(0, i) + all.slice(from, from + e.n) + s.slice(i);
    } else if (e.kind === 'delete') {
      s = s.slice(0, i) + s.slice(i + e.n);
    } else {
      s = s.slice(0, i) + e.piece + s.slice(e.kind === 'insert' ? i : i + e.n);
    }
  }
  return s;
}

/**
 * `Format.canonical`'s promise (ADR 0008): a record it accepts is accepted by the
 * tokenizer with exactly one token, which the serializer writes as the record itself.
 * Checked over the records of written tokens, some of them edited, framed as the
 * engine frames them and checked in order by one check (it may learn as it goes), each
 * record tokenized after the ones before it.
 */
function canonicalVerbatim<T>(ctx: LawContext<T>): LawCheck {
  const format = ctx.format;
  return syncCheck(ctx, {
    label: 'canonical records round-trip verbatim',
    arbitrary: fc.array(fc.tuple(ctx.arbitrary!, fc.array(edit, { maxLength: 2 })), { maxLength: 8 }),
    show: (cases) => `records ${showValue(recordsOf(ctx, cases))}`,
    predicate: (cases) => {
      const text = recordsOf(ctx, cases).join('\n');
      const check = format.canonical!(ctx.options);
      const tokenizer = format.tokenizer(ctx.options);
      const serializer = format.serializer!(ctx.options);
      const framed = frameInput(format, ctx.options, [Buffer.from(text, 'utf8')]);
      const at: Position = { source: framed.source, line: 0, offset: 0 };
      for (let i = 0; i < framed.records.length; i++) {
        const record = framed.records[i]!;
        at.line = framed.lines[i]!;
        at.offset = framed.offsets[i]!;
        const canonical = check(record);
        const out: T[] = [];
        let error: unknown;
        try {
          tokenizer.tokenize(record, at, out);
        } catch (e) {
          error = e;
        }
        if (!canonical) continue;
        const said = `canonical(${showText(record)}) is true, but`;
        if (error !== undefined)
          throw new LawViolation(`${said} the tokenizer rejects it with ${showError(error)}`);
        if (out.length !== 1)
          throw new LawViolation(`${said} the tokenizer gives ${count(out.length)}, not 1`);
        let written: string;
        try {
          written = serializer.serialize(out[0]!);
        } catch (e) {
          throw new LawViolation(
            `${said} the serializer refuses its token ${showValue(out[0])} with ${showError(e)}`,
          );
        }
        if (written !== record) {
          throw new LawViolation(`${said} its token ${showValue(out[0])} is written as ${showText(written)}`);
        }
      }
    },
  });
}

/** The text of the written tokens, line by line, edited. */
function recordsOf<T>(ctx: LawContext<T>, cases: readonly (readonly [T, readonly Edit[]])[]): string[] {
  let text: string;
  try {
    text = serializeAll(
      ctx.format,
      cases.map(([t]) => t),
      ctx.rawOptions,
    );
  } catch {
    // The other check of this law reports a serializer that refuses a valid token.
    return [];
  }
  // Edits go line by line (the first ones to a header, if the format writes one): any text will do.
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => applyEdits(line, text, cases[i]?.[1] ?? []));
}
