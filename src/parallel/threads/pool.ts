/**
 * The conversion lanes of one run (`--threads N`): the workers, started once, before
 * any input is read (so a transform module that does not load fails the run before it
 * writes), given jobs by transfer, and terminated at the end, whatever happens, so the
 * process can exit; and, unless told otherwise, the main thread's own lane
 * (`local-lane.ts`), which takes a job only when every worker has enough queued.
 *
 * Jobs wait in the pool, not in the workers' message queues, until a lane can take
 * them: a worker holds at most `depth` (enough that it never waits for the main
 * thread), and whichever lane frees up first gets the next job.
 *
 * A worker that dies (an uncaught error or a rejection escaping a transform, a
 * `process.exit` in user code, running out of heap) fails the whole run with
 * `SLUICE_E_INTERNAL` naming the input and line range of the chunk it was converting:
 * never a silent gap. Chunks are not retried: a transform with side effects would
 * see records twice, and a deterministic crash would only crash again.
 */
import type { EventEmitter } from 'node:events';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { isSluiceError, SluiceError } from '../../core/errors.js';
import { workerScript } from '../../core/worker-script.js';
import { LocalLane, type LocalLaneSetup } from './local-lane.js';
import { workerProfilePath } from './profile.js';
import type { FromWorker, Job, JobResult, LaneInit, Replay, ToWorker, WireError } from './protocol.js';

export interface PoolOptions {
  /** Worker threads to start. */
  workers: number;
  /** The main thread's lane, when it converts too. */
  local: Omit<LocalLaneSetup, 'init'> | undefined;
  /** Jobs a worker holds at once (one converting, the rest queued behind it). */
  depth: number;
  init: Omit<LaneInit, 'index' | 'profile'>;
  /** Main-thread profile path: each worker writes `<path minus .cpuprofile>.worker-<i>.cpuprofile`. */
  profile: string | undefined;
  resourceLimits: ResourceLimits;
  /** Called once when a worker dies, with the run's error. */
  onFailure: (e: SluiceError) => void;
}

interface Running {
  /** Undefined while the job waits for a lane. */
  slot: Slot | undefined;
  source: string;
  firstLine: number;
  lastLine: number;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
}

/** A worker, or the main thread's lane, driven through the same messages. */
interface Lane extends EventEmitter {
  postMessage(msg: ToWorker, transfer?: readonly ArrayBuffer[]): void;
  terminate(): Promise<unknown>;
}

interface Slot {
  /** 0: the main thread's lane; 1..: a worker. */
  index: number;
  lane: Lane;
  /** Jobs given and not yet answered (a parked job counts until it is serialized). */
  load: number;
  /** Loaded its formats and transforms: jobs go to a lane only then, so none waits behind a start-up. */
  ready: boolean;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly workers: Slot[] = [];
  private local: Slot | undefined;
  /** Jobs waiting for a lane, oldest first. */
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, Running>();
  /** Replays defined (by input), which lanes have been sent each, and whether the input is read. */
  private readonly replays = new Map<number, { replay: Replay; sentTo: Set<Slot>; read: boolean }>();
  /** Parked jobs: which worker holds their items. */
  private readonly parkedAt = new Map<number, Slot>();
  private failure: SluiceError | undefined;
  private closing = false;

  /**
   * Resolves once every worker has loaded its formats and transforms; rejects with the
   * first failure (a transform module that does not load: `SLUICE_E_MODULE`). Jobs may
   * be sent before: they wait in the workers' queues.
   */
  readonly ready: Promise<void>;
  private rejectReady: (e: unknown) => void = () => {};

  /** Starts every worker (see {@link ready}). */
  static start(options: PoolOptions): WorkerPool {
    return new WorkerPool(options);
  }

