/**
 * The contracts every format, sink and stage is written against. They are plain
 * data and plain functions so a format can be property-tested synchronously and
 * shipped to a worker thread by module path; one adapter (`tokenize-stream.ts`)
 * turns them into streams.
 */
import type { ErrorCode, Position, Stage } from './errors.js';
import type { OptionsSchema } from './options.js';

export type { Position } from './errors.js';

/**
 * Finds where records end in a byte stream. The core frame decoder owns the bytes
 * (chunk boundaries, CR/LF, BOM, UTF-8, size limits); a scanner only answers "which
 * LF bytes end a record", so a multi-line record (a CSV quoted field) is one record.
 *
 * Lifecycle: the decoder creates one scanner per input with {@link Framer.scanner}
 * and calls {@link RecordScanner.scan} once per chunk, in order. Each call sees the
 * unconsumed bytes so far: the bytes of the previous call from its last reported
 * end onward, followed by the new chunk. Scanner state (inside a quote, say) is the
 * state after every byte scanned so far. `pendingError` is asked once, at end of
 * input, when unterminated bytes remain.
 */
export interface RecordScanner {
  /** Pushes onto `ends` the index in `buf` of every LF at or after `from` that ends a record, in order. */
  scan(buf: Uint8Array, from: number, ends: number[]): void;
  /** At end of input: why the unterminated final record is malformed, if it is (an open quote). */
  pendingError?(): ErrorCode | undefined;
}

export interface Framer {
  readonly name: string;
  /** True when a record may span several lines; the decoder then counts LFs inside records. */
  readonly multiline: boolean;
  scanner(): RecordScanner;
}

/**
 * Turns one record's text into tokens. A fresh tokenizer is made per input (per
 * source), so state across records (a CSV header) lives here and never leaks
 * between inputs.
 *
 * Lifecycle: `tokenize` is called once per record, in input order; the record never
 * contains its terminator, a BOM or a partial character. It appends zero or more
 * tokens to `out` (zero: the record carries no data, like a header or a blank line)
 * or throws a {@link SluiceError} to reject the record; anything else it throws is
 * wrapped as `SLUICE_E_PARSE`. `flush` is called once after the last record, if the
 * input ended without a framing error.
 */
export interface Tokenizer<T> {
  tokenize(record: string, at: Position, out: T[]): void;
  flush?(out: T[]): void;
}

/**
 * Writes tokens back as records of the format. `header` is called once, before the
 * first token is serialized (with that token) or at the end of an empty output (with
 * `undefined`); `serialize` returns one record's text without the record separator.
 */
export interface Serializer<T> {
  header?(first: T | undefined): string | undefined;
  serialize(token: T): string;
}

/**
 * A format is pure data plus pure functions. Built-in and user formats alike
 * default-export one of these (see `defineFormat`).
 */
export interface Format<T = unknown, O extends object = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  readonly mediaTypes: readonly string[];
  readonly extensions: readonly string[];
  /** Validated before `tokenizer`/`serializer` see them; errors name the option. */
  readonly options?: OptionsSchema<O>;
  /** How records are cut from bytes. Default: one record per line. */
  framer?(options: O): Framer;
  /**
   * True (the default) when a record's tokens depend only on that record and the
   * state established by the input's first records (a CSV header), so chunks may be
   * tokenized by fresh tokenizers in any worker.
   */
  readonly parallel?: boolean;
  tokenizer(options: O): Tokenizer<T>;
  serializer?(options: O): Serializer<T>;
  /**
   * Recognizes records that may be copied to the output as they are: the verbatim fast
   * path (ADR 0008), taken only when a run converts this format to itself with the same
   * options, with no transforms, only byte output, and a serializer without `header`.
   * Such a record is neither tokenized nor serialized; the engine counts it as a record
   * that produced one token, written.
   *
   * The promise: `canonical(options)(record) === true` (for a record as the frame
   * decoder hands it: no terminator, no BOM) means that `tokenize` would accept the
   * record producing exactly one token, whatever records came before it, and that the
   * serializer writes that token as exactly `record`. The tokenizer never sees such a
   * record, so a format whose tokens depend on earlier records (a CSV header) must
   * answer false for every record that would change its tokenizer's state.
   *
   * It must be sound, never complete: any doubt is `false`, which only costs the normal
   * path (and gives the normal errors). Keep it cheap: it runs on every record, before
   * the tokenizer. The round-trip law checks the promise for tokens of the format's
   * arbitrary, written and then mutated.
   */
  canonical?(options: O): (record: string) => boolean;
}

/** Adds types to a plain format object; it does nothing at run time. */
export function defineFormat<T, O extends object>(format: Format<T, O>): Format<T, O> {
  return format;
}

/** A record the pipeline did not emit, with everything needed to find and fix it. */
export interface Rejection {
  code: ErrorCode;
  stage: Stage;
  message: string;
  source: string;
  line: number;
  offset: number;
  /** The record's text, cut to 1 KiB on a character boundary; absent when it could not be decoded. */
  record?: string;
  /** How many items of the batch came before this rejection: lets `fail` emit everything before it. */
  at: number;
}

/** The unit the byte-level stages pass on: the records cut from one stretch of input. */
export interface RecordBatch {
  source: string;
  records: string[];
  /** 1-based line where each record starts. */
  lines: number[];
  /** Byte offset where each record starts. */
  offsets: number[];
  rejects: Rejection[];
  /** Input bytes this batch covers (for progress and stats). */
  bytes: number;
}

/** The unit every stage after tokenizing passes on. */
export interface Batch<T> {
  source: string;
  items: T[];
  rejects: Rejection[];
  /** Records given to the tokenizer that carried data, rejected ones included. */
  records: number;
  /**
   * Where each item came from, when the pipeline asked for it (it does when there are
   * transforms, so a transform's rejection can name its line): `lines[i]` and
   * `offsets[i]` are item i's record's line and byte offset.
   */
  lines?: number[];
  offsets?: number[];
  /** Records that carried no data (headers, blank lines). */
  skipped: number;
  bytes: number;
}

/**
 * Where results go. A sink owns its own I/O loop; `write` resolves when the batch is
 * durable as far as this sink can tell (handed to the OS for a file, committed for a
 * database). The pipeline never calls `write` again before the previous call
 * resolved, and calls `close` once after the last write (or after a failure, to
 * release resources). `close` must be idempotent.
 */
export interface Sink<R> {
  readonly name: string;
  write(batch: readonly R[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * A user transform: called once per item, returns the item(s) to emit. Returning an
 * array emits each element; returning `undefined` or `null` drops the item (counted
 * as filtered); throwing rejects it under the error policy.
 */
export type TransformFn<I = unknown, O = unknown> = (
  item: I,
  context: { signal: AbortSignal },
) => O | readonly O[] | undefined | null | Promise<O | readonly O[] | undefined | null>;
