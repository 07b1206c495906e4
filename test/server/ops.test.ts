import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, openThreadedSqliteStore } from '../../src/audience/store/index.js';
import { ndjson, rawSocket, readAll, startTestServer, type TestServer } from './helpers.js';

describe('readiness follows the store', () => {
  it('answers /readyz 503 with the reason once the store stops answering, /healthz still 200', async () => {
    const store = await openSqliteStore(':memory:');
    const t = await startTestServer({ store });
    try {
      expect(await t.req('/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } });
      await store.close();
      const r = await t.req('/readyz');
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('5');
      expect(r.json).toMatchObject({ status: 'store unavailable', message: expect.stringMatching(/closed/) });
      expect(await t.req('/healthz')).toMatchObject({ status: 200 });
    } finally {
      await t.close();
    }
  });

  it('serves with the store in a worker thread (the serve default): ingest, read back, ready', async () => {
    const store = await openThreadedSqliteStore(':memory:');
    const t = await startTestServer({ store });
    try {
      const r = await t.post(
        'acme',
        ndjson([
          { uid: 'w1', seg: 'a', ts: 1700000000 },
          { uid: 'w1', seg: 'bad', op: 'nope' },
        ]),
      );
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ accepted: 1, rejected: 1 });
      const u = await t.req('/v1/namespaces/acme/users/w1', { headers: t.auth('acme') });
      expect(u.json.segments).toEqual([{ seg: 'a', ts: 1700000000000 }]);
      expect(await t.req('/readyz')).toMatchObject({ status: 200 });
    } finally {
      await t.close();
      await store.close();
    }
  });
});

describe('health, readiness, metrics, routing', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('answers /healthz and /readyz without a key', async () => {
    expect(await t.req('/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await t.req('/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } });
  });

  it('exposes Prometheus text with requests by route and status, and latency histograms', async () => {
    await t.post('acme', ndjson([{ uid: 'm', seg: 's' }]));
    const r = await t.req('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain');
    expect(r.text).toMatch(/^sluice_http_requests_total\{route="events",method="POST",status="200"\} 1$/m);
    expect(r.text).toMatch(/^sluice_http_request_duration_seconds_bucket\{le="\+Inf",route="events"\} 1$/m);
    expect(r.text).toMatch(/^sluice_store_commit_events_count 1$/m);
    expect(r.text).toMatch(/^sluice_fanout_lag_seconds_count 1$/m);
    expect(r.text).toContain('# TYPE sluice_store_queue_events gauge');
  });

  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    const a = await t.req('/v2/whatever');
    expect(a.status).toBe(404);
    expect(a.json.error.code).toBe('SLUICE_E_NOT_FOUND');
    const b = await t.req('/v1/namespaces/acme/events', { headers: t.auth('acme') });
    expect(b.status).toBe(405);
    expect(b.headers.allow).toBe('POST');
    const c = await t.req('/healthz', { method: 'DELETE' });
    expect(c.status).toBe(405);
    expect(c.headers.allow).toBe('GET');
  });

  it('answers 400 for a path that does not decode', async () => {
    const r = await t.req('/v1/namespaces/%E0%A4%A/users/x', { headers: t.auth('acme') });
    expect(r.status).toBe(400);
  });

  it('answers 400 for a namespace or uid with control characters', async () => {
    const r = await t.req('/v1/namespaces/acme/users/a%00b', { headers: t.auth('acme') });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain('uid contains U+0000');
  });
});

describe('GET /debug/profile', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('returns a CPU profile of the running server to an admin', async () => {
    const r = await t.req('/debug/profile?seconds=0.2', { headers: t.auth('ops') });
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toMatch(/^attachment; filename="sluice-\d+\.cpuprofile"$/);
    expect(Array.isArray(r.json.nodes)).toBe(true);
    expect(r.json.endTime).toBeGreaterThan(r.json.startTime);
  });

  it('answers 409 while another profile is being taken', async () => {
    // The first request only has to reach the profiler (auth, then a synchronous flag) before
    // the second arrives: a second of head start leaves room for a loaded CI machine.
    const first = t.req('/debug/profile?seconds=2.5', { headers: t.auth('ops') });
    await new Promise((r) => setTimeout(r, 1000));
    const second = await t.req('/debug/profile?seconds=0.1', { headers: t.auth('ops') });
    expect(second.status).toBe(409);
    expect((await first).status).toBe(200);
  });

  it('answers 400 for seconds that are not a number in (0, 300]', async () => {
    for (const s of ['abc', '0', '-1', '301', '']) {
      expect((await t.req(`/debug/profile?seconds=${s}`, { headers: t.auth('ops') })).status).toBe(400);
    }
  });
});

describe('timeouts', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ config: { limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } } });
  });
  afterAll(() => t.close());

  it('cuts off a client that does not finish its headers in time, with 408', async () => {
    const s = await rawSocket(t);
    const started = Date.now();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const r = await readAll(s, 5000);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('cuts off a client that sends its body too slowly', async () => {
    const s = await rawSocket(t);
    const started = Date.now();
    s.write(
      `POST /v1/namespaces/acme/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.keys.acme}\r\n` +
        'Content-Type: application/x-ndjson\r\nX-Sluice-Region: eu\r\nContent-Length: 1000\r\n\r\n{"uid":',
    );
    const r = await readAll(s, 5000);
    expect(r.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    // The server is still fine.
    expect((await t.req('/healthz')).status).toBe(200);
  });
});

describe('shutdown, in process', () => {
  it('stops being ready, finishes the request in flight, and refuses new connections', async () => {
    const t = await startTestServer();
    const s = await rawSocket(t);
    const body = ndjson([{ uid: 'inflight', seg: 's', ts: 1714564800 }]);
    s.write(
      `POST /v1/namespaces/acme/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.keys.acme}\r\n` +
        `Content-Type: application/x-ndjson\r\nX-Sluice-Region: eu\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    await new Promise((r) => setTimeout(r, 100));
    const closing = t.server.close();
    expect(t.server.ready).toBe(false);
    s.write(body.slice(5));
    const reply = await readAll(s, 5000);
    expect(reply.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply.text.toLowerCase()).toContain('connection: close');
    await closing;
    expect(await t.store.user('acme', 'inflight', 1714564800000)).toHaveLength(1);
    await expect(t.req('/healthz')).rejects.toThrow();
    await t.close();
  });
});
