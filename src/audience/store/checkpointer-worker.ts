/**
 * The thread side of {@link startCheckpointer} (`checkpointer.ts` has the protocol): a
 * connection of its own that copies the WAL back into the database with PASSIVE
 * checkpoints, which never block the writer, and hands the writer the short last step
 * once the WAL has grown past its threshold.
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  type CheckpointerInit,
  type CheckpointResult,
  chaseFirst,
  FINISHING,
  HandOverGate,
  READY,
  Slot,
  WORKING,
} from './checkpointer.js';

const port = parentPort;
if (!port) throw new Error('checkpointer-worker.js runs only as a worker thread');
const { path, threshold, busyTimeoutMs, shared } = workerData as CheckpointerInit;
const s = new Int32Array(shared);
const stopped = () => Atomics.load(s, Slot.Stop) !== 0;

const db = new Database(path, { timeout: busyTimeoutMs, fileMustExist: true });
// A checkpoint fsyncs the WAL before copying. It fsyncs the database only when it copied
// the whole WAL (SQLite's walCheckpoint): the thread's passes rarely do, under load; the
// writer's step always does.
db.pragma('synchronous = NORMAL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
port.postMessage('ready');

/** Waits between passes (ms): the writer idle; the WAL near its threshold; far from it. */
const IDLE_WAIT_MS = 50;
const NEAR_WAIT_MS = 5;
const FAR_WAIT_MS = 40;
/** The share of the threshold from which passes come every NEAR_WAIT_MS. */
const NEAR_THRESHOLD = 0.75;

/**
 * Flushes the WAL's frames to disk from this thread, so that the fsync the writer's step
 * starts with only has the frames written since. A descriptor of our own: fsync works
 * on the file, whoever wrote it. Best effort: if it fails, the step syncs them itself.
 */
let walFd: number | undefined;
const syncWal = (): void => {
  try {
    walFd ??= openSync(`${path}-wal`, 'r');
    fdatasyncSync(walFd);
  } catch {}
};

let lastLog = -1;
let chased = 0;
const gate = new HandOverGate(threshold);

while (!stopped()) {
  const r = checkpoint.get() as CheckpointResult;
  Atomics.add(s, Slot.Passes, 1);
  const handOver = gate.afterPass(r);
  const chase = handOver && chaseFirst(r.log - lastLog, chased);
  chased = chase ? chased + 1 : 0;
  if (chase) {
    // Caught up, but this pass was long: the writer wrote many frames meanwhile, and its
    // step would copy them all (a 4 KiB read and write each, then an fsync of every page).
    // Pass again at once; a few passes in a row shrink to what is written during one.
  } else if (handOver) {
    // Caught up with a WAL past its threshold. Only a checkpoint that ends with every
    // frame copied, between two of the writer's transactions, lets the next transaction
    // start the WAL over: while the writer keeps writing, this thread never gets there.
    // So the writer finishes the few frames written since, between two commits.
    syncWal();
    const restarts = Atomics.load(s, Slot.Restarts);
    if (Atomics.compareExchange(s, Slot.State, WORKING, READY) === WORKING) {
      Atomics.wait(s, Slot.State, READY, 1000);
      // Not taken (the writer went idle): take it back, and go on copying.
      if (Atomics.compareExchange(s, Slot.State, READY, WORKING) === FINISHING) {
        while (Atomics.load(s, Slot.State) === FINISHING) Atomics.wait(s, Slot.State, FINISHING, 100);
      }
      if (Atomics.load(s, Slot.Restarts) !== restarts) gate.restarted(r);
    }
  } else if (r.busy !== 0 || r.checkpointed === r.log) {
    // Nothing left to copy (or another checkpoint is running): wait, longer while the
    // writer is idle. Each pass costs an fsync (two when it copies the whole WAL) and
    // copies every page written since the last, once however often it was written, so
    // far from the threshold passes are spaced out. Near it they come often, so the pass
    // that ends in the hand-over is short and so is the writer's last step.
    const near = r.log >= threshold * NEAR_THRESHOLD;
    Atomics.wait(s, Slot.Stop, 0, r.log === lastLog ? IDLE_WAIT_MS : near ? NEAR_WAIT_MS : FAR_WAIT_MS);
  }
  lastLog = r.log;
}
if (walFd !== undefined) closeSync(walFd);
db.close();
