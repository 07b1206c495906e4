import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/server/lru.js';
import { RateLimiter } from '../../src/server/rate-limit.js';
import { ndjson, startTestServer } from './helpers.js';

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
  it('allows a burst, then one request per refill, and says how long to wait', () => {
    let now = 0;
    const r = new RateLimiter(() => now);
    const limit = { requestsPerSecond: 2, burst: 3 };
    expect([r.take('p', limit), r.take('p', limit), r.take('p', limit)]).toEqual([0, 0, 0]);
    expect(r.take('p', limit)).toBe(1);
    now = 500;
    expect(r.take('p', limit)).toBe(0);
    expect(r.take('p', limit)).toBe(1);
  });

  it('keeps one bucket per principal, and none without a limit', () => {
    const r = new RateLimiter(() => 0);
    const limit = { requestsPerSecond: 0.1, burst: 1 };
    expect(r.take('a', limit)).toBe(0);
    expect(r.take('a', limit)).toBe(10);
    expect(r.take('b', limit)).toBe(0);
    expect(r.take('c', undefined)).toBe(0);
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
