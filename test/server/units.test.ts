import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { SegmentEvent } from '../../src/audience/segment-event.js';
import { type AudienceStore, openSqliteStore } from '../../src/audience/store/index.js';
import type { SluiceError } from '../../src/core/errors.js';
import type { RateLimitConfig } from '../../src/server/config.js';
import { GroupCommitter } from '../../src/server/group-commit.js';
import { IdempotencyCache } from '../../src/server/idempotency.js';
import { LruCache } from '../../src/server/lru.js';
import { RateLimiter } from '../../src/server/rate-limit.js';
import { ndjson, startTestServer, until } from './helpers.js';

describe('LruCache', () => {
  it('evicts the least recently used entry past maxEntries', () => {
    const c = new LruCache<string, number>(2, 1000);
    c.set('a', 1);
    c.set('b', 2);
    c.get('a');
    c.set('c', 3);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([1, undefined, 3]);
  });

  it('forgets entries after their time to live', () => {
    let now = 0;
    const c = new LruCache<string, number>(10, 100, () => now);
    c.set('a', 1);
    now = 99;
    expect(c.get('a')).toBe(1);
    now = 200;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('keeps nothing with maxEntries 0', () => {
    const c = new LruCache<string, number>(0, 100);
    c.set('a', 1);
    expect(c.get('a')).toBeUndefined();
  });
});

describe('RateLimiter', () => {
  const wait = (r: RateLimiter, id: string, limit: RateLimitConfig | undefined) => r.admit(id, limit).wait;

  it('allows a burst, then one request per refill, and says how long to wait', () => {
    let now = 0;
    const r = new RateLimiter(() => now);
    const limit = { requestsPerSecond: 2, burst: 3 };
    expect([wait(r, 'p', limit), wait(r, 'p', limit), wait(r, 'p', limit)]).toEqual([0, 0, 0]);
    expect(r.admit('p', limit)).toEqual({ wait: 1, by: 'requests' });
    now = 500;
    expect(wait(r, 'p', limit)).toBe(0);
    expect(wait(r, 'p', limit)).toBe(1);
  });

  it('keeps one bucket per principal, and none without a limit', () => {
    const r = new RateLimiter(() => 0);
    const limit = { requestsPerSecond: 0.1, burst: 1 };
    expect(wait(r, 'a', limit)).toBe(0);
    expect(wait(r, 'a', limit)).toBe(10);
    expect(wait(r, 'b', limit)).toBe(0);
    expect(wait(r, 'c', undefined)).toBe(0);
  });

  it('limits events: a request may run the bucket into debt, and the next waits until it is repaid', () => {
    let now = 0;
    const r = new RateLimiter(() => now);
    const limit = { eventsPerSecond: 100, eventBurst: 100 };
    expect(wait(r, 'p', limit)).toBe(0);
    r.charge('p', limit, 350); // a body of 350 events: 250 in debt
    expect(r.admit('p', limit)).toEqual({ wait: 3, by: 'events' }); // 251 tokens to come back at 100/s
    now = 2000;
    expect(wait(r, 'p', limit)).toBe(1); // 50 in debt
    now = 2510;
    expect(wait(r, 'p', limit)).toBe(0);
    expect(wait(r, 'q', limit)).toBe(0); // another principal has its own bucket
    r.charge('q', undefined, 1e9); // no limit: nothing is counted
    r.charge('z', { requestsPerSecond: 1, burst: 1 }, 1e9);
    expect(wait(r, 'z', { requestsPerSecond: 1, burst: 1 })).toBe(0);
  });

  it('applies both limits when both are set; a refused request takes no request token', () => {
    const r = new RateLimiter(() => 0);
    const limit = { requestsPerSecond: 1, burst: 2, eventsPerSecond: 10, eventBurst: 10 };
    expect(wait(r, 'p', limit)).toBe(0);
    r.charge('p', limit, 10);
    expect(r.admit('p', limit).by).toBe('events');
    r.charge('p', limit, -5); // ignored: only positive counts are charged
    expect(r.admit('p', limit).by).toBe('events');
  });
});

describe('a store that fails', () => {
  it('answers 503 with Retry-After when the store refuses the commit, and keeps serving', async () => {
    const t = await startTestServer();
    try {
      await t.store.close();
      const r = await t.post('acme', ndjson([{ uid: 'u', seg: 's' }]));
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
      expect(r.json).toMatchObject({ error: { code: 'SLUICE_E_SINK' }, accepted: 0 });
      expect((await t.req('/healthz')).status).toBe(200);
      const m = await t.req('/metrics');
      expect(m.text).toMatch(/^sluice_store_commit_failures_total 1$/m);
    } finally {
      await t.close();
    }
  });
});

describe('a store that fails mid-body', () => {
  it('answers 503 when a commit fails while the rest of the body is still arriving, and keeps serving', async () => {
    const t = await startTestServer({ config: { limits: { maxRecordBytes: 1024 } } });
    try {
      await t.store.close();
      const line = `${JSON.stringify({ uid: 'slow', seg: 's' })}\n`;
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${t.url}/v1/namespaces/acme/events`,
          {
            method: 'POST',
            headers: { ...t.auth('acme'), 'content-type': 'application/x-ndjson', 'x-sluice-region': 'eu' },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        // A first batch that will fail to commit, then the rest of the body, slowly.
        req.write(line.repeat(50));
        setTimeout(() => {
          req.write(line.repeat(50));
          setTimeout(() => req.end(line), 100);
        }, 200);
      });
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.body)).toMatchObject({ error: { code: 'SLUICE_E_SINK' }, accepted: 0 });
      expect((await t.req('/healthz')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('GroupCommitter with several commits in flight', () => {
  /** The real store, with each apply() held until the test releases that call. */
  async function heldStore() {
    const store = await openSqliteStore(':memory:');
    const releases: (() => void)[] = [];
    const held: AudienceStore = {
      async apply(events) {
        await new Promise<void>((r) => releases.push(r));
        return store.apply(events);
      },
      user: (ns, uid, now) => store.user(ns, uid, now),
      snapshot: () => store.snapshot(),
      ping: () => store.ping(),
      close: () => store.close(),
    };
    return { held, releases, store };
  }
  const ev = (uid: string): SegmentEvent => ({ ns: 'acme', uid, seg: 's', op: 'add', ts: 1 });

  it('hands the next group to the store while one is held, and acknowledges in commit order', async () => {
    const { held, releases, store } = await heldStore();
    const committed: string[] = [];
    const gc = new GroupCommitter<string>(held, {
      maxEvents: 1,
      maxDelayMs: 0,
      maxInFlight: 2,
      onCommitted: (entries) => committed.push(...entries.map((e) => e.meta)),
    });
    const acked: string[] = [];
    const a = gc.submit([ev('a')], 'a').then(() => acked.push('a'));
    const b = gc.submit([ev('b')], 'b').then(() => acked.push('b'));
    const c = gc.submit([ev('c')], 'c').then(() => acked.push('c'));
    await until(() => releases.length === 2, 5000, 'two commits in flight');
    await new Promise((r) => setTimeout(r, 50));
    expect(releases).toHaveLength(2); // the third waits for a slot
    expect(gc.depth).toBe(3);
    releases[1]!(); // the store answers the second commit first...
    await new Promise((r) => setTimeout(r, 50));
    expect(acked).toEqual([]); // ...which is not acknowledged before the first
    releases[0]!();
    await until(() => releases.length === 3, 5000, 'the third commit');
    releases[2]!();
    await Promise.all([a, b, c]);
    await gc.drain();
    expect(acked).toEqual(['a', 'b', 'c']);
    expect(committed).toEqual(['a', 'b', 'c']);
    expect(gc.depth).toBe(0);
    expect((await store.snapshot()).map((r) => r.uid)).toEqual(['a', 'b', 'c']);
    await store.close();
  });

  it('acknowledges durable events even when publishing them throws, and goes on committing', async () => {
    const store = await openSqliteStore(':memory:');
    let calls = 0;
    const gc = new GroupCommitter<string>(store, {
      maxEvents: 1,
      maxDelayMs: 0,
      onCommitted: () => {
        calls++;
        throw new Error('a subscriber hook failed');
      },
    });
    await gc.submit([ev('p1')], 'p1');
    await gc.submit([ev('p2')], 'p2');
    await gc.drain();
    expect(calls).toBe(2);
    expect((await store.snapshot()).map((r) => r.uid)).toEqual(['p1', 'p2']);
    await store.close();
  });

  it('turns a store that throws instead of rejecting into a failed commit', async () => {
    const store = await openSqliteStore(':memory:');
    let throwing = true;
    const flaky: AudienceStore = {
      apply: (events) => {
        if (throwing) throw new Error('thrown, not rejected');
        return store.apply(events);
      },
      user: (ns, uid, now) => store.user(ns, uid, now),
      snapshot: () => store.snapshot(),
      ping: () => store.ping(),
      close: () => store.close(),
    };
    const gc = new GroupCommitter<string>(flaky, { maxEvents: 1, maxDelayMs: 0 });
    const e = await gc.submit([ev('t1')], 't1').catch((x: unknown) => x);
    expect((e as SluiceError).code).toBe('SLUICE_E_SINK');
    expect((e as SluiceError).message).toBe('the store refused a commit: thrown, not rejected');
    throwing = false;
    await gc.submit([ev('t2')], 't2');
    expect((await store.snapshot()).map((r) => r.uid)).toEqual(['t2']);
    await store.close();
  });

  it('rejects only the batches of a commit the store refused', async () => {
    const store = await openSqliteStore(':memory:');
    const gc = new GroupCommitter<string>(store, { maxEvents: 1, maxDelayMs: 0, maxInFlight: 2 });
    const bad = { ...ev('x'), ts: -1 };
    const results = await Promise.allSettled([
      gc.submit([ev('ok1')], 'ok1'),
      gc.submit([bad], 'bad'),
      gc.submit([ev('ok2')], 'ok2'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as SluiceError).code).toBe('SLUICE_E_SINK');
    expect((await store.snapshot()).map((r) => r.uid)).toEqual(['ok1', 'ok2']);
    await store.close();
  });
});

describe('IdempotencyCache over the store log', () => {
  /** The real SQLite log, with its reads held until `release()`. */
  async function heldLog() {
    const store = await openSqliteStore(':memory:');
    const log = store.idempotency!;
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    return {
      store,
      release,
      log: {
        ...log,
        get: async (id: string) => {
          await gate;
          return log.get(id);
        },
      },
    };
  }

  it('answers 409 to a second request with the key while the store is still being asked', async () => {
    const { store, release, log } = await heldLog();
    const cache = new IdempotencyCache({ maxEntries: 10, ttlMs: 60_000, log });
    const first = cache.begin('p', 'k', 'f');
    await expect(cache.begin('p', 'k', 'f')).rejects.toMatchObject({ code: 'SLUICE_E_CONFLICT' });
    release();
    const run = await first;
    expect(run.kind).toBe('run');
    if (run.kind === 'run') await run.finish('{"accepted":1}');
    expect(await cache.begin('p', 'k', 'f')).toEqual({ kind: 'replay', body: '{"accepted":1}' });
    expect(await store.idempotency!.get('p\nk')).toMatchObject({
      fingerprint: 'f',
      body: '{"accepted":1}',
    });
    await store.close();
  });

  it('replays from the store after memory forgot, but not past the ttl; prunes expired answers', async () => {
    const store = await openSqliteStore(':memory:');
    let now = 1_000_000;
    const options = { maxEntries: 10, ttlMs: 100_000, log: store.idempotency, now: () => now };
    const run = await new IdempotencyCache(options).begin('p', 'old', 'f');
    if (run.kind === 'run') await run.finish('first');
    // A new cache is a restarted server: only the store remembers.
    expect(await new IdempotencyCache(options).begin('p', 'old', 'f')).toEqual({
      kind: 'replay',
      body: 'first',
    });
    await expect(new IdempotencyCache(options).begin('p', 'old', 'g')).rejects.toMatchObject({
      code: 'SLUICE_E_IDEMPOTENCY_MISMATCH',
    });
    now += 100_001;
    const cache = new IdempotencyCache(options);
    expect((await cache.begin('p', 'old', 'f')).kind).toBe('run');
    // Recording another answer prunes the expired one from the store (in the background).
    const other = await cache.begin('p', 'new', 'f');
    if (other.kind === 'run') await other.finish('other');
    const deadline = Date.now() + 5000;
    while ((await store.idempotency!.get('p\nold')) !== undefined) {
      if (Date.now() > deadline) throw new Error('the expired answer was not pruned');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await store.idempotency!.get('p\nnew')).toMatchObject({ body: 'other' });
    await store.close();
  });
});
