/**
 * The embedded {@link AudienceStore}: SQLite through better-sqlite3 (ADR 0006).
 *
 * Schema (both tables are join-semilattices, so applying events commutes):
 *
 * - `segments (ns, uid, seg) → (op, ts, ttl)`: the winning event per key, kept by an
 *   upsert whose `DO UPDATE ... WHERE` only lets a strictly greater event replace the row
 *   (greater `ts`; at equal `ts` a remove beats an add, and between adds no ttl beats a
 *   ttl and a larger ttl beats a smaller one). Removes stay as tombstones.
 * - `optouts (ns, uid) → ts`: the greatest `ts` of a `seg: '*'` remove.
 *
 * Opt-outs and expiry are applied when reading, never written into `segments`, so a
 * late event always meets the same state it would have met in order.
 *
 * better-sqlite3 is synchronous: SQL runs on the event loop's thread and blocks it. One
 * `apply` is one transaction (atomic), written in slices of `yieldEvery` rows with a
 * yield to the event loop between slices, so a huge call blocks the loop for one slice
 * at a time (a few ms per thousand rows) instead of for the whole call. `apply` calls are
 * queued and never interleave. Reads of a file database use a second connection, which
 * sees only committed transactions (WAL), so a read never waits for a write in progress
 * and never sees half of one; an in-memory database has one connection, and its reads
 * wait for the write in progress.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { SluiceError } from '../../core/errors.js';
import { ALL_SEGMENTS, describeValue, type SegmentEvent } from '../segment-event.js';
import { type Checkpointer, type CheckpointResult, startCheckpointer } from './checkpointer.js';
import type {
  ApplyResult,
  AudienceStore,
  IdempotencyLog,
  IdempotencyRecord,
  Membership,
  StoreRow,
} from './types.js';
import { validateAll, versionProblem } from './validate.js';

export interface SqliteStoreOptions {
  /**
   * When a commit counts as durable. `'normal'` (the default): WAL with
   * `synchronous=NORMAL`; a committed `apply` survives the process crashing or being
   * killed, but the last transactions before an OS crash or power loss may be lost
   * (the database stays consistent: they are rolled back whole). `'full'`: every commit
   * waits for fsync of the WAL, so it also survives power loss, at the cost of one fsync
   * per `apply` (group many events per call).
   */
  synchronous?: 'normal' | 'full';
  /**
   * Rows written between yields to the event loop inside one `apply` transaction.
   * @default 5000
   */
  yieldEvery?: number;
  /**
   * How long opening or a write waits for another connection's lock (another process
   * writing the same file) before failing. The wait blocks the event loop.
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * Page cache per connection, in MiB (allocated as used). Random user ids scatter
   * writes over the whole table, so a cache that holds its hot pages matters.
   * @default 64
   */
  cacheMiB?: number;
  /**
   * WAL pages (4 KiB each) past which the WAL is copied back into the database and
   * started over. With `checkpoint: 'inline'` this is SQLite's `wal_autocheckpoint`: the
   * `apply` whose commit crosses it copies and fsyncs while the event loop waits (SQLite's
   * default, 1000, halved the throughput of random-key loads here: ADR 0006). With
   * `'background'`, the WAL's size at which the checkpointer thread hands the writer the
   * last step (fewer hand-overs, fewer short pauses: 20000 measured better than 10000,
   * ADR 0010). 0 turns checkpoints off (the WAL then grows until the store is closed).
   * @default 20000
   */
  walAutocheckpoint?: number;
  /**
   * Who copies the WAL back into the database (file databases only; ADR 0010).
   * `'background'` (the default): a thread of its own, with its own connection, so a
   * commit pauses only for the last few frames (about 10 ms) instead of the whole copy
   * and its fsyncs (60-100 ms). `'inline'`: SQLite's own automatic checkpoints, inside
   * the commit that crosses `walAutocheckpoint`; one thread fewer.
   * @default 'background'
   */
  checkpoint?: 'background' | 'inline';
}

