/**
 * Region fan-out over Server-Sent Events. Each region has a hub holding its
 * subscribers and a ring buffer of its last `bufferEvents` events, so a subscriber
 * that reconnects with `Last-Event-ID` gets what it missed, if it is still there.
 *
 * An event's id is `<boot>-<seq>`: `seq` counts the region's events from 1 since the
 * server started, `boot` names that start (base 36 of its time), so an id from before
 * a restart is never mistaken for one of now. With the NATS fan-out (`nats-bus.ts`)
 * every server gets the same events in the same order from the stream, and the id is
 * `<stream>-<seq>.<i>`: the event's message's stream sequence and its place in it,
 * `stream` naming the stream (base 36 of its creation time). Such ids are the same on
 * every server, so a subscriber may resume on another server than the one it left.
 *
 * A stream also keeps more than the ring buffer: `maxAgeSeconds` of every region's
 * events. A subscriber whose `Last-Event-ID` is older than the buffer catches up from
 * the stream (see {@link CatchUp}): what the stream has after its id, written at the
 * pace its socket takes it, while the events that arrive meanwhile are held for it and
 * written after, so it gets every event once, in order. When the events after
 * `Last-Event-ID` can be found neither in the buffer nor in the stream, the subscriber
 * first gets an `event: gap` telling it to resynchronise (from the store), then
 * everything still buffered.
 *
 * Memory is bounded: the ring buffer by `bufferEvents`, each subscriber by
 * `maxSubscriberBufferBytes` of data written but not yet taken by its socket (or, while
 * it catches up, held for it). A subscriber over that is disconnected (it may reconnect
 * and resume), never buffered for without end.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { FastJsonWriter } from '../../formats/ndjson/serializer.js';
import type { SegmentEvent } from '../audience/segment-event.js';

export interface FanoutOptions {
  bufferEvents: number;
  maxSubscriberBufferBytes: number;
  heartbeatMs: number;
}

export interface HubHooks {
  onSubscribers?(region: string, count: number): void;
  onDisconnect?(reason: 'slow' | 'shutdown'): void;
  /** A subscriber came with a `Last-Event-ID`: resumed from the buffer, from the stream, or told of a gap. */
  onResume?(from: 'buffer' | 'stream' | 'gap'): void;
}

/**
 * Writes, through `write`, a region's events from the stream: those of the message with
 * sequence `from` and after, up to the last message this server has delivered to its
 * hubs (the ones after that reach the hub through `publish`). `write` resolves once the
 * subscriber can take more. Resolves false when `from` is no longer in the stream (or
 * reading it failed): the caller then reports a gap.
 */
export type CatchUp = (
  region: string,
  from: number,
  write: (events: readonly SegmentEvent[], seq: number) => Promise<void>,
  signal: AbortSignal,
) => Promise<boolean>;

/**
 * Writes events as JSON for every hub of the thread: the NDJSON format's writer, which
 * compiles a writer per object shape (events with and without `ttl`) and writes exactly
 * what JSON.stringify does, in about half its time for an event. Every applied event is
 * framed on the HTTP thread, which the requests share.
 */
const json = new FastJsonWriter();

/** One SSE frame per event: `id: <boot>-<seq>`, `event: segment`, `data: <the SegmentEvent as JSON>`. */
function frame(id: string, event: SegmentEvent): string {
  return `id: ${id}\nevent: segment\ndata: ${json.write(event) ?? JSON.stringify(event)}\n\n`;
}

export class RegionHub {
  /** The last events, by `seq % bufferEvents`; framed only when someone reads them. */
  private readonly ring: SegmentEvent[];
  /**
   * Each buffered event's id as a pair: (seq, -1) here, (stream sequence, place in the
   * message) from a stream. Both grow with every event, so a resume point is found by
   * binary search.
   */
  private readonly majors: Float64Array;
  private readonly minors: Int32Array;
  /** Local sequence number of the next event; the buffered ones are [nextSeq - count, nextSeq). */
  private nextSeq = 1;
  private count = 0;
  private readonly subscribers = new Set<ServerResponse>();
  /** Subscribers catching up from the stream, with the frames published meanwhile, held for them. */
  private readonly catching = new Map<ServerResponse, { frames: string[]; bytes: number }>();
  /** Set when events come from a stream: ids are then the stream's, not this server's. */
  private stream = false;
  private catchUp: CatchUp | undefined;

  constructor(
    readonly region: string,
    private boot: string,
    private readonly options: FanoutOptions,
    private readonly hooks: HubHooks = {},
  ) {
    this.ring = new Array<SegmentEvent>(options.bufferEvents);
    this.majors = new Float64Array(options.bufferEvents);
    this.minors = new Int32Array(options.bufferEvents);
  }

