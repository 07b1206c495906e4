/**
 * The server's Prometheus metrics, on a registry of its own (two servers in one
 * process, as in tests, never share counters). Labels are bounded sets: routes,
 * status codes, error codes, regions from the config; never a namespace, a user or a
 * principal, which are unbounded.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'sluice_http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'Time from a request arriving to its response being handed to the OS, by route',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({
    name: 'sluice_events_accepted_total',
    help: 'Segment events made durable in the store',
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'sluice_events_rejected_total',
    help: 'Records rejected, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly commitDuration = new Histogram({
    name: 'sluice_store_commit_duration_seconds',
    help: 'Time one group commit (one store.apply call) takes',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly commitEvents = new Histogram({
    name: 'sluice_store_commit_events',
    help: 'Events per group commit',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000],
    registers: [this.registry],
  });
  readonly commitRequests = new Histogram({
    name: 'sluice_store_commit_requests',
    help: 'Requests whose events one group commit carried',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  /** Read at each scrape for {@link queueEvents}; the server points it at its group commit. */
  queueDepth: () => number = () => 0;
  readonly queueEvents = new Gauge({
    name: 'sluice_store_queue_events',
    help: 'Events waiting for a group commit (or in the one running)',
    registers: [this.registry],
    collect: () => {
      this.queueEvents.set(this.queueDepth());
    },
  });
  readonly commitFailures = new Counter({
    name: 'sluice_store_commit_failures_total',
    help: 'Group commits the store refused',
    registers: [this.registry],
  });
  readonly fanoutLag = new Histogram({
    name: 'sluice_fanout_lag_seconds',
    help: 'Time from a request arriving to its events being written to the subscribers of their region',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly fanoutPublishFailures = new Counter({
    name: 'sluice_fanout_publish_failures_total',
    help: 'Committed groups of events that could not be published to NATS JetStream (stored, not pushed)',
    registers: [this.registry],
  });
  readonly subscribers = new Gauge({
    name: 'sluice_sse_subscribers',
    help: 'Connected event-stream subscribers, by region',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  readonly subscriberDisconnects = new Counter({
    name: 'sluice_sse_disconnects_total',
    help: 'Subscribers disconnected by the server, by reason (slow: its buffer was full; shutdown)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly resumes = new Counter({
    name: 'sluice_sse_resumes_total',
    help: 'Subscribers that came with a Last-Event-ID, by where what they missed came from (buffer, stream: NATS JetStream) or gap (not found: they must resynchronise)',
    labelNames: ['from'] as const,
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'sluice_auth_failures_total',
    help: 'Requests refused by authentication (401) or authorization (403)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor({ defaultMetrics = true }: { defaultMetrics?: boolean } = {}) {
    // Process CPU, memory, event loop delay, GC: the first things to look at when latency grows.
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
