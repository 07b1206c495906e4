/**
 * The one adapter from a {@link Format} to a stream: bytes in, {@link Batch}es of
 * tokens out. No format subclasses Transform; this is the only place framing and
 * tokenizing meet the stream machinery (the steps themselves are `batch-tokenizer.ts`).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { type BatchTokenizerOptions, createBatchTokenizer } from './batch-tokenizer.js';
import type { Format } from './contracts.js';

export interface TokenizerStreamOptions extends BatchTokenizerOptions {
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
  const tokens = createBatchTokenizer(format, options);
  return new Transform({
    writableObjectMode: false,
    readableObjectMode: true,
    readableHighWaterMark: options.highWaterMark ?? 4,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        const batch = tokens.push(chunk);
        if (batch) cb(null, batch);
        else cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        for (const batch of tokens.end()) this.push(batch);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
}
