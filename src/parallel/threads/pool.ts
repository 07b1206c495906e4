/**
 * The worker threads of one run (`--threads N`): started once, before any input is
 * read (so a transform module that does not load fails the run before it writes),
 * given jobs by transfer, and terminated at the end, whatever happens, so the
 * process can exit.
 *
 * A worker that dies (an uncaught error or a rejection escaping a transform, a
 * `process.exit` in user code, running out of heap) fails the whole run with
 * `SLUICE_E_INTERNAL` naming the input and line range of the chunk it was converting:
 * never a silent gap. Chunks are not retried: a transform with side effects would
 * see records twice, and a deterministic crash would only crash again.
 */
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { isSluiceError, SluiceError } from '../../core/errors.js';
import { workerScript } from '../../core/worker-script.js';
import { workerProfilePath } from './profile.js';
import type { FromWorker, Job, JobResult, Replay, ToWorker, WireError, WorkerInit } from './protocol.js';

export interface PoolOptions {
  threads: number;
  init: Omit<WorkerInit, 'index' | 'profile'>;
  /** Main-thread profile path: each worker writes `<path minus .cpuprofile>.worker-<i>.cpuprofile`. */
  profile: string | undefined;
  resourceLimits: ResourceLimits;
  /** Called once when a worker dies, with the run's error. */
  onFailure: (e: SluiceError) => void;
}

interface Running {
  slot: Slot;
  source: string;
  firstLine: number;
  lastLine: number;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  /** Jobs given and not yet answered (a parked job counts until it is serialized). */
  load: number;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly running = new Map<number, Running>();
  /** Replays defined (by input) and which workers have been sent each. */
  private readonly replays = new Map<number, { replay: Replay; sentTo: Set<Slot> }>();
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
    const script = workerScript(import.meta.url, 'src/parallel/threads/worker.js');
    const ready: Promise<void>[] = [];
    for (let i = 1; i <= options.threads; i++) {
      const init: WorkerInit = {
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
      const slot: Slot = { index: i, worker, load: 0 };
      this.slots.push(slot);
      ready.push(this.watch(slot));
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.rejectReady = reject;
      Promise.all(ready).then(() => resolve(), reject);
    });
    // Observed here so an early failure is never an unhandled rejection; the run awaits `ready`.
    this.ready.catch(() => {});
  }

  /**
   * Sends a job to the least busy worker; its bytes are transferred (the caller's view is
   * detached). `lastLine` is the line the chunk ends on, for error messages.
   */
  run(job: Job, lastLine: number): Promise<JobResult> {
    if (this.failure) return Promise.reject(this.failure);
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.load < slot.load) slot = s;
    const bytes = job.bytes;
    const replay = this.replays.get(job.replay);
    if (replay && !replay.sentTo.has(slot)) {
      replay.sentTo.add(slot);
      this.post(slot, { type: 'replay', id: job.replay, replay: replay.replay });
    }
    const promise = new Promise<JobResult>((resolve, reject) => {
      this.running.set(job.seq, {
        slot,
        source: job.source,
        firstLine: job.startLine,
        lastLine,
        resolve,
        reject,
      });
    });
    slot.load++;
    this.post(slot, { type: 'job', job }, [bytes.buffer as ArrayBuffer]);
    return promise;
  }

  /** Hands written-out output buffers back to the worker that filled them. */
  recycle(worker: number, buffers: ArrayBuffer[]): void {
    const slot = this.slots[worker - 1];
    if (slot && !this.failure && buffers.length > 0) this.post(slot, { type: 'recycle', buffers }, buffers);
  }

  /** Registers an input's replay; it is sent to a worker with the first job that needs it there. */
  defineReplay(id: number, replay: Replay): void {
    this.replays.set(id, { replay, sentTo: new Set() });
  }

  /** The input is read: workers may drop its replay (after the jobs already sent). */
  forgetReplay(id: number): void {
    const r = this.replays.get(id);
    if (!r) return;
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
    for (const s of this.slots) s.worker.postMessage({ type: 'abort' } satisfies ToWorker);
    await Promise.allSettled(this.slots.map((s) => s.worker.terminate()));
  }

  private post(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    try {
      slot.worker.postMessage(msg, transfer);
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
        slot.worker.off('message', onMessage);
        slot.worker.off('exit', done);
        clearTimeout(timer);
        resolve();
      };
      const onMessage = (msg: FromWorker): void => {
        if (msg.type === 'finished') done();
      };
      // A worker that does not answer (its thread kept busy by user code) does not hold the
      // run: at worst its profile is lost, not the output.
      const timer = setTimeout(done, 10_000);
      slot.worker.on('message', onMessage);
      slot.worker.on('exit', done);
      slot.worker.postMessage({ type: 'finish' } satisfies ToWorker);
    });
  }

  /** Wires a worker's events; resolves when it is ready. */
  private watch(slot: Slot): Promise<void> {
    return new Promise((resolveReady, rejectReady) => {
      let ready = false;
      slot.worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            ready = true;
            resolveReady();
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
            return;
          }
          case 'job-error': {
            const r = this.running.get(msg.seq);
            if (!r) return;
            this.running.delete(msg.seq);
            slot.load--;
            r.reject(fromWire(msg.error));
            return;
          }
        }
      });
      slot.worker.on('error', (e) => {
        if (!ready) rejectReady(this.crashError(slot, e));
        else this.fail(this.crashError(slot, e));
      });
      slot.worker.on('exit', (code) => {
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