  private constructor(private readonly options: PoolOptions) {
    const ready: Promise<void>[] = [];
    if (options.workers > 0) {
      const script = workerScript(import.meta.url, 'src/parallel/threads/worker.js');
      for (let i = 1; i <= options.workers; i++) {
        const init: LaneInit = {
          ...options.init,
          index: i,
          profile: options.profile === undefined ? undefined : workerProfilePath(options.profile, i),
        };
        const worker = new Worker(script, {
          workerData: init,
          resourceLimits: options.resourceLimits,
          // The worker's own stdout/stderr go to the process's (a transform's console.log is seen).
          stdout: false,
          stderr: false,
        });
        const slot: Slot = { index: i, lane: worker, load: 0, ready: false };
        this.slots.push(slot);
        this.workers.push(slot);
        ready.push(this.watch(slot));
      }
    }
    if (options.local) {
      // The main thread's profile, if any, already covers this lane.
      const lane = new LocalLane({
        ...options.local,
        init: { ...options.init, index: 0, profile: undefined },
      });
      this.local = { index: 0, lane, load: 0, ready: false };
      this.slots.push(this.local);
      ready.push(this.watch(this.local));
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.rejectReady = reject;
      Promise.all(ready).then(() => resolve(), reject);
    });
    // Observed here so an early failure is never an unhandled rejection; the run awaits `ready`.
    this.ready.catch(() => {});
  }

  /**
   * Queues a job for the next lane free to take it; its bytes are transferred to a worker
   * (the caller's view is detached). `lastLine` is the line the chunk ends on, for error
   * messages.
   */
  run(job: Job, lastLine: number): Promise<JobResult> {
    if (this.failure) return Promise.reject(this.failure);
    const promise = new Promise<JobResult>((resolve, reject) => {
      this.running.set(job.seq, {
        slot: undefined,
        source: job.source,
        firstLine: job.startLine,
        lastLine,
        resolve,
        reject,
      });
    });
    this.queue.push(job);
    this.pump();
    return promise;
  }

  /** Gives queued jobs to the lanes that can take them: the least busy worker under `depth`, else the main thread's lane when idle. */
  private pump(): void {
    while (this.queue.length > 0 && !this.failure) {
      let slot: Slot | undefined;
      for (const s of this.workers) {
        if (s.ready && s.load < this.options.depth && (!slot || s.load < slot.load)) slot = s;
      }
      if (!slot && this.local?.ready && this.local.load === 0) slot = this.local;
      if (!slot) return;
      const job = this.queue.shift()!;
      const replay = this.replays.get(job.replay);
      if (replay && !replay.sentTo.has(slot)) {
        replay.sentTo.add(slot);
        this.post(slot, { type: 'replay', id: job.replay, replay: replay.replay });
      }
      const r = this.running.get(job.seq);
      if (r) r.slot = slot;
      slot.load++;
      this.post(slot, { type: 'job', job }, [job.bytes.buffer as ArrayBuffer]);
      if (replay?.read) this.forgetDone(job.replay);
    }
  }

  /** Hands written-out output buffers back to the lane that filled them. */
  recycle(lane: number, buffers: ArrayBuffer[]): void {
    const slot = this.slots.find((s) => s.index === lane);
    if (slot && !this.failure && buffers.length > 0) this.post(slot, { type: 'recycle', buffers }, buffers);
  }

  /** Registers an input's replay; it is sent to a worker with the first job that needs it there. */
  defineReplay(id: number, replay: Replay): void {
    this.replays.set(id, { replay, sentTo: new Set(), read: false });
  }

  /** The input is read: lanes may drop its replay once no queued job needs it. */
  forgetReplay(id: number): void {
    const r = this.replays.get(id);
    if (!r) return;
    r.read = true;
    this.forgetDone(id);
  }

  /** Drops a read input's replay when no job of it still waits for a lane (those sent are ahead of `forget`). */
  private forgetDone(id: number): void {
    const r = this.replays.get(id);
    if (!r?.read || this.queue.some((j) => j.replay === id)) return;
    this.replays.delete(id);
    if (this.failure) return;
    for (const slot of r.sentTo) this.post(slot, { type: 'forget', id });
  }

  /** Serializes a parked job in the worker that holds it. */
  serialize(seq: number, asFirst: boolean): Promise<JobResult> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.parkedAt.get(seq);
    if (!slot) return Promise.reject(new SluiceError('SLUICE_E_INTERNAL', `job ${seq} is not parked`));
    this.parkedAt.delete(seq);
    const promise = new Promise<JobResult>((resolve, reject) => {
      this.running.set(seq, { slot, source: '', firstLine: 0, lastLine: 0, resolve, reject });
    });
    this.post(slot, { type: 'serialize', seq, asFirst });
    return promise;
  }

  /**
   * The run's header was written by job `seq`: primes every other worker's serializer
   * with the item it was written from.
   */
  prime(seq: number, item: unknown): void {
    const by = this.headerSlot.get(seq);
    this.headerSlot.clear();
    for (const s of this.slots) if (s !== by) this.post(s, { type: 'prime', item });
  }

  /** Which worker serialized a job that wrote the header (see {@link prime}). */
  private readonly headerSlot = new Map<number, Slot>();

  /** Stops the workers' profilers (writing their profiles), then terminates every worker. */
  /**
   * Ends a run that went well: each worker writes its profile, if any, and answers once
   * the timers already due have run, so that a worker dying late (an error thrown from a
   * transform's timer) still fails the run (through `onFailure`). Then terminates them all.
   */
  async close(): Promise<void> {
    if (!this.failure) await Promise.all(this.slots.map((s) => this.finish(s)));
    await this.terminate();
  }

  /** Ends every worker now (after a failure, or at the end of the run). */
  async terminate(): Promise<void> {
    this.closing = true;
    for (const s of this.slots) s.lane.postMessage({ type: 'abort' } satisfies ToWorker);
    await Promise.allSettled(this.slots.map((s) => s.lane.terminate()));
  }

  private post(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    try {
      // The main thread's lane shares this thread's memory: nothing to transfer.
      if (slot === this.local) slot.lane.postMessage(msg);
      else slot.lane.postMessage(msg, transfer);
    } catch (e) {
      // A value that cannot be cloned (a prime item holding a function, say).
      this.fail(
        new SluiceError(
          'SLUICE_E_INTERNAL',
          `cannot send work to worker thread ${slot.index}: ${(e as Error).message}`,
          { cause: e },
        ),
      );
    }
  }

  private finish(slot: Slot): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        slot.lane.off('message', onMessage);
        slot.lane.off('exit', done);
        clearTimeout(timer);
        resolve();
      };
      const onMessage = (msg: FromWorker): void => {
        if (msg.type === 'finished') done();
      };
      // A worker that does not answer (its thread kept busy by user code) does not hold the
      // run: at worst its profile is lost, not the output.
      const timer = setTimeout(done, 10_000);
      slot.lane.on('message', onMessage);
      slot.lane.on('exit', done);
      slot.lane.postMessage({ type: 'finish' } satisfies ToWorker);
    });
  }

  /** Wires a worker's events; resolves when it is ready. */
  private watch(slot: Slot): Promise<void> {
    return new Promise((resolveReady, rejectReady) => {
      let ready = false;
      slot.lane.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            ready = true;
            slot.ready = true;
            resolveReady();
            this.pump();
            return;
          case 'init-error':
            rejectReady(fromWire(msg.error));
            return;
          case 'result': {
            const r = this.running.get(msg.result.seq);
            if (!r) return;
            this.running.delete(msg.result.seq);
            if (msg.result.headerDone) this.headerSlot.set(msg.result.seq, slot);
            if (msg.result.parked) this.parkedAt.set(msg.result.seq, slot);
            else slot.load--;
            r.resolve(msg.result);
            this.pump();
            return;
          }
          case 'job-error': {
            const r = this.running.get(msg.seq);
            if (!r) return;
            this.running.delete(msg.seq);
            slot.load--;
            r.reject(fromWire(msg.error));
            this.pump();
            return;
          }
        }
      });
      slot.lane.on('error', (e) => {
        if (!ready) rejectReady(this.crashError(slot, e));
        else this.fail(this.crashError(slot, e));
      });
      slot.lane.on('exit', (code) => {
        if (this.closing) return;
        const e = new Error(`it exited with code ${code}`);
        if (!ready) rejectReady(this.crashError(slot, e));
        else this.fail(this.crashError(slot, e));
      });
    });
  }

  /** The run's error for a dead worker, naming the chunk it was converting. */
  private crashError(slot: Slot, e: unknown): SluiceError {
    let job: Running | undefined;
    let seq = Number.POSITIVE_INFINITY;
    for (const [s, r] of this.running) {
      if (r.slot === slot && r.source !== '' && s < seq) {
        seq = s;
        job = r;
      }
    }
    const why = e instanceof Error ? e.message : String(e);
    const where = job ? ` while converting ${job.source} lines ${job.firstLine}-${job.lastLine}` : '';
    return new SluiceError('SLUICE_E_INTERNAL', `worker thread ${slot.index} died${where}: ${why}`, {
      stage: 'pipeline',
      cause: e,
    });
  }

  /** The run failed elsewhere: nothing more is sent, and whatever waits on a worker stops waiting. */
  abort(e: unknown): void {
    if (this.failure) return;
    this.failure = isSluiceError(e) ? e : new SluiceError('SLUICE_E_ABORTED', 'run aborted', { cause: e });
    for (const r of this.running.values()) r.reject(e);
    this.running.clear();
    this.rejectReady(e);
  }

  private fail(e: SluiceError): void {
    if (this.failure) return;
    this.failure = e;
    for (const r of this.running.values()) r.reject(e);
    this.running.clear();
    this.options.onFailure(e);
  }
}

export function fromWire(w: WireError): SluiceError {
  const e = new SluiceError(w.code ?? 'SLUICE_E_INTERNAL', w.message, {
    ...(w.stage ? { stage: w.stage } : {}),
    ...(w.position ? { position: w.position } : {}),
  });
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}
