/**
 * A background checkpointer for a SQLite store in WAL mode (ADR 0010).
 *
 * SQLite's own checkpoint runs inside the commit that crosses `wal_autocheckpoint`: it
 * copies the WAL's pages back into the database and fsyncs both files while the writer
 * waits. Under a steady load of random-key upserts that was a 60-100 ms pause every
 * 10,000 pages, and the p99 of every request behind it (`bench/serve.mjs`).
 *
 * Here a thread with its own connection runs PASSIVE checkpoints, which copy and fsync
 * without blocking the writer. A PASSIVE checkpoint alone never lets the WAL start over
 * while the writer keeps writing (the writer always adds frames while one runs), so the
 * WAL would grow without bound. Once the WAL is past its threshold and the thread has
 * caught up, it hands over: the writer, between two of its transactions, runs one more
 * PASSIVE checkpoint over the few frames written since ({@link Checkpointer.finish}), and
 * the WAL starts over at its next transaction. That last step is the writer's only pause
 * (about 10 ms here, against 60-100 ms).
 *
 * The two threads meet in a few words of shared memory ({@link Slot}): the state moves
 * WORKING → READY (thread: caught up, past the threshold) → FINISHING (writer: taking
 * it) → WORKING (writer: done). A thread that fails or exits leaves the writer on
 * SQLite's own checkpoints, with a process warning: slower, never wrong.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../../core/worker-script.js';

export const WORKING = 0;
export const READY = 1;
export const FINISHING = 2;

/** Indices into the shared Int32Array. */
export const Slot = {
  Stop: 0,
  State: 1,
  /** Checkpoint passes run by the thread. */
  Passes: 2,
  /** Hand-overs whose last step copied every frame: the writer's next transaction starts the WAL over. */
  Restarts: 3,
} as const;

/** What `PRAGMA wal_checkpoint` returns. */
export interface CheckpointResult {
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames of it copied into the database. */
  checkpointed: number;
}

/**
 * When the thread hands over (see the file comment): after a pass that copied every frame
 * of a WAL past its threshold, but not twice for one WAL. A pass that ran between the
 * writer's last step and its next transaction still sees the old, fully copied WAL past
 * its threshold; handing over on it made the writer pause again (10-20 ms under the serve
 * benchmark's load) to copy the first frames of the new WAL: 47 hand-overs in a 15-second
 * run, in pairs, where 34 were needed. So after a step that let the WAL start over, the
 * gate waits for a pass that sees it has (a smaller WAL), or one that sees it grow on
 * (a reader kept it from starting over).
 */
export class HandOverGate {
  private restartedAt: number | undefined;

  constructor(private readonly threshold: number) {}

  /** After a pass: whether to hand over now. */
  afterPass(r: CheckpointResult): boolean {
    const at = this.restartedAt;
    if (at !== undefined && (r.log < at || r.log > at + this.threshold / 2)) this.restartedAt = undefined;
    return (
      this.restartedAt === undefined && r.busy === 0 && r.log >= this.threshold && r.checkpointed === r.log
    );
  }

  /** The writer's step after the pass `r` copied every frame: its next transaction starts the WAL over. */
  restarted(r: CheckpointResult): void {
    this.restartedAt = r.log;
  }
}

/**
 * Frames written since the thread's last pass from which, caught up past the threshold,
 * it passes again at once instead of handing over: the writer's step copies what was
 * written since the thread's last pass began, so a short last pass makes a short step.
 */
export const CHASE_FRAMES = 300;
/** Passes chased in a row at most before the thread hands over anyway, so the WAL stays bounded. */
export const MAX_CHASES = 4;

/** Whether to pass again at once rather than hand over (see {@link CHASE_FRAMES}). */
export function chaseFirst(writtenSinceLastPass: number, chased: number): boolean {
  return writtenSinceLastPass >= CHASE_FRAMES && chased < MAX_CHASES;
}

export interface CheckpointerInit {
  path: string;
  /** WAL pages past which the WAL is started over. */
  threshold: number;
  busyTimeoutMs: number;
  shared: SharedArrayBuffer;
}

export interface Checkpointer {
  /** True while the thread runs; false before it is ready and once it has failed. */
  readonly running: boolean;
  /** Set once the thread has failed: the writer must checkpoint on its own again. */
  readonly failed: Error | undefined;
  /**
   * Call between two of the writer's transactions. When the thread has handed over,
   * runs `checkpoint` (the writer's own PASSIVE checkpoint); else does nothing.
   */
  finish(checkpoint: () => CheckpointResult): void;
  /** The thread has handed over and waits for the writer's {@link finish}. */
  readonly handingOver: boolean;
  /** Checkpoint passes the thread has run, and WAL restarts the writer has made. */
  stats(): { passes: number; restarts: number };
  /** Stops the thread and waits for it to close its connection. */
  stop(): Promise<void>;
}

/** Starts the checkpointer thread for the database file at `path`. */
export function startCheckpointer(init: Omit<CheckpointerInit, 'shared'>): Checkpointer {
  const shared = new SharedArrayBuffer(4 * 4);
  const s = new Int32Array(shared);
  const worker = new Worker(workerScript(import.meta.url, 'src/audience/store/checkpointer-worker.js'), {
    workerData: { ...init, shared } satisfies CheckpointerInit,
    // Its heap holds a connection and a statement; the page cache is SQLite's, not V8's.
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  // It must not keep a process alive that has nothing else to do.
  worker.unref();
  let running = false;
  let failed: Error | undefined;
  let stopping: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const fail = (e: Error) => {
    if (failed || stopping) return;
    failed = e;
    running = false;
    process.emitWarning(
      `sluice: the SQLite checkpointer thread stopped (${e.message}); the store checkpoints inline`,
      {
        code: 'SLUICE_W_CHECKPOINTER',
      },
    );
  };
  worker.once('message', () => {
    running = !failed && !stopping;
  });
  worker.on('error', fail);
  worker.once('exit', (code) => fail(new Error(`it exited with code ${code}`)));

  return {
    get running() {
      return running;
    },
    get failed() {
      return failed;
    },
    finish(checkpoint: () => CheckpointResult): void {
      if (!running || Atomics.compareExchange(s, Slot.State, READY, FINISHING) !== READY) return;
      try {
        const r = checkpoint();
        // Every frame copied: the writer's next transaction starts the WAL over.
        if (r.busy === 0 && r.checkpointed === r.log) Atomics.add(s, Slot.Restarts, 1);
      } finally {
        Atomics.store(s, Slot.State, WORKING);
        Atomics.notify(s, Slot.State);
      }
    },
    get handingOver() {
      return running && Atomics.load(s, Slot.State) === READY;
    },
    stats: () => ({ passes: Atomics.load(s, Slot.Passes), restarts: Atomics.load(s, Slot.Restarts) }),
    stop() {
      stopping ??= (async () => {
        running = false;
        // Until it has closed its connection, so the writer's close is the last one
        // (SQLite then checkpoints and deletes the WAL).
        worker.ref();
        Atomics.store(s, Slot.Stop, 1);
        Atomics.notify(s, Slot.Stop);
        Atomics.notify(s, Slot.State);
        await exited;
      })();
      return stopping;
    },
  };
}
