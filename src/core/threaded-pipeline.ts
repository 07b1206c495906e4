/**
 * The multi-threaded engine behind `--threads N` (N >= 2, or any N with `isolate`). The
 * main thread reads each input, cuts it into framing-aligned chunks (`Chunker`) and
 * hands each chunk to a lane: a worker (by transfer), or the main thread's own lane
 * when the workers have enough queued (ADR 0014). The lane converts it end to end
 * (decode, tokenize, transforms, error policy, serialize) into UTF-8 bytes. The main
 * thread writes the results in input order (or as they complete, unordered) and keeps
 * the ledger, so the output and the stats are those of `threads: 0`.
 *
 * State across records. A format is parallel-safe (`parallel !== false`) when a
 * record's tokens depend only on the record and on the state the input's first records
 * leave in the tokenizer. The main thread tokenizes each input's first records itself,
 * up to the first one that yields a token: the records before it (the preamble: a
 * header row, blank lines, rejected lines) are written from the main thread (they
 * carry no items, only counts and rejections), and every chunk's fresh tokenizer in a
 * lane is first fed them again (and that first data record, for every chunk but the
 * one that starts with it), output discarded. The output header is written once, from
 * the run's first item (see `converter.ts`).
 */
import { Readable } from 'node:stream';
import type { ResourceLimits } from 'node:worker_threads';
import { whenAborted } from '../parallel/internal.js';
import { type ChunkEvent, Chunker, countLF } from '../parallel/threads/chunker.js';
import { importTransform, type TransformModule } from '../parallel/threads/modules.js';
import { WorkerPool } from '../parallel/threads/pool.js';
import type { Job, JobResult, Replay } from '../parallel/threads/protocol.js';
import type { Batch, Rejection, Serializer, Sink, Tokenizer, TransformFn } from './contracts.js';
import { type DirectReader, directReader, inputError } from './direct-reader.js';
import { SluiceError } from './errors.js';
import { DEFAULT_MAX_RECORD_BYTES, FrameDecoder } from './frame-decoder.js';
import { newlineFramer } from './framers.js';
import { resolveOptions } from './options.js';
import type { AnyFormat } from './registry.js';
import { autoGunzip, type Input, isGzipAt } from './sources.js';
import { type RunStats, type StageTimings, updateRates } from './stats.js';
import { emptyBatch, tokenizeBatch } from './tokenize.js';
import { countRejections, type HeaderState, writeBatch } from './write-batch.js';

/** Chunk size: large enough to amortize a message, small enough to stay out of the way of the GC. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

/**
 * Worker heap limits. Young generation: V8's semi-space for a worker is small by
 * default, and a conversion allocates a token per record, so a small young generation
 * means scavenges all the time (measured: see docs/concurrency.md). Old generation: a
 * worker holds at most `concurrency` chunks (input bytes, their records and tokens,
 * the output text) at a time, a few MiB each; the limit leaves room for user
 * transforms and makes a runaway one fail the run (`SLUICE_E_INTERNAL`, "out of
 * memory") rather than the machine.
 */
export function workerResourceLimits(chunkBytes: number, concurrency: number): ResourceLimits {
  const perJobMb = Math.ceil((chunkBytes * 40) / (1024 * 1024));
  return {
    maxYoungGenerationSizeMb: 48,
    maxOldGenerationSizeMb: Math.max(256, 128 + perJobMb * concurrency),
  };
}

/**
 * How long bytes read from a stream (a pipe, gzip) wait for their chunk to fill before
 * the whole records among them are converted anyway. A fast input fills a chunk well
 * within it, so its chunks keep their size; a slow producer (`tail -f log | sluice`)
 * sees its records come out within about this long, as with `--threads 0`, instead of
 * once a chunk's worth (256 KiB) has trickled in.
 */
export const MAX_HOLD_MS = 20;

/** `p`'s value, or undefined when it has not settled within `ms` (at once when `ms <= 0`). */
function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  if (ms <= 0) return Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Text of replayed records an input may have before its first data record. */
const MAX_REPLAY_CHARS = 16 * 1024 * 1024;

