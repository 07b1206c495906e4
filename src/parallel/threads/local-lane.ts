/**
 * The main thread's own conversion lane. With `--threads N`, N threads convert: the
 * main thread and N-1 workers, as GOMAXPROCS counts the thread running `main` (see
 * docs/decisions/0014-main-thread-lane.md). The main thread reads and writes too, and
 * is otherwise idle most of a run; a worker costs a JavaScript heap, a start-up and a
 * JIT warm-up of its own, so this lane does a worker's share for less.
 *
 * It answers the messages a worker does, through the same converter, as an
 * EventEmitter the pool drives like a `Worker`. It converts one job per turn of the
 * event loop (`setImmediate`), so reads, writes and worker results come in between;
 * the pool gives it a job only when every worker already has enough queued.
 */
import { EventEmitter } from 'node:events';
import type { TransformFn } from '../../core/contracts.js';
import type { AnyFormat } from '../../core/registry.js';
import { converterHost } from './converter.js';
import type { FromWorker, LaneInit, ToWorker } from './protocol.js';
import { toWire } from './protocol.js';

export interface LocalLaneSetup {
  init: LaneInit;
  from: AnyFormat;
  to: AnyFormat;
  /** Loads the transforms on the main thread (the same modules the workers load). */
  transforms: () => Promise<TransformFn[]>;
}

export class LocalLane extends EventEmitter {
  private handle: ((msg: Exclude<ToWorker, { type: 'finish' }>) => void) | undefined;
  private readonly queue: ToWorker[] = [];
  private scheduled = false;
  private terminated = false;

  constructor(setup: LocalLaneSetup) {
    super();
    const emit = (msg: FromWorker): void => {
      if (!this.terminated) this.emit('message', msg);
    };
    // Asynchronous, as a worker's start is: the pool listens before anything is emitted.
    setup.transforms().then(
      (transforms) => {
        try {
          this.handle = converterHost(setup.init, setup.from, setup.to, transforms, emit);
        } catch (e) {
          emit({ type: 'init-error', error: toWire(e) });
          return;
        }
        emit({ type: 'ready' });
        this.schedule();
      },
      (e) => emit({ type: 'init-error', error: toWire(e) }),
    );
  }

  postMessage(msg: ToWorker): void {
    if (this.terminated) return;
    if (msg.type === 'abort') {
      // At once, not behind queued jobs: those are answered no more.
      this.queue.length = 0;
      this.handle?.(msg);
      return;
    }
    this.queue.push(msg);
    this.schedule();
  }

  async terminate(): Promise<number> {
    this.terminated = true;
    this.queue.length = 0;
    return 0;
  }

  private schedule(): void {
    if (this.scheduled || this.handle === undefined || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /** Handles queued messages up to and including one job, then yields to the event loop. */
  private drain(): void {
    const handle = this.handle;
    if (handle === undefined || this.terminated) return;
    for (;;) {
      const msg = this.queue.shift();
      if (msg === undefined) return;
      if (msg.type === 'finish') {
        // After the timers already due, as a worker answers.
        setTimeout(() => {
          if (!this.terminated) this.emit('message', { type: 'finished' } satisfies FromWorker);
        }, 0);
        continue;
      }
      handle(msg);
      if (msg.type === 'job') break;
    }
    this.schedule();
  }
}
