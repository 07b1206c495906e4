/**
 * The laws' view of a run, one record at a time: bytes are framed exactly as the
 * engine frames them (the format's framer in the core `FrameDecoder`), then each record
 * is handed to a tokenizer directly, not through `tokenizeBatch`, so that what the
 * tokenizer really throws is seen before the engine wraps it.
 */
import type { Format, Position, Rejection, Tokenizer } from '../core/contracts.js';
import { ERROR_CODES, isSluiceError } from '../core/errors.js';
import { FrameDecoder } from '../core/frame-decoder.js';
import { sameData } from './equal.js';
import { showError, showText, showValue } from './show.js';

/** The records of one input, as the framer cut them, with the framing rejections among them. */
export interface FramedInput {
  source: string;
  records: string[];
  lines: number[];
  offsets: number[];
  /** Records the decoder rejected (bad UTF-8, too large, open quote); `at` is the index of the next good record. */
  rejects: Rejection[];
}

/** Frames the bytes (in the given chunks) into records with the format's framer. */
export function frameInput<O extends object>(
  format: Format<unknown, O>,
  options: O,
  chunks: Iterable<Uint8Array>,
  frame: { source?: string; maxRecordBytes?: number } = {},
): FramedInput {
  const source = frame.source ?? 'law';
  const decoder = new FrameDecoder({
    source,
    maxRecordBytes: frame.maxRecordBytes,
    ...(format.framer ? { framer: format.framer(options) } : {}),
  });
  const out: FramedInput = { source, records: [], lines: [], offsets: [], rejects: [] };
  const add = (b: ReturnType<FrameDecoder['push']>): void => {
    if (!b) return;
    for (const r of b.rejects) out.rejects.push({ ...r, at: r.at + out.records.length });
    for (let i = 0; i < b.records.length; i++) {
      out.records.push(b.records[i]!);
      out.lines.push(b.lines[i]!);
      out.offsets.push(b.offsets[i]!);
    }
  };
  for (const chunk of chunks) add(decoder.push(chunk));
  add(decoder.end());
  return out;
}

/** What one `tokenize` (or `flush`) call did. */
export type Outcome<T> =
  | { kind: 'tokens'; tokens: T[] }
  | { kind: 'skipped' }
  | { kind: 'rejected'; error: unknown };

/** Thrown by a law when the format breaks it: the message says how. */
export class LawViolation extends Error {
  override readonly name = 'LawViolation';
}

/** True for what the engine treats as a record's rejection: a SluiceError with a record-level code. */
export function isCodedRecordError(e: unknown): boolean {
  return isSluiceError(e) && e.isRecordError;
}

/**
 * Why a thrown value is not the engine's coded record error, in words a format author
 * can act on, or undefined when it is one.
 */
export function uncodedReason(e: unknown): string | undefined {
  if (isCodedRecordError(e)) return undefined;
  if (isSluiceError(e)) {
    return `threw ${showError(e)}, whose code is not a record-level code (record codes: ${recordCodes().join(', ')})`;
  }
  const looksCoded =
    e instanceof Error && e.name === 'SluiceError' && typeof (e as { code?: unknown }).code === 'string';
  if (looksCoded) {
    return `threw a SluiceError from another copy of sluice (${showError(e)}): import SluiceError from the same 'sluice' the engine runs`;
  }
  return `threw ${showError(e)} instead of a SluiceError with a record-level code`;
}

function recordCodes(): string[] {
  return Object.entries(ERROR_CODES)
    .filter(([, v]) => v.exit === 65)
    .map(([k]) => k);
}

/** Calls `tokenize` once, as the engine does, and reports what happened. `out` starts empty. */
export function tokenizeOne<T>(tokenizer: Tokenizer<T>, record: string, at: Position): Outcome<T> {
  const out: T[] = [];
  try {
    tokenizer.tokenize(record, at, out);
  } catch (error) {
    return { kind: 'rejected', error };
  }
  return out.length === 0 ? { kind: 'skipped' } : { kind: 'tokens', tokens: out };
}

/** Calls `flush` (if any) once and reports what happened. */
export function flushOne<T>(tokenizer: Tokenizer<T>): Outcome<T> {
  if (!tokenizer.flush) return { kind: 'skipped' };
  const out: T[] = [];
  try {
    tokenizer.flush(out);
  } catch (error) {
    return { kind: 'rejected', error };
  }
  return out.length === 0 ? { kind: 'skipped' } : { kind: 'tokens', tokens: out };
}

/**
 * Tokenizes records `from` to `to` of an input with one tokenizer, reusing one
 * position object as the engine does (so a tokenizer that keeps `at` is caught).
 */
export function tokenizeRange<T>(
  tokenizer: Tokenizer<T>,
  input: FramedInput,
  from = 0,
  to = input.records.length,
): Outcome<T>[] {
  const at: Position = { source: input.source, line: 0, offset: 0 };
  const outcomes: Outcome<T>[] = [];
  for (let i = from; i < to; i++) {
    at.line = input.lines[i]!;
    at.offset = input.offsets[i]!;
    outcomes.push(tokenizeOne(tokenizer, input.records[i]!, at));
  }
  return outcomes;
}

/** What a rejection is compared by: its code (for a SluiceError) and message. */
function rejectionKey(e: unknown): { code: string | undefined; message: string } {
  if (isSluiceError(e)) return { code: e.code, message: e.message };
  return { code: undefined, message: showError(e) };
}

/** True when two outcomes are the same: equal tokens, both skipped, or the same code and message. */
export function sameOutcome<T>(a: Outcome<T>, b: Outcome<T>): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'tokens') return sameData(a.tokens, (b as typeof a).tokens);
  if (a.kind === 'rejected') {
    return sameData(rejectionKey(a.error), rejectionKey((b as typeof a).error));
  }
  return true;
}

/** An outcome in a few words: `2 tokens [{…}, {…}]`, `skipped`, `rejected: SluiceError [SLUICE_E_PARSE]: …`. */
export function showOutcome<T>(o: Outcome<T>): string {
  switch (o.kind) {
    case 'tokens':
      return `${o.tokens.length === 1 ? '1 token' : `${o.tokens.length} tokens`} ${showValue(o.tokens)}`;
    case 'skipped':
      return 'no token (skipped)';
    case 'rejected':
      return `rejected with ${showError(o.error)}`;
  }
}

/** `record 3 (line 4) "a=1 b"`: which record, for messages. */
export function showRecord(input: FramedInput, i: number): string {
  return `record ${i + 1} (line ${input.lines[i]}) ${showText(input.records[i] ?? '')}`;
}