/** The threads that convert a run: worker threads, and the main thread or not. */
export interface Lanes {
  workers: number;
  /** The main thread converts too (see local-lane.ts); false: it only reads and writes. */
  mainLane: boolean;
}

/** How many threads convert. */
export function laneCount(lanes: Lanes): number {
  return lanes.workers + (lanes.mainLane ? 1 : 0);
}

export interface ThreadedRunOptions extends Lanes {
  inputs: readonly Input[];
  /** For each input, its path when it was given as one (read directly when it is a regular file). */
  paths: readonly (string | undefined)[];
  from: AnyFormat;
  fromName: string;
  fromOptions: Record<string, unknown>;
  to: AnyFormat;
  toName: string;
  toOptions: Record<string, unknown>;
  /** The main thread's own serializer: only asked for the header of an empty output. */
  serializer: Serializer<unknown>;
  /**
   * The lanes' transforms: modules, which workers load by URL, or (with no worker, the
   * main thread converting alone) functions too.
   */
  transforms: readonly (TransformModule | TransformFn)[];
  /** Byte sinks: each receives the serialized bytes. */
  sinks: readonly Sink<unknown>[];
  deadLetter: Sink<Rejection> | undefined;
  failFast: boolean;
  /** The verbatim fast path applies (see verbatim.ts): workers copy canonical records through. */
  verbatim: boolean;
  ordered: boolean;
  concurrency: number;
  maxRecordBytes: number | undefined;
  chunkBytes: number;
  stats: RunStats;
  started: number;
  onProgress: ((stats: RunStats) => void) | undefined;
  signal: AbortSignal | undefined;
  /** Main-thread profile path; workers write theirs next to it. */
  profile: string | undefined;
  /**
   * True when the byte output holds no reference to anything written so far (nothing
   * buffered), so output buffers can be handed back to the workers and filled again.
   * Undefined: never reuse them (a Writable of unknown kind may keep the chunks).
   */
  outputReleased?: (() => boolean) | undefined;
}

/** What the writer writes, in sequence: a worker's job result, or a batch made on the main thread (no items). */
type Outcome =
  | { kind: 'job'; result: JobResult; inputBytes: number }
  | { kind: 'local'; batch: Batch<unknown> };

