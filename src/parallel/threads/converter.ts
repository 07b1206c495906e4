/**
 * What converts a chunk of input end to end, on whichever thread it runs (`--threads`):
 * a conversion worker (`worker.ts`), or the main thread's own lane (`local-lane.ts`).
 * It runs the same code the in-process pipeline does: a FrameDecoder started at the
 * chunk's line and offset, a tokenizer (first fed the input's replayed first records),
 * the user transforms, the error policy and the output serializer. It hands back UTF-8
 * bytes with the job's counts and rejections; the main thread writes them in order.
 *
 * The serializer lives as long as the lane. When it has a `header` (CSV: columns fixed
 * by the run's first item), no lane serializes until the main thread knows which item
 * is the run's first: jobs with items are parked, the job holding the first item is
 * serialized as first, and every other lane is primed with that item.
 */
import type {
  Batch,
  Framer,
  Position,
  RecordBatch,
  Serializer,
  Tokenizer,
  TransformFn,
} from '../../core/contracts.js';
import { SluiceError } from '../../core/errors.js';
import { FrameDecoder } from '../../core/frame-decoder.js';
import { resolveOptions } from '../../core/options.js';
import type { AnyFormat } from '../../core/registry.js';
import { flushTokenizer, tokenizeBatch } from '../../core/tokenize.js';
import { type CanonicalCheck, canonicalCheck } from '../../core/verbatim.js';
import { applyTransforms, type HeaderState, hasItemsToWrite, writeBatch } from '../../core/write-batch.js';
import {
  type FromWorker,
  type Job,
  type JobResult,
  type JobTimings,
  type LaneInit,
  type Replay,
  type ToWorker,
  toWire,
} from './protocol.js';

/**
 * Input is decoded, and output text built, in pieces of this size: strings of 128 KiB
 * and more go to V8's large-object space and cost ten times as much to make.
 */
const PIECE = 64 * 1024;

/** Output buffers a lane keeps for reuse. */
const MAX_SPARE_OUTPUT = 16;

export type Post = (msg: FromWorker, transfer?: ArrayBuffer[]) => void;

/**
 * A lane's converter, answering the main thread's messages through `post`. The run's
 * end (`finish`) is the caller's: a worker stops its profiler first.
 */
export function converterHost(
  init: LaneInit,
  from: AnyFormat,
  to: AnyFormat,
  transforms: readonly TransformFn[],
  post: Post,
): (msg: Exclude<ToWorker, { type: 'finish' }>) => void {
  const fromOptions = resolveOptions(from.options, init.fromOptions, `${from.name}.`);
  if (!to.serializer) throw new SluiceError('SLUICE_E_NO_SERIALIZER', `format ${to.name} has no serializer`);
  const serializer = to.serializer(
    resolveOptions(to.options, init.toOptions, `${to.name}.`),
  ) as Serializer<unknown>;
  const converter = new Converter(
    init,
    from.framer?.(fromOptions),
    () => from.tokenizer(fromOptions),
    serializer,
    transforms,
    init.verbatim ? canonicalCheck(from, fromOptions) : undefined,
  );
  return (msg) => {
    switch (msg.type) {
      case 'replay':
        converter.replays.set(msg.id, msg.replay);
        return;
      case 'forget':
        converter.forget(msg.id);
        return;
      case 'job':
        converter.job(msg.job).then(
          ({ result, transfer }) => post({ type: 'result', result }, transfer),
          (e) => post({ type: 'job-error', seq: msg.job.seq, error: toWire(e) }),
        );
        return;
      case 'serialize':
        try {
          const { result, transfer } = converter.serializeParked(msg.seq, msg.asFirst);
          post({ type: 'result', result }, transfer);
        } catch (e) {
          post({ type: 'job-error', seq: msg.seq, error: toWire(e) });
        }
        return;
      case 'prime':
        converter.prime(msg.item);
        return;
      case 'recycle':
        for (const b of msg.buffers) if (converter.spare.length < MAX_SPARE_OUTPUT) converter.spare.push(b);
        return;
      case 'abort':
        converter.abort();
        return;
    }
  };
}

interface Outcome {
  result: JobResult;
  transfer: ArrayBuffer[];
}

interface Parked {
  /** Sub-batches not yet serialized, in order. */
  pending: Batch<unknown>[];
  result: JobResult;
  out: ByteBuilder;
}

class Converter {
  /** Output buffers handed back by the main thread (touching fresh memory costs page faults). */
  readonly spare: ArrayBuffer[] = [];
  /** The serializer has seen the run's first item (or needs none: it has no header). */
  private primed: boolean;
  private readonly parked = new Map<number, Parked>();
  private readonly controller = new AbortController();
  /** Each input's replay (see {@link Replay}), by id. */
  readonly replays = new Map<number, Replay>();
  /** Each input's tokenizer, made and replayed once, then used for all its chunks here. */
  private readonly tokenizers = new Map<number, Tokenizer<unknown>>();

