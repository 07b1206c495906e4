/**
 * The parallel stages: a concurrency-limited, ordered-or-not transform (fan-out and
 * fan-in of work on the event loop) and a merge of many inputs into one stream.
 */
export { type MergedReadable, type MergeInput, type MergeOptions, merge } from './merge.js';
export {
  type ParallelTransformOptions,
  parallelTransform,
  type TaskContext,
  type TaskFn,
} from './parallel-transform.js';