export async function runThreaded(o: ThreadedRunOptions): Promise<void> {
  const { workers } = o;
  const lanes = laneCount(o);
  const modules = o.transforms.filter((t): t is TransformModule => typeof t !== 'function');
  // A function cannot be sent to a worker: pipeline() passes them only when there is none.
  if (workers > 0 && modules.length < o.transforms.length) {
    throw new SluiceError('SLUICE_E_INTERNAL', 'function transforms given to worker threads');
  }
  const { stats } = o;
  const stages: StageTimings | undefined = stats.stages;
  const controller = new AbortController();
  let failure: unknown;
  let reading: { destroy(): void } | undefined;
  // Jobs a worker holds: one converting, the rest queued, so it never waits for the main thread.
  const depth = Math.max(2, o.concurrency);
  // Chunks in flight, converted or not, until written. Room for several per lane: the
  // writer waits for every worker to start, and writes in order behind the slowest
  // chunk, while the main thread's lane goes on converting (measured: 4 per lane keeps
  // both lanes of --threads 2 busy through a worker's start-up; 1 left the main idle).
  const window = lanes * depth * 4;
  const units = new Units(window, o.ordered, (e) => fail(e));
  // Assigned below: `fail` may run (an abort) before the pool exists.
  let pool: WorkerPool | undefined;
  const fail = (e: unknown): void => {
    if (failure !== undefined) return;
    failure = e;
    controller.abort(e);
    units.fail(e);
    reading?.destroy();
    pool?.abort(e);
  };
  const unwatch = whenAborted(o.signal, () => fail(new SluiceError('SLUICE_E_ABORTED', 'run aborted')));
  pool = WorkerPool.start({
    workers,
    local: o.mainLane
      ? {
          from: o.from,
          to: o.to,
          transforms: () =>
            Promise.all(o.transforms.map((t) => (typeof t === 'function' ? t : importTransform(t)))),
        }
      : undefined,
    depth,
    init: {
      from: o.fromName,
      fromOptions: o.fromOptions,
      to: o.toName,
      toOptions: o.toOptions,
      transforms: modules,
      maxRecordBytes: o.maxRecordBytes,
      failFast: o.failFast,
      verbatim: o.verbatim,
      outputBytes: 2 * o.chunkBytes + 128 * 1024,
    },
    profile: o.profile,
    resourceLimits: workerResourceLimits(o.chunkBytes, o.concurrency),
    onFailure: fail,
  });
  if (failure !== undefined) pool.abort(failure);
  // Workers boot while the first chunks are read; nothing is written before all are ready,
  // so a transform module that does not load fails the run before any output.
  pool.ready.catch(fail);
  const resolved = resolveOptions(o.from.options, o.fromOptions, `${o.from.name}.`);
  // Input buffers come back from the workers and are filled again: touching fresh memory
  // costs more than the copy into it (page faults), especially in VMs.
  const spare: ArrayBuffer[] = [];
  const bufferSize = o.chunkBytes + 64 * 1024;
  const alloc = (size: number): Uint8Array => {
    const reused = size <= bufferSize ? spare.pop() : undefined;
    return new Uint8Array(reused ?? new ArrayBuffer(Math.max(size, bufferSize)));
  };
  const recycle = (b: ArrayBuffer): void => {
    if (b.byteLength >= bufferSize && spare.length < window + lanes) spare.push(b);
  };
  const maxRecordBytes = o.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  let nextReplay = 0;

  /** Reads one input, handing its chunks to the workers (or, for its preamble, handling them here). */
  const readInput = async (input: Input, path: string | undefined): Promise<void> => {
    const source = input.source;
    const framer = o.from.framer?.(resolved) ?? newlineFramer;
    const chunker = new Chunker({ source, framer, maxRecordBytes, chunkBytes: o.chunkBytes, alloc });
    const st: InputState = {
      source,
      parallel: false,
      tokenizer: o.from.tokenizer(resolved),
      replay: { records: [], lines: [], offsets: [] },
      replayChars: 0,
      replayFull: false,
      replayId: nextReplay++,
      jobs: 0,
      last: { source, line: 0, offset: 0 },
    };
    // A tokenizer with a `flush` is flushed after the input's last chunk, so a chunk is
    // held back until it is known whether another follows.
    const needsLast = st.tokenizer.flush !== undefined;
    let held: { job: Job; lastLine: number; inputBytes: number; settle: Deferred<Outcome> } | undefined;
    // Set when a quiet pipe made the held chunk go before the input ended: if no chunk
    // follows it, a job of no bytes there, at its last line, flushes a fresh tokenizer.
    let flushAt: { line: number; offset: number } | undefined;

    const dispatch = (job: Job, lastLine: number, inputBytes: number): Promise<Outcome> =>
      pool.run(job, lastLine).then((result) => ({ kind: 'job', result, inputBytes }) as const);
    const sendHeld = (last: boolean): void => {
      if (!held) return;
      const h = held;
      held = undefined;
      h.job.last = last;
      dispatch(h.job, h.lastLine, h.inputBytes).then(h.settle.resolve, h.settle.reject);
    };
    const addJob = async (
      bytes: Uint8Array,
      startLine: number,
      startOffset: number,
      lines: number,
      inputBytes: number,
    ) => {
      sendHeld(false);
      await units.space();
      if (failure !== undefined) return;
      if (st.jobs === 0) pool.defineReplay(st.replayId, st.replay);
      const job: Job = {
        seq: 0,
        source,
        bytes,
        startLine,
        startOffset,
        last: false,
        replay: st.replayId,
        // The first chunk starts with the first data record; the others replay it too.
        replayAll: st.jobs > 0,
      };
      st.jobs++;
      const lastLine = startLine + lines - (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? 1 : 0);
      if (needsLast) {
        const settle = deferred<Outcome>();
        job.seq = units.add(settle.promise);
        held = { job, lastLine, inputBytes, settle };
      } else {
        job.seq = units.next;
        units.add(dispatch(job, lastLine, inputBytes));
      }
    };
    const handle = async (ev: ChunkEvent): Promise<void> => {
      if (ev.kind === 'rejected') {
        const batch = emptyBatch<unknown>(source);
        batch.rejects.push(ev.rejection);
        batch.records = 1;
        batch.bytes = ev.inputBytes;
        await units.space();
        units.add(Promise.resolve({ kind: 'local', batch }));
        return;
      }
      if (st.parallel) {
        await addJob(ev.bytes, ev.startLine, ev.startOffset, ev.lines, ev.inputBytes);
        return;
      }
      const t0 = performance.now();
      const { local, rest } = preamble(st, ev, framer, maxRecordBytes);
      if (stages) stages.tokenize = (stages.tokenize ?? 0) + (performance.now() - t0);
      if (local) {
        await units.space();
        units.add(Promise.resolve({ kind: 'local', batch: local }));
      }
      if (rest) {
        st.parallel = true;
        await addJob(rest.bytes, rest.startLine, rest.startOffset, rest.lines, rest.inputBytes);
      }
    };

    const ended = async (): Promise<void> => {
      for (const ev of chunker.end()) await handle(ev);
      if (failure !== undefined) return;
      if (held) sendHeld(true);
      else if (flushAt) {
        await addJob(new Uint8Array(0), flushAt.line, flushAt.offset, 0, 0);
        sendHeld(true);
      } else if (!st.parallel && needsLast) {
        // The whole input was preamble: a worker replays it and flushes (its items need the workers' transforms).
        if (st.replayFull) throw replayTooLong(source);
        await addJob(new Uint8Array(0), st.last.line, st.last.offset, 0, 0);
        held!.job.replayAll = true;
        sendHeld(true);
      }
    };

    try {
      const direct = await directReader(input, path);
      // Gzip found in the first bytes of a direct read: they go on through the stream path.
      let gzipHead: Buffer | undefined;
      if (direct) {
        // A regular file or stdin: read straight into the buffers that go to the lanes, one
        // read ahead, so the main thread does not wait for each read's trip through the
        // thread pool: its CPU profile had ~90 ms idle in 1.2 s, spread over the run.
        const room = bufferSize - o.chunkBytes;
        const readAhead = (): Promise<{ buf: Uint8Array; n: number } | { error: Error }> => {
          const buf = alloc(bufferSize);
          // Settles with the error rather than rejecting: nothing awaits it until the
          // chunk before it has been handed out.
          return direct.fill(buf, room, o.chunkBytes).then(
            (n) => ({ buf, n }),
            (e: Error) => ({ error: e }),
          );
        };
        let next: ReturnType<typeof readAhead> | undefined = readAhead();
        try {
          for (let first = true; ; first = false) {
            const t0 = performance.now();
            const r = await next;
            next = undefined;
            if (stages) stages.read = (stages.read ?? 0) + (performance.now() - t0);
            if ('error' in r) throw inputError(source, r.error);
            const { buf, n } = r;
            if (n === 0 || failure !== undefined) break;
            if (first && direct.mayBeGzip && isGzipAt(buf, room, n)) {
              gzipHead = Buffer.from(buf.subarray(room, room + n));
              break;
            }
            next = readAhead();
            const events = chunker.commit(buf, room, n);
            if (!events.some((e) => e.kind === 'chunk' && e.bytes.buffer === buf.buffer)) {
              recycle(buf.buffer as ArrayBuffer);
            }
            for (const ev of events) await handle(ev);
          }
        } finally {
          // A read in flight still uses the descriptor: it must end before the close.
          if (next) await next;
          await direct.close();
        }
        if (gzipHead === undefined) {
          if (failure === undefined) await ended();
          return;
        }
      }
      const stream = gzipHead === undefined ? input.open() : Readable.from(rest(gzipHead, direct!, source));
      reading = stream;
      const it = autoGunzip(stream, { name: source, signal: controller.signal })[Symbol.asyncIterator]();
      try {
        // When the first of the bytes waiting for their chunk to fill arrived.
        let heldSince = 0;
        for (;;) {
          const t0 = performance.now();
          const next = it.next();
          let r = chunker.pending > 0 ? await settledWithin(next, heldSince + MAX_HOLD_MS - t0) : await next;
          if (r === undefined) {
            // The input has gone quiet with whole records waiting: convert them now, and
            // send a chunk held for the tokenizer's flush (see `flushAt`).
            for (const ev of chunker.flush()) await handle(ev);
            if (held) {
              const { bytes, startOffset } = held.job;
              // The start of the chunk's last line, which a flush rejection names (the
              // last record's start, for a format of one record per line).
              flushAt = {
                line: held.lastLine,
                offset: startOffset + bytes.lastIndexOf(0x0a, bytes.length - 2) + 1,
              };
              sendHeld(false);
            }
            r = await next;
          }
          if (stages) stages.read = (stages.read ?? 0) + (performance.now() - t0);
          if (r.done || failure !== undefined) break;
          if (chunker.pending === 0) heldSince = performance.now();
          for (const ev of chunker.push(r.value)) await handle(ev);
        }
      } finally {
        reading = undefined;
        await it.return?.(undefined).catch(() => {});
        stream.destroy();
      }
      if (failure === undefined) await ended();
    } finally {
      if (st.jobs > 0) pool.forgetReplay(st.replayId);
    }
  };

  const produce = async (): Promise<void> => {
    try {
      for (let i = 0; i < o.inputs.length; i++) {
        if (failure !== undefined) break;
        await readInput(o.inputs[i]!, o.paths[i]);
      }
    } catch (e) {
      fail(e);
    } finally {
      units.end();
    }
  };

  // Output buffers written out and maybe still referenced by the output, oldest first.
  const unreleased: { lane: number; buffer: ArrayBuffer }[] = [];
  const released = (): void => {
    if (!o.outputReleased) return;
    if (unreleased.length > 0 && o.outputReleased()) {
      const byLane = new Map<number, ArrayBuffer[]>();
      for (const u of unreleased) {
        const list = byLane.get(u.lane) ?? [];
        list.push(u.buffer);
        byLane.set(u.lane, list);
      }
      unreleased.length = 0;
      for (const [lane, buffers] of byLane) pool.recycle(lane, buffers);
    }
    // An output that never empties its buffer (a slow consumer) keeps them: leave those to the GC.
    if (unreleased.length > window) unreleased.splice(0, unreleased.length - window);
  };
  const header: HeaderState = { headerDone: false };
  const signal = controller.signal;
  const writeChunks = async (chunks: (string | Uint8Array)[]): Promise<void> => {
    const t0 = performance.now();
    await Promise.all(o.sinks.map((s) => s.write(chunks, signal)));
    if (stages) stages.write = (stages.write ?? 0) + (performance.now() - t0);
  };
  const afterWrite = async (
    rejects: Rejection[],
    written: number,
    failed: Rejection | undefined,
  ): Promise<void> => {
    countRejections(stats, rejects);
    stats.items.written += written;
    if (failed) {
      updateRates(stats, o.started);
      throw rejectionError(failed);
    }
    if (rejects.length > 0 && o.deadLetter) await o.deadLetter.write(rejects, signal);
    updateRates(stats, o.started);
    o.onProgress?.(stats);
  };

  const consume = async (): Promise<void> => {
    try {
      await pool.ready;
      for (;;) {
        const unit = await units.take();
        if (unit === undefined || failure !== undefined) return;
        if (unit.kind === 'local') {
          const b = unit.batch;
          stats.bytes += b.bytes;
          stats.records.in += b.records;
          stats.records.skipped += b.skipped;
          const w = writeBatch(b, undefined, header, o.failFast);
          await afterWrite(w.rejects, 0, w.failure);
        } else {
          let r = unit.result;
          if (r.input) recycle(r.input);
          if (r.parked) {
            r = await pool.serialize(r.seq, !header.headerDone);
            if (r.headerDone && !header.headerDone) {
              header.headerDone = true;
              pool.prime(r.seq, r.first);
            }
          }
          stats.bytes += unit.inputBytes;
          stats.records.in += r.records;
          stats.records.skipped += r.skipped;
          stats.items.tokenized += r.tokenized;
          stats.items.filtered += r.filtered;
          stats.items.rejected += r.transformRejected;
          if (stages) {
            stages.frame = (stages.frame ?? 0) + r.timings.frame;
            stages.tokenize = (stages.tokenize ?? 0) + r.timings.tokenize;
            stages.transform = (stages.transform ?? 0) + r.timings.transform;
            stages.serialize = (stages.serialize ?? 0) + r.timings.serialize;
          }
          const chunks: (string | Uint8Array)[] = [];
          if (r.header !== undefined) chunks.push(r.header);
          if (r.bytes !== undefined && r.bytes.length > 0) chunks.push(r.bytes);
          await writeChunks(chunks);
          if (o.outputReleased && r.bytes !== undefined) {
            unreleased.push({ lane: r.lane, buffer: r.bytes.buffer as ArrayBuffer });
            released();
          }
          await afterWrite(r.rejects, r.written, r.failure);
        }
        units.written();
      }
    } catch (e) {
      fail(e);
    }
  };

  try {
    await Promise.all([produce(), consume()]);
    if (failure === undefined && !header.headerDone) {
      // An empty output still gets its header, if the format writes one without a first item.
      header.headerDone = true;
      const h = o.serializer.header?.(undefined);
      if (h !== undefined) await writeChunks([`${h}\n`]);
    }
  } catch (e) {
    fail(e);
  } finally {
    unwatch();
    // close() may find a worker dead after all (fail() is then called).
    if (failure === undefined) await pool.close();
    else await pool.terminate();
    if (stages) for (const k of Object.keys(stages) as (keyof StageTimings)[]) stages[k] = round(stages[k]!);
  }
  if (failure !== undefined) throw failure;
}

