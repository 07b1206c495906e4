/**
 * Region fan-out across servers through NATS JetStream (`fanout.nats` in the config).
 *
 * Without it, a server hands its committed events straight to its own SSE hubs, so a
 * bidder sees only the events posted to the server it is connected to. With it, every
 * committed group of events goes to the JetStream subject `<subjectPrefix>.<region>`
 * as one message (the events as NDJSON), and every server reads the regions' subjects
 * through an ordered consumer and feeds its own hubs from there: a subscriber on any
 * server gets the events posted to any server, each region's in the stream's order.
 *
 * The store is the truth; the stream carries the news. A request is answered once its
 * events are durable in the store, not once JetStream has acknowledged them, so a NATS
 * outage does not stop ingestion: publishes are retried with the same message id
 * (JetStream drops the duplicates within its window), and a group that still fails is
 * counted (`sluice_fanout_publish_failures_total`) and logged with
 * `SLUICE_W_FANOUT_PUBLISH`: its events are stored but not pushed, as with a
 * subscriber that missed them, which resynchronises from the store.
 *
 * A message on the subjects that is not sluice's (not NDJSON of valid events) is
 * skipped with a warning, never passed on and never fatal.
 *
 * The stream keeps `maxAgeSeconds` of events, far more than a hub's ring buffer: a
 * subscriber resuming from an older `Last-Event-ID` is caught up from it
 * ({@link NatsBus.replay}, through an ordered consumer of its own that starts at that
 * id's message).
 */