  constructor(
    private readonly init: LaneInit,
    private readonly framer: Framer | undefined,
    private readonly newTokenizer: () => Tokenizer<unknown>,
    private readonly serializer: Serializer<unknown>,
    private readonly transforms: readonly TransformFn[],
    /** The verbatim fast path's check, when the run qualifies. */
    private readonly verbatim: CanonicalCheck | undefined,
  ) {
    this.primed = serializer.header === undefined;
  }

  /**
   * Converts a chunk in sub-batches of {@link PIECE} bytes, each decoded, tokenized,
   * transformed and serialized before the next (as the in-process pipeline does with
   * its reads), so tokens die young and strings stay small.
   */
  async job(job: Job): Promise<Outcome> {
    const timings: JobTimings = { frame: 0, tokenize: 0, transform: 0, serialize: 0 };
    let t = performance.now();
    const lap = (stage: keyof JobTimings): void => {
      const now = performance.now();
      timings[stage] += now - t;
      t = now;
    };
    const { source } = job;
    const decoder = new FrameDecoder({
      source,
      maxRecordBytes: this.init.maxRecordBytes,
      startLine: job.startLine,
      startOffset: job.startOffset,
      ...(this.framer ? { framer: this.framer } : {}),
    });
    const tokenizer = this.tokenizerFor(job);
    lap('tokenize');
    const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.length);
    const track = this.transforms.length > 0;
    const result: JobResult = {
      seq: job.seq,
      lane: this.init.index,
      parked: false,
      bytes: undefined,
      header: undefined,
      headerDone: false,
      records: 0,
      skipped: 0,
      tokenized: 0,
      filtered: 0,
      transformRejected: 0,
      written: 0,
      rejects: [],
      failure: undefined,
      timings,
    };
    const counts = { tokenized: 0, filtered: 0, rejected: 0, written: 0 };
    const out = new ByteBuilder(this.spare, Math.max(this.init.outputBytes, bytes.length * 2 + 1024));
    const pending: Batch<unknown>[] = [];
    // Under `fail`, a rejection ends the run: nothing after it is converted.
    let stop = false;
    const step = async (tokens: Batch<unknown>): Promise<void> => {
      let batch = tokens;
      result.records += batch.records;
      result.skipped += batch.skipped;
      if (track) {
        batch = await applyTransforms(batch, this.transforms, counts, this.controller.signal);
        lap('transform');
      } else {
        counts.tokenized += batch.items.length;
      }
      if (this.init.failFast && batch.rejects.length > 0) stop = true;
      if (pending.length > 0 || (!this.primed && hasItemsToWrite(batch, this.init.failFast))) {
        // Whether these items come first in the run is the main thread's to say.
        pending.push(batch);
        return;
      }
      this.write(batch, result, out, { headerDone: true });
      if (result.failure) stop = true;
      lap('serialize');
    };
    // Where the last record started, which a flush rejection names; a job of no bytes
    // (only a flush) starts there.
    const end: Position = { source, line: job.startLine, offset: job.startOffset };
    const decoded = async (records: RecordBatch | undefined): Promise<void> => {
      lap('frame');
      if (!records) return;
      const n = records.lines.length;
      if (n > 0) {
        end.line = records.lines[n - 1]!;
        end.offset = records.offsets[n - 1]!;
      }
      const tokens = tokenizeBatch(tokenizer, records, track, this.verbatim);
      lap('tokenize');
      await step(tokens);
    };
    // Pieces end after an LF where there is one, so the decoder rarely has a partial record to copy.
    for (let at = 0; at < bytes.length && !stop; ) {
      let next = at + PIECE;
      if (next < bytes.length) {
        const lf = bytes.lastIndexOf(0x0a, next - 1);
        if (lf >= at) next = lf + 1;
      }
      await decoded(decoder.push(bytes.subarray(at, next)));
      at = next;
    }
    if (!stop) await decoded(decoder.end());
    if (!stop && job.last) {
      const flushed = flushTokenizer(tokenizer, source, end);
      lap('tokenize');
      await step(flushed);
    }
    result.tokenized = counts.tokenized;
    result.filtered = counts.filtered;
    result.transformRejected = counts.rejected;
    // Decoded: nothing refers to the input bytes any more (records are copies), so they go back.
    const input = job.bytes.buffer as ArrayBuffer;
    if (pending.length > 0) {
      this.parked.set(job.seq, { pending, result, out });
      return { result: { ...result, parked: true, input }, transfer: [input] };
    }
    result.input = input;
    return finish(result, out);
  }

  /**
   * The tokenizer for a job's input. Made fresh and fed the input's replayed first
   * records the first time; then reused for every chunk of that input this worker gets,
   * in whatever order: for a parallel-safe format, the state the first records establish
   * is all that a record's tokens depend on, so a tokenizer that has also seen other
   * records since tokenizes the same. Reuse keeps what a tokenizer builds once (a CSV
   * row builder compiled per header) warm, instead of rebuilding it every 256 KiB. The
   * input's last chunk gets a tokenizer of its own: `flush` is called on it.
   */
  private tokenizerFor(job: Job): Tokenizer<unknown> {
    const known = job.last ? undefined : this.tokenizers.get(job.replay);
    if (known) return known;
    const tokenizer = this.newTokenizer();
    const r = this.replays.get(job.replay);
    // The chunk that starts with the first data record tokenizes it itself.
    if (r) replay(tokenizer, job.source, r, job.replayAll ? r.records.length : r.records.length - 1);
    if (!job.last) this.tokenizers.set(job.replay, tokenizer);
    return tokenizer;
  }

  /** The input is read: drop its replay and tokenizer. */
  forget(id: number): void {
    this.replays.delete(id);
    this.tokenizers.delete(id);
  }

  /** Serializes a parked job; `asFirst`: the run's header is not written yet. */
  serializeParked(seq: number, asFirst: boolean): Outcome {
    const p = this.parked.get(seq);
    if (!p) throw new Error(`no parked job ${seq}`);
    this.parked.delete(seq);
    const t0 = performance.now();
    const state: HeaderState = { headerDone: !asFirst };
    for (const batch of p.pending) {
      this.write(batch, p.result, p.out, state);
      if (p.result.failure) break;
    }
    if (asFirst && state.headerDone) {
      this.primed = true;
      p.result.headerDone = true;
      p.result.first = state.first;
    }
    p.result.timings.serialize += performance.now() - t0;
    return finish(p.result, p.out);
  }

  /** Another worker wrote the run's header from `item`: put this serializer in the same state. */
  prime(item: unknown): void {
    if (this.primed) return;
    this.primed = true;
    try {
      this.serializer.header?.(item);
    } catch {
      // It did not throw for the worker that wrote the header; the same call cannot differ here.
    }
  }

  abort(): void {
    this.controller.abort(new SluiceError('SLUICE_E_ABORTED', 'run aborted'));
  }

  /** The error policy and the serializer over one sub-batch, as the in-process writer applies them. */
  private write(batch: Batch<unknown>, result: JobResult, out: ByteBuilder, state: HeaderState): void {
    const w = writeBatch(batch, this.serializer, state, this.init.failFast, {
      every: PIECE,
      emit: (text) => out.write(text),
    });
    out.write(w.text);
    if (w.header !== undefined) result.header = w.header;
    result.written += w.written;
    for (const r of w.rejects) result.rejects.push(r);
    if (w.failure) result.failure = w.failure;
  }
}

