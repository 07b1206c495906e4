/**
 * The {@link AudienceStore} on PostgreSQL, through node-postgres (ADR 0011): the same
 * semantics as the SQLite store, for a store that several servers share.
 *
 * Its tables live in one schema (`sluice` unless told otherwise), created on first open:
 * `segments` and `optouts` (the two join-semilattices, as in `sqlite.ts`), `idempotency`,
 * and `meta` (what the schema is and its version). Text columns use the "C" collation, so
 * ids sort by code point, as SQLite's BINARY collation sorts them.
 *
 * One `apply` is one transaction of a few statements, whatever its size: the call's
 * events are reduced to the winner per key, the current rows of those keys are read, and
 * the winners are upserted with the same guard as SQLite's (only a strictly greater event
 * replaces a row), all as arrays. The state never depends on the rows read; the count of
 * events that changed it is worked out from them, event by event in call order, so it is
 * the count SQLite gives (while another process writes the same keys at the same moment
 * it may be off; the state is not). Calls are applied one after another in the order they were made;
 * reads use the pool's other connections and see committed calls only.
 */
import type { CustomTypesConfig, Pool, PoolClient } from 'pg';
import { SluiceError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact-url.js';
import { ALL_SEGMENTS, describeValue, type SegmentEvent } from '../segment-event.js';
import type {
  ApplyResult,
  AudienceStore,
  IdempotencyLog,
  IdempotencyRecord,
  Membership,
  StoreRow,
} from './types.js';
import { validateAll, versionProblem } from './validate.js';

export interface PostgresStoreOptions {
  /** The schema the store's tables live in (created if missing). @default 'sluice' */
  schema?: string;
  /** Connections in the pool: one writes, the others read. @default 4 */
  maxConnections?: number;
  /** How long opening waits for a connection, in ms. @default 10000 */
  connectTimeoutMs?: number;
}

/** What `meta` says the schema is; a schema holding anything else is refused. */
const APPLICATION = 'sluice audience store';
export const PG_SCHEMA_VERSION = 1;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function tables(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.segments (
  ns  TEXT COLLATE "C" NOT NULL,
  uid TEXT COLLATE "C" NOT NULL,
  seg TEXT COLLATE "C" NOT NULL,
  op  TEXT   NOT NULL CHECK (op IN ('add', 'remove')),
  ts  BIGINT NOT NULL,
  ttl BIGINT CHECK (ttl IS NULL OR (op = 'add' AND ttl >= 0)),
  PRIMARY KEY (ns, uid, seg)
);
CREATE TABLE IF NOT EXISTS ${s}.optouts (
  ns  TEXT COLLATE "C" NOT NULL,
  uid TEXT COLLATE "C" NOT NULL,
  ts  BIGINT NOT NULL,
  PRIMARY KEY (ns, uid)
);
CREATE TABLE IF NOT EXISTS ${s}.idempotency (
  id          TEXT COLLATE "C" PRIMARY KEY,
  fingerprint TEXT   NOT NULL,
  body        TEXT   NOT NULL,
  at          BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_at ON ${s}.idempotency (at);
`;
}

/** The same total order of events of one key as SQLite's upsert guard: true when `a` beats `b`. */
export function beats(a: SegmentEvent, b: StoredVersion): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts;
  if (a.op !== b.op) return a.op === 'remove';
  if (a.op === 'remove') return false;
  // Two adds at the same ts: no ttl beats a ttl, a larger ttl beats a smaller one.
  const at = a.ttl ?? null;
  const bt = b.ttl ?? null;
  if (bt === null) return false;
  return at === null || at > bt;
}

interface StoredVersion {
  /** Absent on an opt-out row (`beats` compares segment rows, which always have one). */
  op?: 'add' | 'remove';
  ts: number;
  ttl?: number | null | undefined;
}

interface KeyFields {
  ns: string;
  uid: string;
  seg?: string;
}

/** How `apply` writes one of the two tables. */
interface Table {
  /** The events that go to this table. */
  takes(e: SegmentEvent): boolean;
  /** The key of an event or of a row read back. */
  key(r: KeyFields): string;
  /** True when event `e` replaces what the key holds. */
  beats(e: SegmentEvent, stored: StoredVersion): boolean;
  /** Reads the current rows of the keys given as columns. */
  read: string;
  keyColumns(keys: readonly SegmentEvent[]): unknown[];
  /** Upserts the winners given as columns, with the same guard as `beats`. */
  upsert: string;
  rowColumns(keys: readonly SegmentEvent[]): unknown[];
}

/** The segments table (winner per ns, uid, seg) and the optouts table (greatest ts per ns, uid). */
function tableWriters(sql: ReturnType<typeof statements>): { segments: Table; optouts: Table } {
  const col = <K extends keyof SegmentEvent>(keys: readonly SegmentEvent[], k: K) => keys.map((e) => e[k]);
  return {
    segments: {
      takes: (e) => e.seg !== ALL_SEGMENTS,
      key: (r) => `${r.ns}\u0000${r.uid}\u0000${r.seg}`,
      beats,
      read: sql.readSegments,
      keyColumns: (keys) => [col(keys, 'ns'), col(keys, 'uid'), col(keys, 'seg')],
      upsert: sql.upsertSegments,
      rowColumns: (keys) => [
        col(keys, 'ns'),
        col(keys, 'uid'),
        col(keys, 'seg'),
        col(keys, 'op'),
        col(keys, 'ts'),
        keys.map((e) => e.ttl ?? null),
      ],
    },
    optouts: {
      takes: (e) => e.seg === ALL_SEGMENTS,
      key: (r) => `${r.ns}\u0000${r.uid}`,
      beats: (e, stored) => e.ts > stored.ts,
      read: sql.readOptouts,
      keyColumns: (keys) => [col(keys, 'ns'), col(keys, 'uid')],
      upsert: sql.upsertOptouts,
      rowColumns: (keys) => [col(keys, 'ns'), col(keys, 'uid'), col(keys, 'ts')],
    },
  };
}

function openError(target: string, message: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_E_OUTPUT', `cannot open postgres store ${target}: ${message}`, {
    stage: 'sink',
    ...(cause === undefined ? {} : { cause }),
  });
}

function storeError(target: string, what: string, e: unknown): SluiceError {
  if (e instanceof SluiceError) return e;
  return new SluiceError('SLUICE_E_SINK', `postgres store ${target}: ${what}: ${(e as Error).message}`, {
    stage: 'sink',
    cause: e,
  });
}

/**
 * Opens the PostgreSQL store at `url` (`postgres://user:password@host:port/database`),
 * creating its schema and tables if needed. Resolves once they are ready, so a bad URL,
 * a refused connection or a schema that is not a sluice store fails before any data is read.
 *
 * @throws SluiceError `SLUICE_E_OUTPUT` when it cannot connect or the schema holds
 *   something else; `SLUICE_E_OPTION` for bad options.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<AudienceStore> {
  const schema = options.schema ?? 'sluice';
  const max = options.maxConnections ?? 4;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const shown = redactUrl(url);
  if (!SCHEMA_NAME.test(schema)) {
    throw new SluiceError(
      'SLUICE_E_OPTION',
      `schema: expected a lower-case SQL identifier, got ${describeValue(schema)}`,
      { stage: 'config' },
    );
  }
  if (!Number.isSafeInteger(max) || max < 2) {
    throw new SluiceError(
      'SLUICE_E_OPTION',
      `maxConnections: expected an integer >= 2, got ${describeValue(max)}`,
      {
        stage: 'config',
      },
    );
  }
  // Loaded here, not at import: only a run that uses PostgreSQL pays for the driver.
  let pg: typeof import('pg')['default'];
  try {
    pg = (await import('pg')).default;
  } catch (e) {
    throw openError(shown, `cannot load the pg module: ${(e as Error).message}`, e);
  }
  // BIGINT (oid 20) as a number: every ts and ttl the store accepts is a safe integer.
  const types: CustomTypesConfig = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === 20
        ? Number
        : pg.types.getTypeParser(oid, format as 'text')) as CustomTypesConfig['getTypeParser'],
  };
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'sluice',
    types,
  });
  // An idle connection that drops (the server restarted) must not crash the process;
  // the next query reconnects.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Two processes opening the same new store at once must not race on CREATE.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('sluice store ' || $1))", [schema]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      const has = await client.query<{ meta: string | null; tables: number }>(
        `SELECT to_regclass($1) AS meta,
                (SELECT count(*)::int FROM information_schema.tables WHERE table_schema = $2) AS tables`,
        [`${schema}.meta`, schema],
      );
      const { meta: metaTable, tables: tableCount } = has.rows[0]!;
      if (metaTable === null) {
        if (tableCount > 0) {
          throw openError(shown, `schema ${schema} has other tables: it is not a sluice audience store`);
        }
        await client.query(tables(schema));
        await client.query(`INSERT INTO ${schema}.meta VALUES ('application', $1), ('version', $2)`, [
          APPLICATION,
          String(PG_SCHEMA_VERSION),
        ]);
      } else {
        const found = await client.query<{ key: string; value: string }>(
          `SELECT key, value FROM ${schema}.meta`,
        );
        const meta = new Map(found.rows.map((r) => [r.key, r.value]));
        if (meta.get('application') !== APPLICATION) {
          throw openError(shown, `schema ${schema} is not a sluice audience store`);
        }
        const version = Number(meta.get('version'));
        if (version !== PG_SCHEMA_VERSION) {
          throw openError(shown, versionProblem(version, PG_SCHEMA_VERSION));
        }
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    if (e instanceof SluiceError) throw e;
    throw openError(shown, (e as Error).message, e);
  }
  return new PostgresStore(pool, schema, shown);
}

