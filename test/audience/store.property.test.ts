/**
 * The store's central law, against the real SQLite store (in memory and in a file):
 * applying the same events in any order, split into apply() calls any way, gives the
 * same snapshot() and the same user() answers at every `now`, and that state is the one
 * a reference model gives. The model is written straight from docs/reference/store.md
 * (per key, the maximum of the events by the documented order; opt-out and expiry when
 * reading) and shares nothing with the SQL.
 *
 * Ids come from tiny alphabets and ts from a tiny range, so keys collide and ts tie all
 * the time; ttls are small so the `now`s probed straddle expiries; some ids are outside
 * the BMP to check the code point sort order.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { segmentEventArbitrary } from '../../formats/segments/arbitrary.js';
import { MAX_TIMESTAMP_MS, type SegmentEvent } from '../../src/audience/segment-event.js';
import {
  type AudienceStore,
  type Membership,
  openSqliteStore,
  openThreadedSqliteStore,
  type SqliteStoreOptions,
  type StoreRow,
} from '../../src/audience/store/index.js';
import { openTestPostgresStore, postgresUrl, tempFiles } from './helpers.js';

/** Code point order (what SQLite's BINARY collation gives for UTF-8 text), not UTF-16 order. */
function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** > 0 when event `a` beats event `b` for the same key, 0 when they are the same version. */
function compareVersions(a: SegmentEvent, b: SegmentEvent): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.op !== b.op) return a.op === 'remove' ? 1 : -1;
  if (a.op === 'remove') return 0;
  // Two adds at the same ts: the longer-lived wins; no ttl lives forever.
  const ta = a.ttl ?? Number.POSITIVE_INFINITY;
  const tb = b.ttl ?? Number.POSITIVE_INFINITY;
  return ta === tb ? 0 : ta > tb ? 1 : -1;
}

interface Model {
  rows: StoreRow[];
  user(ns: string, uid: string, now: number): Membership[];
}

/** The state the documented semantics give for a set of events, whatever their order. */
function model(events: readonly SegmentEvent[]): Model {
  const winners = new Map<string, SegmentEvent>();
  const optouts = new Map<string, SegmentEvent>();
  for (const e of events) {
    if (e.seg === '*') {
      const k = JSON.stringify([e.ns, e.uid]);
      const cur = optouts.get(k);
      if (!cur || e.ts > cur.ts) optouts.set(k, { ns: e.ns, uid: e.uid, seg: '*', op: 'remove', ts: e.ts });
      continue;
    }
    const k = JSON.stringify([e.ns, e.uid, e.seg]);
    const cur = winners.get(k);
    if (!cur || compareVersions(e, cur) > 0) winners.set(k, e);
  }
  const rows = [...winners.values(), ...optouts.values()]
    .map((e) => {
      const row: StoreRow = { ns: e.ns, uid: e.uid, seg: e.seg, op: e.op, ts: e.ts };
      if (e.ttl !== undefined) row.ttl = e.ttl;
      return row;
    })
    .sort(
      (a, b) =>
        compareCodePoints(a.ns, b.ns) || compareCodePoints(a.uid, b.uid) || compareCodePoints(a.seg, b.seg),
    );
  return {
    rows,
    user(ns, uid, now) {
      const optout = optouts.get(JSON.stringify([ns, uid]));
      return rows
        .filter((r) => r.ns === ns && r.uid === uid && r.seg !== '*' && r.op === 'add')
        .filter((r) => optout === undefined || r.ts > optout.ts)
        .filter((r) => r.ttl === undefined || now < r.ts + r.ttl * 1000)
        .map((r) =>
          r.ttl === undefined
            ? { seg: r.seg, ts: r.ts }
            : { seg: r.seg, ts: r.ts, expiresAt: r.ts + r.ttl * 1000 },
        );
    },
  };
}

const NS = ['a', 'b'];
const UIDS = ['u', 'v', '\u{1D4B3}'];
const SEGS = ['s', 't', '\uFB00', '\u{1D4B3}'];
/** Around every ts (0..6) and expiry (ts + 0..3 s) the events can produce, and far beyond. */
const NOWS = [0, 3, 6, 999, 1000, 1003, 1006, 2000, 2004, 3003, 3006, 10_000, MAX_TIMESTAMP_MS];

const tsArb = fc.integer({ min: 0, max: 6 });
const eventArb: fc.Arbitrary<SegmentEvent> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        ns: fc.constantFrom(...NS),
        uid: fc.constantFrom(...UIDS),
        seg: fc.constantFrom(...SEGS),
        ts: tsArb,
        ttl: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      })
      .map(
        ({ ttl, ...e }): SegmentEvent => (ttl === undefined ? { ...e, op: 'add' } : { ...e, op: 'add', ttl }),
      ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      ns: fc.constantFrom(...NS),
      uid: fc.constantFrom(...UIDS),
      seg: fc.constantFrom(...SEGS),
      op: fc.constant('remove' as const),
      ts: tsArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      ns: fc.constantFrom(...NS),
      uid: fc.constantFrom(...UIDS),
      seg: fc.constant('*'),
      op: fc.constant('remove' as const),
      ts: tsArb,
    }),
  },
);

