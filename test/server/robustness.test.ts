import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawSocket, readAll, startTestServer, type TestServer } from './helpers.js';

/** Sends raw bytes, returns what came back before the server closed or went quiet. */
async function raw(t: TestServer, bytes: string | Buffer, quietMs = 1500) {
  const s = await rawSocket(t);
  s.write(bytes);
  const r = await readAll(s, quietMs);
  s.destroy();
  return r;
}

describe('the server never falls over on a bad request', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ config: { limits: { maxBodyBytes: 64 * 1024 } } });
  });
  afterAll(async () => {
    // After everything below, the server still answers.
    expect((await t.req('/healthz')).status).toBe(200);
    await t.close();
  });

  it('answers bad JSON records with 200 and their errors', async () => {
    const r = await t.post('acme', '{"uid":\n[1,2\n{"uid":"u","seg":"s"}}\n\u0000\n');
    expect(r.status).toBe(200);
    expect(r.json.rejected).toBe(4);
  });

  it('answers a truncated gzip body with 400', async () => {
    const gz = gzipSync('{"uid":"u","seg":"s"}\n'.repeat(100));
    const r = await t.post('acme', gz.subarray(0, gz.length - 10), {
      headers: { 'content-encoding': 'gzip' },
    });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('SLUICE_E_INPUT');
  });

  it('answers invalid UTF-8 with a rejection of that record only', async () => {
    const body = Buffer.concat([
      Buffer.from('{"uid":"a","seg":"s"}\n{"uid":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n'),
    ]);
    const r = await t.post('acme', body);
    expect(r.json).toMatchObject({ accepted: 1, rejected: 1 });
    expect(r.json.errors[0]).toMatchObject({ line: 2, code: 'SLUICE_E_UTF8' });
  });

  it('answers headers over the size limit with 431', async () => {
    const r = await raw(t, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`);
    expect(r.text).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers a chunked body past the limit with 413 and what it had accepted', async () => {
    const line = '{"uid":"big","seg":"s","ts":1714564800}\n';
    const body = line.repeat(Math.ceil((100 * 1024) / line.length));
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const r = await raw(
      t,
      `POST /v1/namespaces/acme/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.keys.acme}\r\n` +
        `Content-Type: application/x-ndjson\r\nX-Sluice-Region: eu\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.text).toMatch(/"accepted":\d+/);
  });

  it('answers malformed HTTP with 400', async () => {
    expect((await raw(t, 'GARBAGE\r\n\r\n')).text).toMatch(/^HTTP\/1\.1 400 /);
    expect((await raw(t, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n')).text).toMatch(
      /^HTTP\/1\.1 400 /,
    );
  });

  it('answers unknown routes and wrong methods, whatever their shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.array(
          fc.constantFrom(
            'v1',
            'namespaces',
            'acme',
            'users',
            'events',
            'regions',
            'eu',
            '',
            '..',
            '%2F',
            'x',
          ),
          {
            maxLength: 6,
          },
        ),
        async (method, parts) => {
          const r = await t.req(`/${parts.join('/')}`, { method: method as 'GET', headers: t.auth('acme') });
          expect([200, 400, 401, 403, 404, 405, 415]).toContain(r.status);
          if (r.status >= 400) expect(typeof r.json.error.code).toBe('string');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('survives random bytes on the socket', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 512 }), async (bytes) => {
        const r = await raw(t, Buffer.from(bytes), 300);
        // Either an HTTP answer or silence (an incomplete request), never a crash.
        if (r.text !== '') expect(r.text).toMatch(/^HTTP\/1\.1 \d{3} /);
      }),
      { numRuns: 25 },
    );
  });

  it('survives random POST bodies in every format', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'application/x-ndjson',
          'text/csv',
          'text/tab-separated-values',
          'text/x-sluice-segments',
        ),
        fc.string({ unit: 'binary', maxLength: 300 }),
        async (type, body) => {
          const r = await t.post('acme', body, { contentType: type });
          expect(r.status).toBe(200);
          expect(r.json.accepted + r.json.rejected).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});
