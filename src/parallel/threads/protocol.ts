/**
 * The messages between the main thread and the conversion workers (`--threads`).
 * Everything here is structured-cloneable; input and output bytes travel in transfer
 * lists (moved, not copied).
 */
import type { Rejection } from '../../core/contracts.js';
import type { ErrorCode, Position, Stage } from '../../core/errors.js';

/** What a lane (a worker, or the main thread's own) is set up with; a worker's `workerData`. */
export interface LaneInit {
  /** The lane's number: 0 for the main thread, 1.. for the workers (profile file names, messages). */
  index: number;
  /** A built-in format name. */
  from: string;
  fromOptions: Record<string, unknown>;
  to: string;
  toOptions: Record<string, unknown>;
  /** Transform modules, as `{ spec, url }`: `spec` as the user wrote it (for messages), `url` a file URL. */
  transforms: { spec: string; url: string }[];
  maxRecordBytes: number | undefined;
  /** `fail`: a rejection ends the batch (items after it are not serialized). */
  failFast: boolean;
  /**
   * The run qualifies for the verbatim fast path (decided once, on the main thread, by
   * `verbatimApplies`): records the input format proves canonical are copied through.
   */
  verbatim: boolean;
  /** Write a CPU profile of this worker to this path when told to stop. */
  profile: string | undefined;
  /** Size of the output buffers a worker allocates, so that they can be reused for any chunk. */
  outputBytes: number;
}

/**
 * Records a fresh tokenizer is fed before a chunk's own records, output discarded: the
 * input's records from its start up to the first one that yields a token (included
 * for every chunk but the one that starts with it). They rebuild the state a format
 * keeps across records (a CSV header row, the width of a headerless table).
 */
export interface Replay {
  records: string[];
  lines: number[];
  offsets: number[];
}

/** One framing-aligned stretch of one input, converted end to end by a worker. */
export interface Job {
  seq: number;
  source: string;
  /** Starts at a record start; ends at a record end unless it is the input's last. */
  bytes: Uint8Array;
  startLine: number;
  startOffset: number;
  /** The input's last chunk: its tokenizer is flushed after its records. */
  last: boolean;
  /** The input's {@link Replay}, sent to each worker once (`replay` message) before its first job. */
  replay: number;
  /** Replay every record, the first data record included (false for the chunk that starts with it). */
  replayAll: boolean;
}

/** Milliseconds per stage spent by a worker on one job. */
export interface JobTimings {
  frame: number;
  tokenize: number;
  transform: number;
  serialize: number;
}

/** A job's outcome: what the sequential writer needs to write it and keep the ledger. */
export interface JobResult {
  seq: number;
  /** The lane that converted it (see {@link LaneInit.index}). */
  lane: number;
  /**
   * The items are held in the worker, unserialized: the output serializer has a header
   * and no worker has seen the run's first item yet. The main thread answers with a
   * `serialize` message once it knows whether this job's items come first.
   */
  parked: boolean;
  /** The serialized records (UTF-8), without the header line. */
  bytes: Uint8Array | undefined;
  /** The job's input buffer, handed back for reuse (fresh memory is expensive to touch). */
  input?: ArrayBuffer;
  /** The header line (with its LF), when this job's serialization called `header(first)`. */
  header: string | undefined;
  /** True when this job's serialization called `header` successfully (the run's header is done). */
  headerDone: boolean;
  /** The item `header` was called with, so the other workers' serializers can be primed with it. */
  first?: unknown;
  records: number;
  skipped: number;
  tokenized: number;
  filtered: number;
  /** Items a transform rejected. */
  transformRejected: number;
  written: number;
  /** Every rejection of the job: framing, tokenizing, transforms, serializing. */
  rejects: Rejection[];
  /** Under `fail`: the rejection that ends the run (items before it are in `bytes`). */
  failure: Rejection | undefined;
  timings: JobTimings;
}

/** A SluiceError (or anything thrown) flattened for the trip between threads. */
export interface WireError {
  name: string;
  code?: ErrorCode;
  stage?: Stage;
  message: string;
  position?: Position;
  stack?: string;
}

export type ToWorker =
  | { type: 'replay'; id: number; replay: Replay }
  | { type: 'forget'; id: number }
  | { type: 'job'; job: Job }
  /** Serialize a parked job; `asFirst`: its items may be the run's first (header not written yet). */
  | { type: 'serialize'; seq: number; asFirst: boolean }
  /** The run's header was written from this item: prime this worker's serializer with it. */
  | { type: 'prime'; item: unknown }
  /** Output buffers the main thread has written out and the output released: fill them again. */
  | { type: 'recycle'; buffers: ArrayBuffer[] }
  | { type: 'abort' }
  /** The run is over: stop the profiler (writing the profile) and answer `finished`. */
  | { type: 'finish' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: WireError }
  | { type: 'result'; result: JobResult }
  | { type: 'job-error'; seq: number; error: WireError }
  | { type: 'finished'; error?: WireError };

export function toWire(e: unknown): WireError {
  if (e instanceof Error) {
    const x = e as Error & { code?: unknown; stage?: Stage; position?: Position };
    const w: WireError = { name: e.name, message: e.message };
    if (typeof x.code === 'string' && x.code.startsWith('SLUICE_E_')) w.code = x.code as ErrorCode;
    if (x.stage !== undefined) w.stage = x.stage;
    if (x.position !== undefined) w.position = { ...x.position };
    if (e.stack !== undefined) w.stack = e.stack;
    return w;
  }
  return { name: 'Error', message: String(e) };
}
