/**
 * Region fan-out over Server-Sent Events. Each region has a hub holding its
 * subscribers and a ring buffer of its last `bufferEvents` events, so a subscriber
 * that reconnects with `Last-Event-ID` gets what it missed, if it is still there.
 *
 * An event's id is `<boot>-<seq>`: `seq` counts the region's events from 1 since the
 * server started, `boot` names that start (base 36 of its time), so an id from before
 * a restart is never mistaken for one of now. When the events after `Last-Event-ID`
 * are no longer all buffered, the subscriber first gets an `event: gap` telling it to
 * resynchronise (from the store), then everything still buffered.
 *
 * Memory is bounded: the ring buffer by `bufferEvents`, each subscriber by
 * `maxSubscriberBufferBytes` of data written but not yet taken by its socket. A
 * subscriber over that is disconnected (it may reconnect and resume), never buffered
 * for without end.
 */
import type { ServerResponse } from 'node:http';
import type { SegmentEvent } from '../audience/segment-event.js';

export interface FanoutOptions {
  bufferEvents: number;
  maxSubscriberBufferBytes: number;
  heartbeatMs: number;
}

export interface HubHooks {
  onSubscribers?(region: string, count: number): void;
  onDisconnect?(reason: 'slow' | 'shutdown'): void;
}

/** One SSE frame per event: `id: <boot>-<seq>`, `event: segment`, `data: <the SegmentEvent as JSON>`. */
function frame(id: string, event: SegmentEvent): string {
  return `id: ${id}\nevent: segment\ndata: ${JSON.stringify(event)}\n\n`;
}

export class RegionHub {
  /** The last events, by `seq % bufferEvents`; framed only when someone reads them. */
  private readonly ring: SegmentEvent[];
  /** Sequence number of the next event; the buffered ones are [nextSeq - count, nextSeq). */
  private nextSeq = 1;
  private count = 0;
  private readonly subscribers = new Set<ServerResponse>();

  constructor(
    readonly region: string,
    private readonly boot: string,
    private readonly options: FanoutOptions,
    private readonly hooks: HubHooks = {},
  ) {
    this.ring = new Array<SegmentEvent>(options.bufferEvents);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Buffers the events and writes them to every subscriber, as one write per subscriber. */
  publish(events: readonly SegmentEvent[]): void {
    if (events.length === 0) return;
    const first = this.nextSeq;
    const cap = this.options.bufferEvents;
    for (const e of events) {
      if (cap > 0) {
        this.ring[this.nextSeq % cap] = e;
        if (this.count < cap) this.count++;
      }
      this.nextSeq++;
    }
    // Serialized once for all subscribers, and not at all when there are none.
    if (this.subscribers.size === 0) return;
    let text = '';
    for (let i = 0; i < events.length; i++) text += frame(`${this.boot}-${first + i}`, events[i]!);
    for (const res of this.subscribers) this.write(res, text);
  }

  /**
   * Starts an event stream on `res` (the headers are sent here), replays what
   * followed `lastEventId` when given, and keeps `res` until the client goes or the
   * hub closes it.
   */
  subscribe(res: ServerResponse, lastEventId: string | undefined): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    // A comment line sends the headers and tells the client the stream is open.
    let head = `: sluice region ${this.region}\nretry: 1000\n\n`;
    if (lastEventId !== undefined) head += this.replay(lastEventId);
    res.write(head);
    this.subscribers.add(res);
    this.hooks.onSubscribers?.(this.region, this.subscribers.size);
    res.on('close', () => {
      if (this.subscribers.delete(res)) this.hooks.onSubscribers?.(this.region, this.subscribers.size);
    });
  }

  /** What a subscriber that last saw `lastEventId` missed: the buffered events after it, or a gap notice and all buffered. */
  private replay(lastEventId: string): string {
    const oldest = this.nextSeq - this.count;
    const m = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId.trim());
    let from: number;
    if (m && m[1] === this.boot && Number(m[2]) >= oldest - 1 && Number(m[2]) < this.nextSeq) {
      from = Number(m[2]) + 1;
    } else {
      from = oldest;
      const gap = { lastEventId, oldestBuffered: this.count > 0 ? `${this.boot}-${oldest}` : null };
      // Not a segment event: the subscriber missed events and must resynchronise.
      return `event: gap\ndata: ${JSON.stringify(gap)}\n\n${this.frames(from)}`;
    }
    return this.frames(from);
  }

  /** The buffered events from `seq` on, framed. */
  private frames(from: number): string {
    let text = '';
    for (let s = from; s < this.nextSeq; s++) {
      text += frame(`${this.boot}-${s}`, this.ring[s % this.options.bufferEvents]!);
    }
    return text;
  }

  /** Writes `text`; a subscriber whose socket has not taken `maxSubscriberBufferBytes` is cut off. */
  private write(res: ServerResponse, text: string): void {
    if (res.destroyed) return;
    res.write(text);
    if (res.writableLength > this.options.maxSubscriberBufferBytes) {
      this.subscribers.delete(res);
      this.hooks.onSubscribers?.(this.region, this.subscribers.size);
      this.hooks.onDisconnect?.('slow');
      res.destroy();
    }
  }

  /** A comment line, so idle connections (and proxies) see traffic. */
  heartbeat(): void {
    for (const res of this.subscribers) this.write(res, ': heartbeat\n\n');
  }

  /** Ends every stream (at shutdown); resolves when each has been flushed or has gone. */
  close(): Promise<void> {
    const ended: Promise<void>[] = [];
    for (const res of this.subscribers) {
      this.hooks.onDisconnect?.('shutdown');
      ended.push(new Promise((resolve) => res.once('close', () => resolve())));
      res.end();
    }
    this.subscribers.clear();
    this.hooks.onSubscribers?.(this.region, 0);
    return Promise.all(ended).then(() => {});
  }
}

/** All regions' hubs, and the heartbeat timer they share. */
export class Fanout {
  readonly hubs = new Map<string, RegionHub>();
  private readonly timer: NodeJS.Timeout;

  constructor(regions: readonly string[], options: FanoutOptions, hooks: HubHooks = {}) {
    const boot = Date.now().toString(36);
    for (const r of regions) this.hubs.set(r, new RegionHub(r, boot, options, hooks));
    this.timer = setInterval(() => {
      for (const h of this.hubs.values()) h.heartbeat();
    }, options.heartbeatMs);
    this.timer.unref();
  }

  publish(region: string, events: readonly SegmentEvent[]): void {
    this.hubs.get(region)?.publish(events);
  }

  /** Ends every stream; resolves when they are flushed or gone. */
  close(): Promise<void> {
    clearInterval(this.timer);
    return Promise.all([...this.hubs.values()].map((h) => h.close())).then(() => {});
  }
}
