/**
 * The store's background checkpointer (ADR 0010): the WAL starts over under continuous
 * writes, SQLite's own checkpoints are off while the thread runs, closing leaves no WAL
 * behind, and a thread that fails leaves the store checkpointing inline, with a warning.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import type { SegmentEvent } from '../../src/audience/segment-event.js';
import {
  CHASE_FRAMES,
  type Checkpointer,
  chaseFirst,
  HandOverGate,
  MAX_CHASES,
  startCheckpointer,
} from '../../src/audience/store/checkpointer.js';
import { openSqliteStore, openThreadedSqliteStore } from '../../src/audience/store/index.js';
import { failure, tempFiles } from './helpers.js';

const temp = tempFiles('ck');
const freshPath = temp.file;

/** `n` adds spread over many users, so every apply dirties pages all over the table. */
function batch(round: number, n: number): SegmentEvent[] {
  const out: SegmentEvent[] = [];
  for (let i = 0; i < n; i++) {
    const u = (i * 7919 + round * 104_729) % 50_000;
    out.push({ ns: 'acme', uid: `user-${u}`, seg: `s${(i + round) % 40}`, op: 'add', ts: round + 1 });
  }
  return out;
}

const walBytes = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
const privateDb = (store: unknown) => (store as { db: Database.Database }).db;
const checkpointerOf = (store: unknown) => {
  const ck = (store as { checkpointer: Checkpointer | undefined }).checkpointer;
  if (!ck) throw new Error('the store has no checkpointer thread');
  return ck;
};

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a file store checkpointed by its thread', () => {
  test('under back-to-back applies the WAL starts over and stays near its threshold', async () => {
    const path = freshPath();
    // 64 pages (256 KiB): the writes below put well over 50 MiB of frames through the WAL.
    const store = await openSqliteStore(path, { walAutocheckpoint: 64 });
    let peakFrames = 0;
    let restarts = 0;
    try {
      for (let round = 0; round < 400; round++) {
        await store.apply(batch(round, 200));
        // Every 10 applies, a pause until the thread has handed over or run a whole pass
        // over what they wrote: the bound below is on what piles up between two of the
        // thread's passes, not on how soon a loaded machine schedules the thread. With only
        // a turn of the event loop here, a loaded CI run once ended with 24,015 frames.
        if (round % 10 === 0) {
          const ck = checkpointerOf(store);
          const from = ck.stats().passes;
          await until('a checkpoint pass', () => ck.handingOver || ck.stats().passes >= from + 2, 30_000);
        }
        // Without the hand-over the WAL only grows: SQLite's own checkpoints are off.
        if (round === 399) expect(privateDb(store).pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      }
      // The WAL file is reused from its start when it starts over, and never truncated
      // (no journal_size_limit), so its size is its high-water mark: a 32-byte header,
      // then frames of a page and a 24-byte header each.
      const pageSize = privateDb(store).pragma('page_size', { simple: true }) as number;
      peakFrames = (walBytes(path) - 32) / (pageSize + 24);
      restarts = checkpointerOf(store).stats().restarts;
      const snapshot = await store.snapshot();
      expect(snapshot.length).toBeGreaterThan(10_000);
    } finally {
      await store.close();
    }
    // At its largest, the threshold plus the ~1,800 frames of 10 applies written between
    // two passes, not the 400 applies' frames: without the hand-over the WAL held 71,403.
    expect(restarts).toBeGreaterThan(0);
    expect(peakFrames).toBeGreaterThan(64);
    expect(peakFrames).toBeLessThan(10_000);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  test('with checkpoint: inline, SQLite checkpoints inside commits, at the threshold', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path, { checkpoint: 'inline', walAutocheckpoint: 64 });
    try {
      for (let round = 0; round < 50; round++) await store.apply(batch(round, 200));
      expect(privateDb(store).pragma('wal_autocheckpoint', { simple: true })).toBe(64);
    } finally {
      await store.close();
    }
  });

  test('closing stops the thread first, so the writer closes last and the WAL is gone', async () => {
    for (const open of [openSqliteStore, openThreadedSqliteStore]) {
      const path = freshPath();
      const store = await open(path, { walAutocheckpoint: 16 });
      for (let round = 0; round < 20; round++) await store.apply(batch(round, 100));
      expect(walBytes(path)).toBeGreaterThan(0);
      await store.close();
      expect(existsSync(`${path}-wal`)).toBe(false);
      // And the data is all there.
      const peek = new Database(path, { readonly: true });
      expect(peek.prepare('SELECT count(*) FROM segments').pluck().get()).toBe(
        new Set(Array.from({ length: 20 }, (_, r) => batch(r, 100).map((e) => `${e.uid} ${e.seg}`)).flat())
          .size,
      );
      peek.close();
    }
  });

  test('a bad checkpoint option is an option error', async () => {
    const e = await failure(openSqliteStore(freshPath(), { checkpoint: 'sometimes' as never }));
    expect(e.code).toBe('SLUICE_E_OPTION');
    expect(String(e)).toMatch(/checkpoint: expected "background" or "inline", got "sometimes"/);
  });
});

