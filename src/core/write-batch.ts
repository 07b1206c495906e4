/**
 * The per-batch steps after tokenizing, shared by the in-process writer
 * (`pipeline.ts`) and the worker threads (`--threads`), so both apply transforms,
 * the error policy and the serializer in exactly the same way: one implementation,
 * byte-identical output.
 */
import type { Batch, Rejection, Serializer, TransformFn } from './contracts.js';
import { isSluiceError } from './errors.js';
import { truncateText } from './frame-decoder.js';
import type { RunStats } from './stats.js';
import { VerbatimRecord } from './verbatim.js';

/** The item counters a stage updates (`RunStats.items`). */
export type ItemCounts = RunStats['items'];

/** Runs the user transforms over one batch; a throwing transform rejects that item only. */
export async function applyTransforms(
  batch: Batch<unknown>,
  transforms: readonly TransformFn[],
  counts: ItemCounts,
  signal: AbortSignal,
): Promise<Batch<unknown>> {
  const out: unknown[] = [];
  const lines: number[] = [];
  const offsets: number[] = [];
  const rejects: Rejection[] = [];
  let nextReject = 0;
  const ctx = { signal };
  // The common case, one transform: the same steps without the per-item arrays.
  const only = transforms.length === 1 ? transforms[0] : undefined;
  counts.tokenized += batch.items.length;
  for (let i = 0; i < batch.items.length; i++) {
    // Keep earlier-stage rejections positioned among the items that survive.
    while (nextReject < batch.rejects.length && batch.rejects[nextReject]!.at <= i) {
      rejects.push({ ...batch.rejects[nextReject++]!, at: out.length });
    }
    const line = batch.lines?.[i] ?? 0;
    const offset = batch.offsets?.[i] ?? 0;
    let values: unknown[];
    try {
      if (only !== undefined) {
        let r = only(batch.items[i], ctx);
        if (r instanceof Promise) r = await r;
        if (r !== undefined && r !== null && !Array.isArray(r)) {
          out.push(r);
          lines.push(line);
          offsets.push(offset);
          continue;
        }
        values = [];
        if (r !== undefined && r !== null) for (const x of r) values.push(x);
      } else {
        values = [batch.items[i]];
        for (const t of transforms) {
          const next: unknown[] = [];
          for (const v of values) {
            let r = t(v, ctx);
            if (r instanceof Promise) r = await r;
            if (r === undefined || r === null) continue;
            if (Array.isArray(r)) for (const x of r) next.push(x);
            else next.push(r);
          }
          values = next;
          if (values.length === 0) break;
        }
      }
    } catch (e) {
      counts.rejected++;
      const coded = isSluiceError(e);
      rejects.push({
        code: coded ? e.code : 'SLUICE_E_TRANSFORM',
        stage: 'transform',
        message: e instanceof Error ? e.message : String(e),
        source: batch.source,
        line,
        offset,
        record: preview(batch.items[i]),
        at: out.length,
      });
      continue;
    }
    if (values.length === 0) counts.filtered++;
    for (const v of values) {
      out.push(v);
      lines.push(line);
      offsets.push(offset);
    }
  }
  while (nextReject < batch.rejects.length) rejects.push({ ...batch.rejects[nextReject++]!, at: out.length });
  return { ...batch, items: out, lines, offsets, rejects };
}

/** An item as a rejection's `record` text: strings as they are, anything else as JSON, cut to 1 KiB. */
export function preview(item: unknown): string | undefined {
  try {
    const s = typeof item === 'string' ? item : JSON.stringify(item);
    return s === undefined ? undefined : truncateText(s);
  } catch {
    return undefined;
  }
}

/** Whether the run's output header has been written, and from which item. */
export interface HeaderState {
  headerDone: boolean;
  /** The item `header` was called with (set when this batch did it). */
  first?: unknown;
}