  /**
   * From now on events come from the stream named `tag`, with ids of the stream (see the
   * file comment); `catchUp` reads what the buffer no longer holds.
   */
  useStream(tag: string, catchUp?: CatchUp): void {
    this.boot = tag;
    this.stream = true;
    this.catchUp = catchUp;
  }

  get size(): number {
    return this.subscribers.size + this.catching.size;
  }

  /**
   * Buffers the events and writes them to every subscriber, as one write per subscriber.
   * `streamSeq` is their message's sequence in the stream, when they come from one.
   */
  publish(events: readonly SegmentEvent[], streamSeq?: number): void {
    if (events.length === 0) return;
    const first = this.nextSeq;
    const cap = this.options.bufferEvents;
    for (let i = 0; i < events.length; i++) {
      if (cap > 0) {
        const at = this.nextSeq % cap;
        this.ring[at] = events[i]!;
        this.majors[at] = streamSeq ?? this.nextSeq;
        this.minors[at] = streamSeq === undefined ? -1 : i;
        if (this.count < cap) this.count++;
      }
      this.nextSeq++;
    }
    // Serialized once for all subscribers, and not at all when there are none.
    if (this.size === 0) return;
    let text = '';
    for (let i = 0; i < events.length; i++) {
      const id = streamSeq === undefined ? this.id(first + i, -1) : this.id(streamSeq, i);
      text += frame(id, events[i]!);
    }
    for (const res of this.subscribers) this.write(res, text);
    for (const [res, held] of this.catching) {
      held.frames.push(text);
      held.bytes += text.length;
      if (held.bytes > this.options.maxSubscriberBufferBytes) this.cutOff(res);
    }
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
    res.on('close', () => {
      if (this.subscribers.delete(res) || this.catching.delete(res)) {
        this.hooks.onSubscribers?.(this.region, this.size);
      }
    });
    if (lastEventId !== undefined) {
      const from = this.resumeFrom(lastEventId.trim());
      const older = from === undefined ? this.olderThanBuffer(lastEventId.trim()) : undefined;
      if (older !== undefined && this.catchUp !== undefined) {
        res.write(head);
        this.fromStream(res, lastEventId, older, this.catchUp);
        return;
      }
      this.hooks.onResume?.(from === undefined ? 'gap' : 'buffer');
      head += from === undefined ? this.gap(lastEventId) : this.frames(from);
    }
    res.write(head);
    this.subscribers.add(res);
    this.hooks.onSubscribers?.(this.region, this.size);
  }

  /** A gap notice for a subscriber that last saw `lastEventId`, then every buffered event. */
  private gap(lastEventId: string): string {
    const oldest = this.nextSeq - this.count;
    const gap = { lastEventId, oldestBuffered: this.count > 0 ? this.idOf(oldest) : null };
    // Not a segment event: the subscriber missed events and must resynchronise.
    return `event: gap\ndata: ${JSON.stringify(gap)}\n\n${this.frames(oldest)}`;
  }

  /**
   * Catches `res` up from the stream (see {@link CatchUp}), then makes it a subscriber
   * like the others: first the frames published meanwhile, held for it, then live ones.
   */
  private fromStream(
    res: ServerResponse,
    lastEventId: string,
    after: { major: number; minor: number },
    catchUp: CatchUp,
  ): void {
    const held = { frames: [] as string[], bytes: 0 };
    this.catching.set(res, held);
    this.hooks.onSubscribers?.(this.region, this.size);
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    const write = async (events: readonly SegmentEvent[], seq: number): Promise<void> => {
      // Ended (the server shuts down) or gone: a write now would be an error event on res.
      if (res.writableEnded || res.destroyed) throw new Error('the subscriber is gone');
      let text = '';
      for (let i = 0; i < events.length; i++) {
        if (seq > after.major || i > after.minor) text += frame(this.id(seq, i), events[i]!);
      }
      if (text !== '' && !res.write(text) && !res.destroyed) {
        await once(res, 'drain', { signal: controller.signal });
      }
    };
    const done = (ok: boolean): void => {
      // Gone, or cut off for what was held for it.
      if (this.catching.get(res) !== held || res.destroyed) return;
      this.catching.delete(res);
      this.hooks.onResume?.(ok ? 'stream' : 'gap');
      this.subscribers.add(res);
      this.write(res, ok ? held.frames.join('') : this.gap(lastEventId));
    };
    catchUp(this.region, after.major, write, controller.signal).then(done, () => done(false));
  }

