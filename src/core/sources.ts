/**
 * Inputs: files, stdin, or any Readable, opened lazily (so a thousand files do not
 * hold a thousand descriptors) and decompressed when they are gzip, recognised by
 * the magic bytes whatever the name says.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SluiceError } from './errors.js';

export interface Input {
  /** Names the input in positions and rejections: a path, `-` for stdin, a label. */
  readonly source: string;
  /** Size in bytes when known (a regular file), for progress. */
  readonly size?: number;
  /**
   * The descriptor the input may be read from directly, instead of through `open()`:
   * the process's stdin (0). The worker-thread engine reads it straight into its chunk
   * buffers when it is a regular file ({@link readableFd}); `open()` still works, for
   * everything else.
   */
  readonly fd?: number;
  /** Opens the byte stream; called once, when the input's turn comes. */
  open(): Readable;
}

/** What a caller may pass as an input: a path (`-` is stdin), a Readable, or an {@link Input}. */
export type InputSpec = string | Readable | Input;

const READ_CHUNK = 64 * 1024;

export function fileInput(path: string): Input {
  let size: number | undefined;
  try {
    const st = statSync(path);
    // A gzip file's size on disk does not compare with the decompressed bytes the run
    // counts, so its size is left unknown (no percentage rather than a wrong one).
    if (st.isFile() && !startsWithGzipMagic(path)) size = st.size;
  } catch {
    // Reported when opened, with the same message a read would give.
  }
  return {
    source: path,
    ...(size !== undefined ? { size } : {}),
    open: () => withInputErrors(createReadStream(path, { highWaterMark: READ_CHUNK }), path),
  };
}

/** Stdin: `stdin` if given, else the process's, which is not touched until the input is opened. */
export function stdinInput(stdin?: Readable): Input {
  if (stdin !== undefined) return { source: '-', open: () => stdin };
  return { source: '-', fd: 0, open: () => process.stdin };
}

/**
 * Whether `fd` can be read with plain reads on libuv's thread pool: only a regular file
 * (`sluice < file`). A pipe, a socket or a terminal is read through its stream, which
 * waits for data on the event loop: a thread-pool read of an idle pipe blocks until the
 * writer writes or closes, and at exit libuv waits for its threads, so a run stopped by
 * SIGINT while its producer lives would never end (tested).
 */
export function readableFd(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

export function streamInput(stream: Readable, source = 'stream'): Input {
  return { source, open: () => stream };
}

export function toInput(spec: InputSpec): Input {
  if (typeof spec === 'string') return spec === '-' ? stdinInput() : fileInput(spec);
  if (spec instanceof Readable) return streamInput(spec);
  return spec;
}

/** Rewrites low-level read errors (ENOENT, EISDIR, EACCES) into a coded error naming the input. */
function withInputErrors(stream: Readable, source: string): Readable {
  const original = stream.destroy.bind(stream);
  stream.destroy = (err?: Error) => {
    if (err && !(err instanceof SluiceError)) {
      err = new SluiceError('SLUICE_E_INPUT', `cannot read ${source}: ${describeIoError(err)}`, {
        stage: 'input',
        cause: err,
      });
    }
    return original(err);
  };
  return stream;
}

/** The reason a file cannot be read, in words (`no such file`), for every place that reads one. */
export function describeIoError(e: Error & { code?: string }): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
      return 'permission denied';
    default:
      return e.message;
  }
}

/** True when `buf[at, at + n)` starts with gzip's magic bytes. */
export function isGzipAt(buf: Uint8Array, at: number, n: number): boolean {
  return n >= 2 && buf[at] === 0x1f && buf[at + 1] === 0x8b;
}

function startsWithGzipMagic(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return isGzipAt(head, 0, readSync(fd, head, 0, 2, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * A pipeline stage that passes bytes through, or gunzips them when they start with
 * the gzip magic bytes. Concatenated gzip members (from `cat a.gz b.gz`) are handled
 * by zlib itself.
 */
export async function* autoGunzip(
  source: AsyncIterable<Buffer>,
  options: { name?: string; signal?: AbortSignal } = {},
) {
  const it = source[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  while (head.length < 2) {
    const r = await it.next();
    if (r.done) {
      if (head.length > 0) yield head;
      return;
    }
    head = head.length === 0 ? r.value : Buffer.concat([head, r.value]);
  }
  const rest = (async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  if (!isGzipAt(head, 0, head.length)) {
    yield* rest;
    return;
  }
  const gunzip = createGunzip({ chunkSize: READ_CHUNK });
  const compressed = Readable.from(rest, { objectMode: false });
  compressed.on('error', (e) => gunzip.destroy(e));
  compressed.pipe(gunzip);
  try {
    for await (const chunk of gunzip) {
      if (options.signal?.aborted) break;
      yield chunk as Buffer;
    }
  } catch (e) {
    throw new SluiceError(
      'SLUICE_E_INPUT',
      `cannot decompress ${options.name ?? 'gzip input'}: ${(e as Error).message}`,
      {
        stage: 'input',
        cause: e,
      },
    );
  } finally {
    compressed.destroy();
  }
}
