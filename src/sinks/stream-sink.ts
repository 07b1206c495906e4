/**
 * A sink over any Node Writable (stdout, a file, a socket): writes each batch's text
 * in one `write` call and waits for `drain` when the stream asks, so a slow consumer
 * slows the whole pipeline instead of growing a buffer.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Sink } from '../core/contracts.js';
import { SluiceError } from '../core/errors.js';
import { Utf8Slabs } from './utf8-slabs.js';

export interface StreamSinkOptions {
  name?: string;
  /** End the stream on close. Default true; false for process.stdout, which Node must not end early. */
  end?: boolean;
  /**
   * Encode text into reused buffers (see {@link Utf8Slabs}). Only for streams that are
   * done with a chunk when they call its write callback: files, pipes, sockets, stdout.
   * Default false, as a Writable that keeps its chunks would see them overwritten.
   */
  reuseBuffers?: boolean;
}

export function streamSink(stream: Writable, options: StreamSinkOptions = {}): Sink<string | Uint8Array> {
  const name = options.name ?? 'stream';
  const end = options.end ?? true;
  const slabs = options.reuseBuffers ? new Utf8Slabs() : undefined;
  let failure: Error | undefined;
  let closing: Promise<void> | undefined;
  // Remember the first error the stream reports, even between writes: EPIPE on stdout
  // arrives asynchronously, and a later write must see it instead of hanging on drain.
  const onError = (e: Error): void => {
    failure ??= e;
  };
  stream.on('error', onError);

  const wrap = (e: unknown): SluiceError =>
    e instanceof SluiceError ? e : outputError(`cannot write to ${name}`, e);

  return {
    name,
    async write(batch, signal) {
      if (failure) throw wrap(failure);
      if (batch.length === 0) return;
      const chunk = batch.length === 1 ? batch[0]! : joinChunks(batch);
      let accepted: boolean;
      if (slabs !== undefined && typeof chunk === 'string') {
        const { chunk: bytes, release } = slabs.encode(chunk);
        accepted = stream.write(bytes, release);
      } else {
        accepted = stream.write(chunk);
      }
      if (accepted) return;
      // `once` rejects on 'error', so a broken pipe ends the wait instead of hanging it.
      try {
        await once(stream, 'drain', { signal });
      } catch (e) {
        throw wrap(failure ?? e);
      }
      if (failure) throw wrap(failure);
    },
    close() {
      closing ??= (async () => {
        try {
          if (failure) throw wrap(failure);
          if (!end) {
            // Wait for what was written to be flushed without ending the stream.
            if (stream.writableNeedDrain) await once(stream, 'drain');
            return;
          }
          if (!stream.writableEnded) stream.end();
          if (!stream.writableFinished) await once(stream, 'finish');
          if (failure) throw wrap(failure);
        } finally {
          stream.off('error', onError);
          // Keep a listener so a late error (EPIPE after close) cannot crash the process.
          stream.on('error', () => {});
        }
      })();
      return closing;
    },
  };
}

function joinChunks(batch: readonly (string | Uint8Array)[]): string | Buffer {
  if (batch.every((c) => typeof c === 'string')) return (batch as string[]).join('');
  return Buffer.concat(batch.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

/** A sink's I/O failure as `SLUICE_E_OUTPUT`: `<what>: <the system's reason>`, the error kept as its cause. */
export function outputError(what: string, e: unknown): SluiceError {
  return new SluiceError('SLUICE_E_OUTPUT', `${what}: ${(e as Error).message}`, { stage: 'sink', cause: e });
}
