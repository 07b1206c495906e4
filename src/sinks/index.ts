export { deadLetterRecord, deadLetterSink } from './dead-letter.js';
export { type FileSinkOptions, fileSink } from './file.js';
export { type StreamSinkOptions, streamSink } from './stream-sink.js';