/** Marks a SQLite file as a sluice audience store (`PRAGMA application_id`): ASCII "sluA". */
export const APPLICATION_ID = 0x736c7541;
/** The schema version this code writes and reads (`PRAGMA user_version`). */
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE segments (
  ns  TEXT    NOT NULL,
  uid TEXT    NOT NULL,
  seg TEXT    NOT NULL,
  op  TEXT    NOT NULL CHECK (op IN ('add', 'remove')),
  ts  INTEGER NOT NULL,
  ttl INTEGER CHECK (ttl IS NULL OR (op = 'add' AND ttl >= 0)),
  PRIMARY KEY (ns, uid, seg)
) STRICT, WITHOUT ROWID;
CREATE TABLE optouts (
  ns  TEXT    NOT NULL,
  uid TEXT    NOT NULL,
  ts  INTEGER NOT NULL,
  PRIMARY KEY (ns, uid)
) STRICT, WITHOUT ROWID;
PRAGMA application_id = ${APPLICATION_ID};
PRAGMA user_version = ${SCHEMA_VERSION};
`;

/**
 * Answers to requests with an `Idempotency-Key` (`IdempotencyLog`). Added after schema
 * version 1 without changing it: created when missing, ignored by older readers.
 */
const IDEMPOTENCY_SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency (
  id          TEXT    NOT NULL PRIMARY KEY,
  fingerprint TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  at          INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS idempotency_at ON idempotency (at);
`;

/**
 * Last writer wins, with a total order on events of one key so the result is the
 * maximum whatever the arrival order: (ts, then remove > add with no ttl > add with a
 * larger ttl > add with a smaller ttl). Only a strictly greater event replaces the row.
 */
const UPSERT_SEGMENT = `
INSERT INTO segments (ns, uid, seg, op, ts, ttl) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (ns, uid, seg) DO UPDATE SET op = excluded.op, ts = excluded.ts, ttl = excluded.ttl
WHERE excluded.ts > segments.ts
   OR (excluded.ts = segments.ts AND (
          (excluded.op = 'remove' AND segments.op = 'add')
       OR (excluded.op = 'add' AND segments.op = 'add' AND segments.ttl IS NOT NULL
           AND (excluded.ttl IS NULL OR excluded.ttl > segments.ttl))))`;

const UPSERT_OPTOUT = `
INSERT INTO optouts (ns, uid, ts) VALUES (?, ?, ?)
ON CONFLICT (ns, uid) DO UPDATE SET ts = excluded.ts WHERE excluded.ts > optouts.ts`;

// ts >= 0 always, so -1 stands for "no opt-out". ts + ttl * 1000 cannot overflow 64 bits:
// ts <= 8.64e15 and ttl <= 2^53 - 1 give at most about 9.02e18 < 2^63.
const SELECT_USER = `
SELECT seg, ts, ttl FROM segments
WHERE ns = @ns AND uid = @uid AND op = 'add'
  AND ts > coalesce((SELECT ts FROM optouts WHERE ns = @ns AND uid = @uid), -1)
  AND (ttl IS NULL OR ts + ttl * 1000 > @now)
ORDER BY seg`;

const SELECT_ALL = `
SELECT ns, uid, seg, op, ts, ttl FROM segments
UNION ALL
SELECT ns, uid, '*', 'remove', ts, NULL FROM optouts
ORDER BY 1, 2, 3`;

/** The defaults of the tuning options (the bare-upsert reference in `bench/` uses them too). */
export const STORE_DEFAULTS = { cacheMiB: 64, walAutocheckpoint: 20_000 } as const;

/**
 * The store's SQL, for the bare-upsert reference in `bench/serve.mjs`: the benchmark
 * must time exactly the statements `apply` runs, not a copy that may drift.
 */
export const SQL = { schema: SCHEMA, upsertSegment: UPSERT_SEGMENT, upsertOptout: UPSERT_OPTOUT } as const;

type Db = BetterSqlite3.Database;
type Stmt = BetterSqlite3.Statement<unknown[], unknown>;

interface Readers {
  user: Stmt;
  all: Stmt;
  ping: Stmt;
  idempotency: Stmt;
}

