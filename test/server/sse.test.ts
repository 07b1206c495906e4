import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gatedStore,
  ndjson,
  rawSocket,
  readAll,
  startTestServer,
  subscribe,
  type TestServer,
  until,
} from './helpers.js';

const T0 = 1714564800000;

describe('GET /v1/regions/{region}/events', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      config: { fanout: { bufferEvents: 5, maxSubscriberBufferBytes: 1024, heartbeatMs: 60_000 } },
    });
  });
  afterAll(() => t.close());

  it('streams the events applied for its region, each with an id, as Server-Sent Events', async () => {
    const sub = await subscribe(t, 'eu');
    expect(sub.status).toBe(200);
    expect(sub.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await t.post(
      'acme',
      ndjson([
        { uid: 'u1', seg: 's1', ts: T0 },
        { uid: 'u2', seg: 's2', op: 'remove', ts: T0 },
      ]),
    );
    await t.post('acme', ndjson([{ uid: 'u3', seg: 'other-region', ts: T0 }]), { region: 'us' });
    await t.post('client-a', ndjson([{ uid: 'u4', seg: 's4', ts: T0, ttl: 60 }]));
    await sub.waitFor(3);
    sub.close();
    expect(sub.events.map((e) => e.event)).toEqual(['segment', 'segment', 'segment']);
    expect(sub.events.map((e) => JSON.parse(e.data))).toEqual([
      { ns: 'acme', uid: 'u1', seg: 's1', op: 'add', ts: T0 },
      { ns: 'acme', uid: 'u2', seg: 's2', op: 'remove', ts: T0 },
      { ns: 'client-a', uid: 'u4', seg: 's4', op: 'add', ts: T0, ttl: 60 },
    ]);
    const seqs = sub.events.map((e) => Number(e.id!.split('-')[1]));
    expect(seqs[1]).toBe(seqs[0]! + 1);
    expect(seqs[2]).toBe(seqs[0]! + 2);
  });

  it('does not send rejected records', async () => {
    const sub = await subscribe(t, 'eu');
    await t.post('acme', `not json\n${ndjson([{ uid: 'good', seg: 's', ts: T0 }])}`);
    await sub.waitFor(1);
    sub.close();
    expect(sub.events.map((e) => JSON.parse(e.data).uid)).toEqual(['good']);
  });

  it('resumes after Last-Event-ID with the events buffered since', async () => {
    const first = await subscribe(t, 'eu');
    await t.post('acme', ndjson([{ uid: 'r1', seg: 's', ts: T0 }]));
    await first.waitFor(1);
    first.close();
    const lastId = first.events[0]!.id!;
    await t.post(
      'acme',
      ndjson([
        { uid: 'r2', seg: 's', ts: T0 },
        { uid: 'r3', seg: 's', ts: T0 },
      ]),
    );
    const again = await subscribe(t, 'eu', 'bidder-eu', { 'last-event-id': lastId });
    await again.waitFor(2);
    again.close();
    expect(again.events.map((e) => JSON.parse(e.data).uid)).toEqual(['r2', 'r3']);
  });

  it('sends an event "gap" first when what followed Last-Event-ID is no longer buffered', async () => {
    const first = await subscribe(t, 'eu');
    await t.post('acme', ndjson([{ uid: 'g0', seg: 's', ts: T0 }]));
    await first.waitFor(1);
    first.close();
    // The buffer holds 5 events; 7 more push g0's successors out.
    await t.post(
      'acme',
      ndjson(Array.from({ length: 7 }, (_, i) => ({ uid: `g${i + 1}`, seg: 's', ts: T0 }))),
    );
    const again = await subscribe(t, 'eu', 'bidder-eu', { 'last-event-id': first.events[0]!.id! });
    await again.waitFor(6);
    again.close();
    expect(again.events[0]!.event).toBe('gap');
    expect(JSON.parse(again.events[0]!.data).lastEventId).toBe(first.events[0]!.id);
    expect(again.events.slice(1).map((e) => JSON.parse(e.data).uid)).toEqual(['g3', 'g4', 'g5', 'g6', 'g7']);
  });

  it('treats an id from another server start as a gap', async () => {
    const sub = await subscribe(t, 'eu', 'bidder-eu', { 'last-event-id': 'zzz-1' });
    await sub.waitFor(1);
    sub.close();
    expect(sub.events[0]!.event).toBe('gap');
  });

  it('disconnects a subscriber that does not read, and keeps serving the others', async () => {
    // The limit must exceed the largest event, or every subscriber would be cut off.
    const big = await startTestServer({ config: { fanout: { maxSubscriberBufferBytes: '1m' } } });
    try {
      const fast = await subscribe(big, 'eu');
      const slow = await rawSocket(big);
      slow.write(
        `GET /v1/regions/eu/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${big.keys['bidder-eu']}\r\n\r\n`,
      );
      const head = await new Promise<string>((r) => slow.once('data', (d: Buffer) => r(d.toString())));
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      slow.pause();
      // 40 events of 256 KiB: far more than the loopback socket buffers hold.
      const uid = 'x'.repeat(256 * 1024);
      for (let i = 0; i < 40; i++) {
        await big.post('acme', ndjson([{ uid, seg: `big${i}`, ts: T0 }]));
      }
      await fast.waitFor(40, 10_000);
      const metrics = await big.req('/metrics');
      expect(metrics.text).toMatch(/^sluice_sse_disconnects_total\{reason="slow"\} 1$/m);
      expect(metrics.text).toMatch(/^sluice_sse_subscribers\{region="eu"\} 1$/m);
      slow.resume();
      const seen = await readAll(slow, 5000);
      expect(seen.closed).toBe(true);
      fast.close();
    } finally {
      await big.close();
    }
  });
});

