import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpAuthorizer } from '../../src/server/authorizer.js';
import { ndjson, startTestServer, type TestServer } from './helpers.js';

/** A tiny authorization service on loopback; `decide` answers each question. */
interface Service {
  url: string;
  asked: { principal: string; action: string; resource: string }[];
  decide: (q: { principal: string; action: string; resource: string }, res: ServerResponse) => void;
  server: Server;
}

async function startService(): Promise<Service> {
  const svc: Service = {
    url: '',
    asked: [],
    decide: (_q, res) => res.end('{"allow":false}'),
    server: createServer((req: IncomingMessage, res: ServerResponse) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        text += d;
      });
      req.on('end', () => {
        const q = JSON.parse(text);
        svc.asked.push(q);
        svc.decide(q, res);
      });
    }),
  };
  await new Promise<void>((r) => svc.server.listen(0, '127.0.0.1', r));
  svc.url = `http://127.0.0.1:${(svc.server.address() as AddressInfo).port}/authorize`;
  return svc;
}

describe('the HTTP authorization service authorizer', () => {
  let svc: Service;
  let t: TestServer;
  beforeAll(async () => {
    svc = await startService();
    t = await startTestServer({
      // The static policy would deny everything: no principal lists a namespace.
      principals: [{ id: 'provider' }, { id: 'bidder' }],
      config: { authorizer: { url: svc.url, timeoutMs: 200, cacheTtlMs: 60_000 } },
    });
  });
  afterAll(async () => {
    await t.close();
    svc.server.closeAllConnections();
    await new Promise((r) => svc.server.close(r));
  });
  beforeEach(() => {
    svc.asked.length = 0;
  });

  it('asks the service with the principal, action and resource, and follows an allow', async () => {
    svc.decide = (q, res) =>
      res.end(JSON.stringify({ allow: q.principal === 'provider' && q.resource === 'ns-a' }));
    const r = await t.post('ns-a', ndjson([{ uid: 'u', seg: 's' }]), { principal: 'provider' });
    expect(r.status).toBe(200);
    expect(svc.asked).toEqual([{ principal: 'provider', action: 'write', resource: 'ns-a' }]);
  });

  it('follows a deny with 403', async () => {
    const r = await t.post('ns-b', ndjson([{ uid: 'u', seg: 's' }]), { principal: 'bidder' });
    expect(r.status).toBe(403);
    expect(svc.asked).toHaveLength(1);
  });

  it('caches decisions: the same question is asked once', async () => {
    svc.decide = (_q, res) => res.end('{"allow":true}');
    for (let i = 0; i < 3; i++) {
      expect((await t.req('/v1/namespaces/ns-c/users/u', { headers: t.auth('provider') })).status).toBe(200);
    }
    expect(svc.asked).toEqual([{ principal: 'provider', action: 'read', resource: 'ns-c' }]);
  });

  it('denies when the service does not answer in time, and does not cache that', async () => {
    svc.decide = (_q, res) => {
      setTimeout(() => res.end('{"allow":true}'), 1000);
    };
    const started = Date.now();
    const r = await t.req('/v1/namespaces/slow/users/u', { headers: t.auth('provider') });
    expect(r.status).toBe(403);
    expect(Date.now() - started).toBeLessThan(900);
    svc.decide = (_q, res) => res.end('{"allow":true}');
    expect((await t.req('/v1/namespaces/slow/users/u', { headers: t.auth('provider') })).status).toBe(200);
    expect(svc.asked).toHaveLength(2);
  });

  it('denies when the service answers an error status or a body that is not a decision', async () => {
    svc.decide = (_q, res) => {
      res.statusCode = 500;
      res.end('{"allow":true}');
    };
    expect((await t.req('/v1/namespaces/err1/users/u', { headers: t.auth('provider') })).status).toBe(403);
    svc.decide = (_q, res) => res.end('yes');
    expect((await t.req('/v1/namespaces/err2/users/u', { headers: t.auth('provider') })).status).toBe(403);
    svc.decide = (_q, res) => res.end('{"allow":"true"}');
    expect((await t.req('/v1/namespaces/err3/users/u', { headers: t.auth('provider') })).status).toBe(403);
  });

  it('still authenticates first: an unknown key never reaches the service', async () => {
    const r = await t.req('/v1/namespaces/x/users/u', { headers: { authorization: 'Bearer nope' } });
    expect(r.status).toBe(401);
    expect(svc.asked).toHaveLength(0);
  });
});

describe('httpAuthorizer on its own', () => {
  it('denies when the service cannot be reached', async () => {
    const svc = await startService();
    const url = svc.url;
    await new Promise((r) => svc.server.close(r));
    const a = httpAuthorizer({ url, timeoutMs: 500, cacheTtlMs: 1000, cacheSize: 10 });
    const principal = { id: 'p', config: { id: 'p', keys: [], namespaces: [], subscribe: [], admin: false } };
    expect(await a.authorize({ principal, action: 'write', resource: 'x' })).toBe(false);
    expect(a.stats.failures).toBe(1);
    await a.close?.();
  });

  it('shares one request between concurrent identical questions', async () => {
    const svc = await startService();
    svc.decide = (_q, res) => {
      setTimeout(() => res.end('{"allow":true}'), 50);
    };
    const a = httpAuthorizer({ url: svc.url, timeoutMs: 1000, cacheTtlMs: 1000, cacheSize: 10 });
    const principal = { id: 'p', config: { id: 'p', keys: [], namespaces: [], subscribe: [], admin: false } };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => a.authorize({ principal, action: 'subscribe', resource: 'eu' })),
    );
    expect(answers).toEqual([true, true, true, true, true]);
    expect(svc.asked).toHaveLength(1);
    await a.close?.();
    svc.server.closeAllConnections();
    await new Promise((r) => svc.server.close(r));
  });
});
