/**
 * sluice's public API. Everything a Node application or a format author needs, and
 * nothing internal: a name that is not exported here may change without notice.
 */
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
export { ERROR_CODES, type ErrorCode, SluiceError, type Stage, isSluiceError } from './core/errors.js';
export { DEFAULT_MAX_RECORD_BYTES, FrameDecoder, type FrameDecoderOptions } from './core/frame-decoder.js';
export { newlineFramer, quotedFramer } from './core/framers.js';
export { type OptionSpec, type OptionType, type OptionsSchema, resolveOptions } from './core/options.js';
export { type ErrorPolicy, type PipelineOptions, pipeline } from './core/pipeline.js';
export { type AnyFormat, FormatRegistry } from './core/registry.js';
export { builtinFormats, defaultRegistry } from './core/builtins.js';
export { type Input, type InputSpec, fileInput, stdinInput, streamInput } from './core/sources.js';
export { type RunStats, createStats } from './core/stats.js';
export { createTokenizerStream, type TokenizerStreamOptions } from './core/tokenize-stream.js';
export { flushTokenizer, tokenizeBatch } from './core/tokenize.js';
export { type MergeOptions, merge } from './parallel/merge.js';
export { type ParallelTransformOptions, parallelTransform } from './parallel/parallel-transform.js';
export { deadLetterRecord, deadLetterSink, fileSink, streamSink } from './sinks/index.js';