function storeError(path: string, what: string, e: unknown): SluiceError {
  if (e instanceof SluiceError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SluiceError('SLUICE_E_SINK', `sqlite store ${path}: ${what}: ${message}`, {
    stage: 'sink',
    cause: e,
  });
}

function optionError(name: string, expected: string, got: unknown): SluiceError {
  return new SluiceError('SLUICE_E_OPTION', `${name}: expected ${expected}, got ${describeValue(got)}`, {
    stage: 'config',
  });
}

function openError(path: string, message: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_E_OUTPUT', `cannot open sqlite store ${path}: ${message}`, {
    stage: 'sink',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Opens (creating it if needed) a SQLite audience store at `path`, or a private
 * in-memory one for `':memory:'`. Resolves once the schema is ready, so a bad path or a
 * file that is not a sluice store fails before any data is read.
 *
 * @throws SluiceError `SLUICE_E_OUTPUT` when the file cannot be opened or is not a sluice
 *   audience store (or was written by a newer sluice); `SLUICE_E_OPTION` for bad options.
 * @example
 * ```ts
 * const store = await openSqliteStore('./audience.db');
 * await store.apply([{ ns: 'acme', uid: 'u1', seg: 'sports', op: 'add', ts: Date.now(), ttl: 3600 }]);
 * console.log(await store.user('acme', 'u1'));
 * await store.close();
 * ```
 */
export async function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<AudienceStore> {
  const yieldEvery = options.yieldEvery ?? 5000;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const synchronous = options.synchronous ?? 'normal';
  const cacheMiB = options.cacheMiB ?? STORE_DEFAULTS.cacheMiB;
  const walAutocheckpoint = options.walAutocheckpoint ?? STORE_DEFAULTS.walAutocheckpoint;
  const checkpoint = options.checkpoint ?? 'background';
  if (typeof path !== 'string' || path.trim() === '') {
    throw optionError('sqlite store path', 'a file path or ":memory:"', path);
  }
  if (!Number.isSafeInteger(yieldEvery) || yieldEvery < 1) {
    throw optionError('yieldEvery', 'an integer >= 1', yieldEvery);
  }
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 0x7fffffff) {
    throw optionError('busyTimeoutMs', 'an integer >= 0', busyTimeoutMs);
  }
  if (!Number.isSafeInteger(cacheMiB) || cacheMiB < 0)
    throw optionError('cacheMiB', 'an integer >= 0', cacheMiB);
  if (!Number.isSafeInteger(walAutocheckpoint) || walAutocheckpoint < 0) {
    throw optionError('walAutocheckpoint', 'an integer >= 0', walAutocheckpoint);
  }
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw optionError('synchronous', '"normal" or "full"', synchronous);
  }
  if (checkpoint !== 'background' && checkpoint !== 'inline') {
    throw optionError('checkpoint', '"background" or "inline"', checkpoint);
  }
  // Loaded here, not at import: `import 'sluice'` must not cost every conversion the
  // driver's load time, nor fail where the native addon is not built for this Node.
  let Database: typeof BetterSqlite3;
  try {
    Database = (await import('better-sqlite3')).default;
  } catch (e) {
    throw openError(path, `cannot load better-sqlite3: ${(e as Error).message}`, e);
  }
  const memory = path === ':memory:';
  let db: Db | undefined;
  let reader: Db | undefined;
  let checkpointer: Checkpointer | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
    initialize(db, path, memory, synchronous);
    db.pragma(`cache_size = ${-cacheMiB * 1024}`);
    if (!memory) {
      // SQLite's own checkpoints stay on until the checkpointer thread runs, and come
      // back if it fails.
      db.pragma(`wal_autocheckpoint = ${walAutocheckpoint}`);
      reader = new Database(path, { timeout: busyTimeoutMs, fileMustExist: true });
      reader.pragma('query_only = ON');
      reader.pragma(`cache_size = ${-cacheMiB * 1024}`);
      if (checkpoint === 'background' && walAutocheckpoint > 0) {
        checkpointer = startCheckpointer({ path, threshold: walAutocheckpoint, busyTimeoutMs });
      }
    }
  } catch (e) {
    reader?.close();
    db?.close();
    if (e instanceof SluiceError) throw e;
    throw openError(path, (e as Error).message, e);
  }
  return new SqliteStore(db, reader, path, yieldEvery, checkpointer, walAutocheckpoint);
}