class PostgresStore implements AudienceStore {
  readonly idempotency: IdempotencyLog;
  private tail: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly sql: ReturnType<typeof statements>;
  private readonly tables: { segments: Table; optouts: Table };

  constructor(
    private readonly pool: Pool,
    schema: string,
    private readonly target: string,
  ) {
    this.sql = statements(schema);
    this.tables = tableWriters(this.sql);
    this.idempotency = {
      get: (id) =>
        this.read('read an idempotency record', async () => {
          const r = await this.pool.query<IdempotencyRecord>(this.sql.getAnswer, [String(id)]);
          const row = r.rows[0];
          return row === undefined ? undefined : { fingerprint: row.fingerprint, body: row.body, at: row.at };
        }),
      put: (id, record) =>
        this.write('record an idempotency record', async (c) => {
          await c.query(this.sql.putAnswer, [
            String(id),
            String(record.fingerprint),
            String(record.body),
            Math.trunc(Number(record.at)),
          ]);
        }),
      prune: (before) =>
        this.write('prune idempotency records', async (c) => {
          const r = await c.query(this.sql.pruneAnswers, [Math.trunc(before)]);
          return r.rowCount ?? 0;
        }),
    };
  }

  apply(events: readonly SegmentEvent[]): Promise<ApplyResult> {
    let checked: SegmentEvent[];
    try {
      if (this.closing) throw this.closedError();
      checked = validateAll(events);
    } catch (e) {
      return Promise.reject(e);
    }
    if (checked.length === 0) return Promise.resolve({ applied: 0, ignored: 0 });
    return this.write('apply', async (c) => {
      await c.query('BEGIN');
      try {
        const { segments, optouts } = this.tables;
        const applied =
          (await this.applyTo(c, segments, checked)) + (await this.applyTo(c, optouts, checked));
        await c.query('COMMIT');
        return { applied, ignored: checked.length - applied };
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    });
  }

  user(ns: string, uid: string, now: number = Date.now()): Promise<Membership[]> {
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      return Promise.reject(
        new SluiceError('SLUICE_E_OPTION', `now: expected ms since the epoch, got ${describeValue(now)}`, {
          stage: 'config',
        }),
      );
    }
    return this.read('read a user', async () => {
      const r = await this.pool.query<{ seg: string; ts: number; ttl: number | null }>(this.sql.user, [
        String(ns),
        String(uid),
        Math.trunc(now),
      ]);
      return r.rows.map((row) =>
        row.ttl === null
          ? { seg: row.seg, ts: row.ts }
          : { seg: row.seg, ts: row.ts, expiresAt: row.ts + row.ttl * 1000 },
      );
    });
  }

