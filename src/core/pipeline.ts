/**
 * Pipeline assembly: inputs → (gunzip) → frame + tokenize (one tokenizer per input)
 * → merge → user transforms on a concurrency-limited parallel transform → one
 * writer that applies the error policy, serializes and writes to every sink.
 *
 * The writer is the only sequential stage after the merge: it keeps the output header
 * and the ledger consistent, and it is where backpressure from the slowest sink
 * reaches back to the inputs.
 */
import { pipeline as pipelineCb, type Readable, Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { merge } from '../parallel/merge.js';
import { parallelTransform } from '../parallel/parallel-transform.js';
import { deadLetterSink } from '../sinks/dead-letter.js';
import { fileSink } from '../sinks/file.js';
import { streamSink } from '../sinks/stream-sink.js';
import type { Batch, Rejection, Serializer, Sink, TransformFn } from './contracts.js';
import { type ErrorCode, isSluiceError, SluiceError, toSluiceError } from './errors.js';
import { truncateText } from './frame-decoder.js';
import { resolveOptions } from './options.js';
import type { AnyFormat, FormatRegistry } from './registry.js';
import { autoGunzip, type Input, type InputSpec, toInput } from './sources.js';
import { createStats, type RunStats, updateRates } from './stats.js';
import { createTokenizerStream } from './tokenize-stream.js';

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
  /** Where `to` output goes: a path or a Writable. @default process.stdout */
  output?: string | NodeJS.WritableStream;
  /** Sinks that receive items (after transforms) as objects, in addition to any `to` output. */
  // biome-ignore lint/suspicious/noExplicitAny: sinks take whatever the transforms emit.
  sinks?: readonly Sink<any>[];
  /** Applied to every item in order; see {@link TransformFn}. */
  // biome-ignore lint/suspicious/noExplicitAny: user transforms are typed by the caller.
  transforms?: readonly TransformFn<any, any>[];
  /** Batches in flight through the transforms. @default 4 */
  concurrency?: number;
  /** Keep input order. @default true */
  ordered?: boolean;
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

const RECORD_STAGES = new Set(['frame', 'tokenize']);

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
  const started = performance.now();
  const stats = options.stats ?? createStats();
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
  const transforms = options.transforms ?? [];
  const inputs = options.inputs.map(toInput);
  stats.inputs = inputs.length;
  if (inputs.every((i) => i.size !== undefined)) stats.totalBytes = inputs.reduce((n, i) => n + i.size!, 0);

  const sinks: { sink: Sink<unknown>; bytes: boolean }[] = [];
  let deadLetter: Sink<Rejection> | undefined;
  const policy = options.onError ?? 'fail';
  try {
    if (serializer) {
      const out = options.output ?? process.stdout;
      const sink =
        typeof out === 'string'
          ? await fileSink(out)
          : streamSink(out as Writable, {
              name: out === process.stdout ? 'stdout' : 'output',
              end: out !== process.stdout,
            });
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

    const sources = inputs.map((input) => () => openInput(input, from, options));
    const stages: (Readable | Writable | NodeJS.ReadWriteStream)[] = [
      merge(sources, { ordered, objectMode: true, ...(options.signal ? { signal: options.signal } : {}) }),
    ];
    if (transforms.length > 0) {
      stages.push(
        parallelTransform(
          (batch: Batch<unknown>, ctx) => applyTransforms(batch, transforms, stats, ctx.signal),
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
    throw asRunError(e);
  }
  updateRates(stats, started);
  return stats;
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
function openInput(input: Input, format: AnyFormat, options: PipelineOptions): Readable {
  const tokenizer = createTokenizerStream(format, {
    source: input.source,
    ...(options.fromOptions ? { options: options.fromOptions } : {}),
    ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
    trackOrigins: (options.transforms?.length ?? 0) > 0,
  });
  return pipelineCb(
    input.open(),
    (src: Readable) => autoGunzip(src, { name: input.source }),
    tokenizer,
    () => {
      // Errors reach the consumer through the tokenizer stream, which pipeline destroys with them.
    },
  ) as Readable;
}

/** Runs the user transforms over one batch; a throwing transform rejects that item only. */
async function applyTransforms(
  batch: Batch<unknown>,
  transforms: readonly TransformFn[],
  stats: RunStats,
  signal: AbortSignal,
): Promise<Batch<unknown>> {
  const out: unknown[] = [];
  const lines: number[] = [];
  const offsets: number[] = [];
  const rejects: Rejection[] = [];
  let nextReject = 0;
  const ctx = { signal };
  stats.items.tokenized += batch.items.length;
  for (let i = 0; i < batch.items.length; i++) {
    // Keep earlier-stage rejections positioned among the items that survive.
    while (nextReject < batch.rejects.length && batch.rejects[nextReject]!.at <= i) {
      rejects.push({ ...batch.rejects[nextReject++]!, at: out.length });
    }
    const line = batch.lines?.[i] ?? 0;
    const offset = batch.offsets?.[i] ?? 0;
    let values: unknown[] = [batch.items[i]];
    try {
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
    } catch (e) {
      stats.items.rejected++;
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
    if (values.length === 0) stats.items.filtered++;
    for (const v of values) {
      out.push(v);
      lines.push(line);
      offsets.push(offset);
    }
  }
  while (nextReject < batch.rejects.length) rejects.push({ ...batch.rejects[nextReject++]!, at: out.length });
  return { ...batch, items: out, lines, offsets, rejects };
}

function preview(item: unknown): string | undefined {
  try {
    const s = typeof item === 'string' ? item : JSON.stringify(item);
    return s === undefined ? undefined : truncateText(s);
  } catch {
    return undefined;
  }
}

/** The sequential tail of the pipeline: policy, ledger, serialization, sinks. */
class BatchWriter {
  private headerDone = false;
  private readonly controller = new AbortController();

  constructor(
    private readonly sinks: readonly { sink: Sink<unknown>; bytes: boolean }[],
    private readonly serializer: Serializer<unknown> | undefined,
    private readonly deadLetter: Sink<Rejection> | undefined,
    private readonly failFast: boolean,
    private readonly countTokens: boolean,
    private readonly stats: RunStats,
    private readonly started: number,
    private readonly onProgress: ((stats: RunStats) => void) | undefined,
  ) {}

  stream(): Writable {
    return new Writable({
      objectMode: true,
      highWaterMark: 1,
      write: (batch: Batch<unknown>, _enc, cb) => {
        this.write(batch).then(() => cb(), cb);
      },
      final: (cb) => {
        this.finish().then(() => cb(), cb);
      },
      destroy: (err, cb) => {
        this.controller.abort(err ?? undefined);
        cb(err);
      },
    });
  }

  private async write(batch: Batch<unknown>): Promise<void> {
    const { stats } = this;
    stats.bytes += batch.bytes;
    stats.records.in += batch.records;
    stats.records.skipped += batch.skipped;
    // With transforms, the transform stage counts tokens before they fan out or drop.
    if (this.countTokens) stats.items.tokenized += batch.items.length;
    const rejects = batch.rejects.slice();
    let items = batch.items;
    // Under `fail`, everything before the first rejection is still written, like any Unix filter.
    let failure: Rejection | undefined;
    if (this.failFast && rejects.length > 0) {
      failure = rejects.reduce((a, b) => (b.at < a.at ? b : a));
      items = items.slice(0, failure.at);
    }
    let text = '';
    let written = items.length;
    if (this.serializer && this.sinks.some((s) => s.bytes)) {
      const serializer = this.serializer;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        let line: string;
        try {
          if (!this.headerDone) {
            const h = serializer.header?.(item);
            this.headerDone = true;
            if (h !== undefined) text += `${h}\n`;
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
          if (this.failFast) {
            failure = r;
            items = items.slice(0, i);
            written = i;
            break;
          }
          continue;
        }
        text += `${line}\n`;
      }
    }
    const signal = this.controller.signal;
    await Promise.all(
      this.sinks.map(({ sink, bytes }) =>
        bytes ? sink.write(text ? [text] : [], signal) : sink.write(items, signal),
      ),
    );
    for (const r of rejects) {
      if (RECORD_STAGES.has(r.stage)) stats.records.rejected++;
      else if (r.stage === 'serialize') stats.items.rejected++;
      stats.rejectedByCode[r.code] = (stats.rejectedByCode[r.code] ?? 0) + 1;
    }
    stats.items.written += written;
    if (failure) {
      updateRates(stats, this.started);
      throw rejectionError(failure);
    }
    if (rejects.length > 0 && this.deadLetter) await this.deadLetter.write(rejects, signal);
    updateRates(stats, this.started);
    this.onProgress?.(stats);
  }

  private async finish(): Promise<void> {
    if (!this.headerDone && this.serializer) {
      this.headerDone = true;
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
