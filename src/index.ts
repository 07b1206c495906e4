/**
 * sluice's public API. Everything a Node application or a format author needs, and
 * nothing internal: a name that is not exported here may change without notice.
 */

export { builtinFormats, defaultRegistry } from './core/builtins.js';
export type {
  Batch,
  Format,
  Framer,
  Position,
  RecordBatch,
  RecordScanner,
  Rejection,
  Serializer,
  Sink,
  Tokenizer,
  TransformFn,
} from './core/contracts.js';
export { defineFormat } from './core/contracts.js';
export { ERROR_CODES, type ErrorCode, isSluiceError, SluiceError, type Stage } from './core/errors.js';
export { DEFAULT_MAX_RECORD_BYTES, FrameDecoder, type FrameDecoderOptions } from './core/frame-decoder.js';
export { newlineFramer, quotedFramer } from './core/framers.js';
export { type OptionSpec, type OptionsSchema, type OptionType, resolveOptions } from './core/options.js';
export { type ErrorPolicy, type PipelineOptions, pipeline } from './core/pipeline.js';
export { type AnyFormat, FormatRegistry } from './core/registry.js';
export { fileInput, type Input, type InputSpec, stdinInput, streamInput } from './core/sources.js';
export { createStats, type RunStats } from './core/stats.js';
export { flushTokenizer, tokenizeBatch } from './core/tokenize.js';
export { createTokenizerStream, type TokenizerStreamOptions } from './core/tokenize-stream.js';
export { type MergedReadable, type MergeInput, type MergeOptions, merge } from './parallel/merge.js';
export {
  type ParallelTransformOptions,
  parallelTransform,
  type TaskContext,
  type TaskFn,
} from './parallel/parallel-transform.js';
export { deadLetterRecord, deadLetterSink, fileSink, streamSink } from './sinks/index.js';