/** The bytes a direct read already took, then the rest of the input, as a stream's chunks. */
async function* rest(head: Buffer, reader: DirectReader, source: string): AsyncGenerator<Buffer> {
  yield head;
  for (;;) {
    const buf = Buffer.allocUnsafe(256 * 1024);
    const n = await reader.read(buf, 0, buf.length).catch((e: Error) => {
      throw inputError(source, e);
    });
    if (n === 0) return;
    yield buf.subarray(0, n);
  }
}

interface InputState {
  source: string;
  /** Past the preamble: chunks go to the workers. */
  parallel: boolean;
  /** The main thread's tokenizer, fed the preamble to find where it ends. */
  tokenizer: Tokenizer<unknown>;
  /** The records the tokenizer was given so far (then also the first data record). */
  replay: Replay;
  replayChars: number;
  /** The replay outgrew {@link MAX_REPLAY_CHARS}: the input can only go on if no data record comes. */
  replayFull: boolean;
  replayId: number;
  jobs: number;
  /** Where the last record handed to the tokenizer started. */
  last: { source: string; line: number; offset: number };
}

/**
 * Tokenizes a chunk of the preamble on the main thread until a record yields a token.
 * Returns the batch for what came before it (counts and rejections, no items) and, if
 * found, the rest of the chunk from that record on, for the workers.
 */
