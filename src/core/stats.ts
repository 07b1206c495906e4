/**
 * The ledger of a run. Every input record is accounted for:
 * `records.in === records.emitted + records.rejected`; every token the tokenizers
 * produced either reached the sinks (possibly expanded by a transform), was dropped
 * on purpose by a transform (`filtered`), or was rejected.
 */
import type { ErrorCode } from './errors.js';

export interface RunStats {
  inputs: number;
  bytes: number;
  records: { in: number; emitted: number; rejected: number; skipped: number };
  items: { tokenized: number; filtered: number; rejected: number; written: number };
  rejectedByCode: Partial<Record<ErrorCode, number>>;
  /** Milliseconds since the run started (updated as it goes, final at the end). */
  elapsedMs: number;
  recordsPerSecond: number;
  bytesPerSecond: number;
  /** Total input size when every input's size is known up front (plain files), for progress. */
  totalBytes?: number;
  /**
   * Milliseconds spent per stage, when the run was asked for timings (`--stats`,
   * `--profile`). With worker threads the worker stages are summed over the workers, so
   * they may add up to more than `elapsedMs`. See docs/concurrency.md.
   */
  stages?: StageTimings;
  /** How the run used threads, when some were asked for (`threads > 0`). */
  threads?: ThreadsReport;
}

/**
 * Time per stage, in ms: `read` waiting for input bytes (main thread); `frame` cutting
 * records and decoding UTF-8; `tokenize` records to tokens (in-process runs count framing
 * here too); `transform` user transforms; `serialize` tokens to output text and bytes;
 * `write` waiting for the sinks (main thread).
 */
export interface StageTimings {
  read?: number;
  frame?: number;
  tokenize?: number;
  transform?: number;
  serialize?: number;
  write?: number;
}

export interface ThreadsReport {
  /** Threads asked for. */
  requested: number;
  /** Threads that converted, the main thread included when it did (1: the main thread alone). */
  used: number;
  /** Worker threads started. */
  workers: number;
  /** Target chunk size handed to a lane, in bytes. */
  chunkBytes?: number;
  /** Why fewer threads were used than asked for. */
  note?: string;
  /**
   * How the `sluice` executable set V8's collector for the run (src/cli/gc-helpers.ts).
   * The library itself never changes V8's flags.
   */
  gc?: string;
}

export function createStats(): RunStats {
  return {
    inputs: 0,
    bytes: 0,
    records: { in: 0, emitted: 0, rejected: 0, skipped: 0 },
    items: { tokenized: 0, filtered: 0, rejected: 0, written: 0 },
    rejectedByCode: {},
    elapsedMs: 0,
    recordsPerSecond: 0,
    bytesPerSecond: 0,
  };
}

/** Refreshes the derived fields. */
export function updateRates(stats: RunStats, startedAt: number): void {
  stats.elapsedMs = Math.max(0, Math.round(performance.now() - startedAt));
  const s = stats.elapsedMs / 1000;
  stats.records.emitted = stats.records.in - stats.records.rejected;
  stats.recordsPerSecond = s > 0 ? Math.round(stats.records.in / s) : 0;
  stats.bytesPerSecond = s > 0 ? Math.round(stats.bytes / s) : 0;
}