import {
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type SegmentEvent, validateSegmentEvent } from '../audience/segment-event.js';
import { SluiceError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';
import type { NatsFanoutConfig } from './config.js';

export interface NatsBusHooks {
  /** Where the stream's events go: this server's hubs; `seq` is their message's stream sequence. */
  deliver(region: string, events: SegmentEvent[], seq: number): void;
  warn(message: string, fields: Record<string, unknown>): void;
  onPublishFailure?(): void;
}

/** Publish attempts per group before it is given up (with the same message id each time). */
const PUBLISH_ATTEMPTS = 4;
/** A catch-up that gets no message for this long gives up (the subscriber gets a gap notice). */
const REPLAY_IDLE_MS = 5_000;

export class NatsBus {
  /** Publishes not yet acknowledged or given up. */
  private readonly pending = new Set<Promise<void>>();
  private published = 0;
  private readonly instance = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  /** The highest stream sequence this server has delivered to its hubs. */
  private delivered = 0;
  /** The highest stream sequence JetStream acknowledged for this server's publishes. */
  private acked = 0;
  private deliveredWaiters: (() => void)[] = [];
  private reading: Promise<void> | undefined;
  /** False from a disconnect until the reconnect. */
  private up = true;
  /** Set if reading the stream ended other than by close: nothing more is delivered. */
  private readFailed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly messages: ConsumerMessages,
    private readonly config: NatsFanoutConfig,
    private readonly hooks: NatsBusHooks,
    /** Names this incarnation of the stream in event ids (a recreated stream gets another). */
    readonly tag: string,
  ) {
    // Neither loop may reject unhandled: that would end the process.
    this.watch().catch(() => {
      this.up = false;
    });
  }

  /** Follows the connection's state for {@link connected}. */
  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') this.up = false;
      else if (s.type === 'reconnect') this.up = true;
    }
  }

  /**
   * Connects, creates the stream when it is missing (or checks that the one there takes
   * the subjects), and subscribes to new events of every region. Resolves once the
   * subscription is in place, so nothing this server publishes from then on is missed;
   * {@link start} begins delivering them.
   */
  static async open(config: NatsFanoutConfig, hooks: NatsBusHooks): Promise<NatsBus> {
    // Each URL of a cluster's list on its own: the list as a whole is not one URL.
    const servers = config.url.split(',').map((u) => u.trim());
    const where = servers.map(redactUrl).join(',');
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers,
        name: 'sluice',
        // Keep trying through an outage; publishes meanwhile are retried, then counted.
        maxReconnectAttempts: -1,
        timeout: 5_000,
      });
    } catch (e) {
      throw natsError(`cannot connect to NATS at ${where}: ${(e as Error).message}`, e);
    }
    try {
      const subjects = `${config.subjectPrefix}.>`;
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(config.stream).catch((e: unknown) => {
        if (/stream not found/i.test((e as Error).message)) return undefined;
        throw e;
      });
      let created: string;
      if (info === undefined) {
        const made = await jsm.streams.add({
          name: config.stream,
          subjects: [subjects],
          max_age: config.maxAgeSeconds * 1e9,
          duplicate_window: 120 * 1e9,
        });
        created = made.created;
      } else if (!info.config.subjects?.includes(subjects)) {
        throw new SluiceError(
          'SLUICE_E_USAGE',
          `NATS stream ${config.stream} does not take ${subjects} (its subjects: ${info.config.subjects?.join(', ') || 'none'}); ` +
            'choose another fanout.nats.stream or subjectPrefix',
          { stage: 'config' },
        );
      } else {
        created = info.created;
      }
      const js = jetstream(nc);
      // One filter for every region (NATS 2.9 takes one subject per consumer); events of
      // a region this server does not serve are dropped by its hubs.
      const consumer = await js.consumers.get(config.stream, {
        filter_subjects: `${config.subjectPrefix}.*`,
        deliver_policy: DeliverPolicy.New,
      });
      const messages = await consumer.consume();
      return new NatsBus(nc, jsm, js, messages, config, hooks, streamTag(created));
    } catch (e) {
      await nc.close().catch(() => {});
      if (e instanceof SluiceError) throw e;
      throw natsError(
        `cannot set up the NATS JetStream stream ${config.stream} at ${where}: ${(e as Error).message}`,
        e,
      );
    }
  }

  /**
   * Starts handing the stream's events to `hooks.deliver` (those that arrived since
   * `open` wait in the consumer until then).
   */
  start(): void {
    this.reading ??= this.read().catch((e: unknown) => {
      // The ordered consumer recreates itself after gaps and reconnects; an end other
      // than close is worth an operator's look, not the process.
      this.readFailed = true;
      this.hooks.warn('stopped reading the NATS stream', {
        code: 'SLUICE_W_FANOUT_READ',
        error: (e as Error)?.message ?? String(e),
      });
    });
  }

  /** Hands one committed group of a region's events to the stream; never throws, never waits. */
  publish(region: string, events: readonly SegmentEvent[]): void {
    if (events.length === 0) return;
    let payload = '';
    for (const e of events) payload += `${JSON.stringify(e)}\n`;
    const msgID = `${this.instance}-${++this.published}`;
    const subject = `${this.config.subjectPrefix}.${region}`;
    const p = this.send(subject, payload, msgID, events.length).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async send(subject: string, payload: string, msgID: string, count: number): Promise<void> {
    let last: unknown;
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
      try {
        const ack = await this.js.publish(subject, payload, { msgID });
        if (ack.seq > this.acked) this.acked = ack.seq;
        return;
      } catch (e) {
        last = e;
        if (this.nc.isClosed()) break;
        await new Promise((r) => setTimeout(r, 50 * 4 ** (attempt - 1)));
      }
    }
    this.hooks.onPublishFailure?.();
    this.hooks.warn('events stored but not published to NATS', {
      code: 'SLUICE_W_FANOUT_PUBLISH',
      subject,
      events: count,
      error: (last as Error)?.message ?? String(last),
    });
  }

  /**
   * Writes a region's events from the stream, from the message with sequence `from` up to
   * the last message this server has delivered to its hubs (later ones reach them
   * live); see `CatchUp` in fanout.ts. False when `from` is no longer in the stream
   * (expired, purged), or reading stalls or fails: the subscriber is then told of a gap.
   */
  async replay(
    region: string,
    from: number,
    write: (events: SegmentEvent[], seq: number) => Promise<void>,
    signal: AbortSignal,
  ): Promise<boolean> {
    const until = this.delivered;
    if (from > until || signal.aborted) return false;
    const info = await this.jsm.streams.info(this.config.stream);
    if (from < info.state.first_seq) return false;
    const consumer = await this.js.consumers.get(this.config.stream, {
      filter_subjects: `${this.config.subjectPrefix}.${region}`,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const messages = await consumer.consume({ max_messages: 64 });
    const stop = (): void => void messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    // Only the wait for the next message is timed: a slow subscriber is paced, not given up.
    let idle: NodeJS.Timeout | undefined;
    const wait = (): void => {
      idle = setTimeout(stop, REPLAY_IDLE_MS);
    };
    let first = true;
    let complete = false;
    try {
      wait();
      for await (const m of messages) {
        clearTimeout(idle);
        // The message the id names is gone (expired since the check): events are missing.
        if (first && m.seq !== from) break;
        first = false;
        if (m.seq > until) {
          complete = true;
          break;
        }
        const events = parseEvents(m.string());
        if (events !== undefined) await write(events, m.seq);
        if (m.seq === until || m.info.pending === 0) {
          complete = true;
          break;
        }
        wait();
      }
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
      stop();
    }
    return complete && !signal.aborted;
  }

  private async read(): Promise<void> {
    const prefix = `${this.config.subjectPrefix}.`;
    for await (const m of this.messages) {
      const region = m.subject.startsWith(prefix) ? m.subject.slice(prefix.length) : '';
      const events = parseEvents(m.string());
      if (region === '' || events === undefined) {
        this.hooks.warn('skipped a NATS message that is not sluice events', {
          code: 'SLUICE_W_FANOUT_MESSAGE',
          subject: m.subject,
          seq: m.seq,
        });
      } else {
        try {
          this.hooks.deliver(region, events, m.seq);
        } catch (e) {
          this.hooks.warn('delivering NATS events failed', { error: (e as Error).message ?? String(e) });
        }
      }
      this.delivered = m.seq;
      if (this.deliveredWaiters.length > 0 && this.delivered >= this.acked) {
        for (const w of this.deliveredWaiters.splice(0)) w();
      }
    }
  }

  /** True while connected to a NATS server and reading the stream (reconnecting counts as not). */
  get connected(): boolean {
    return this.up && !this.readFailed && !this.nc.isClosed();
  }

  /**
   * Waits (at most `timeoutMs`) for this server's publishes to be acknowledged and read
   * back, so its subscribers get them before their streams end; then disconnects.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([Promise.allSettled([...this.pending]), deadline]);
    if (this.delivered < this.acked) {
      await Promise.race([new Promise<void>((r) => this.deliveredWaiters.push(r)), deadline]);
    }
    this.messages.stop();
    await Promise.race([this.reading ?? Promise.resolve(), deadline]);
    // Draining needs the server; during an outage it would wait for the reconnect.
    const drained = this.nc.drain().catch(() => {});
    await Promise.race([drained, new Promise<void>((r) => setTimeout(r, 1_000).unref())]);
    if (!this.nc.isClosed()) await this.nc.close().catch(() => {});
  }
}

/** Base 36 of the stream's creation time in ms (JetStream writes it with nanoseconds). */
function streamTag(created: string): string {
  const ms = Date.parse(created.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(ms) ? ms.toString(36) : '0';
}

/** The events of a message, or undefined when it is not NDJSON of valid events. */
function parseEvents(text: string): SegmentEvent[] | undefined {
  const out: SegmentEvent[] = [];
  try {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      out.push(validateSegmentEvent(JSON.parse(line)));
    }
  } catch {
    return undefined;
  }
  return out.length > 0 ? out : undefined;
}

/** NATS unreachable or failing: the fan-out's sink is unavailable. */
function natsError(message: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_E_SINK', message, {
    stage: 'sink',
    ...(cause === undefined ? {} : { cause }),
  });
}