function preamble(
  st: InputState,
  ev: Extract<ChunkEvent, { kind: 'chunk' }>,
  framer: NonNullable<ReturnType<NonNullable<AnyFormat['framer']>>>,
  maxRecordBytes: number,
): {
  local: Batch<unknown> | undefined;
  rest:
    | { bytes: Uint8Array; startLine: number; startOffset: number; lines: number; inputBytes: number }
    | undefined;
} {
  const { source } = st;
  const decoder = new FrameDecoder({
    source,
    framer,
    maxRecordBytes,
    startLine: ev.startLine,
    startOffset: ev.startOffset,
  });
  const buf = Buffer.from(ev.bytes.buffer, ev.bytes.byteOffset, ev.bytes.length);
  const local = emptyBatch<unknown>(source);
  local.bytes = ev.inputBytes;
  const frameReject = (r: Rejection): void => {
    local.rejects.push({ ...r, at: 0 });
    local.records++;
  };
  for (const rb of [decoder.push(buf), decoder.end()]) {
    if (!rb) continue;
    let nextReject = 0;
    for (let r = 0; r < rb.records.length; r++) {
      while (nextReject < rb.rejects.length && rb.rejects[nextReject]!.at <= r)
        frameReject(rb.rejects[nextReject++]!);
      const record = rb.records[r]!;
      const line = rb.lines[r]!;
      const offset = rb.offsets[r]!;
      const one = tokenizeBatch(st.tokenizer, {
        source,
        records: [record],
        lines: [line],
        offsets: [offset],
        rejects: [],
        bytes: 0,
      });
      st.last.line = line;
      st.last.offset = offset;
      if (one.items.length > 0) {
        if (st.replayFull) throw replayTooLong(source);
        // The first data record: the workers take over from here.
        st.replay.records.push(record);
        st.replay.lines.push(line);
        st.replay.offsets.push(offset);
        const skip = offset - ev.startOffset;
        const bytes = ev.bytes.subarray(skip);
        const bom = ev.inputBytes - ev.bytes.length;
        local.bytes = skip + bom;
        return {
          local: local.records + local.skipped + local.bytes > 0 ? local : undefined,
          rest: {
            bytes,
            startLine: line,
            startOffset: offset,
            lines: countLF(bytes, 0, bytes.length),
            inputBytes: bytes.length,
          },
        };
      }
      for (const rej of one.rejects) local.rejects.push({ ...rej, at: 0 });
      local.records += one.records;
      local.skipped += one.skipped;
      if (!st.replayFull) {
        st.replay.records.push(record);
        st.replay.lines.push(line);
        st.replay.offsets.push(offset);
        st.replayChars += record.length;
        if (st.replayChars > MAX_REPLAY_CHARS) {
          st.replayFull = true;
          st.replay = { records: [], lines: [], offsets: [] };
        }
      }
    }
    while (nextReject < rb.rejects.length) frameReject(rb.rejects[nextReject++]!);
  }
  return { local, rest: undefined };
}

