/**
 * Test helpers for the parallel stages. Synchronisation is by event-loop turns and
 * explicit deferreds, never by wall-clock time: `settle()` returns once every pending
 * nextTick and microtask (all stream bookkeeping) has run.
 */
import { Readable, Writable } from 'node:stream';
import type * as fc from 'fast-check';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One full turn of the event loop: all nextTicks and microtasks queued so far (and those they queue) have run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves on the stream's 'close' event. Unlike `events.once(stream, 'close')` it
 * does not reject on 'error', and it must be called before the close happens.
 */
export function closed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** Reads a stream to its end. */
export async function collect<T = unknown>(stream: AsyncIterable<unknown>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream) out.push(chunk as T);
  return out;
}

/** An object-mode Writable that keeps what it receives. */
export function collector<T = unknown>(): Writable & { items: T[] } {
  const items: T[] = [];
  const w = new Writable({
    objectMode: true,
    write(chunk: T, _enc, cb) {
      items.push(chunk);
      cb();
    },
  });
  return Object.assign(w, { items });
}

/** An endless object-mode source that counts how many items were pulled from it. */
export function countingSource(highWaterMark = 1): Readable & { pulled: () => number } {
  let n = 0;
  const r = new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      this.push(n++);
    },
  });
  return Object.assign(r, { pulled: () => n });
}

/** An object-mode source the test feeds by hand (`push(x)`, `push(null)`, `destroy(e)`); counts the reads asked of it. */
export function manualSource(): Readable & { reads: () => number } {
  let reads = 0;
  const r = new Readable({
    objectMode: true,
    read() {
      reads++;
    },
  });
  return Object.assign(r, { reads: () => reads });
}

/**
 * Runs the scheduler until `done` settles: after each released task the event loop
 * turns once so the streams react to that completion alone, then the scheduler picks
 * the next task to release. If nothing is scheduled and `done` is still pending, the
 * stream under test is stuck, which is a failure, not a reason to wait.
 */
export async function drive<T>(s: fc.Scheduler, done: Promise<T>): Promise<T> {
  let over = false;
  done.then(
    () => {
      over = true;
    },
    () => {
      over = true;
    },
  );
  for (;;) {
    await settle();
    if (over) return done;
    if (s.count() === 0)
      throw new Error(
        `stuck: nothing is scheduled and the stream has not finished\n${s.report().length} tasks ran`,
      );
    await s.waitNext(1);
  }
}

/** Records unhandled rejections while `body` runs (and for one turn after), so a test can assert there were none. */
export async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  try {
    await body();
    // Unhandled rejections are reported after the microtask queue drains; give them a turn.
    await settle();
    await settle();
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  return seen;
}