  /**
   * The position a stream id names when it is older than every buffered event (or
   * nothing is buffered): where a catch-up from the stream starts. Undefined otherwise.
   */
  private olderThanBuffer(id: string): { major: number; minor: number } | undefined {
    const m = /^([0-9a-z]+)-(\d+)\.(\d+)$/.exec(id);
    if (!m || !this.stream || m[1] !== this.boot) return undefined;
    const major = Number(m[2]);
    const minor = Number(m[3]);
    if (this.count > 0 && this.compare(this.nextSeq - this.count, major, minor) <= 0) return undefined;
    return { major, minor };
  }

  /**
   * The local sequence number of the first buffered event after `id`, or undefined when
   * the events after it are not all buffered (or the id is not one of this hub's kind).
   */
  private resumeFrom(id: string): number | undefined {
    const m = /^([0-9a-z]+)-(\d+)(?:\.(\d+))?$/.exec(id);
    if (!m || m[1] !== this.boot || (m[3] !== undefined) !== this.stream) return undefined;
    const major = Number(m[2]);
    const minor = m[3] === undefined ? -1 : Number(m[3]);
    const oldest = this.nextSeq - this.count;
    if (!this.stream) {
      // Local ids count every event: the one just before the oldest buffered still resumes.
      return major >= oldest - 1 && major < this.nextSeq ? major + 1 : undefined;
    }
    if (this.count === 0 || this.compare(oldest, major, minor) > 0) return undefined;
    if (this.compare(this.nextSeq - 1, major, minor) < 0) return undefined;
    // The first buffered event whose id is greater than (major, minor).
    let lo = oldest;
    let hi = this.nextSeq;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(mid, major, minor) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The buffered event `seq`'s id against (major, minor): negative, zero or positive. */
  private compare(seq: number, major: number, minor: number): number {
    const at = seq % this.options.bufferEvents;
    return this.majors[at]! - major || this.minors[at]! - minor;
  }

  /** The id of the buffered event `seq`. */
  private idOf(seq: number): string {
    const at = seq % this.options.bufferEvents;
    return this.id(this.majors[at]!, this.minors[at]!);
  }

  /** `<boot>-<major>` for this server's ids (minor -1), `<stream>-<major>.<minor>` for a stream's. */
  private id(major: number, minor: number): string {
    return minor < 0 ? `${this.boot}-${major}` : `${this.boot}-${major}.${minor}`;
  }

  /** The buffered events from `seq` on, framed. */
  private frames(from: number): string {
    let text = '';
    for (let s = from; s < this.nextSeq; s++) {
      text += frame(this.idOf(s), this.ring[s % this.options.bufferEvents]!);
    }
    return text;
  }

  /** Writes `text`; a subscriber whose socket has not taken `maxSubscriberBufferBytes` is cut off. */
  private write(res: ServerResponse, text: string): void {
    if (res.destroyed) return;
    res.write(text);
    if (res.writableLength > this.options.maxSubscriberBufferBytes) this.cutOff(res);
  }

  /** Disconnects a subscriber that does not keep up (it may reconnect and resume). */
  private cutOff(res: ServerResponse): void {
    this.subscribers.delete(res);
    this.catching.delete(res);
    this.hooks.onSubscribers?.(this.region, this.size);
    this.hooks.onDisconnect?.('slow');
    res.destroy();
  }

  /** A comment line, so idle connections (and proxies) see traffic. */
  heartbeat(): void {
    for (const res of this.subscribers) this.write(res, ': heartbeat\n\n');
  }

  /** Ends every stream (at shutdown); resolves when each has been flushed or has gone. */
  close(): Promise<void> {
    const ended: Promise<void>[] = [];
    for (const res of [...this.subscribers, ...this.catching.keys()]) {
      this.hooks.onDisconnect?.('shutdown');
      ended.push(new Promise((resolve) => res.once('close', () => resolve())));
      res.end();
    }
    this.subscribers.clear();
    this.catching.clear();
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

  publish(region: string, events: readonly SegmentEvent[], streamSeq?: number): void {
    this.hubs.get(region)?.publish(events, streamSeq);
  }

  /** Events come from the stream named `tag` from now on (the NATS fan-out); `catchUp` reads it. */
  useStream(tag: string, catchUp?: CatchUp): void {
    for (const h of this.hubs.values()) h.useStream(tag, catchUp);
  }

  /** Ends every stream; resolves when they are flushed or gone. */
  close(): Promise<void> {
    clearInterval(this.timer);
    return Promise.all([...this.hubs.values()].map((h) => h.close())).then(() => {});
  }
}