function replayTooLong(source: string): SluiceError {
  return new SluiceError(
    'SLUICE_E_INTERNAL',
    `${source}: more than ${MAX_REPLAY_CHARS / (1024 * 1024)} MiB of records before the first data record, too many to replay in every worker thread; convert it with --threads 0`,
    { stage: 'pipeline' },
  );
}

/** A coded error for a rejection, so `fail` reports source, line and reason. */
function rejectionError(r: Rejection): SluiceError {
  return new SluiceError(r.code, r.message, {
    stage: r.stage,
    position: { source: r.source, line: r.line, offset: r.offset },
  });
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * The units of work in flight, between the reader and the writer: numbered in input
 * order, at most `window` of them not yet written, handed to the writer in order or
 * as they complete.
 */
class Units {
  /** The number the next unit gets. */
  next = 0;
  private writtenCount = 0;
  private takeSeq = 0;
  private readonly done = new Map<number, Outcome>();
  private readonly completed: number[] = [];
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private wakeSpace: (() => void) | undefined;

  constructor(
    private readonly window: number,
    private readonly ordered: boolean,
    private readonly onFailure: (e: unknown) => void,
  ) {}

  /** Resolves when another unit may be started. */
  async space(): Promise<void> {
    while (this.failure === undefined && this.next - this.writtenCount >= this.window) {
      await new Promise<void>((resolve) => {
        this.wakeSpace = resolve;
      });
    }
  }

  /** Numbers a unit; the writer gets it once `outcome` settles (a rejection fails the run). */
  add(outcome: Promise<Outcome>): number {
    const seq = this.next++;
    outcome.then(
      (out) => {
        this.done.set(seq, out);
        this.completed.push(seq);
        this.notify();
      },
      (e) => this.onFailure(e),
    );
    return seq;
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(e: unknown): void {
    this.failure ??= e;
    this.notify();
    this.wakeSpace?.();
  }

  /** The next unit to write, or undefined at the end (or after a failure). */
  async take(): Promise<Outcome | undefined> {
    for (;;) {
      if (this.failure !== undefined) return undefined;
      if (this.ordered) {
        const out = this.done.get(this.takeSeq);
        if (out !== undefined) {
          this.done.delete(this.takeSeq++);
          return out;
        }
      } else if (this.completed.length > 0) {
        const seq = this.completed.shift()!;
        const out = this.done.get(seq)!;
        this.done.delete(seq);
        this.takeSeq++;
        return out;
      }
      if (this.ended && this.takeSeq === this.next) return undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** The writer is done with a unit: another may start. */
  written(): void {
    this.writtenCount++;
    const w = this.wakeSpace;
    this.wakeSpace = undefined;
    w?.();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