/** Events, a permutation of them, and a split of the permutation into apply() calls. */
const scenario = fc.array(eventArb, { maxLength: 40 }).chain((events) =>
  fc.record({
    events: fc.constant(events),
    permuted: fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
    cuts: fc.array(fc.nat({ max: events.length }), { maxLength: 6 }),
    yieldEvery: fc.integer({ min: 1, max: 8 }),
  }),
);

function split<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const at = [...new Set([0, ...cuts, items.length])].sort((a, b) => a - b);
  const out: T[][] = [];
  for (let i = 1; i < at.length; i++) out.push(items.slice(at[i - 1], at[i]));
  return out;
}

interface Observed {
  rows: StoreRow[];
  users: Membership[][];
}

async function observe(store: AudienceStore): Promise<Observed> {
  const users: Membership[][] = [];
  for (const ns of NS)
    for (const uid of UIDS) for (const now of NOWS) users.push(await store.user(ns, uid, now));
  return { rows: await store.snapshot(), users };
}

function expected(m: Model): Observed {
  const users: Membership[][] = [];
  for (const ns of NS) for (const uid of UIDS) for (const now of NOWS) users.push(m.user(ns, uid, now));
  return { rows: m.rows, users };
}

const fileStore = tempFiles('p').file;
type StoreCase = [
  name: string,
  where: () => string,
  numRuns: number,
  open: (path: string, options?: SqliteStoreOptions) => Promise<AudienceStore>,
  options: SqliteStoreOptions,
];
const cases: StoreCase[] = [
  ['in memory', () => ':memory:', 150, openSqliteStore, {}],
  ['in a file', fileStore, 60, openSqliteStore, {}],
  // The server's default: the same SQL behind a worker thread, events packed into columns.
  ['in a file, in a worker thread', fileStore, 20, openThreadedSqliteStore, {}],
  // The checkpointer thread copying and handing over every couple of pages, between any two applies.
  [
    'in a file, checkpointed by its thread every 2 pages',
    fileStore,
    20,
    openSqliteStore,
    { walAutocheckpoint: 2 },
  ],
  ['in a file, checkpointed inline', fileStore, 20, openSqliteStore, { checkpoint: 'inline' }],
  ...(postgresUrl ? [['on PostgreSQL', () => '', 30, openTestPostgresStore, {}] as StoreCase] : []),
];
describe.each(cases)('the store, %s', (_name, where, numRuns, open, options) => {
  test("any permutation of the same events, in any split into apply() calls, gives the same state: the model's", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, permuted, cuts, yieldEvery }) => {
        const whole = await open(where(), options);
        const pieces = await open(where(), { ...options, yieldEvery });
        try {
          const r = await whole.apply(events);
          expect(r.applied + r.ignored).toBe(events.length);
          for (const batch of split(permuted, cuts)) {
            const b = await pieces.apply(batch);
            expect(b.applied + b.ignored).toBe(batch.length);
          }
          const want = expected(model(events));
          expect(await observe(whole)).toEqual(want);
          expect(await observe(pieces)).toEqual(want);
        } finally {
          await Promise.all([whole.close(), pieces.close()]);
        }
      }),
      { numRuns },
    );
  });

  test('applying events again changes nothing and ignores them all (idempotence)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 30 }), async (events) => {
        const store = await open(where(), options);
        try {
          await store.apply(events);
          const once = await observe(store);
          expect(await store.apply(events)).toEqual({ applied: 0, ignored: events.length });
          expect(await observe(store)).toEqual(once);
        } finally {
          await store.close();
        }
      }),
      { numRuns: Math.ceil(numRuns / 3) },
    );
  });
});

test.each<[string, () => Promise<AudienceStore>, number]>([
  ['SQLite', () => openSqliteStore(':memory:'), 100],
  ...(postgresUrl
    ? [['PostgreSQL', () => openTestPostgresStore(), 40] as [string, () => Promise<AudienceStore>, number]]
    : []),
])(
  'any valid events (any ids, ts and ttl in their whole ranges) are stored and read as the model says, on %s',
  async (_name, openStore, numRuns) => {
    const anyEvent = fc.oneof(segmentEventArbitrary('n1'), segmentEventArbitrary('n2'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(anyEvent, { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }), { maxLength: 3 }),
        async (events, nows) => {
          const store = await openStore();
          try {
            await store.apply(events);
            const m = model(events);
            expect(await store.snapshot()).toEqual(m.rows);
            for (const e of events) {
              for (const now of [...nows, e.ts, MAX_TIMESTAMP_MS]) {
                expect(await store.user(e.ns, e.uid, now)).toEqual(m.user(e.ns, e.uid, now));
              }
            }
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns },
    );
  },
);
