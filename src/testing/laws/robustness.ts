/**
 * Accounting and robustness: on any bytes at all, the tokenizer either appends tokens
 * or throws the engine's coded record error, and every record is accounted for.
 *
 * It protects the run: a tokenizer that throws a plain `TypeError` on input it did not
 * expect is a bug the engine can only guess about (it wraps it as `SLUICE_E_PARSE`), a
 * tokenizer that truncates or rewrites `out` destroys tokens of earlier records in the
 * batch, and one that loops forever stalls the whole pipeline. The tokenizer is called
 * directly here, not through `tokenizeBatch`, precisely so that nothing is wrapped.
 */
import type { Position, Tokenizer } from '../../core/contracts.js';
import { sameData } from '../equal.js';
import { lawInputs } from '../inputs.js';
import { type FramedInput, frameInput, LawViolation, showRecord, uncodedReason } from '../records.js';
import { runFormat } from '../run-format.js';
import { showBytes } from '../show.js';
import { syncCheck } from './check.js';
import type { LawDefinition } from './types.js';

/**
 * Calls `tokenize` for every record into one shared `out`, as `tokenizeBatch` does, and
 * checks each call: only appends, throws only coded record errors. Returns the ledger.
 */
function tokenizeChecked<T>(
  tokenizer: Tokenizer<T>,
  input: FramedInput,
): { withTokens: number; rejected: number; skipped: number; tokens: number; flushRejected: boolean } {
  const out: T[] = [];
  const kept: T[] = [];
  const at: Position = { source: input.source, line: 0, offset: 0 };
  const ledger = { withTokens: 0, rejected: 0, skipped: 0, tokens: 0, flushRejected: false };
  for (let i = 0; i < input.records.length; i++) {
    at.line = input.lines[i]!;
    at.offset = input.offsets[i]!;
    const before = out.length;
    let threw: unknown;
    let failed = false;
    try {
      tokenizer.tokenize(input.records[i]!, at, out);
    } catch (e) {
      threw = e;
      failed = true;
    }
    checkAppendOnly(out, kept, before, () => showRecord(input, i));
    if (failed) {
      const why = uncodedReason(threw);
      if (why) throw new LawViolation(`the tokenizer ${why}, on ${showRecord(input, i)}`);
      // The engine rolls back what a rejected record appended.
      out.length = before;
      ledger.rejected++;
    } else if (out.length === before) {
      ledger.skipped++;
    } else {
      ledger.withTokens++;
    }
    for (let k = before; k < out.length; k++) kept.push(out[k]!);
  }
  ledger.tokens = out.length;
  if (tokenizer.flush) {
    const before = out.length;
    try {
      tokenizer.flush(out);
    } catch (e) {
      const why = uncodedReason(e);
      if (why) throw new LawViolation(`flush ${why}`);
      out.length = before;
      ledger.flushRejected = true;
    }
    checkAppendOnly(out, kept, before, () => 'flush');
    ledger.tokens = out.length;
  }
  return ledger;
}

/** `out` must still hold, unchanged and in place, every token appended before this call. */
function checkAppendOnly<T>(out: T[], kept: readonly T[], before: number, where: () => string): void {
  if (out.length < before) {
    throw new LawViolation(
      `the tokenizer removed tokens from out (it had ${before}, ${out.length} after ${where()}): a tokenizer may only append`,
    );
  }
  for (let k = 0; k < before; k++) {
    if (out[k] !== kept[k]) {
      throw new LawViolation(
        `the tokenizer replaced token ${k + 1} of out while tokenizing ${where()}: a tokenizer may only append`,
      );
    }
  }
}

/** At most this many truncations of one record are tried. */
const MAX_TRUNCATIONS = 16;

/**
 * The record cut short just before and just after each ASCII punctuation or space:
 * where parsers crash or loop (an escape, a quote or a separator at the very end).
 */
export function truncations(record: string): string[] {
  const cuts = new Set<number>();
  for (let i = 0; i < record.length && cuts.size < MAX_TRUNCATIONS; i++) {
    const c = record.charCodeAt(i);
    const punct = c < 0x80 && !((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a));
    if (!punct) continue;
    if (i > 0) cuts.add(i);
    if (i + 1 < record.length) cuts.add(i + 1);
  }
  return [...cuts].map((i) => record.slice(0, i));
}

/** The input's records, each followed by its truncations: more records for the tokenizer to survive. */
function withTruncations(input: FramedInput): FramedInput {
  const out: FramedInput = { source: input.source, records: [], lines: [], offsets: [], rejects: [] };
  for (let i = 0; i < input.records.length; i++) {
    for (const r of [input.records[i]!, ...truncations(input.records[i]!)]) {
      out.records.push(r);
      out.lines.push(input.lines[i]!);
      out.offsets.push(input.offsets[i]!);
    }
  }
  return out;
}

export const robustnessLaw: LawDefinition = {
  id: 'robustness',
  title: 'accounting and robustness',
  statement:
    'on arbitrary bytes the tokenizer yields tokens or coded record errors, never another exception or a hang, and every record is accounted for',
  skip: () => undefined,
  checks: (ctx) => [
    syncCheck(ctx, {
      label: 'arbitrary bytes',
      arbitrary: lawInputs(ctx, { random: 3 }),
      show: (bytes) => `input ${showBytes(bytes)}`,
      predicate: (bytes) => {
        const input = frameInput(ctx.format, ctx.options, [bytes]);
        const ledger = tokenizeChecked(ctx.format.tokenizer(ctx.options), input);
        const recordsIn = input.records.length + input.rejects.length;
        const counted = ledger.withTokens + ledger.rejected + input.rejects.length + ledger.skipped;
        if (counted !== recordsIn) {
          throw new LawViolation(
            `records in (${recordsIn}) != records with tokens (${ledger.withTokens}) + rejected (${ledger.rejected + input.rejects.length}) + skipped (${ledger.skipped})`,
          );
        }
        // The engine's own ledger for the same bytes must close the same way (a
        // rejected flush counts as one more rejected record there).
        const run = runFormat(ctx.format, [bytes], { options: ctx.rawOptions });
        const engine = { in: run.records + run.skipped, tokens: run.items.length };
        const direct = { in: recordsIn + (ledger.flushRejected ? 1 : 0), tokens: ledger.tokens };
        if (!sameData(engine, direct)) {
          throw new LawViolation(
            `the engine counted ${engine.in} records and ${engine.tokens} tokens where the records, called one by one, gave ${direct.in} and ${direct.tokens}`,
          );
        }
        // The same records cut short, in a fresh tokenizer: only coded errors, only appends.
        tokenizeChecked(ctx.format.tokenizer(ctx.options), withTruncations(input));
      },
    }),
  ],
};
