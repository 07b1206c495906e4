/**
 * Fan-in of sources: many readables in, one readable out. The first stage of the
 * pipeline (files, stdin and HTTP bodies merge into one stream of batches) and the
 * general way to read a list of inputs as one.
 *
 * One engine serves both modes: inputs are opened in the order given, at most
 * `limit` at a time, and the next is opened when one ends. Ordered merging is the
 * case `limit = 1`, which is exactly `cat`; unordered merging lets up to
 * `concurrency` inputs flow at once and forwards chunks as they arrive.
 *
 * Backpressure works like `pipe()`: every open input flows into the merged stream's
 * buffer, and when `push()` returns false all open inputs are paused until Node asks
 * for more (`_read`). An input is never read faster than the merged stream is consumed.
 */
import { finished, Readable } from 'node:stream';
import { SluiceError } from '../core/errors.js';
import {
  abortedError,
  booleanOption,
  describeValue,
  integerOption,
  optionError,
  signalOption,
  whenAborted,
} from './internal.js';

/**
 * One input: a stream that is already open, or a factory that opens it when its turn
 * comes. Prefer factories for files: 1000 factories hold no file descriptors until
 * they are read, 1000 `createReadStream`s hold 1000 (or fail with EMFILE).
 */
export type MergeInput = Readable | (() => Readable);

export interface MergeOptions {
  /**
   * `true`: inputs are read one after another in the order given, like `cat`; a
   * factory is called only when the input before it has ended. `false`: up to
   * `concurrency` inputs are read at once and their chunks interleave as they arrive
   * (each input's own chunks stay in order).
   * @default true
   */
  ordered?: boolean;
  /**
   * How many inputs are open and flowing at once when `ordered` is false (ignored when
   * ordered, which reads exactly one). An integer >= 1, or `Infinity`.
   *
   * Not `Infinity` by default: each open input holds a file descriptor or socket and a
   * buffer (64 KiB for a file stream), so the bound keeps both in check for long input
   * lists, while 16 concurrent reads are plenty to keep a disk or a network busy.
   * @default 16
   */
  concurrency?: number;
  /**
   * Whether the merged stream carries objects (batches) or bytes. In byte mode every
   * input must produce Buffers or strings.
   * @default true
   */
  objectMode?: boolean;
  /**
   * Chunks the merged stream buffers before its inputs are paused.
   * @default Node's default for the mode: `stream.getDefaultHighWaterMark(objectMode)`
   */
  highWaterMark?: number;
  /** Destroys the merged stream with a `SLUICE_E_ABORTED` error (the signal's reason as `cause`) when it aborts. */
  signal?: AbortSignal;
}

/**
 * The merged stream: a plain `Readable` whose async iterator is typed with the chunk
 * type, so `for await (const batch of merge<Batch<Row>>(inputs))` needs no cast.
 */
export interface MergedReadable<T> extends Readable {
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<T>;
}

/**
 * Merges many readables into one.
 *
 * Ownership: the merged stream owns every input given to it. When the merged stream
 * fails or is destroyed it destroys every input it opened and every stream in
 * `inputs` it had not reached yet, and it calls no further factories. The first
 * error wins, as in `stream.pipeline`: an input that errors (or closes before its
 * end) destroys the merged stream with that error, and later errors are ignored.
 *
 * `inputs` is read to its end at once (a factory is not called, a stream is not
 * read) so that an input that fails before its turn, like a `createReadStream` of a
 * missing file, fails the merge instead of crashing the process with an unhandled
 * 'error' event. An infinite iterable is therefore not supported.
 *
 * With no inputs the merged stream ends at once.
 *
 * @typeParam T - The chunk type the inputs produce. Not checked: it types the merged
 * stream's async iterator only.
 * @throws `SluiceError` `SLUICE_E_OPTION` (stage `config`) for an invalid option or an
 * input that is neither a Readable nor a function.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 *
 * // Like `cat a.ndjson b.ndjson c.ndjson`, opening one file at a time.
 * const all = merge(files.map((f) => () => createReadStream(f)), { objectMode: false });
 * ```
 */
export function merge<T = unknown>(
  inputs: Iterable<MergeInput>,
  options: MergeOptions = {},
): MergedReadable<T> {
  if (inputs === null || typeof (inputs as Partial<Iterable<MergeInput>>)?.[Symbol.iterator] !== 'function') {
    optionError('inputs', 'an iterable of Readables or functions returning one', inputs);
  }
  if (options === null || typeof options !== 'object') optionError('options', 'an object', options);
  const ordered = booleanOption('ordered', options.ordered, true);
  const concurrency = integerOption('concurrency', options.concurrency, 16, 1, true);
  const objectMode = booleanOption('objectMode', options.objectMode, true);
  const highWaterMark =
    options.highWaterMark === undefined
      ? undefined
      : integerOption('highWaterMark', options.highWaterMark, 0, 0);
  const signal = signalOption('signal', options.signal);
  const list = Array.from(inputs, (input, i) => {
    if (typeof input !== 'function' && !isReadable(input)) {
      optionError(`inputs[${i}]`, 'a Readable or a function returning one', input);
    }
    return input;
  });
  return new Merge(list, { limit: ordered ? 1 : concurrency, objectMode, highWaterMark, signal });
}