  snapshot(): Promise<StoreRow[]> {
    return this.read('snapshot', async () => {
      const r = await this.pool.query<Omit<StoreRow, 'ttl'> & { ttl: number | null }>(this.sql.all);
      return r.rows.map(({ ttl, ...row }) => (ttl === null ? row : { ...row, ttl }));
    });
  }

  ping(): Promise<void> {
    return this.read('ping', async () => {
      await this.pool.query(this.sql.ping);
    });
  }

  close(): Promise<void> {
    this.closing ??= this.tail.then(() => this.pool.end());
    return this.closing;
  }

  /**
   * The call's events for one table: the winner per key upserted (in key order, so
   * writers do not deadlock); returns how many events changed the state, counted event
   * by event in call order against the rows read, as SQLite counts them.
   */
  private async applyTo(c: PoolClient, table: Table, events: readonly SegmentEvent[]): Promise<number> {
    const winners = new Map<string, SegmentEvent>();
    for (const e of events) {
      if (!table.takes(e)) continue;
      const k = table.key(e);
      const w = winners.get(k);
      if (w === undefined || table.beats(e, w)) winners.set(k, e);
    }
    if (winners.size === 0) return 0;
    const keys = sortedValues(winners);
    const current = await c.query<KeyFields & StoredVersion>(table.read, table.keyColumns(keys));
    const best = new Map<string, StoredVersion>();
    for (const r of current.rows) best.set(table.key(r), r);
    let applied = 0;
    for (const e of events) {
      if (!table.takes(e)) continue;
      const k = table.key(e);
      const b = best.get(k);
      if (b === undefined || table.beats(e, b)) {
        best.set(k, e);
        applied++;
      }
    }
    await c.query(table.upsert, table.rowColumns(keys));
    return applied;
  }