/**
 * Hands the serialized text over in pieces of about `every` characters instead of one
 * string. Keep `every` well under 128 Ki characters: V8 allocates larger strings in its
 * large-object space, which makes building and encoding them about ten times slower
 * (measured; see docs/concurrency.md).
 */
export interface TextFlush {
  every: number;
  emit(text: string): void;
}

export interface WrittenBatch {
  /** The header line with its LF, when this batch wrote it. */
  header: string | undefined;
  /** The serialized records, each followed by LF (with a {@link TextFlush}: those not emitted yet). */
  text: string;
  /** The items that go to the sinks (all of them, or under `fail` those before the failure). */
  items: unknown[];
  /** The batch's rejections, then the serializer's. */
  rejects: Rejection[];
  written: number;
  /** Under `fail`: the rejection that ends the run. */
  failure: Rejection | undefined;
}

/**
 * The error policy and the serializer over one batch, as the sequential writer applies
 * them: under `fail` only the items before the first rejection are written; the header
 * is produced once per run, from the first item to be serialized; an item the
 * serializer refuses becomes a rejection. `serializer` is undefined when no byte
 * output is wanted.
 */
export function writeBatch(
  batch: Batch<unknown>,
  serializer: Serializer<unknown> | undefined,
  state: HeaderState,
  failFast: boolean,
  flush?: TextFlush,
): WrittenBatch {
  const rejects = batch.rejects.slice();
  let items = batch.items;
  // Under `fail`, everything before the first rejection is still written, like any Unix filter.
  let failure: Rejection | undefined;
  if (failFast && rejects.length > 0) {
    failure = rejects.reduce((a, b) => (b.at < a.at ? b : a));
    items = items.slice(0, failure.at);
  }
  let header: string | undefined;
  let text = '';
  let written = items.length;
  if (serializer) {
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      let line: string;
      if (item instanceof VerbatimRecord) {
        // The record is what the serializer would write for its token (verbatim.ts);
        // such items exist only when the serializer has no header to write first.
        state.headerDone = true;
        line = item.text;
      } else {
        try {
          if (!state.headerDone) {
            const h = serializer.header?.(item);
            state.headerDone = true;
            state.first = item;
            if (h !== undefined) header = `${h}\n`;
          }
          line = serializer.serialize(item);
        } catch (e) {
          const r: Rejection = {
            code: isSluiceError(e) ? e.code : 'SLUICE_E_SERIALIZE',
            stage: 'serialize',
            message: e instanceof Error ? e.message : String(e),
            source: batch.source,
            line: batch.lines?.[i] ?? 0,
            offset: batch.offsets?.[i] ?? 0,
            at: i,
          };
          const p = preview(item);
          if (p !== undefined) r.record = p;
          rejects.push(r);
          written--;
          if (failFast) {
            failure = r;
            items = items.slice(0, i);
            written = i;
            break;
          }
          continue;
        }
      }
      text += `${line}\n`;
      if (flush !== undefined && text.length >= flush.every) {
        flush.emit(text);
        text = '';
      }
    }
  }
  return { header, text, items, rejects, written, failure };
}

/** True when {@link writeBatch} would serialize at least one item of `batch` (under `fail`, one before the first rejection). */
export function hasItemsToWrite(batch: Batch<unknown>, failFast: boolean): boolean {
  if (batch.items.length === 0) return false;
  if (!failFast || batch.rejects.length === 0) return true;
  return batch.rejects.every((r) => r.at > 0);
}

const RECORD_STAGES = new Set(['frame', 'tokenize']);

/** Counts a written batch's rejections in the ledger: records (framing, tokenizing), items (serializing), codes. */
export function countRejections(stats: RunStats, rejects: readonly Rejection[]): void {
  for (const r of rejects) {
    if (RECORD_STAGES.has(r.stage)) stats.records.rejected++;
    else if (r.stage === 'serialize') stats.items.rejected++;
    stats.rejectedByCode[r.code] = (stats.rejectedByCode[r.code] ?? 0) + 1;
  }
}
