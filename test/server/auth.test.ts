import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, rawSocket, readAll, startTestServer, type TestServer } from './helpers.js';

/** Sends only the headers of a POST announcing a 1 MB body, and reads what comes back. */
async function postHeadersOnly(t: TestServer, path: string, headers: Record<string, string>) {
  const s = await rawSocket(t);
  const lines = [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: application/x-ndjson',
    'Content-Length: 1000000',
    'X-Sluice-Region: eu',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  s.write(`${lines.join('\r\n')}\r\n\r\n`);
  const r = await readAll(s, 3000);
  s.destroy();
  return r;
}

describe('authentication and authorization', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      principals: [
        { id: 'acme', namespaces: ['acme'] },
        { id: 'bidder-eu', subscribe: ['eu'] },
        { id: 'limited', namespaces: ['acme'], rateLimit: { requestsPerSecond: 0.5, burst: 2 } },
        { id: 'metered', namespaces: ['acme'], rateLimit: { eventsPerSecond: 1, eventBurst: 3 } },
      ],
    });
  });
  afterAll(() => t.close());

  it('answers 401 with a Bearer challenge when the key is missing', async () => {
    const r = await t.req('/v1/namespaces/acme/users/u1');
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="sluice"');
    expect(r.json.error.code).toBe('SLUICE_E_UNAUTHENTICATED');
  });

  it('answers 401 for an unknown key and for a header that is not Bearer', async () => {
    const a = await t.req('/v1/namespaces/acme/users/u1', {
      headers: { authorization: 'Bearer sk_sluice_nope' },
    });
    expect(a.status).toBe(401);
    expect(a.json.error.message).toBe('unknown API key');
    const b = await t.req('/v1/namespaces/acme/users/u1', {
      headers: { authorization: `Basic ${t.keys.acme}` },
    });
    expect(b.status).toBe(401);
    expect(b.json.error.message).toContain('malformed Authorization header');
  });

  it('answers 401 from the headers alone, without waiting for the body, and closes the connection', async () => {
    const r = await postHeadersOnly(t, '/v1/namespaces/acme/events', { Authorization: 'Bearer wrong' });
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 401 /);
    expect(r.text.toLowerCase()).toContain('connection: close');
  });

  it('answers 403 for a namespace the principal may not write, without waiting for the body', async () => {
    const r = await postHeadersOnly(t, '/v1/namespaces/someone-else/events', {
      Authorization: `Bearer ${t.keys.acme}`,
    });
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 403 /);
    expect(r.text).toContain('principal acme may not write to namespace \\"someone-else\\"');
  });

  it('answers Expect: 100-continue with 401 for a bad key, and with 100 only once the key is checked', async () => {
    const bad = await postHeadersOnly(t, '/v1/namespaces/acme/events', {
      Authorization: 'Bearer wrong',
      Expect: '100-continue',
    });
    expect(bad.text).toMatch(/^HTTP\/1\.1 401 /);
    expect(bad.text).not.toContain('100 Continue');

    const s = await rawSocket(t);
    const body = ndjson([{ uid: 'continued', seg: 's' }]);
    s.write(
      `POST /v1/namespaces/acme/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.keys.acme}\r\n` +
        `Content-Type: application/x-ndjson\r\nX-Sluice-Region: eu\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    const first = await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString())));
    expect(first).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    s.write(body);
    const rest = await readAll(s, 3000);
    expect(rest.text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('lets a principal write to its namespace and read it back, and nobody else read it', async () => {
    expect((await t.post('acme', ndjson([{ uid: 'u1', seg: 's', ts: 1714564800 }]))).status).toBe(200);
    const mine = await t.req('/v1/namespaces/acme/users/u1', { headers: t.auth('acme') });
    expect(mine.status).toBe(200);
    expect(mine.json).toEqual({ ns: 'acme', uid: 'u1', segments: [{ seg: 's', ts: 1714564800000 }] });
    const theirs = await t.req('/v1/namespaces/acme/users/u1', { headers: t.auth('bidder-eu') });
    expect(theirs.status).toBe(403);
  });

  it('answers a user with no segments with an empty list', async () => {
    const r = await t.req('/v1/namespaces/acme/users/nobody', { headers: t.auth('acme') });
    expect(r.json).toEqual({ ns: 'acme', uid: 'nobody', segments: [] });
  });

  it('decodes percent-encoded ids in the path', async () => {
    await t.post('acme', ndjson([{ uid: 'a b/c', seg: 's', ts: 1714564800 }]));
    const r = await t.req(`/v1/namespaces/acme/users/${encodeURIComponent('a b/c')}`, {
      headers: t.auth('acme'),
    });
    expect(r.json.segments).toHaveLength(1);
  });

  it('refuses the event stream of a region the principal does not subscribe to', async () => {
    const r = await t.req('/v1/regions/us/events', { headers: t.auth('bidder-eu') });
    expect(r.status).toBe(403);
    expect((await t.req('/v1/regions/mars/events', { headers: t.auth('bidder-eu') })).status).toBe(404);
  });

  it('refuses the profiler to a principal that is not admin', async () => {
    const r = await t.req('/debug/profile?seconds=1', { headers: t.auth('acme') });
    expect(r.status).toBe(403);
  });

  it('never logs a key, even a wrong one', async () => {
    await t.req('/v1/namespaces/acme/users/u1', {
      headers: { authorization: 'Bearer sk_sluice_secret_guess' },
    });
    const logged = JSON.stringify(t.logs);
    expect(logged).not.toContain('sk_sluice_secret_guess');
    for (const k of Object.values(t.keys)) expect(logged).not.toContain(k);
  });

  it('answers 429 with Retry-After past a principal rate limit, and not for other principals', async () => {
    const statuses: number[] = [];
    let retryAfter: unknown;
    for (let i = 0; i < 4; i++) {
      const r = await t.req('/v1/namespaces/acme/users/u1', { headers: t.auth('limited') });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers['retry-after'];
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses.slice(2)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await t.req('/v1/namespaces/acme/users/u1', { headers: t.auth('acme') })).status).toBe(200);
  });

  it('limits events: a body that overdraws is applied whole, the next request gets 429 naming the events rate', async () => {
    const five = ndjson(Array.from({ length: 5 }, (_, i) => ({ uid: `m${i}`, seg: 's', ts: 1700000000 })));
    const first = await t.post('acme', five, { principal: 'metered' });
    expect(first.json).toMatchObject({ accepted: 5, rejected: 0 });
    const second = await t.post('acme', five, { principal: 'metered' });
    expect(second.status).toBe(429);
    expect(second.json.error.message).toBe('rate limit of 1 events/s exceeded');
    expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(2);
    expect((await t.post('acme', five)).status).toBe(200); // others are not held back
  });

  it('counts refusals in the metrics', async () => {
    const m = await t.req('/metrics');
    expect(m.text).toMatch(/^sluice_auth_failures_total\{status="401"\} [1-9]/m);
    expect(m.text).toMatch(/^sluice_auth_failures_total\{status="403"\} [1-9]/m);
  });
});
