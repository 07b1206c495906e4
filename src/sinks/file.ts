/** A file sink: a {@link streamSink} over a file opened for writing (truncated, or appended). */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Sink } from '../core/contracts.js';
import { SluiceError } from '../core/errors.js';
import { streamSink } from './stream-sink.js';

export interface FileSinkOptions {
  /** Append instead of truncating. Default false. */
  append?: boolean;
}

/**
 * Opens `path` for writing and gives the sink with its stream (the threaded pipeline
 * watches the stream to tell when written buffers are released). Resolves once the file
 * is open, so a bad path fails before any input is read.
 */
export async function fileOutput(
  path: string,
  options: FileSinkOptions = {},
): Promise<{ sink: Sink<string | Uint8Array>; stream: Writable }> {
  const stream = createWriteStream(path, { flags: options.append ? 'a' : 'w', highWaterMark: 256 * 1024 });
  try {
    await once(stream, 'open');
  } catch (e) {
    throw new SluiceError('SLUICE_E_OUTPUT', `cannot open ${path} for writing: ${(e as Error).message}`, {
      stage: 'sink',
      cause: e,
    });
  }
  return { sink: streamSink(stream, { name: path, reuseBuffers: true }), stream };
}

/** Opens `path` for writing; resolves once the file is open so a bad path fails before any input is read. */
export async function fileSink(
  path: string,
  options: FileSinkOptions = {},
): Promise<Sink<string | Uint8Array>> {
  return (await fileOutput(path, options)).sink;
}