  private closedError(): SluiceError {
    return new SluiceError('SLUICE_E_SINK', `postgres store ${this.target} is closed`, { stage: 'sink' });
  }

  /** Runs `fn` on one connection after every write queued before it, whether they succeeded or not. */
  private write<T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(this.closedError());
    const run = this.tail.then(async () => {
      let c: PoolClient | undefined;
      try {
        c = await this.pool.connect();
        return await fn(c);
      } catch (e) {
        throw storeError(this.target, what, e);
      } finally {
        c?.release();
      }
    });
    this.tail = run.catch(() => {});
    return run;
  }

  private async read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closing) throw this.closedError();
    try {
      return await fn();
    } catch (e) {
      throw storeError(this.target, what, e);
    }
  }
}

/**
 * The map's values in key order: every writer upserts rows in the same order, so two
 * processes writing overlapping keys wait for each other instead of deadlocking.
 */
function sortedValues<V>(m: Map<string, V>): V[] {
  return [...m.keys()].sort().map((k) => m.get(k)!);
}

/**
 * The store's SQL for one schema (the schema name was checked to be a plain identifier).
 * Exported for the tests that check its query plans.
 */
export function statements(s: string) {
  return {
    // One primary-key lookup per key, whatever the statistics say: a plain join let the
    // planner hash the whole table (a seq scan: 46 ms at 100k rows, growing with the table)
    // while autovacuum had not analysed it. LIMIT 1 (a key has one row) keeps the planner
    // from flattening the LATERAL subquery back into that join.
    readSegments: `
SELECT t.ns, t.uid, t.seg, t.op, t.ts, t.ttl
FROM unnest($1::text[], $2::text[], $3::text[]) AS k(ns, uid, seg)
CROSS JOIN LATERAL (
  SELECT * FROM ${s}.segments x WHERE x.ns = k.ns AND x.uid = k.uid AND x.seg = k.seg LIMIT 1
) AS t`,
    // The same guard as SQLite's upsert: only a strictly greater event replaces a row.
    upsertSegments: `
INSERT INTO ${s}.segments AS t (ns, uid, seg, op, ts, ttl)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
ON CONFLICT (ns, uid, seg) DO UPDATE SET op = excluded.op, ts = excluded.ts, ttl = excluded.ttl
WHERE excluded.ts > t.ts
   OR (excluded.ts = t.ts AND (
          (excluded.op = 'remove' AND t.op = 'add')
       OR (excluded.op = 'add' AND t.op = 'add' AND t.ttl IS NOT NULL
           AND (excluded.ttl IS NULL OR excluded.ttl > t.ttl))))`,
    readOptouts: `
SELECT t.ns, t.uid, t.ts
FROM unnest($1::text[], $2::text[]) AS k(ns, uid)
CROSS JOIN LATERAL (SELECT * FROM ${s}.optouts x WHERE x.ns = k.ns AND x.uid = k.uid LIMIT 1) AS t`,
    upsertOptouts: `
INSERT INTO ${s}.optouts AS t (ns, uid, ts)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
ON CONFLICT (ns, uid) DO UPDATE SET ts = excluded.ts WHERE excluded.ts > t.ts`,
    // ts >= 0 always, so -1 stands for "no opt-out"; ts + ttl * 1000 fits in a bigint
    // (see sqlite.ts).
    user: `
SELECT seg, ts, ttl FROM ${s}.segments
WHERE ns = $1 AND uid = $2 AND op = 'add'
  AND ts > coalesce((SELECT ts FROM ${s}.optouts WHERE ns = $1 AND uid = $2), -1)
  AND (ttl IS NULL OR ts + ttl * 1000 > $3)
ORDER BY seg`,
    all: `
SELECT * FROM (
  SELECT ns, uid, seg, op, ts, ttl FROM ${s}.segments
  UNION ALL
  SELECT ns, uid, '*' COLLATE "C", 'remove', ts, NULL FROM ${s}.optouts
) AS rows
ORDER BY ns, uid, seg`,
    ping: `SELECT count(*) FROM ${s}.meta`,
    getAnswer: `SELECT fingerprint, body, at FROM ${s}.idempotency WHERE id = $1`,
    putAnswer: `
INSERT INTO ${s}.idempotency (id, fingerprint, body, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, body = excluded.body, at = excluded.at`,
    pruneAnswers: `DELETE FROM ${s}.idempotency WHERE at < $1`,
  };
}
