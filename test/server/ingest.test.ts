import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openThreadedSqliteStore } from '../../src/audience/store/index.js';
import { tempDir } from '../cli/helpers.js';
import { ndjson, startTestServer, type TestServer } from './helpers.js';

const T0 = 1714564800000;

describe('POST /v1/namespaces/{ns}/events', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      config: { limits: { maxBodyBytes: 256 * 1024, maxRecordBytes: 256, maxErrors: 3 } },
    });
  });
  afterAll(() => t.close());

  it('applies good records, reports bad ones with their line, and answers once they are durable', async () => {
    const body = [
      '{"uid":"i1","seg":"sports","op":"add","ts":1714564800000}',
      '{"uid":"i1","seg":"news"',
      '{"uid":"i2","seg":"news","op":"remove","ts":"2024-05-01T12:00:00Z"}',
      '{"uid":"i3","seg":"*","op":"add"}',
      '',
    ].join('\n');
    const r = await t.post('acme', body);
    expect(r.status).toBe(200);
    expect(r.json.accepted).toBe(2);
    expect(r.json.rejected).toBe(2);
    expect(r.json.errors).toEqual([
      { line: 2, code: 'SLUICE_E_PARSE', message: expect.stringContaining('JSON') },
      { line: 4, code: 'SLUICE_E_VALIDATION', message: expect.stringContaining('segment event seg') },
    ]);
    // The 200 means durable: the store has it, without waiting.
    expect(await t.store.user('acme', 'i1', T0 + 1)).toEqual([{ seg: 'sports', ts: T0 }]);
  });

  it('caps the error list but counts every rejection', async () => {
    const body = `${'nope\n'.repeat(10)}{"uid":"cap","seg":"s","ts":1714564800}\n`;
    const r = await t.post('acme', body);
    expect(r.json).toMatchObject({ accepted: 1, rejected: 10 });
    expect(r.json.errors.map((e: { line: number }) => e.line)).toEqual([1, 2, 3]);
  });

  it('reads ts as unix seconds, milliseconds or RFC 3339, and stamps the time of receipt when absent', async () => {
    const before = Date.now();
    const r = await t.post(
      'acme',
      ndjson([
        { uid: 'ts1', seg: 'a', ts: 1714564800 },
        { uid: 'ts1', seg: 'b', ts: 1714564800123 },
        { uid: 'ts1', seg: 'c', ts: '2024-05-01T12:00:00.5Z' },
        { uid: 'ts1', seg: 'd', ts: '1714564801' },
        { uid: 'ts1', seg: 'e' },
      ]),
    );
    expect(r.json).toMatchObject({ accepted: 5, rejected: 0 });
    const segs = await t.store.user('acme', 'ts1', Date.now() + 1);
    const ts = Object.fromEntries(segs.map((s) => [s.seg, s.ts]));
    expect(ts.a).toBe(T0);
    expect(ts.b).toBe(T0 + 123);
    expect(ts.c).toBe(T0 + 500);
    expect(ts.d).toBe(T0 + 1000);
    expect(ts.e).toBeGreaterThanOrEqual(before);
    expect(ts.e).toBeLessThanOrEqual(Date.now());
  });

  it('takes the namespace from the path and refuses a record naming another one', async () => {
    const r = await t.post(
      'client-a',
      ndjson([
        { ns: 'client-a', uid: 'n1', seg: 's', ts: T0 },
        { ns: 'acme', uid: 'n2', seg: 's', ts: T0 },
      ]),
    );
    expect(r.json.accepted).toBe(1);
    expect(r.json.errors[0]).toMatchObject({ line: 2, code: 'SLUICE_E_VALIDATION' });
    expect(r.json.errors[0].message).toContain('"client-a" (the namespace in the path)');
    expect(await t.store.user('client-a', 'n1', T0)).toHaveLength(1);
  });

  it('refuses unknown fields, so a misspelt ttl is an error', async () => {
    const r = await t.post('acme', ndjson([{ uid: 'f1', seg: 's', tll: 60 }]));
    expect(r.json.errors[0].message).toContain('unknown field "tll"');
  });

  it('reads CSV with a header row, ttl and ts as text', async () => {
    const r = await t.post(
      'acme',
      'uid,seg,op,ts,ttl\ncsv1,sports,add,1714564800,3600\ncsv1,news,,,\ncsv2,x,maybe,,\n',
      {
        contentType: 'text/csv; charset=utf-8',
      },
    );
    expect(r.json).toMatchObject({ accepted: 2, rejected: 1 });
    expect(r.json.errors[0]).toMatchObject({ line: 4, code: 'SLUICE_E_VALIDATION' });
    const segs = await t.store.user('acme', 'csv1', T0);
    expect(segs.find((s) => s.seg === 'sports')).toEqual({ seg: 'sports', ts: T0, expiresAt: T0 + 3600_000 });
  });

  it('reads TSV and the segments format, chosen by Content-Type', async () => {
    const tsv = await t.post('acme', 'uid\tseg\ntsv1\tsports\n', {
      contentType: 'text/tab-separated-values',
    });
    expect(tsv.json).toMatchObject({ accepted: 1, rejected: 0 });
    const seg = await t.post('acme', 'sg1\tsports,news:60\t1714564800\nsg2\t-*\t1714564800\n', {
      contentType: 'text/x-sluice-segments',
    });
    expect(seg.json).toMatchObject({ accepted: 3, rejected: 0 });
    expect(await t.store.user('acme', 'sg1', T0)).toEqual([
      { seg: 'news', ts: T0, expiresAt: T0 + 60_000 },
      { seg: 'sports', ts: T0 },
    ]);
  });

  it('takes format options from ?opt.<name>= as the CLI takes -i name=value', async () => {
    const semi = await t.post('acme', 'uid;seg;ts\nopt1;sports;1714564800\n', {
      contentType: 'text/csv',
      query: '?opt.delimiter=%3B',
    });
    expect(semi.json).toMatchObject({ accepted: 1, rejected: 0 });
    const headerless = await t.post('acme', 'opt2,news,1714564800\n', {
      contentType: 'text/csv',
      query: '?opt.columns=uid,seg,ts',
    });
    expect(headerless.json).toMatchObject({ accepted: 1, rejected: 0 });
    expect(await t.store.user('acme', 'opt2', T0)).toEqual([{ seg: 'news', ts: T0 }]);
  });

  it('answers 400 for a bad format option before reading the body, and nothing is applied', async () => {
    for (const [query, message] of [
      ['?opt.bogus=1', /bogus/],
      ['?opt.delimiter=%3B%3B', /csv\.delimiter/],
      ['?opt.delimiter=%3B&opt.delimiter=%2C', /csv\.delimiter is given twice/],
    ] as const) {
      const r = await t.post('acme', 'uid,seg\nbad-opt,s\n', { contentType: 'text/csv', query });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('SLUICE_E_OPTION');
      expect(r.json.error.message).toMatch(message);
    }
    const ns = await t.post('acme', 'x\ts\t1\n', {
      contentType: 'text/x-sluice-segments',
      query: '?opt.ns=other',
    });
    expect(ns.status).toBe(400);
    expect(ns.json.error.message).toBe('option segments.ns: the namespace comes from the path');
    expect(await t.store.user('acme', 'bad-opt', T0)).toEqual([]);
  });

  it('lets ?format= override the Content-Type', async () => {
    const r = await t.post('acme', 'uid,seg\nq1,s\n', {
      contentType: 'application/octet-stream',
      query: '?format=csv',
    });
    expect(r.json).toMatchObject({ accepted: 1 });
  });

  it('answers 415 for an unknown or missing format, naming the known media types', async () => {
    const a = await t.post('acme', '{}', { contentType: 'application/json' });
    expect(a.status).toBe(415);
    expect(a.json.error.code).toBe('SLUICE_E_UNKNOWN_FORMAT');
    expect(a.json.error.message).toContain('application/x-ndjson');
    const b = await t.post('acme', '{}', { query: '?format=xml' });
    expect(b.status).toBe(415);
    const c = await t.req('/v1/namespaces/acme/events', {
      method: 'POST',
      headers: { ...t.auth('acme'), 'x-sluice-region': 'eu' },
      body: 'x',
    });
    expect(c.status).toBe(415);
    expect(c.json.error.message).toContain('missing Content-Type');
  });

  it('answers 415 for a Content-Encoding other than gzip', async () => {
    const r = await t.post('acme', 'x', { headers: { 'content-encoding': 'br' } });
    expect(r.status).toBe(415);
    expect(r.json.error.code).toBe('SLUICE_E_UNSUPPORTED_ENCODING');
  });

  it('takes the region from X-Sluice-Region or ?region=, and refuses a missing or unknown one', async () => {
    expect(
      (await t.post('acme', ndjson([{ uid: 'r', seg: 's' }]), { region: null, query: '?region=us' })).status,
    ).toBe(200);
    const missing = await t.post('acme', '', { region: null });
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toContain('missing region');
    const unknown = await t.post('acme', '', { region: 'mars' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toBe('unknown region "mars" (known: us, eu, apac)');
  });

  it('decodes a gzip body', async () => {
    const body = gzipSync(
      ndjson([
        { uid: 'gz1', seg: 's', ts: T0 },
        { uid: 'gz2', seg: 's', ts: T0 },
      ]),
    );
    const r = await t.post('acme', body, { headers: { 'content-encoding': 'gzip' } });
    expect(r.json).toMatchObject({ accepted: 2, rejected: 0 });
  });

  it('answers 400 for a body that is not the gzip it claims to be', async () => {
    const r = await t.post('acme', 'plain text', { headers: { 'content-encoding': 'gzip' } });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({
      code: 'SLUICE_E_INPUT',
      message: expect.stringContaining('not valid gzip'),
    });
  });

  it('answers 413 before reading when Content-Length is over the limit', async () => {
    const r = await t.post('acme', Buffer.alloc(300 * 1024, 0x20));
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('SLUICE_E_BODY_TOO_LARGE');
    expect(r.json.accepted).toBe(0);
  });

  it('applies the limit to decoded bytes: a small gzip body that inflates past it is 413', async () => {
    const line = `${JSON.stringify({ uid: 'bomb', seg: 's', ts: T0 })}\n`;
    const body = gzipSync(line.repeat(Math.ceil((400 * 1024) / line.length)));
    expect(body.length).toBeLessThan(20 * 1024);
    const r = await t.post('acme', body, { headers: { 'content-encoding': 'gzip' } });
    expect(r.status).toBe(413);
    // What was durable before the limit was reached is said, not hidden.
    expect(typeof r.json.accepted).toBe('number');
  });

  it('rejects a record over the record size limit, with its line, and keeps the others', async () => {
    const big = JSON.stringify({ uid: 'x'.repeat(400), seg: 's' });
    const r = await t.post(
      'acme',
      `${ndjson([{ uid: 'small', seg: 's' }])}${big}\n${ndjson([{ uid: 'small2', seg: 's' }])}`,
    );
    expect(r.json).toMatchObject({ accepted: 2, rejected: 1 });
    expect(r.json.errors[0]).toMatchObject({ line: 2, code: 'SLUICE_E_RECORD_TOO_LARGE' });
  });

  it('answers an empty body with nothing accepted', async () => {
    const r = await t.post('acme', '');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ accepted: 0, rejected: 0, errors: [] });
  });

  it('counts accepted and rejected events in the metrics', async () => {
    const m = await t.req('/metrics');
    expect(m.text).toMatch(/^sluice_events_accepted_total \d+/m);
    expect(m.text).toMatch(/^sluice_events_rejected_total\{code="SLUICE_E_PARSE"\} \d+/m);
  });
});

