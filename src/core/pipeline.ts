/**
 * Pipeline assembly: inputs → (gunzip) → frame + tokenize (one tokenizer per input)
 * → merge → user transforms on a concurrency-limited parallel transform → one
 * writer that applies the error policy, serializes and writes to every sink.
 *
 * The writer is the only sequential stage after the merge: it keeps the output header
 * and the ledger consistent, and it is where backpressure from the slowest sink
 * reaches back to the inputs.
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { pipeline as pipelineCb, type Readable, type Transform, Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { merge } from '../parallel/merge.js';
import { parallelTransform } from '../parallel/parallel-transform.js';
import { importTransform, type TransformModule, transformModule } from '../parallel/threads/modules.js';
import { startCpuProfile } from '../parallel/threads/profile.js';
import { deadLetterSink } from '../sinks/dead-letter.js';
import { fileOutput, fileSink } from '../sinks/file.js';
import { outputError, streamSink } from '../sinks/stream-sink.js';
import type { Batch, Rejection, Serializer, Sink, TransformFn } from './contracts.js';
import { type ErrorCode, isSluiceError, SluiceError, toSluiceError } from './errors.js';
import { resolveOptions } from './options.js';
import type { AnyFormat, FormatRegistry } from './registry.js';
import { autoGunzip, type Input, type InputSpec, toInput } from './sources.js';
import { createStats, type RunStats, type StageTimings, updateRates } from './stats.js';
import { DEFAULT_CHUNK_BYTES, type Lanes, laneCount, runThreaded } from './threaded-pipeline.js';
import { createTokenizerStream } from './tokenize-stream.js';
import { type CanonicalCheck, canonicalCheck, verbatimApplies } from './verbatim.js';
import { applyTransforms, countRejections, type HeaderState, writeBatch } from './write-batch.js';

/**
 * What happens to a rejected record: `fail` ends the run with a coded error naming
 * it (records before it are written); `skip` counts it; a dead letter receives it
 * with its source, line, offset and reason (`dead-letter=<path>` or a sink).
 */
export type ErrorPolicy = 'fail' | 'skip' | `dead-letter=${string}` | { deadLetter: Sink<Rejection> };