interface Settings {
  limit: number;
  objectMode: boolean;
  highWaterMark: number | undefined;
  signal: AbortSignal | undefined;
}

class Merge extends Readable {
  /** Inputs not opened yet; a slot is cleared once taken so the merge does not keep ended inputs alive. */
  readonly #pending: (MergeInput | undefined)[];
  #next = 0;
  readonly #limit: number;
  /** Opened inputs that have not ended yet. */
  readonly #open = new Set<Readable>();
  #started = false;
  /** True after push() returned false: open inputs are paused until `_read`. */
  #paused = false;
  #detachSignal: () => void = noop;

  // Shared by every input, so opening one allocates no per-chunk or per-error closure.
  readonly #onData = (chunk: unknown): void => {
    if (this.destroyed) return;
    if (!this.push(chunk) && !this.#paused && !this.destroyed) {
      this.#paused = true;
      for (const input of this.#open) input.pause();
    }
  };
  readonly #onError = (error: Error): void => {
    this.destroy(error);
  };

  constructor(inputs: MergeInput[], s: Settings) {
    super({
      objectMode: s.objectMode,
      ...(s.highWaterMark === undefined ? {} : { highWaterMark: s.highWaterMark }),
    });
    this.#pending = inputs;
    this.#limit = s.limit;
    // Streams handed over already open can fail before their turn; listening now turns
    // that into the merge's error rather than an unhandled 'error' event.
    for (const input of inputs) if (typeof input !== 'function') input.on('error', this.#onError);
    this.#detachSignal = whenAborted(s.signal, () => this.destroy(abortedError(s.signal?.reason)));
  }

  override _read(): void {
    if (!this.#started) {
      // Nothing is opened before the first read, so an unread merge holds no descriptors.
      this.#started = true;
      this.#fill();
    } else if (this.#paused) {
      this.#paused = false;
      for (const input of this.#open) input.resume();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#detachSignal();
    // Release everything owned: what is open, and what was handed over but not reached.
    for (const input of this.#open) if (!input.destroyed) input.destroy();
    this.#open.clear();
    for (let i = this.#next; i < this.#pending.length; i++) {
      const input = this.#pending[i];
      if (input !== undefined && typeof input !== 'function' && !input.destroyed) input.destroy();
      this.#pending[i] = undefined;
    }
    this.#next = this.#pending.length;
    callback(error);
  }

  /** Opens inputs in order until `limit` are open; ends the merge when none is left. */
  #fill(): void {
    while (this.#open.size < this.#limit && this.#next < this.#pending.length && !this.destroyed) {
      const index = this.#next++;
      const entry = this.#pending[index]!;
      this.#pending[index] = undefined;
      const input = this.#openInput(entry, index);
      if (input !== undefined) this.#attach(input);
    }
    if (this.#open.size === 0 && this.#next >= this.#pending.length && !this.destroyed) this.push(null);
  }

  #openInput(entry: MergeInput, index: number): Readable | undefined {
    if (typeof entry !== 'function') return entry;
    let input: unknown;
    try {
      input = entry();
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error), { cause: error }));
      return undefined;
    }
    if (!isReadable(input)) {
      this.destroy(
        new SluiceError(
          'SLUICE_E_OPTION',
          `inputs[${index}]: expected the function to return a Readable, got ${describeValue(input)}`,
          { stage: 'config' },
        ),
      );
      return undefined;
    }
    input.on('error', this.#onError);
    return input;
  }

  #attach(input: Readable): void {
    this.#open.add(input);
    // finished() reports the end, an error, or a close before the end (premature close):
    // an input that just stops is a failure, never a silent truncation.
    finished(input, { writable: false }, (error) => this.#ended(input, error));
    input.on('data', this.#onData);
    // Explicit either way: a stream handed over may have been paused by its creator.
    if (this.#paused) input.pause();
    else input.resume();
  }

  #ended(input: Readable, error: Error | null | undefined): void {
    if (this.destroyed) return;
    if (error) {
      this.destroy(error);
      return;
    }
    this.#open.delete(input);
    input.off('data', this.#onData);
    this.#fill();
  }
}

/** Duck-typed so streams from the `readable-stream` package, or other realms, are accepted. */
function isReadable(v: unknown): v is Readable {
  if (v === null || typeof v !== 'object') return false;
  const r = v as Partial<Readable>;
  return (
    typeof r.on === 'function' &&
    typeof r.pause === 'function' &&
    typeof r.resume === 'function' &&
    typeof r.destroy === 'function'
  );
}

function noop(): void {}
