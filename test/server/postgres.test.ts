/**
 * `sluice serve` on a PostgreSQL store (the test server from test/setup/postgres.ts):
 * events posted over HTTP are durable in PostgreSQL, read back, published to
 * subscribers, and an Idempotency-Key answer survives a restart there too.
 */
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/audience/store/index.js';
import { postgresUrl } from '../audience/helpers.js';
import { ndjson, startTestServer, subscribe } from './helpers.js';

describe.skipIf(!postgresUrl)('sluice serve on PostgreSQL', () => {
  const schema = `serve_${Date.now().toString(36)}`;

  it('applies posted events, reads them back and publishes them', async () => {
    const store = await openPostgresStore(postgresUrl, { schema });
    const t = await startTestServer({ store });
    try {
      const sub = await subscribe(t, 'eu', 'bidder-eu');
      const r = await t.post(
        'acme',
        ndjson([
          { uid: 'pg-u1', seg: 'sports', ts: 1_700_000_000 },
          { uid: 'pg-u1', seg: 'news', ttl: 3600 },
          { uid: 'pg-u1', seg: 'gone', op: 'remove', ts: 1_700_000_002 },
          { uid: 'pg-u1', seg: '' },
        ]),
      );
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ accepted: 3, rejected: 1 });
      const user = await t.req('/v1/namespaces/acme/users/pg-u1', { headers: t.auth('acme') });
      expect(user.status).toBe(200);
      expect((user.json as { segments: { seg: string }[] }).segments.map((s) => s.seg)).toEqual([
        'news',
        'sports',
      ]);
      await sub.waitFor(3);
      expect(sub.events.map((e) => JSON.parse(e.data).seg)).toEqual(['sports', 'news', 'gone']);
      sub.close();
      expect((await t.req('/readyz')).status).toBe(200);
    } finally {
      await t.close();
      await store.close();
    }
  });

  it('answers a retried Idempotency-Key from PostgreSQL after a restart', async () => {
    const body = ndjson([{ uid: 'pg-idem', seg: 's' }]);
    const key = { 'idempotency-key': 'pg-restart' };
    let store = await openPostgresStore(postgresUrl, { schema });
    let t = await startTestServer({ store });
    const first = await t.post('acme', body, { headers: key });
    expect(first.status).toBe(200);
    const [before] = await store.user('acme', 'pg-idem');
    await t.close();
    await store.close();
    await new Promise((r) => setTimeout(r, 5));
    store = await openPostgresStore(postgresUrl, { schema });
    t = await startTestServer({ store });
    try {
      const retry = await t.post('acme', body, { headers: key });
      expect(retry.text).toBe(first.text);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(await store.user('acme', 'pg-idem')).toEqual([before]);
    } finally {
      await t.close();
      await store.close();
    }
  });
});