export interface PipelineOptions {
  /** Paths (`-` is stdin), Readables or {@link Input}s, read in this order. */
  inputs: readonly InputSpec[];
  /** The input format: a registered name or a Format object. */
  from: string | AnyFormat;
  fromOptions?: Record<string, unknown>;
  /** The output format for byte output; needs a serializer. */
  to?: string | AnyFormat;
  toOptions?: Record<string, unknown>;
  /**
   * Where `to` output goes: a path or a Writable. A path is written with synchronous
   * writes, as Node writes a stdout redirected to a file. A Writable is written as it
   * asks (waiting for 'drain'); Node's stdout on a pipe is asynchronous, and the
   * stages upstream run ahead while it drains, which costs GC with transforms. The
   * `sluice` executable makes a piped stdout blocking for that reason (ADR 0016); an
   * application that owns its stdout may do the same.
   * @default process.stdout
   */
  output?: string | NodeJS.WritableStream;
  /** Sinks that receive items (after transforms) as objects, in addition to any `to` output. */
  // biome-ignore lint/suspicious/noExplicitAny: sinks take whatever the transforms emit.
  sinks?: readonly Sink<any>[];
  /**
   * Applied to every item in order; see {@link TransformFn}. A string or URL is a module
   * (a path, resolved against the working directory, or a file URL) whose default export
   * is the function: the only kind worker threads can run.
   */
  // biome-ignore lint/suspicious/noExplicitAny: user transforms are typed by the caller.
  transforms?: readonly (TransformFn<any, any> | string | URL)[];
  /**
   * Batches in flight through the transforms; with `threads`, chunks in flight per
   * worker thread. @default 4
   */
  concurrency?: number;
  /**
   * Threads that convert framing-aligned chunks of input end to end (decode, tokenize,
   * transforms, serialize), the main thread included, as GOMAXPROCS counts it: N runs
   * the main thread and N-1 worker threads (N workers with `isolate`). 1 runs the main
   * thread alone through the same chunk engine, which does less per record than the
   * in-process pipeline of streams that 0 runs (ADR 0017). Output is the same, byte for
   * byte, in ordered mode. Worker threads need built-in formats, byte output (`to`) and
   * transforms given as modules, and no object sinks (at 1, object sinks take the
   * in-process pipeline). A format with `parallel: false` runs in the in-process
   * pipeline whatever the count (`stats.threads.note` says so).
   * `'auto'`: one per core the process may use (`os.availableParallelism()`), or the
   * main thread alone when the inputs are files of less than
   * {@link AUTO_WORKERS_FROM_BYTES} in all. See docs/concurrency.md. @default 0
   */
  threads?: number | 'auto';
  /**
   * With `threads`: convert in worker threads only, the main thread reading and writing.
   * A transform that crashes its thread (an uncaught error, `process.exit`, running out
   * of heap) then fails the run with `SLUICE_E_INTERNAL` instead of ending the process.
   * Costs a worker's start-up and heap for the main thread's share. @default false
   */
  isolate?: boolean;
  /** With `threads`: the size of the chunks handed to workers, in bytes. @default 256 KiB */
  chunkBytes?: number;
  /**
   * Write a V8 CPU profile of the main thread to this path (`.cpuprofile`, opens in
   * Chrome DevTools and speedscope), and of each worker thread next to it
   * (`<path minus .cpuprofile>.worker-<i>.cpuprofile`). Also turns on `timings`.
   */
  profile?: string;
  /** Fill `stats.stages` with the time spent per stage. @default false */
  timings?: boolean;
  /** Keep input order. @default true */
  ordered?: boolean;
  /**
   * The verbatim fast path (ADR 0008): when converting a format to itself with the same
   * options, no transforms and no object sinks, records the format proves canonical
   * (`Format.canonical`) are copied to the output without being parsed and written
   * again. The output is the same either way; false turns it off (to compare, or to
   * measure the normal path). @default true
   */
  verbatim?: boolean;
  /** @default 'fail' */
  onError?: ErrorPolicy;
  /** Longest record accepted, in bytes. @default 1 MiB */
  maxRecordBytes?: number;
  /** Where format names are looked up. */
  registry?: FormatRegistry;
  signal?: AbortSignal;
  /** Filled as the run goes (read it for progress); also returned. */
  stats?: RunStats;
  /** Called after every batch written. Keep it cheap; throttle on your side. */
  onProgress?: (stats: RunStats) => void;
}

/**
 * Runs a whole job and resolves with its ledger once every sink has closed. With the
 * `fail` policy a rejected record rejects the promise with a {@link SluiceError}
 * naming its source and line; the ledger up to then is in `options.stats`.
 *
 * @example
 * ```ts
 * const stats = await pipeline({ inputs: ['users.csv'], from: 'csv', to: 'ndjson', output: 'users.ndjson' });
 * ```
 */
export async function pipeline(options: PipelineOptions): Promise<RunStats> {
  const path = options.profile;
  if (path === undefined) return run(options);
  // Fails before any input is read when the profile cannot be written.
  await writeFile(path, '').catch((e: Error) => {
    throw new SluiceError('SLUICE_E_OUTPUT', `cannot write the profile ${path}: ${e.message}`, {
      stage: 'config',
      cause: e,
    });
  });
  const profiler = await startCpuProfile();
  let result: RunStats;
  try {
    result = await run(options);
  } catch (e) {
    await profiler.stop(path).catch(() => {});
    throw e;
  }
  await profiler.stop(path).catch((e: Error) => {
    throw outputError(`cannot write the profile ${path}`, e);
  });
  return result;
}