function finish(result: JobResult, out: ByteBuilder): Outcome {
  const bytes = out.bytes();
  result.bytes = bytes;
  const transfer = [bytes.buffer as ArrayBuffer];
  if (result.input) transfer.push(result.input);
  return { result, transfer };
}

/** UTF-8 output gathered in one buffer of its own (not from Buffer's pool: it is transferred). */
class ByteBuilder {
  private buf: Buffer;
  private length = 0;

  constructor(spare: ArrayBuffer[], capacity: number) {
    const i = spare.findIndex((b) => b.byteLength >= capacity);
    this.buf = i === -1 ? Buffer.allocUnsafeSlow(capacity) : Buffer.from(spare.splice(i, 1)[0]!);
  }

  write(text: string): void {
    if (text.length === 0) return;
    // Three bytes per UTF-16 unit at most; counted exactly only when that might not fit.
    if (this.length + text.length * 3 > this.buf.length) {
      const need = this.length + Buffer.byteLength(text, 'utf8');
      if (need > this.buf.length) this.grow(need);
    }
    this.length += this.buf.write(text, this.length, 'utf8');
  }

  private grow(need: number): void {
    const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.length);
  }
}

/** Feeds the replayed records to a fresh tokenizer; their tokens and rejections were counted by the main thread. */
function replay(tokenizer: Tokenizer<unknown>, source: string, r: Replay, n: number): void {
  const at: Position = { source, line: 0, offset: 0 };
  const scratch: unknown[] = [];
  for (let i = 0; i < n; i++) {
    at.line = r.lines[i]!;
    at.offset = r.offsets[i]!;
    try {
      tokenizer.tokenize(r.records[i]!, at, scratch);
    } catch {
      // Rejected on the main thread already; what matters is the state it left.
    }
    scratch.length = 0;
  }
}
