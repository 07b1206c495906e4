/**
 * A region hub catching a subscriber up from a stream (`CatchUp`, which the NATS fan-out
 * implements with JetStream; see nats.test.ts for that end to end). Here the catch-up is
 * driven by the test, over a real HTTP server and client, to reach the cases a real
 * stream makes hard to time: events published while the catch-up runs, a subscriber
 * that leaves or falls behind during it, a catch-up that fails.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { SegmentEvent } from '../../src/audience/segment-event.js';
import { type CatchUp, RegionHub } from '../../src/server/fanout.js';
import { until } from './helpers.js';

const ev = (uid: string): SegmentEvent => ({ ns: 'acme', uid, seg: 's', op: 'add', ts: 1 });

interface Harness {
  hub: RegionHub;
  url: string;
  /** The catch-ups asked for: where they start, and how to drive them. */
  calls: {
    from: number;
    write: (events: readonly SegmentEvent[], seq: number) => Promise<void>;
    signal: AbortSignal;
    finish: (ok: boolean) => void;
  }[];
  disconnects: string[];
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function harness(maxSubscriberBufferBytes = 1 << 20): Promise<Harness> {
  const calls: Harness['calls'] = [];
  const disconnects: string[] = [];
  const hub = new RegionHub(
    'eu',
    'boot',
    { bufferEvents: 2, maxSubscriberBufferBytes, heartbeatMs: 60_000 },
    { onDisconnect: (reason) => disconnects.push(reason) },
  );
  const catchUp: CatchUp = (_region, from, write, signal) =>
    new Promise((resolve) => calls.push({ from, write, signal, finish: resolve }));
  hub.useStream('tag', catchUp);
  server = createServer((req, res) => hub.subscribe(res, req.headers['last-event-id'] as string | undefined));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { hub, url: `http://127.0.0.1:${port}/`, calls, disconnects };
}

/** Opens an event stream; `text()` is what has arrived so far. */
async function open(url: string, lastEventId: string) {
  const controller = new AbortController();
  const r = await request(url, { headers: { 'last-event-id': lastEventId }, signal: controller.signal });
  let text = '';
  let ended = false;
  r.body.setEncoding('utf8');
  r.body.on('data', (c: string) => {
    text += c;
  });
  r.body.on('error', () => {});
  r.body.on('close', () => {
    ended = true;
  });
  return {
    text: () => text,
    ids: () => [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]),
    ended: () => ended,
    close: () => controller.abort(),
  };
}

describe('RegionHub: catching a subscriber up from the stream', () => {
  it('writes the stream from after the id, then what was published meanwhile, then live events', async () => {
    const h = await harness();
    h.hub.publish([ev('a'), ev('b')], 10);
    h.hub.publish([ev('c')], 11);
    // Older than the buffer (which holds 10.1 and 11.0): caught up from the stream.
    const sub = await open(h.url, 'tag-7.1');
    await until(() => h.calls.length === 1);
    expect(h.calls[0]!.from).toBe(7);
    // Published while the catch-up runs: held, not written yet.
    h.hub.publish([ev('d')], 12);
    await h.calls[0]!.write([ev('x'), ev('y'), ev('z')], 7);
    await h.calls[0]!.write([ev('a'), ev('b')], 10);
    await h.calls[0]!.write([ev('c')], 11);
    h.calls[0]!.finish(true);
    h.hub.publish([ev('e')], 13);
    await until(() => sub.ids().length === 6);
    // 7.0 and 7.1 were seen: the catch-up starts after them, inside the message.
    expect(sub.ids()).toEqual(['tag-7.2', 'tag-10.0', 'tag-10.1', 'tag-11.0', 'tag-12.0', 'tag-13.0']);
    expect(sub.text()).not.toContain('event: gap');
    sub.close();
  });

  it('resumes from the buffer, without the stream, when the id is still buffered', async () => {
    const h = await harness();
    h.hub.publish([ev('a'), ev('b')], 10);
    const sub = await open(h.url, 'tag-10.0');
    await until(() => sub.ids().length === 1);
    expect(sub.ids()).toEqual(['tag-10.1']);
    expect(h.calls).toHaveLength(0);
    sub.close();
  });

  it('sends a gap notice and the buffer when the catch-up fails', async () => {
    const h = await harness();
    h.hub.publish([ev('a'), ev('b')], 10);
    const sub = await open(h.url, 'tag-3.0');
    await until(() => h.calls.length === 1);
    h.calls[0]!.finish(false);
    await until(() => sub.ids().length === 2);
    expect(sub.text()).toMatch(/event: gap\ndata: \{"lastEventId":"tag-3.0","oldestBuffered":"tag-10.0"\}/);
    expect(sub.ids()).toEqual(['tag-10.0', 'tag-10.1']);
    sub.close();
  });

  it('cuts off a subscriber when what is held for it during the catch-up outgrows its buffer', async () => {
    const h = await harness(512);
    h.hub.publish([ev('a')], 10);
    const sub = await open(h.url, 'tag-3.0');
    await until(() => h.calls.length === 1);
    for (let seq = 11; seq < 20; seq++) h.hub.publish([ev(`u${seq}`)], seq);
    await until(() => sub.ended(), 5000, 'the subscriber to be cut off');
    expect(h.disconnects).toEqual(['slow']);
    expect(h.calls[0]!.signal.aborted).toBe(true);
    expect(h.hub.size).toBe(0);
    // A catch-up that ends after the cut writes nothing and does not fail.
    h.calls[0]!.finish(true);
    expect(h.hub.size).toBe(0);
  });

  it('refuses writes from a catch-up that outlives the hub (shutdown): the server gets no error event', async () => {
    const h = await harness();
    h.hub.publish([ev('a')], 10);
    const sub = await open(h.url, 'tag-3.0');
    await until(() => h.calls.length === 1);
    const closed = h.hub.close();
    await expect(h.calls[0]!.write([ev('x')], 4)).rejects.toThrow(/gone/);
    h.calls[0]!.finish(true);
    await closed;
    await until(() => sub.ended());
    expect(sub.ids()).toEqual([]);
  });

  it('stops the catch-up when the subscriber leaves during it', async () => {
    const h = await harness();
    h.hub.publish([ev('a')], 10);
    const sub = await open(h.url, 'tag-3.0');
    await until(() => h.calls.length === 1);
    expect(h.hub.size).toBe(1);
    sub.close();
    await until(() => h.calls[0]!.signal.aborted, 5000, 'the catch-up to be aborted');
    expect(h.hub.size).toBe(0);
    h.calls[0]!.finish(true);
    expect(h.hub.size).toBe(0);
  });
});