/** A WAL-mode table without SQLite's own checkpoints; `write(round)` commits `perCommit` scattered rows. */
function walTable(perCommit: number) {
  const path = freshPath();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT OR REPLACE INTO t VALUES (?, ?)');
  const write = db.transaction((round: number) => {
    for (let i = 0; i < perCommit; i++) insert.run((i * 7919 + round * 31) % 20_000, 'x'.repeat(50));
  });
  return { path, db, write, checkpoint: db.prepare('PRAGMA wal_checkpoint(PASSIVE)') };
}

describe('HandOverGate', () => {
  const pass = (log: number, checkpointed = log, busy = 0) => ({ busy, log, checkpointed });

  test('hands over after a pass that copied all of a WAL past its threshold', () => {
    const gate = new HandOverGate(1000);
    expect(gate.afterPass(pass(999))).toBe(false);
    expect(gate.afterPass(pass(1200, 1100))).toBe(false);
    expect(gate.afterPass(pass(1200, 1200, 1))).toBe(false);
    expect(gate.afterPass(pass(1200))).toBe(true);
  });

  test('not twice for one WAL: after a step that let it start over, waits for the smaller WAL', () => {
    const gate = new HandOverGate(1000);
    expect(gate.afterPass(pass(1200))).toBe(true);
    gate.restarted(pass(1200));
    // A pass between the writer's step and its next transaction: the old WAL, all copied.
    expect(gate.afterPass(pass(1250))).toBe(false);
    // The WAL started over, and grows to the threshold again.
    expect(gate.afterPass(pass(300))).toBe(false);
    expect(gate.afterPass(pass(1100))).toBe(true);
  });

  test('hands over again if the WAL grew on instead of starting over (a reader held it)', () => {
    const gate = new HandOverGate(1000);
    gate.restarted(pass(1200));
    expect(gate.afterPass(pass(1600))).toBe(false);
    expect(gate.afterPass(pass(1701))).toBe(true);
  });
});

describe('chaseFirst', () => {
  test('passes again after a long pass, a bounded number of times, and hands over after a short one', () => {
    expect(chaseFirst(CHASE_FRAMES - 1, 0)).toBe(false);
    expect(chaseFirst(CHASE_FRAMES, 0)).toBe(true);
    expect(chaseFirst(50_000, MAX_CHASES - 1)).toBe(true);
    // However fast the writer writes, the WAL gets its hand-over.
    expect(chaseFirst(50_000, MAX_CHASES)).toBe(false);
  });
});

describe('the checkpointer thread', () => {
  test('hands the last step to the writer once the WAL is past its threshold, and the WAL starts over', async () => {
    const { path, db, write, checkpoint } = walTable(100);
    const ck = startCheckpointer({ path, threshold: 32, busyTimeoutMs: 1000 });
    try {
      await until('the thread to run', () => ck.running);
      for (let round = 0; ck.stats().restarts < 3; round++) {
        write(round);
        ck.finish(() => checkpoint.get() as never);
        if (round % 10 === 0) await new Promise((r) => setTimeout(r, 1));
        if (round > 20_000)
          throw new Error(`no restart after ${round} transactions: ${JSON.stringify(ck.stats())}`);
      }
      expect(ck.stats().passes).toBeGreaterThan(0);
      expect(ck.failed).toBeUndefined();
    } finally {
      await ck.stop();
      db.close();
    }
    expect(ck.running).toBe(false);
  });

  test('spaces its passes out while the WAL is far from its threshold, and comes often near it', async () => {
    /** Passes the thread runs while a writer commits every ~2 ms for `ms`, with the WAL kept at `threshold` scale. */
    const passesWhileWriting = async (threshold: number, ms: number): Promise<number> => {
      const { path, db, write, checkpoint } = walTable(20);
      const ck = startCheckpointer({ path, threshold, busyTimeoutMs: 1000 });
      try {
        await until('the thread to run', () => ck.running);
        const from = ck.stats().passes;
        const end = Date.now() + ms;
        for (let round = 0; Date.now() < end; round++) {
          write(round);
          ck.finish(() => checkpoint.get() as never);
          await new Promise((r) => setTimeout(r, 2));
        }
        return ck.stats().passes - from;
      } finally {
        await ck.stop();
        db.close();
      }
    };
    // Far (the WAL never nears a million pages): a pass every 40 ms at most, ~25 in a second.
    // Before the pacing, a pass came every 5 ms whenever new frames had been written (~150).
    const far = await passesWhileWriting(1_000_000, 1000);
    expect(far).toBeGreaterThan(5);
    expect(far).toBeLessThan(45);
    // Near (a threshold of one page: always past it): every few ms, so the hand-over's step stays short.
    const near = await passesWhileWriting(1, 1000);
    expect(near).toBeGreaterThan(far * 2);
  });

  test('that cannot open its database fails, warns once, and finish() does nothing', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const ck = startCheckpointer({
        path: join(temp.dir(), 'missing', 'x.db'),
        threshold: 10,
        busyTimeoutMs: 100,
      });
      await until('the thread to fail', () => ck.failed !== undefined);
      expect(ck.running).toBe(false);
      let called = false;
      ck.finish(() => {
        called = true;
        return { busy: 0, log: 0, checkpointed: 0 };
      });
      expect(called).toBe(false);
      await until('the warning', () => warnings.length > 0);
      expect(warnings).toHaveLength(1);
      expect((warnings[0] as Error & { code?: string }).code).toBe('SLUICE_W_CHECKPOINTER');
      expect(warnings[0]!.message).toMatch(/checkpointer thread stopped .*checkpoints inline/);
      await ck.stop();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