describe('event streams at shutdown', () => {
  it('end after the last published event when the server closes', async () => {
    const t = await startTestServer();
    const sub = await subscribe(t, 'eu');
    await t.post('acme', ndjson([{ uid: 'last', seg: 's', ts: T0 }]));
    await t.close();
    await sub.closed;
    expect(sub.events.map((e) => JSON.parse(e.data).uid)).toEqual(['last']);
  });
});

describe('group commit and fan-out order', () => {
  it('sends a 200 only once the batch holding its events committed, and publishes after that', async () => {
    let gate!: ReturnType<typeof gatedStore>;
    const t = await startTestServer({
      wrapStore: (s) => {
        gate = gatedStore(s);
        return gate.store;
      },
    });
    try {
      const sub = await subscribe(t, 'eu');
      let answered = false;
      const post = t.post('acme', ndjson([{ uid: 'held', seg: 's', ts: T0 }])).then((r) => {
        answered = true;
        return r;
      });
      await until(() => gate.calls.length === 1, 5000, 'the commit to start');
      await new Promise((r) => setTimeout(r, 100));
      expect(answered).toBe(false);
      expect(sub.events).toHaveLength(0);
      expect(await t.store.user('acme', 'held', T0)).toEqual([]);
      gate.release();
      expect((await post).json.accepted).toBe(1);
      await sub.waitFor(1);
      sub.close();
    } finally {
      gate.release();
      await t.close();
    }
  });

  it('commits the events of concurrent requests together', async () => {
    let gate!: ReturnType<typeof gatedStore>;
    const t = await startTestServer({
      // One commit at a time, so everything that arrives while it is held forms the next.
      config: { groupCommit: { maxInFlight: 1 } },
      wrapStore: (s) => {
        gate = gatedStore(s);
        return gate.store;
      },
    });
    try {
      const first = t.post('acme', ndjson([{ uid: 'first', seg: 's', ts: T0 }]));
      await until(() => gate.calls.length === 1, 5000, 'the first commit');
      const rest = Array.from({ length: 20 }, (_, i) =>
        t.post(
          'acme',
          ndjson(Array.from({ length: 10 }, (_, j) => ({ uid: `c${i}-${j}`, seg: 's', ts: T0 }))),
        ),
      );
      // While the first commit is held, the 20 requests queue 200 events.
      await until(() => t.server.queuedEvents === 201, 5000, 'the requests to queue');
      gate.release();
      const replies = await Promise.all([first, ...rest]);
      expect(replies.every((r) => r.status === 200)).toBe(true);
      expect(gate.calls).toEqual([1, 200]);
      expect((await t.store.snapshot()).length).toBe(201);
    } finally {
      gate.release();
      await t.close();
    }
  });

  it('answers 503 with Retry-After when the store queue is deeper than maxQueuedEvents', async () => {
    let gate!: ReturnType<typeof gatedStore>;
    const t = await startTestServer({
      config: { limits: { maxQueuedEvents: 5 } },
      wrapStore: (s) => {
        gate = gatedStore(s);
        return gate.store;
      },
    });
    try {
      const held = t.post(
        'acme',
        ndjson(Array.from({ length: 10 }, (_, i) => ({ uid: `o${i}`, seg: 's', ts: T0 }))),
      );
      await until(() => t.server.queuedEvents === 10, 5000, 'the queue to fill');
      const r = await t.post('acme', ndjson([{ uid: 'late', seg: 's' }]));
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
      expect(r.json.error.code).toBe('SLUICE_E_OVERLOADED');
      gate.release();
      expect((await held).status).toBe(200);
      expect((await t.post('acme', ndjson([{ uid: 'late', seg: 's' }]))).status).toBe(200);
    } finally {
      gate.release();
      await t.close();
    }
  });
});
