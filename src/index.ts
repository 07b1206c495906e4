/**
 * sluice's public API. Everything a Node application or a format author needs, and
 * nothing internal: a name that is not exported here may change without notice.
 */

export {
  ALL_SEGMENTS,
  type SegmentEvent,
  type SegmentOp,
  validateSegmentEvent,
} from './audience/segment-event.js';
export {
  type ApplyResult,
  type AudienceStore,
  type IdempotencyLog,
  type IdempotencyRecord,
  type Membership,
  openPostgresStore,
  openSqliteStore,
  openStore,
  openThreadedSqliteStore,
  type PostgresStoreOptions,
  parseStoreTarget,
  type SqliteStoreOptions,
  type StoreRow,
  type StoreTarget,
} from './audience/store/index.js';
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
export {
  AUTO_WORKERS_FROM_BYTES,
  type ErrorPolicy,
  type PipelineOptions,
  pipeline,
} from './core/pipeline.js';
export { type AnyFormat, FormatRegistry } from './core/registry.js';
export { fileInput, type Input, type InputSpec, stdinInput, streamInput } from './core/sources.js';
export { createStats, type RunStats, type StageTimings, type ThreadsReport } from './core/stats.js';
export { DEFAULT_CHUNK_BYTES } from './core/threaded-pipeline.js';
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
export { type StoreSinkOptions, sqliteSink, storeSink } from './sinks/sqlite.js';