function initialize(db: Db, path: string, memory: boolean, synchronous: 'normal' | 'full'): void {
  if (!memory) {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal')
      throw openError(path, `cannot use write-ahead logging (journal_mode is ${String(mode)})`);
  }
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (appId === 0 && version === 0) {
      const tables = db
        .prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'")
        .pluck()
        .get() as number;
      if (tables > 0)
        throw openError(path, 'the database has other tables: it is not a sluice audience store');
      db.exec(SCHEMA);
      db.exec(IDEMPOTENCY_SCHEMA);
      return;
    }
    if (appId !== APPLICATION_ID)
      throw openError(path, 'not a sluice audience store (application_id differs)');
    if (version !== SCHEMA_VERSION) {
      throw openError(path, versionProblem(version, SCHEMA_VERSION));
    }
    db.exec(IDEMPOTENCY_SCHEMA);
  }).immediate();
}

class SqliteStore implements AudienceStore {
  readonly idempotency: IdempotencyLog;
  private readonly upsertSegment: Stmt;
  private readonly upsertOptout: Stmt;
  private readonly begin: Stmt;
  private readonly commit: Stmt;
  private readonly rollback: Stmt;
  private readonly readers: Readers;
  private readonly walCheckpoint: Stmt;
  private handOverScheduled = false;
  /** True once SQLite's own checkpoints are off because the checkpointer thread runs. */
  private inlineOff = false;
  /** The end of the queue of calls that must not overlap (every apply; reads too in memory). */
  private tail: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    /** A second connection for reads (file databases only). */
    private readonly reader: Db | undefined,
    private readonly path: string,
    private readonly yieldEvery: number,
    private checkpointer: Checkpointer | undefined,
    private readonly walAutocheckpoint: number,
  ) {
    this.walCheckpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    this.upsertSegment = db.prepare(UPSERT_SEGMENT);
    this.upsertOptout = db.prepare(UPSERT_OPTOUT);
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    const r = reader ?? db;
    // A read of the schema through the reading connection, not just `SELECT 1`.
    this.readers = {
      user: r.prepare(SELECT_USER),
      all: r.prepare(SELECT_ALL),
      ping: r.prepare('SELECT count(*) FROM sqlite_schema'),
      idempotency: r.prepare('SELECT fingerprint, body, at FROM idempotency WHERE id = ?'),
    };
    const putAnswer = db.prepare(
      'INSERT INTO idempotency (id, fingerprint, body, at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, body = excluded.body, at = excluded.at',
    );
    const pruneAnswers = db.prepare('DELETE FROM idempotency WHERE at < ?');
    const write = <T>(what: string, fn: () => T): Promise<T> => {
      if (this.closing) return Promise.reject(this.closedError());
      return this.enqueue(() => {
        try {
          return fn();
        } catch (e) {
          throw storeError(this.path, what, e);
        }
      });
    };
    this.idempotency = {
      get: (id) => {
        if (this.closing) return Promise.reject(this.closedError());
        return this.read('read an idempotency record', () => {
          const row = this.readers.idempotency.get(String(id)) as IdempotencyRecord | undefined;
          return row === undefined ? undefined : { fingerprint: row.fingerprint, body: row.body, at: row.at };
        });
      },
      put: (id, r) =>
        write('record an idempotency record', () => {
          putAnswer.run(String(id), String(r.fingerprint), String(r.body), Math.trunc(Number(r.at)));
        }),
      prune: (before) =>
        write('prune idempotency records', () => pruneAnswers.run(Math.trunc(before)).changes),
    };
  }

  apply(events: readonly SegmentEvent[]): Promise<ApplyResult> {
    if (this.closing) return Promise.reject(this.closedError());
    let checked: SegmentEvent[];
    try {
      checked = validateAll(events);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue(() => this.write(checked));
  }

  user(ns: string, uid: string, now: number = Date.now()): Promise<Membership[]> {
    if (this.closing) return Promise.reject(this.closedError());
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      return Promise.reject(
        new SluiceError('SLUICE_E_OPTION', `now: expected ms since the epoch, got ${describeValue(now)}`, {
          stage: 'config',
        }),
      );
    }
    return this.read('read a user', () => {
      const rows = this.readers.user.all({ ns: String(ns), uid: String(uid), now }) as {
        seg: string;
        ts: number;
        ttl: number | null;
      }[];
      return rows.map((r) =>
        r.ttl === null ? { seg: r.seg, ts: r.ts } : { seg: r.seg, ts: r.ts, expiresAt: r.ts + r.ttl * 1000 },
      );
    });
  }

  snapshot(): Promise<StoreRow[]> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.read('snapshot', () => {
      const rows = this.readers.all.all() as (Omit<StoreRow, 'ttl'> & { ttl: number | null })[];
      return rows.map(({ ttl, ...row }) => (ttl === null ? row : { ...row, ttl }));
    });
  }

  ping(): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.read('ping', () => {
      this.readers.ping.get();
    });
  }

  close(): Promise<void> {
    this.closing ??= this.tail.then(async () => {
      await this.checkpointer?.stop();
      this.reader?.close();
      this.db.close();
    });
    return this.closing;
  }

  private closedError(): SluiceError {
    return new SluiceError('SLUICE_E_SINK', `sqlite store ${this.path} is closed`, { stage: 'sink' });
  }

  /** Runs `fn` after every call queued before it, whether they succeeded or not. */
  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => {});
    return run;
  }

  /** A file database reads on its own connection at once; an in-memory one waits its turn. */
  private read<T>(what: string, fn: () => T): Promise<T> {
    const guarded = (): T => {
      try {
        return fn();
      } catch (e) {
        throw storeError(this.path, what, e);
      }
    };
    if (this.reader) {
      try {
        return Promise.resolve(guarded());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.enqueue(guarded);
  }

  private async write(events: readonly SegmentEvent[]): Promise<ApplyResult> {
    if (events.length === 0) return { applied: 0, ignored: 0 };
    const { upsertSegment, upsertOptout, yieldEvery } = this;
    let applied = 0;
    try {
      this.followCheckpointer();
      // A hand-over the last commit left waiting is finished before this transaction.
      this.finishHandOver();
      this.begin.run();
      for (let start = 0; start < events.length; start += yieldEvery) {
        if (start > 0) await yieldToEventLoop();
        const end = Math.min(events.length, start + yieldEvery);
        for (let i = start; i < end; i++) {
          const e = events[i]!;
          const info =
            e.seg === ALL_SEGMENTS
              ? upsertOptout.run(e.ns, e.uid, e.ts)
              : upsertSegment.run(e.ns, e.uid, e.seg, e.op, e.ts, e.ttl ?? null);
          applied += info.changes;
        }
      }
      this.commit.run();
    } catch (e) {
      if (this.db.inTransaction) {
        try {
          this.rollback.run();
        } catch {
          // The first error is the one reported; SQLite may have rolled back already.
        }
      }
      throw storeError(this.path, 'apply', e);
    }
    this.scheduleHandOver();
    return { applied, ignored: events.length - applied };
  }

  /**
   * When the checkpointer thread has handed over (ADR 0010), its last step runs on the
   * next turn of the event loop, after this commit has been answered: still between two
   * transactions, but no longer on the time of the requests it holds. It took 10-40 ms
   * under the serve benchmark's load, and the requests of the commit before it waited
   * for it. A write that starts first finishes it before its transaction.
   */
  private scheduleHandOver(): void {
    if (this.handOverScheduled || !this.checkpointer?.handingOver) return;
    this.handOverScheduled = true;
    setImmediate(() => {
      this.handOverScheduled = false;
      // Not inside a write that yielded part-way: that write finishes it when it commits.
      if (this.db.open && !this.db.inTransaction) this.finishHandOver();
    });
  }

  private finishHandOver(): void {
    try {
      this.checkpointer?.finish(() => this.walCheckpoint.get() as CheckpointResult);
    } catch {
      // The commits are durable whatever this step does; a disk that fails here fails
      // the next transaction, which reports it.
    }
  }

  /** Turns SQLite's own checkpoints off once the checkpointer thread runs, and on again if it fails. */
  private followCheckpointer(): void {
    const ck = this.checkpointer;
    if (!ck) return;
    if (ck.failed) {
      this.db.pragma(`wal_autocheckpoint = ${this.walAutocheckpoint}`);
      this.checkpointer = undefined;
    } else if (ck.running && !this.inlineOff) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.inlineOff = true;
    }
  }
}