describe('Idempotency-Key', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('returns the first response to a retry without applying the events again', async () => {
    const body = ndjson([{ uid: 'idem', seg: 's' }]);
    const first = await t.post('acme', body, { headers: { 'idempotency-key': 'k-1' } });
    const [before] = await t.store.user('acme', 'idem');
    await new Promise((r) => setTimeout(r, 5));
    const retry = await t.post('acme', body, { headers: { 'idempotency-key': 'k-1' } });
    expect(retry.status).toBe(200);
    expect(retry.text).toBe(first.text);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    // Applied again, the event would carry a later time of receipt.
    expect(await t.store.user('acme', 'idem')).toEqual([before]);
  });

  it('scopes keys by principal', async () => {
    const a = await t.post('acme', ndjson([{ uid: 'sc', seg: 's' }]), {
      headers: { 'idempotency-key': 'shared' },
    });
    const b = await t.post(
      'other',
      ndjson([
        { uid: 'sc', seg: 's' },
        { uid: 'sc2', seg: 's' },
      ]),
      {
        principal: 'other',
        headers: { 'idempotency-key': 'shared' },
      },
    );
    expect(a.json.accepted).toBe(1);
    expect(b.json.accepted).toBe(2);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 422 when a key is reused for another namespace or format', async () => {
    await t.post('acme', ndjson([{ uid: 'm', seg: 's' }]), { headers: { 'idempotency-key': 'k-2' } });
    const r = await t.post('client-a', ndjson([{ uid: 'm', seg: 's' }]), {
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('SLUICE_E_IDEMPOTENCY_MISMATCH');
  });

  it('does not remember an error: the retry runs', async () => {
    const bad = await t.post('acme', 'not gzip', {
      headers: { 'idempotency-key': 'k-3', 'content-encoding': 'gzip' },
    });
    expect(bad.status).toBe(400);
    const good = await t.post('acme', ndjson([{ uid: 'e', seg: 's' }]), {
      headers: { 'idempotency-key': 'k-3' },
    });
    expect(good.json.accepted).toBe(1);
  });

  it('answers 400 for a malformed key', async () => {
    const r = await t.post('acme', '', { headers: { 'idempotency-key': 'has space' } });
    expect(r.status).toBe(400);
  });

  it('remembers answers across a restart, in the store (a file store in its thread, as sluice serve opens it)', async () => {
    const { dir, cleanup } = await tempDir();
    const path = join(dir, 'audience.db');
    try {
      const body = ndjson([{ uid: 'restart', seg: 's' }]);
      const key = { 'idempotency-key': 'across-restart' };
      let store = await openThreadedSqliteStore(path);
      let s = await startTestServer({ store });
      const first = await s.post('acme', body, { headers: key });
      expect(first.status).toBe(200);
      const [before] = await store.user('acme', 'restart');
      await s.close();
      await store.close();
      await new Promise((r) => setTimeout(r, 5));

      store = await openThreadedSqliteStore(path);
      s = await startTestServer({ store });
      try {
        const retry = await s.post('acme', body, { headers: key });
        expect(retry.status).toBe(200);
        expect(retry.text).toBe(first.text);
        expect(retry.headers['idempotent-replayed']).toBe('true');
        // Applied again, the event would carry a later time of receipt.
        expect(await store.user('acme', 'restart')).toEqual([before]);
        // And a key reused for something else is still caught after the restart.
        const other = await s.post('client-a', body, { headers: key });
        expect(other.status).toBe(422);
      } finally {
        await s.close();
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });
});
