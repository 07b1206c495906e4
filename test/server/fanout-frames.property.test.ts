/**
 * The SSE frames a region hub writes (src/server/fanout.ts): each event's `data:` line is
 * byte for byte what JSON.stringify writes, whatever the strings hold (quotes,
 * backslashes, control characters, lone surrogates) and with or without `ttl`, since
 * the hub writes events with the NDJSON format's compiled writer. Over a real HTTP server
 * and client, with the hub's shapes warmed up by earlier runs (as a long-running server's are).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentEvent } from '../../src/audience/segment-event.js';
import { RegionHub } from '../../src/server/fanout.js';
import { until } from './helpers.js';

let server: Server;
let hub: RegionHub;
let url: string;

beforeAll(async () => {
  hub = new RegionHub('eu', 'boot', {
    bufferEvents: 8,
    maxSubscriberBufferBytes: 1 << 24,
    heartbeatMs: 60_000,
  });
  server = createServer((req, res) => hub.subscribe(res, req.headers['last-event-id'] as string | undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

// Strings of any UTF-16 units, lone surrogates included, and the ones JSON must escape.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', '\ud800', 'seg-1'),
);
const eventArb: fc.Arbitrary<SegmentEvent> = fc
  .record({
    ns: text,
    uid: text,
    seg: text,
    op: fc.constantFrom('add' as const, 'remove' as const),
    ts: fc.integer({ min: 0, max: 8_640_000_000_000_000 }),
    ttl: fc.option(fc.integer({ min: 0, max: 2 ** 31 }), { nil: undefined }),
  })
  .map(({ ttl, ...e }): SegmentEvent => (ttl === undefined ? e : { ...e, ttl }));

describe('RegionHub frames', () => {
  it('write each event as JSON.stringify does, in order', async () => {
    const controller = new AbortController();
    const r = await request(url, { signal: controller.signal });
    let received = '';
    r.body.setEncoding('utf8');
    r.body.on('data', (c: string) => {
      received += c;
    });
    r.body.on('error', () => {});
    await until(() => hub.size === 1 && received.includes('retry:'), 5000, 'the subscriber and its greeting');
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 30 }), async (events) => {
          received = '';
          hub.publish(events);
          const want = events.map((e) => `event: segment\ndata: ${JSON.stringify(e)}\n\n`);
          await until(() => received.split('\n\n').length > events.length, 5000, 'the frames');
          const got = received.split(/(?<=\n\n)/).map((f) => f.replace(/^id: [^\n]*\n/, ''));
          expect(got).toEqual(want);
        }),
        { numRuns: 200 },
      );
    } finally {
      controller.abort();
    }
  });
});
