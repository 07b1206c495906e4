/**
 * The one adapter from a {@link Format} to a stream: bytes in, {@link Batch}es of
 * tokens out. No format subclasses Transform; this is the only place framing and
 * tokenizing meet the stream machinery.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Batch, Format, RecordBatch } from './contracts.js';
import { FrameDecoder } from './frame-decoder.js';
import { resolveOptions } from './options.js';
import { flushTokenizer, tokenizeBatch } from './tokenize.js';

export interface TokenizerStreamOptions {
  /** Names the input in positions and rejections. Default `-`. */
  source?: string;
  /** Raw format options; validated against the format's schema. */
  options?: Record<string, unknown>;
  /** Longest record accepted, in bytes. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Record each item's line and offset in the batch (`Batch.lines`/`offsets`), for later stages' errors. */
  trackOrigins?: boolean;
  /** Batches buffered on the readable side before backpressure applies. Default 4. */
  highWaterMark?: number;
}

/**
 * A Transform that takes the bytes of one input and emits `Batch<T>` objects, one per
 * written chunk that completed at least one record (plus one at the end).
 *
 * @example
 * ```ts
 * createReadStream('users.csv').pipe(createTokenizerStream(csv, { source: 'users.csv' }))
 * ```
 */
export function createTokenizerStream<T, O extends object>(
  format: Format<T, O>,
  options: TokenizerStreamOptions = {},
): Transform {
  const source = options.source ?? '-';
  const resolved = resolveOptions(format.options, options.options, `${format.name}.`);
  const decoder = new FrameDecoder({
    source,
    maxRecordBytes: options.maxRecordBytes,
    ...(format.framer ? { framer: format.framer(resolved) } : {}),
  });
  const tokenizer = format.tokenizer(resolved);
  const trackOrigins = options.trackOrigins ?? false;
  // The position a `flush` rejection names: where the input's last record started.
  const end = { source, line: 0, offset: 0 };
  const tokenize = (records: RecordBatch): Batch<T> => {
    const n = records.lines.length;
    if (n > 0) {
      end.line = records.lines[n - 1]!;
      end.offset = records.offsets[n - 1]!;
    }
    return tokenizeBatch(tokenizer, records, trackOrigins);
  };
  return new Transform({
    writableObjectMode: false,
    readableObjectMode: true,
    readableHighWaterMark: options.highWaterMark ?? 4,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        const records = decoder.push(chunk);
        if (records) cb(null, tokenize(records));
        else cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        const records = decoder.end();
        if (records) this.push(tokenize(records));
        const flushed = flushTokenizer(tokenizer, source, end);
        if (flushed.items.length + flushed.rejects.length > 0) this.push(flushed);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
}
