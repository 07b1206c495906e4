/**
 * Region fan-out across servers through a real NATS JetStream server (the global
 * setup starts one): events posted to one sluice server reach the subscribers of
 * every server sharing the stream, in the stream's order, and a server never passes
 * on or dies of a message that is not sluice's.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { openSqliteStore } from '../../src/audience/store/sqlite.js';
import { isSluiceError } from '../../src/core/errors.js';
import { resolveConfig } from '../../src/server/config.js';
import { SluiceServer } from '../../src/server/server.js';
import { natsServer, startNats } from '../setup/nats.js';
import { DEFAULT_PRINCIPALS, ndjson, startTestServer, subscribe, type TestServer, until } from './helpers.js';

const natsUrl = inject('natsUrl');

let streams = 0;
/** A stream and subjects of its own for each test, so tests sharing the NATS server do not meet. */
function natsConfig(overrides: Record<string, unknown> = {}) {
  const n = `${process.pid}x${++streams}`;
  return { url: natsUrl, stream: `SLUICE_TEST_${n}`, subjectPrefix: `t${n}.events`, ...overrides };
}

const open: TestServer[] = [];
async function server(
  nats: Record<string, unknown>,
  fanout: Record<string, unknown> = {},
): Promise<TestServer> {
  const t = await startTestServer({
    config: { fanout: { nats, ...fanout } },
    principals: [...DEFAULT_PRINCIPALS, { id: 'bidder-us', subscribe: ['us'] }],
  });
  open.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/** An add event; `ts` in ms since the epoch (2023 and later, so it is not read as seconds). */
const event = (uid: string, seg: string, ts: number) => ({ uid, seg, op: 'add', ts: T0 + ts });
const T0 = 1_700_000_000_000;
/** Posts user `u<i>`'s two events (segments x and y, ts i) to `t`, and checks they were accepted. */
async function postPair(t: TestServer, i: number): Promise<void> {
  const r = await t.post('acme', ndjson([event(`u${i}`, 'x', i), event(`u${i}`, 'y', i)]));
  expect(r.status).toBe(200);
}
const seen = (events: { data: string }[]) =>
  events.map((e) => {
    const d = JSON.parse(e.data);
    return `${d.ns}/${d.uid}/${d.seg}@${d.ts}`;
  });

describe.skipIf(!natsUrl)('fan-out through NATS JetStream', () => {
  test('events posted to one server reach the subscribers of every server, in one order', async () => {
    const nats = natsConfig();
    const a = await server(nats);
    const b = await server(nats);
    const onA = await subscribe(a, 'eu');
    const onB = await subscribe(b, 'eu');
    // Alternate between the servers: both subscribers must see the same sequence.
    const posted: string[] = [];
    for (let i = 0; i < 10; i++) {
      const t = i % 2 === 0 ? a : b;
      const records = [event(`u${i}`, 's1', i), event(`u${i}`, 's2', i)];
      const r = await t.post('acme', ndjson(records));
      expect(r.status).toBe(200);
      for (const rec of records) posted.push(`acme/${rec.uid}/${rec.seg}@${rec.ts}`);
    }
    await onA.waitFor(posted.length);
    await onB.waitFor(posted.length);
    expect(seen(onA.events).sort()).toEqual([...posted].sort());
    expect(seen(onB.events)).toEqual(seen(onA.events));
    // Each server posted its requests in order, and each request's events stay together.
    expect(seen(onA.events).filter((s) => /\/u[02468]\//.test(s))).toEqual(
      posted.filter((s) => /\/u[02468]\//.test(s)),
    );
    onA.close();
    onB.close();
  });

  test("a subscriber resumes on another server from its Last-Event-ID: the ids are the stream's", async () => {
    const nats = natsConfig();
    const a = await server(nats);
    const b = await server(nats);
    const first = await subscribe(a, 'eu');
    for (let i = 0; i < 3; i++) await postPair(a, i);
    await first.waitFor(6);
    first.close();
    const lastSeen = first.events[2]!.id!;
    // Posted while the subscriber was away, to either server. A 200 means durable in the
    // store, not yet in the stream: u3 must reach the stream (a live watcher on the other
    // server sees it) before u4 is posted, or the two may enter it in either order.
    const watcher = await subscribe(a, 'eu');
    expect((await b.post('acme', ndjson([event('u3', 'x', 3)]))).status).toBe(200);
    await watcher.waitFor(1);
    watcher.close();
    expect((await a.post('acme', ndjson([event('u4', 'x', 4)]))).status).toBe(200);
    const resumed = await subscribe(b, 'eu', 'bidder-eu', { 'last-event-id': lastSeen });
    await resumed.waitFor(5);
    await new Promise((r) => setTimeout(r, 100));
    expect(resumed.events.map((e) => e.event)).toEqual(Array(5).fill('segment'));
    expect(seen(resumed.events)).toEqual([
      ...seen(first.events.slice(3)),
      `acme/u3/x@${T0 + 3}`,
      `acme/u4/x@${T0 + 4}`,
    ]);
    // The events both servers sent carry the same ids.
    expect(resumed.events.slice(0, 3).map((e) => e.id)).toEqual(first.events.slice(3).map((e) => e.id));
    // An id of another kind (a server without the stream gives `<boot>-<seq>`) is a gap.
    const stale = await subscribe(b, 'eu', 'bidder-eu', { 'last-event-id': 'abc-1' });
    await stale.waitFor(1);
    expect(stale.events[0]!.event).toBe('gap');
    resumed.close();
    stale.close();
  });

  test('a Last-Event-ID older than the buffer is caught up from the stream, on any server, then live', async () => {
    const nats = natsConfig();
    // Buffers of two events: the stream holds what they do not.
    const a = await server(nats, { bufferEvents: 2 });
    const b = await server(nats, { bufferEvents: 2 });
    const first = await subscribe(a, 'eu');
    for (let i = 0; i < 4; i++) await postPair(a, i);
    await first.waitFor(8);
    first.close();
    // The second event: the first message's second, so the resume starts inside a message.
    const lastSeen = first.events[1]!.id!;
    expect((await b.post('acme', ndjson([event('u4', 'x', 4)]))).status).toBe(200);
    const resumed = await subscribe(b, 'eu', 'bidder-eu', { 'last-event-id': lastSeen });
    await resumed.waitFor(7);
    expect((await a.post('acme', ndjson([event('u5', 'x', 5)]))).status).toBe(200);
    await resumed.waitFor(8);
    await new Promise((r) => setTimeout(r, 100));
    expect(resumed.events.map((e) => e.event)).toEqual(Array(8).fill('segment'));
    expect(seen(resumed.events)).toEqual([
      ...seen(first.events.slice(2)),
      `acme/u4/x@${T0 + 4}`,
      `acme/u5/x@${T0 + 5}`,
    ]);
    expect(resumed.events.slice(0, 6).map((e) => e.id)).toEqual(first.events.slice(2).map((e) => e.id));
    const m = await b.req('/metrics');
    expect(m.text).toMatch(/^sluice_sse_resumes_total\{from="stream"\} 1$/m);
    resumed.close();
  });

  test('events that arrive while a subscriber catches up reach it once each, in the stream order', async () => {
    const nats = natsConfig();
    const a = await server(nats, { bufferEvents: 3 });
    // Connected throughout: the order every subscriber must see.
    const reference = await subscribe(a, 'eu');
    for (let i = 0; i < 5; i++) await postPair(a, i);
    await reference.waitFor(10);
    const lastSeen = reference.events[0]!.id!;
    // Posting goes on while the catch-up reads the stream.
    const posting = (async () => {
      for (let i = 5; i < 30; i++) await postPair(a, i);
    })();
    const resumed = await subscribe(a, 'eu', 'bidder-eu', { 'last-event-id': lastSeen });
    await posting;
    await reference.waitFor(60);
    await resumed.waitFor(59);
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed.events.map((e) => e.id)).toEqual(reference.events.slice(1).map((e) => e.id));
    expect(seen(resumed.events)).toEqual(seen(reference.events.slice(1)));
    reference.close();
    resumed.close();
  });

  test('an id whose message the stream no longer holds gets a gap notice, then the buffer', async () => {
    const nats = natsConfig();
    const a = await server(nats, { bufferEvents: 2 });
    const first = await subscribe(a, 'eu');
    for (let i = 0; i < 3; i++) {
      expect((await a.post('acme', ndjson([event(`u${i}`, 'x', i)]))).status).toBe(200);
    }
    await first.waitFor(3);
    first.close();
    const nc = await connect({ servers: natsUrl });
    try {
      // As max_age would: the oldest message goes.
      const jsm = await jetstreamManager(nc);
      const oldest = Number(/-(\d+)\./.exec(first.events[0]!.id!)![1]);
      await jsm.streams.purge(nats.stream, { seq: oldest + 1 });
    } finally {
      await nc.close();
    }
    const resumed = await subscribe(a, 'eu', 'bidder-eu', { 'last-event-id': first.events[0]!.id! });
    await resumed.waitFor(3);
    expect(resumed.events[0]!.event).toBe('gap');
    expect(seen(resumed.events.slice(1))).toEqual(seen(first.events.slice(1)));
    const m = await a.req('/metrics');
    expect(m.text).toMatch(/^sluice_sse_resumes_total\{from="gap"\} 1$/m);
    resumed.close();
  });

  test('a region gets its own events only', async () => {
    const nats = natsConfig();
    const a = await server(nats);
    const b = await server(nats);
    const eu = await subscribe(b, 'eu');
    const us = await subscribe(b, 'us', 'bidder-us');
    expect((await a.post('acme', ndjson([event('u1', 'only-us', 1)]), { region: 'us' })).status).toBe(200);
    expect((await a.post('acme', ndjson([event('u2', 'only-eu', 2)]), { region: 'eu' })).status).toBe(200);
    await us.waitFor(1);
    await eu.waitFor(1);
    // Anything wrongly routed would have come with or before the right one.
    await new Promise((r) => setTimeout(r, 200));
    expect(seen(us.events)).toEqual([`acme/u1/only-us@${T0 + 1}`]);
    expect(seen(eu.events)).toEqual([`acme/u2/only-eu@${T0 + 2}`]);
    eu.close();
    us.close();
  });

  test('a message on the subjects that is not sluice events is skipped with a warning, and delivery goes on', async () => {
    const nats = natsConfig();
    const a = await server(nats);
    const sub = await subscribe(a, 'eu');
    const nc = await connect({ servers: natsUrl });
    try {
      const js = jetstream(nc);
      await js.publish(`${nats.subjectPrefix}.eu`, 'not json at all');
      await js.publish(
        `${nats.subjectPrefix}.eu`,
        `${JSON.stringify({ ns: 'x', uid: '', seg: 's', op: 'add', ts: 1 })}\n`,
      );
    } finally {
      await nc.close();
    }
    expect((await a.post('acme', ndjson([event('u1', 'after', 5)]))).status).toBe(200);
    await sub.waitFor(1);
    expect(seen(sub.events)).toEqual([`acme/u1/after@${T0 + 5}`]);
    const warnings = a.logs.filter((l) => l.fields?.code === 'SLUICE_W_FANOUT_MESSAGE');
    expect(warnings).toHaveLength(2);
    sub.close();
  });

  test('on shutdown, the events answered 200 reach the subscribers before their streams end', async () => {
    const nats = natsConfig();
    const a = await server(nats);
    const sub = await subscribe(a, 'eu');
    const records = Array.from({ length: 50 }, (_, i) => event(`u${i}`, 's', 100 + i));
    expect((await a.post('acme', ndjson(records))).status).toBe(200);
    await a.server.close();
    await sub.closed;
    expect(sub.events).toHaveLength(50);
  });

  test('readyz is 200 while connected; the stream is created once and reused by a second server', async () => {
    const nats = natsConfig();
    const a = await server(nats);
    expect((await a.req('/readyz')).status).toBe(200);
    const b = await server(nats);
    expect((await b.req('/readyz')).status).toBe(200);
  });

  test('a stream that exists with other subjects is refused at start, naming both', async () => {
    const taken = natsConfig();
    const first = await server(taken);
    expect(first.server.ready).toBe(true);
    const clash = natsConfig({ stream: taken.stream });
    const e = await startTestServer({ config: { fanout: { nats: clash } } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isSluiceError(e) && e.code).toBe('SLUICE_E_USAGE');
    expect((e as Error).message).toContain(
      `NATS stream ${taken.stream} does not take ${clash.subjectPrefix}.>`,
    );
  });
});

describe.skipIf(!natsUrl)('fan-out through NATS JetStream: an outage', () => {
  test('ingestion goes on while NATS is down: answers 200, events stored, readyz 503, the lost publish logged', async () => {
    const bin = natsServer();
    if (bin === undefined) throw new Error('nats-server disappeared');
    // A NATS server of this test's own, to stop.
    const own = await startNats(bin);
    let stopped = false;
    try {
      const a = await server(natsConfig({ url: own.url }));
      const sub = await subscribe(a, 'eu');
      expect((await a.post('acme', ndjson([event('u1', 'before', 1)]))).status).toBe(200);
      await sub.waitFor(1);
      await own.stop();
      stopped = true;
      const ready = async () => (await a.req('/readyz')).status;
      const until503 = Date.now() + 10_000;
      while ((await ready()) !== 503) {
        if (Date.now() > until503) throw new Error('readyz stayed 200 with NATS down');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await a.req('/readyz')).json).toMatchObject({ status: 'fan-out unavailable' });
      const r = await a.post('acme', ndjson([event('u2', 'during', 2)]));
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ accepted: 1, rejected: 0 });
      const user = await a.req('/v1/namespaces/acme/users/u2', { headers: a.auth('acme') });
      expect(user.status).toBe(200);
      expect(JSON.stringify(user.json)).toContain('during');
      // Shutdown does not wait for NATS to come back.
      const t0 = Date.now();
      await a.close();
      open.splice(open.indexOf(a), 1);
      // Its own bounds: 2 s for the publishes in flight, 1 s to drain the connection.
      expect(Date.now() - t0).toBeLessThan(5_000);
      const gaveUp = () => a.logs.some((l) => l.fields?.code === 'SLUICE_W_FANOUT_PUBLISH');
      await until(gaveUp, 10_000, 'the lost publish to be logged');
      expect(a.logs.find((l) => l.fields?.code === 'SLUICE_W_FANOUT_PUBLISH')?.fields).toMatchObject({
        events: 1,
      });
      sub.close();
    } finally {
      if (!stopped) await own.stop();
    }
  });
});

describe('fan-out through NATS JetStream: without a server', () => {
  test('a NATS server that cannot be reached fails listen with SLUICE_E_SINK and no password in the message', async () => {
    const config = resolveConfig({
      listen: '127.0.0.1:0',
      store: 'sqlite::memory:',
      regions: ['eu'],
      principals: [{ id: 'p', keys: [`sha256:${'0'.repeat(64)}`], namespaces: ['n'] }],
      // Port 1 on loopback: nothing listens there.
      fanout: { nats: 'nats://user:secret@127.0.0.1:1,nats://other:hidden@127.0.0.1:2' },
    });
    const store = await openSqliteStore(':memory:');
    const s = new SluiceServer({ config, store, log: () => {}, defaultMetrics: false });
    const e = await s.listen().then(
      () => undefined,
      (err: unknown) => err,
    );
    await store.close();
    expect(isSluiceError(e) && e.code).toBe('SLUICE_E_SINK');
    expect((e as Error).message).toContain(
      'cannot connect to NATS at nats://user:***@127.0.0.1:1,nats://other:***@127.0.0.1:2',
    );
    expect((e as Error).message).not.toContain('secret');
    expect((e as Error).message).not.toContain('hidden');
    expect(s.http.listening).toBe(false);
  });
});
