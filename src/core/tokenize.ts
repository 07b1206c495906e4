/**
 * The record → token step, shared by every format: it calls the format's tokenizer
 * once per record in plain code (no stream per record), turns whatever a tokenizer
 * throws into a coded rejection with its position, and keeps the count that proves
 * no record was lost: `records = emitted + rejected`.
 */
import type { Batch, Position, RecordBatch, Rejection, Tokenizer } from './contracts.js';
import { ERROR_CODES, isSluiceError } from './errors.js';
import { truncateText } from './frame-decoder.js';
import { type CanonicalCheck, VerbatimRecord } from './verbatim.js';

export function emptyBatch<T>(source: string): Batch<T> {
  return { source, items: [], rejects: [], records: 0, skipped: 0, bytes: 0 };
}

/**
 * Tokenizes one record batch. Framing rejections are carried over in order, their
 * `at` re-expressed in items; each counts as a record. With `trackOrigins`, the batch
 * also records each item's line and offset (`Batch.lines`/`offsets`).
 *
 * With `canonical` (the verbatim fast path, see `verbatim.ts`; only for runs that
 * qualify), a record it accepts is not tokenized: its item is a {@link VerbatimRecord}
 * holding its text, counted as a record that gave one token.
 */
export function tokenizeBatch<T>(
  tokenizer: Tokenizer<T>,
  input: RecordBatch,
  trackOrigins = false,
  canonical?: CanonicalCheck,
): Batch<T> {
  const out = emptyBatch<T>(input.source);
  out.bytes = input.bytes;
  const items = out.items;
  const itemLines: number[] | undefined = trackOrigins ? [] : undefined;
  const itemOffsets: number[] | undefined = trackOrigins ? [] : undefined;
  if (itemLines && itemOffsets) {
    out.lines = itemLines;
    out.offsets = itemOffsets;
  }
  const frameRejects = input.rejects;
  let nextReject = 0;
  // One position object per batch, refreshed per record: the contract says `at` is
  // only valid during the call, which spares an allocation per record.
  const at: Position = { source: input.source, line: 0, offset: 0 };
  const { records, lines, offsets } = input;
  for (let r = 0; r < records.length; r++) {
    while (nextReject < frameRejects.length && frameRejects[nextReject]!.at <= r) {
      out.rejects.push({ ...frameRejects[nextReject++]!, at: items.length });
      out.records++;
    }
    const record = records[r]!;
    at.line = lines[r]!;
    at.offset = offsets[r]!;
    const before = items.length;
    if (canonical?.(record)) {
      (items as unknown[]).push(new VerbatimRecord(record));
      out.records++;
      if (itemLines) {
        itemLines.push(at.line);
        itemOffsets!.push(at.offset);
      }
      continue;
    }
    try {
      tokenizer.tokenize(record, at, items);
    } catch (e) {
      // A failing record emits nothing, even tokens it appended before throwing.
      items.length = before;
      out.rejects.push(tokenizerRejection(e, at, record, before));
      out.records++;
      continue;
    }
    if (items.length === before) out.skipped++;
    else out.records++;
    if (itemLines) {
      for (let i = before; i < items.length; i++) {
        itemLines.push(at.line);
        itemOffsets!.push(at.offset);
      }
    }
  }
  while (nextReject < frameRejects.length) {
    out.rejects.push({ ...frameRejects[nextReject++]!, at: items.length });
    out.records++;
  }
  return out;
}

/** Runs the tokenizer's `flush` at end of input; a throw becomes a rejection at the end position. */
export function flushTokenizer<T>(tokenizer: Tokenizer<T>, source: string, end: Position): Batch<T> {
  const out = emptyBatch<T>(source);
  if (!tokenizer.flush) return out;
  try {
    tokenizer.flush(out.items);
  } catch (e) {
    out.items.length = 0;
    out.rejects.push(tokenizerRejection(e, end, undefined, 0));
    out.records++;
  }
  return out;
}

function tokenizerRejection(e: unknown, at: Position, record: string | undefined, index: number): Rejection {
  const code = isSluiceError(e) ? e.code : 'SLUICE_E_PARSE';
  const r: Rejection = {
    code,
    stage: 'tokenize',
    // An Error without a message (`new Error()`) falls back to the code's own message.
    message: (e instanceof Error ? e.message : String(e)) || ERROR_CODES[code].message,
    source: at.source,
    line: at.line,
    offset: at.offset,
    at: index,
  };
  if (record !== undefined) r.record = truncateText(record);
  return r;
}