async function run(options: PipelineOptions): Promise<RunStats> {
  const started = performance.now();
  const stats = options.stats ?? createStats();
  if ((options.timings || options.profile !== undefined) && !stats.stages) stats.stages = {};
  const stageTimes: StageTimings | undefined = stats.stages;
  const lookup = async (f: string | AnyFormat): Promise<AnyFormat> => {
    if (typeof f !== 'string') return f;
    // The built-ins are loaded only when a format is named without a registry.
    const registry = options.registry ?? (await import('./builtins.js')).defaultRegistry;
    return registry.get(f);
  };
  const from = await lookup(options.from);
  const to = options.to === undefined ? undefined : await lookup(options.to);
  // Validate everything before the first byte is read, so usage errors come first.
  resolveOptions(from.options, options.fromOptions, `${from.name}.`);
  const serializer = to ? makeSerializer(to, options.toOptions) : undefined;
  const concurrency = options.concurrency ?? 4;
  const ordered = options.ordered ?? true;
  const inputs = options.inputs.map(toInput);
  const knownBytes = inputs.every((i) => i.size !== undefined)
    ? inputs.reduce((n, i) => n + i.size!, 0)
    : undefined;
  const lanes = await threadsFor(options, from, to, stats, knownBytes);
  const verbatim =
    options.verbatim !== false &&
    verbatimApplies({
      from,
      fromOptions: options.fromOptions,
      to,
      toOptions: options.toOptions,
      serializer,
      transforms: options.transforms?.length ?? 0,
      objectSinks: options.sinks?.length ?? 0,
    });
  const transforms: TransformFn[] = [];
  // Workers load their transforms from modules; the main thread's lane and the
  // in-process pipeline run functions.
  const workers = lanes.workers > 0;
  const laneTransforms: (TransformModule | TransformFn)[] = [];
  for (const t of options.transforms ?? []) {
    if (typeof t === 'function') transforms.push(t);
    else if (workers) laneTransforms.push(transformModule(t));
    else transforms.push(await importTransform(transformModule(t)));
  }
  if (!workers) laneTransforms.push(...transforms);
  stats.inputs = inputs.length;
  if (knownBytes !== undefined) stats.totalBytes = knownBytes;

  const sinks: { sink: Sink<unknown>; bytes: boolean }[] = [];
  let deadLetter: Sink<Rejection> | undefined;
  let outputReleased: (() => boolean) | undefined;
  const policy = options.onError ?? 'fail';
  try {
    if (serializer) {
      const out = options.output ?? process.stdout;
      let sink: Sink<string | Uint8Array>;
      if (typeof out === 'string') {
        // Written synchronously, as a stdout redirected to a file is (see fileOutput).
        const file = await fileOutput(out);
        sink = file.sink;
        outputReleased = file.released;
      } else {
        sink = streamSink(out as Writable, {
          name: out === process.stdout ? 'stdout' : 'output',
          end: out !== process.stdout,
          // stdout (a file, pipe, socket or terminal) is done with a chunk when it calls back.
          reuseBuffers: out === process.stdout,
        });
        if (out === process.stdout) outputReleased = () => process.stdout.writableLength === 0;
      }
      sinks.push({ sink: sink as Sink<unknown>, bytes: true });
    }
    for (const s of options.sinks ?? []) sinks.push({ sink: s, bytes: false });
    if (typeof policy === 'object') deadLetter = policy.deadLetter;
    else if (policy.startsWith('dead-letter=')) deadLetter = deadLetterSink(await fileSink(policy.slice(12)));
    else if (policy !== 'fail' && policy !== 'skip') {
      throw new SluiceError(
        'SLUICE_E_OPTION',
        `onError: expected fail, skip or dead-letter=<path>, got ${policy}`,
        {
          stage: 'config',
        },
      );
    }
    if (sinks.length === 0) {
      throw new SluiceError('SLUICE_E_USAGE', 'nowhere to write: give an output format (`to`) or sinks', {
        stage: 'config',
      });
    }

    if (laneCount(lanes) > 0 && serializer && to) {
      await runThreaded({
        ...lanes,
        inputs,
        paths: options.inputs.map((spec) => (typeof spec === 'string' && spec !== '-' ? spec : undefined)),
        from,
        fromName: from.name,
        fromOptions: options.fromOptions ?? {},
        to,
        toName: to.name,
        toOptions: options.toOptions ?? {},
        serializer,
        transforms: laneTransforms,
        sinks: sinks.filter((s) => s.bytes).map((s) => s.sink),
        deadLetter,
        failFast: policy === 'fail',
        verbatim,
        ordered,
        concurrency,
        maxRecordBytes: options.maxRecordBytes,
        chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        stats,
        started,
        onProgress: options.onProgress,
        signal: options.signal,
        profile: options.profile,
        outputReleased,
      });
      await Promise.all([...sinks.map((s) => s.sink.close()), deadLetter?.close()]);
      updateRates(stats, started);
      return stats;
    }
    const fromResolved = resolveOptions(from.options, options.fromOptions, `${from.name}.`);
    // One check per input, as for the tokenizer.
    const check = (): CanonicalCheck | undefined =>
      verbatim ? canonicalCheck(from, fromResolved) : undefined;
    const sources = inputs.map((input) => () => openInput(input, from, options, stageTimes, check()));
    const stages: (Readable | Writable | NodeJS.ReadWriteStream)[] = [
      // One batch between the stages, not Node's 16 for object streams: when the output
      // is slower than the input (a pipe to another program), every batch held here
      // survives the young generation's collections and is copied by each. Writing
      // `users.csv` into `| cat` took 2.87 s with 16 and 2.39 s with 1, interleaved (a
      // file: 1.71 and 1.73 s). The tokenizer's buffer is one batch too (`openInput`).
      merge(sources, {
        ordered,
        objectMode: true,
        highWaterMark: 1,
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    ];
    if (transforms.length > 0) {
      stages.push(
        parallelTransform(
          async (batch: Batch<unknown>, ctx) => {
            const t0 = performance.now();
            const out = await applyTransforms(batch, transforms, stats.items, ctx.signal);
            if (stageTimes) stageTimes.transform = (stageTimes.transform ?? 0) + (performance.now() - t0);
            return out;
          },
          {
            concurrency,
            ordered,
            ...(options.signal ? { signal: options.signal } : {}),
          },
        ),
      );
    }
    const writer = new BatchWriter(
      sinks,
      serializer,
      deadLetter,
      policy === 'fail',
      transforms.length === 0,
      stats,
      started,
      options.onProgress,
      stageTimes,
    );
    stages.push(writer.stream());
    await streamPipeline(
      stages as NodeJS.ReadWriteStream[],
      options.signal ? { signal: options.signal } : {},
    );
    await Promise.all([...sinks.map((s) => s.sink.close()), deadLetter?.close()]);
  } catch (e) {
    // Release every sink; the first error is the one reported.
    await Promise.allSettled([...sinks.map((s) => s.sink.close()), deadLetter?.close()]);
    updateRates(stats, started);
    roundTimings(stageTimes);
    throw asRunError(e);
  }
  updateRates(stats, started);
  roundTimings(stageTimes);
  return stats;
}

function roundTimings(t: StageTimings | undefined): void {
  if (t) for (const k of Object.keys(t) as (keyof StageTimings)[]) t[k] = Math.round(t[k]! * 10) / 10;
}

/**
 * The threads that convert: how many workers, and whether the main thread converts
 * (neither: the in-process pipeline); `stats.threads` reports the same count. An input
 * format that is not parallel-safe runs in process whatever the count (noted in
 * `stats.threads`); one thread is the main thread's own chunks where it can be
 * ({@link oneLane}). What worker threads cannot do is a usage error, before anything is
 * opened.
 */
async function threadsFor(
  options: PipelineOptions,
  from: AnyFormat,
  to: AnyFormat | undefined,
  stats: RunStats,
  /** The inputs' total size, when every one is a file of known size. */
  knownBytes: number | undefined,
): Promise<Lanes> {
  const inProcess: Lanes = { workers: 0, mainLane: false };
  const threads = resolveThreads(options.threads ?? 0);
  const isolate = options.isolate ?? false;
  if (!Number.isSafeInteger(threads) || threads < 0) {
    throw new SluiceError(
      'SLUICE_E_OPTION',
      `threads: expected an integer >= 0 or auto, got ${String(threads)}`,
      {
        stage: 'config',
      },
    );
  }
  const chunk = options.chunkBytes;
  if (chunk !== undefined && (!Number.isSafeInteger(chunk) || chunk < 1)) {
    throw new SluiceError('SLUICE_E_OPTION', `chunkBytes: expected an integer >= 1, got ${String(chunk)}`, {
      stage: 'config',
    });
  }
  if (threads === 0) return inProcess;
  // Chunks each start a fresh tokenizer, in a worker or on the main thread alike.
  if (from.parallel === false) {
    stats.threads = {
      requested: threads,
      used: 1,
      workers: 0,
      note: `format ${from.name} is not parallel-safe (parallel: false): converted by the in-process pipeline`,
    };
    return inProcess;
  }
  if (!startsWorkers(threads, isolate)) return oneLane(options, to, stats, threads, undefined);
  const usage = (why: string): never => {
    throw new SluiceError('SLUICE_E_USAGE', `threads: ${why}`, { stage: 'config' });
  };
  if ((options.transforms ?? []).some((t) => typeof t === 'function')) {
    usage(
      'transforms run in worker threads, which can only load them from modules: give each transform as a module path or file URL whose default export is the function, or use threads: 0',
    );
  }
  if (!to) usage('worker threads write an output format: give `to`, or use threads: 0');
  if ((options.sinks ?? []).length > 0) {
    usage('worker threads write bytes, not objects: sinks need threads: 0');
  }
  const { builtinFormats } = await import('./builtins.js');
  for (const f of [from, to!]) {
    if (!(builtinFormats as readonly AnyFormat[]).includes(f)) {
      usage(`worker threads load formats by name and format ${f.name} is not a built-in one; use threads: 0`);
    }
  }
  if (
    options.threads === 'auto' &&
    !isolate &&
    knownBytes !== undefined &&
    knownBytes < AUTO_WORKERS_FROM_BYTES
  ) {
    return oneLane(
      options,
      to,
      stats,
      threads,
      `threads auto: ${knownBytes} bytes of input is less than the ${AUTO_WORKERS_FROM_BYTES} a worker thread pays off at: converted on the main thread`,
    );
  }
  const lanes: Lanes = { workers: isolate ? threads : threads - 1, mainLane: !isolate };
  stats.threads = {
    requested: threads,
    used: threads,
    workers: lanes.workers,
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
  };
  return lanes;
}

/**
 * One thread: the main thread converts the input chunk by chunk itself, through the
 * engine the workers use (`runThreaded` with no worker, ADR 0017), which does less per
 * record than the in-process pipeline of streams: measured 0.84× its time for CSV to
 * NDJSON. What that engine cannot do, the in-process pipeline does, and the note says why:
 * objects for sinks instead of bytes (a format that is not parallel-safe is left to it
 * before this is asked). Transforms of any kind and formats that are not built in work
 * there, as nothing crosses to another thread.
 */
function oneLane(
  options: PipelineOptions,
  to: AnyFormat | undefined,
  stats: RunStats,
  requested: number,
  note: string | undefined,
): Lanes {
  const base = { requested, used: 1, workers: 0 };
  let why: string | undefined;
  if ((options.sinks ?? []).length > 0) why = 'sinks take objects';
  else if (!to) why = 'no output format (`to`)';
  if (why !== undefined) {
    const inProcessNote = `${why}: converted by the in-process pipeline`;
    stats.threads = { ...base, note: note === undefined ? inProcessNote : `${note}; ${inProcessNote}` };
    return { workers: 0, mainLane: false };
  }
  stats.threads = {
    ...base,
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    ...(note === undefined ? {} : { note }),
  };
  return { workers: 0, mainLane: true };
}

/**
 * Whether a run of `threads` (resolved) starts worker threads: more than one thread, or
 * any with `isolate`. Otherwise the main thread converts alone: the in-process pipeline
 * at 0, its own chunks at 1 (ADR 0017).
 */
export function startsWorkers(threads: number, isolate: boolean): boolean {
  return threads > 1 || (threads === 1 && isolate);
}

/**
 * Input below which `threads: 'auto'` converts on the main thread alone (when every
 * input is a file of known size). A worker costs ~0.15 s of a core to start and runs
 * its first chunks on cold code, all of which a small input never earns back. On 2
 * cores (CSV to NDJSON), `--threads 2` took 0.67 s against 0.49 s for 11 MB, was within
 * the noise of `--threads 0` at 22 and 30 MB, and ahead from 45 MB (0.76 s against
 * 0.88 s): docs/concurrency.md. An explicit count is obeyed.
 */
export const AUTO_WORKERS_FROM_BYTES = 32 * 1024 * 1024;

/** `'auto'`: one thread per core the process may use, as GOMAXPROCS defaults to. */
export function resolveThreads(threads: number | 'auto'): number {
  return threads === 'auto' ? availableParallelism() : threads;
}

function asRunError(e: unknown): SluiceError {
  if (isSluiceError(e)) return e;
  if ((e as Error)?.name === 'AbortError') {
    return new SluiceError('SLUICE_E_ABORTED', 'run aborted', { stage: 'pipeline', cause: e });
  }
  return toSluiceError(e, 'SLUICE_E_INTERNAL', 'pipeline');
}

function makeSerializer(format: AnyFormat, raw: Record<string, unknown> | undefined): Serializer<unknown> {
  if (!format.serializer) {
    throw new SluiceError(
      'SLUICE_E_NO_SERIALIZER',
      `format ${format.name} has no serializer and cannot be written`,
      {
        stage: 'config',
      },
    );
  }
  return format.serializer(resolveOptions(format.options, raw, `${format.name}.`));
}

/** One input's stages up to token batches; errors anywhere in them surface on the returned stream. */
function openInput(
  input: Input,
  format: AnyFormat,
  options: PipelineOptions,
  timings: StageTimings | undefined,
  verbatim: CanonicalCheck | undefined,
): Readable {
  const tokenizer = createTokenizerStream(format, {
    source: input.source,
    // One batch ahead, as in the merge after it (see `pipeline`): into a pipe, 4 made the
    // GC cost more again (scavenges 326 against 195 ms; 2.35 against 2.17 s into `| cat`).
    highWaterMark: 1,
    verbatim,
    ...(options.fromOptions ? { options: options.fromOptions } : {}),
    ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
    trackOrigins: (options.transforms?.length ?? 0) > 0,
  });
  if (timings) timeTransform(tokenizer, timings);
  return pipelineCb(
    input.open(),
    (src: Readable) => autoGunzip(src, { name: input.source }),
    tokenizer,
    () => {
      // Errors reach the consumer through the tokenizer stream, which pipeline destroys with them.
    },
  ) as Readable;
}

/**
 * Times a tokenizer stream's work (framing and tokenizing, done together in one
 * synchronous call per chunk) into `timings.tokenize`.
 */
function timeTransform(stream: Transform, timings: StageTimings): void {
  const t = stream as Transform & {
    _transform: (chunk: unknown, enc: BufferEncoding, cb: (e?: Error | null, data?: unknown) => void) => void;
  };
  const transform = t._transform.bind(t);
  t._transform = (chunk, enc, cb) => {
    const t0 = performance.now();
    // Stopped when the batch is handed on: the callback may run the next stages synchronously.
    transform(chunk, enc, (e, data) => {
      timings.tokenize = (timings.tokenize ?? 0) + (performance.now() - t0);
      cb(e, data);
    });
  };
}

/** Characters of output text handed to the sinks at a time (see BatchWriter.write). */
const TEXT_PIECE = 64 * 1024;

/** The sequential tail of the pipeline: policy, ledger, serialization, sinks. */
class BatchWriter {
  private readonly header: HeaderState = { headerDone: false };
  private readonly controller = new AbortController();
  /** Set once every batch was written and the output finished, so destroy need not abort. */
  private finished = false;

  constructor(
    private readonly sinks: readonly { sink: Sink<unknown>; bytes: boolean }[],
    private readonly serializer: Serializer<unknown> | undefined,
    private readonly deadLetter: Sink<Rejection> | undefined,
    private readonly failFast: boolean,
    private readonly countTokens: boolean,
    private readonly stats: RunStats,
    private readonly started: number,
    private readonly onProgress: ((stats: RunStats) => void) | undefined,
    private readonly timings: StageTimings | undefined,
  ) {}

  stream(): Writable {
    return new Writable({
      objectMode: true,
      highWaterMark: 1,
      write: (batch: Batch<unknown>, _enc, cb) => {
        this.write(batch).then(() => cb(), cb);
      },
      final: (cb) => {
        this.finish().then(() => {
          this.finished = true;
          cb();
        }, cb);
      },
      destroy: (err, cb) => {
        // A normal end destroys the stream too (autoDestroy); only a failure or an early
        // destroy has sink writes to abort, and an abort is not free (AbortSignal listeners).
        if (err || !this.finished) this.controller.abort(err ?? undefined);
        cb(err);
      },
    });
  }

  private async write(batch: Batch<unknown>): Promise<void> {
    const { stats, timings } = this;
    stats.bytes += batch.bytes;
    stats.records.in += batch.records;
    stats.records.skipped += batch.skipped;
    // With transforms, the transform stage counts tokens before they fan out or drop.
    if (this.countTokens) stats.items.tokenized += batch.items.length;
    const t0 = timings ? performance.now() : 0;
    const serializer = this.serializer && this.sinks.some((s) => s.bytes) ? this.serializer : undefined;
    // The text in pieces of about 64 Ki characters, each written on its own: a whole
    // batch's text can pass 128 Ki characters (a batch of reshaped CSV rows is ~200 Ki),
    // and V8 gives such strings pages of their own (large-object space: mmap and munmap
    // per string), which makes building and encoding them several times slower.
    const pieces: string[] = [];
    const w = writeBatch(batch, serializer, this.header, this.failFast, {
      every: TEXT_PIECE,
      emit: (text) => pieces.push(text),
    });
    if (w.text !== '') pieces.push(w.text);
    if (w.header !== undefined) pieces.unshift(w.header);
    const t1 = timings ? performance.now() : 0;
    const signal = this.controller.signal;
    await Promise.all(
      this.sinks.map(async ({ sink, bytes }) => {
        if (!bytes) return sink.write(w.items, signal);
        if (pieces.length === 0) return sink.write([], signal);
        // One piece per call: the stream sink would join several into one string again.
        for (const piece of pieces) await sink.write([piece], signal);
      }),
    );
    if (timings) {
      timings.serialize = (timings.serialize ?? 0) + (t1 - t0);
      timings.write = (timings.write ?? 0) + (performance.now() - t1);
    }
    countRejections(stats, w.rejects);
    stats.items.written += w.written;
    if (w.failure) {
      updateRates(stats, this.started);
      throw rejectionError(w.failure);
    }
    if (w.rejects.length > 0 && this.deadLetter) await this.deadLetter.write(w.rejects, signal);
    updateRates(stats, this.started);
    this.onProgress?.(stats);
  }

  private async finish(): Promise<void> {
    if (!this.header.headerDone && this.serializer) {
      this.header.headerDone = true;
      const h = this.serializer.header?.(undefined);
      if (h !== undefined) {
        await Promise.all(
          this.sinks.filter((s) => s.bytes).map(({ sink }) => sink.write([`${h}\n`], this.controller.signal)),
        );
      }
    }
  }
}

/** A coded error for a rejection, so `fail` reports source, line and reason. */
export function rejectionError(r: Rejection): SluiceError {
  const code: ErrorCode = r.code;
  return new SluiceError(code, r.message, {
    stage: r.stage,
    position: { source: r.source, line: r.line, offset: r.offset },
  });
}
