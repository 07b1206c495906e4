/**
 * Runs a format synchronously over bytes, exactly as the engine does (same decoder,
 * same tokenize step), without streams: the basis of every format test and law.
 */
import { createBatchTokenizer } from '../core/batch-tokenizer.js';
import type { Batch, Format, Rejection } from '../core/contracts.js';
import { resolveOptions } from '../core/options.js';

export interface FormatRun<T> {
  items: T[];
  rejects: Rejection[];
  /** Records that carried data, rejected ones included. */
  records: number;
  skipped: number;
}

export interface RunFormatOptions {
  options?: Record<string, unknown>;
  source?: string;
  maxRecordBytes?: number;
}

/** Feeds `chunks` (bytes or strings, in order) through the format's framer and tokenizer. */
export function runFormat<T, O extends object>(
  format: Format<T, O>,
  chunks: Iterable<Uint8Array | string>,
  run: RunFormatOptions = {},
): FormatRun<T> {
  const tokens = createBatchTokenizer(format, {
    source: run.source ?? 'test',
    ...(run.options ? { options: run.options } : {}),
    ...(run.maxRecordBytes !== undefined ? { maxRecordBytes: run.maxRecordBytes } : {}),
  });
  const result: FormatRun<T> = { items: [], rejects: [], records: 0, skipped: 0 };
  const add = (b: Batch<T>): void => {
    for (const r of b.rejects) result.rejects.push({ ...r, at: r.at + result.items.length });
    for (const item of b.items) result.items.push(item);
    result.records += b.records;
    result.skipped += b.skipped;
  };
  for (const chunk of chunks) {
    const batch = tokens.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    if (batch) add(batch);
  }
  for (const batch of tokens.end()) add(batch);
  return result;
}

/** Serializes tokens with the format's serializer: header (if any), then one record per line. */
export function serializeAll<T, O extends object>(
  format: Format<T, O>,
  tokens: readonly T[],
  raw: Record<string, unknown> = {},
): string {
  if (!format.serializer) throw new TypeError(`format ${format.name} has no serializer`);
  const serializer = format.serializer(resolveOptions(format.options, raw, `${format.name}.`));
  let out = '';
  const header = serializer.header?.(tokens[0]);
  if (header !== undefined) out += `${header}\n`;
  for (const t of tokens) out += `${serializer.serialize(t)}\n`;
  return out;
}

/** Splits bytes at the given cut points (any order, duplicates and out-of-range ignored). */
export function chunkAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}
