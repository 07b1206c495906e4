/**
 * The HTTP server: routes, the request lifecycle, and shutdown.
 *
 * A request's lifecycle (docs/reference/server.md draws it):
 *
 *   route (404, 405) ─▶ shutting down? (503) ─▶ authenticate from headers (401)
 *   ─▶ rate limit (429) ─▶ authorize (403) ─▶ handler: only now is a body byte read
 *
 * Shutdown (`close()`, which `sluice serve` calls on SIGTERM and SIGINT): stop
 * accepting connections, mark not ready, answer new requests on open connections
 * 503; let every request in flight finish (up to `limits.shutdownTimeoutMs`); drain
 * the group commit, so every event of every 200 is durable and published; end the
 * event streams; close the remaining connections, the authorizer and (when the
 * server opened it) the store.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { idProblem, type SegmentEvent } from '../audience/segment-event.js';
import type { AudienceStore } from '../audience/store/index.js';
import { defaultRegistry } from '../core/builtins.js';
import type { FormatRegistry } from '../core/registry.js';
import { Authenticator, type Principal } from './auth.js';
import { type Action, type Authorizer, httpAuthorizer, staticAuthorizer } from './authorizer.js';
import type { ServerConfig } from './config.js';
import { HttpError, toHttpError } from './errors.js';
import { Fanout } from './fanout.js';
import { GroupCommitter } from './group-commit.js';
import { sendError, sendJson, sendText } from './http.js';
import { IdempotencyCache } from './idempotency.js';
import { ClientGone, type CommitMeta, type IngestDeps, ingest } from './ingest.js';
import { ServerMetrics } from './metrics.js';
import { NatsBus } from './nats-bus.js';
import { cpuProfile, profileSeconds } from './profile.js';
import { RateLimiter } from './rate-limit.js';

export type LogFn = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** One JSON object per line on stderr. Keys and request bodies are never passed to it. */
export const stderrLog: LogFn = (level, message, fields) => {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`,
  );
};

export interface ServerOptions {
  config: ServerConfig;
  /** The store events are applied to. */
  store: AudienceStore;
  /** Close `store` when the server closes. @default false */
  ownsStore?: boolean;
  /** @default the HTTP service in `config.authorizer` if set, else the static policy of the config */
  authorizer?: Authorizer;
  /** Where body formats are found. @default the built-in formats */
  registry?: FormatRegistry;
  /** @default {@link stderrLog} */
  log?: LogFn;
  /** Also export process metrics (CPU, memory, event loop delay). @default true */
  defaultMetrics?: boolean;
}

interface RouteMatch {
  name: 'events' | 'user' | 'region_events' | 'healthz' | 'readyz' | 'metrics' | 'profile';
  method: 'GET' | 'POST';
  params: string[];
}

/** Matches a decoded path; undefined when no route has this shape. */
function matchRoute(parts: readonly string[]): RouteMatch | undefined {
  const [a, b, c, d, e] = parts;
  switch (parts.length) {
    case 1:
      if (a === 'healthz' || a === 'readyz' || a === 'metrics') return { name: a, method: 'GET', params: [] };
      return undefined;
    case 2:
      return a === 'debug' && b === 'profile' ? { name: 'profile', method: 'GET', params: [] } : undefined;
    case 4:
      if (a !== 'v1' || d !== 'events') return undefined;
      if (b === 'namespaces') return { name: 'events', method: 'POST', params: [c!] };
      if (b === 'regions') return { name: 'region_events', method: 'GET', params: [c!] };
      return undefined;
    case 5:
      return a === 'v1' && b === 'namespaces' && d === 'users'
        ? { name: 'user', method: 'GET', params: [c!, e!] }
        : undefined;
    default:
      return undefined;
  }
}

function parsePath(rawUrl: string | undefined): { url: URL; parts: string[] } {
  let url: URL;
  let parts: string[];
  try {
    if (!rawUrl?.startsWith('/')) throw new Error('not a path');
    url = new URL(rawUrl, 'http://sluice.invalid');
    parts = url.pathname.slice(1).split('/').map(decodeURIComponent);
  } catch {
    throw new HttpError('SLUICE_E_USAGE', 'malformed request target');
  }
  return { url, parts };
}

function checkId(what: string, id: string): string {
  const p = idProblem(id);
  if (p !== undefined) throw new HttpError('SLUICE_E_USAGE', `${what} ${p}`);
  return id;
}

export class SluiceServer {
  readonly http: Server;
  readonly metrics: ServerMetrics;
  readonly config: ServerConfig;
  private readonly store: AudienceStore;
  private readonly ownsStore: boolean;
  private readonly authenticator: Authenticator;
  private readonly authorizer: Authorizer;
  private readonly limiter = new RateLimiter();
  private readonly committer: GroupCommitter<CommitMeta>;
  private readonly fanout: Fanout;
  /** Fan-out across servers (`fanout.nats`), opened by `listen`. */
  private bus: NatsBus | undefined;
  private readonly ingestDeps: IngestDeps;
  private readonly log: LogFn;
  private readonly inflight = new Set<Promise<void>>();
  private readonly active = new Set<ServerResponse>();
  private readonly closing = new AbortController();
  private closed: Promise<void> | undefined;

  constructor(options: ServerOptions) {
    const { config } = options;
    this.config = config;
    this.store = options.store;
    this.ownsStore = options.ownsStore ?? false;
    this.log = options.log ?? stderrLog;
    this.metrics = new ServerMetrics({ defaultMetrics: options.defaultMetrics ?? true });
    this.authenticator = new Authenticator(config.principals);
    this.authorizer =
      options.authorizer ?? (config.authorizer ? httpAuthorizer(config.authorizer) : staticAuthorizer());
    const m = this.metrics;
    this.fanout = new Fanout(config.regions, config.fanout, {
      onSubscribers: (region, n) => m.subscribers.set({ region }, n),
      onDisconnect: (reason) => m.subscriberDisconnects.inc({ reason }),
      onResume: (from) => m.resumes.inc({ from }),
    });
    this.committer = new GroupCommitter<CommitMeta>(this.store, {
      ...config.groupCommit,
      onCommitted: (entries) => {
        const now = performance.now();
        for (const { meta } of entries) m.fanoutLag.observe((now - meta.arrived) / 1000);
        const bus = this.bus;
        if (bus === undefined) {
          for (const { events, meta } of entries) this.fanout.publish(meta.region, events);
          return;
        }
        // One message per region and commit: its events in commit order.
        const byRegion = new Map<string, SegmentEvent[]>();
        for (const { events, meta } of entries) {
          const list = byRegion.get(meta.region);
          if (list === undefined) byRegion.set(meta.region, events.slice());
          else for (const e of events) list.push(e);
        }
        for (const [region, events] of byRegion) bus.publish(region, events);
      },
      onCommit: ({ events, batches, seconds, ok }) => {
        m.commitDuration.observe(seconds);
        m.commitEvents.observe(events);
        m.commitRequests.observe(batches);
        if (!ok) m.commitFailures.inc();
      },
    });
    m.queueDepth = () => this.committer.depth;
    this.ingestDeps = {
      config,
      registry: options.registry ?? defaultRegistry,
      committer: this.committer,
      idempotency: new IdempotencyCache({
        ...config.idempotency,
        log: this.store.idempotency,
        onLogError: (e) =>
          this.log('warn', 'idempotency record not written', { error: (e as Error).message ?? String(e) }),
      }),
      metrics: m,
    };
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.limits;
    this.http = createServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: requestTimeoutMs,
        keepAliveTimeout: keepAliveTimeoutMs,
        // How often Node checks the two timeouts above (30 s by default, far too coarse for a 10 s limit).
        connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeoutMs / 4))),
      },
      (req, res) => this.onRequest(req, res),
    );
    // Without this listener Node answers `Expect: 100-continue` itself, before the
    // handler runs, inviting the body before the key was checked. The POST handler
    // sends 100 Continue once every header check passed; any other answer is final.
    this.http.on('checkContinue', (req, res) => this.onRequest(req, res));
  }

  /**
   * Starts listening on `config.listen` (or `port`/`host` given here); resolves with the
   * bound address. With `fanout.nats`, connects to NATS first: a server that cannot
   * reach it does not start.
   */
  async listen(override: { host?: string; port?: number } = {}): Promise<AddressInfo> {
    const nats = this.config.fanout.nats;
    if (nats !== undefined && this.bus === undefined) {
      this.bus = await NatsBus.open(nats, {
        deliver: (region, events, seq) => this.fanout.publish(region, events, seq),
        warn: (message, fields) => this.log('warn', message, fields),
        onPublishFailure: () => this.metrics.fanoutPublishFailures.inc(),
      });
      const bus = this.bus;
      this.fanout.useStream(bus.tag, (region, from, write, signal) =>
        bus.replay(region, from, write, signal),
      );
      this.bus.start();
      this.log('info', 'fan-out through NATS JetStream', {
        stream: nats.stream,
        subjects: `${nats.subjectPrefix}.>`,
      });
    }
    const host = override.host ?? this.config.listen.host;
    const port = override.port ?? this.config.listen.port;
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        const address = this.http.address() as AddressInfo;
        this.log('info', 'listening', { url: this.urlOf(address) });
        resolve(address);
      });
    });
  }

  /** `http://host:port` of the bound address. */
  get url(): string {
    return this.urlOf(this.http.address() as AddressInfo);
  }

  private urlOf(a: AddressInfo): string {
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /** Events waiting for (or in) a group commit: what overload protection compares with `limits.maxQueuedEvents`. */
  get queuedEvents(): number {
    return this.committer.depth;
  }

  /** True until `close` is called. */
  get ready(): boolean {
    return this.closed === undefined;
  }

  /** Graceful shutdown (see the file comment). Idempotent: every call returns the same promise. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.log('info', 'shutting down', { inflight: this.inflight.size });
    this.closing.abort();
    for (const res of this.active) if (!res.headersSent) res.shouldKeepAlive = false;
    const serverClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.config.limits.shutdownTimeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.inflight]), deadline]);
    await this.committer.drain();
    // With NATS, this server's last events come back through the stream to its hubs first.
    await this.bus?.close();
    // Subscribers get every event published so far, then the end of their stream.
    await Promise.race([this.fanout.close(), new Promise((r) => setTimeout(r, 1000))]);
    // Past the deadline: cut what is left (their events were not answered 200).
    this.http.closeAllConnections();
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, 1000))]);
    clearTimeout(timer);
    await serverClosed;
    await this.committer.drain();
    await this.authorizer.close?.();
    if (this.ownsStore) await this.store.close();
    this.log('info', 'stopped');
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const arrived = performance.now();
    const receivedAt = Date.now();
    this.active.add(res);
    let route = 'unknown';
    res.once('close', () => {
      this.active.delete(res);
      const status = res.headersSent ? String(res.statusCode) : '0';
      this.metrics.requests.inc({ route, method: req.method ?? '', status });
      if (route !== 'region_events') {
        this.metrics.requestDuration.observe({ route }, (performance.now() - arrived) / 1000);
      }
    });
    if (this.closed !== undefined) res.shouldKeepAlive = false;
    const p = this.handle(req, res, arrived, receivedAt, (name) => {
      route = name;
    }).catch((e) => {
      // handle() answers every error it expects; this is a bug, and must not take the server down.
      this.log('error', 'unhandled error', { error: String(e) });
      if (!res.headersSent) sendError(req, res, toHttpError(e));
      else res.destroy();
    });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    arrived: number,
    receivedAt: number,
    setRoute: (name: string) => void,
  ): Promise<void> {
    try {
      const { url, parts } = parsePath(req.url);
      const match = matchRoute(parts);
      if (!match) throw new HttpError('SLUICE_E_NOT_FOUND', `no route for ${url.pathname}`);
      setRoute(match.name);
      if (req.method !== match.method) {
        throw new HttpError(
          'SLUICE_E_METHOD_NOT_ALLOWED',
          `${req.method} is not allowed on ${url.pathname}`,
          {
            headers: { Allow: match.method },
          },
        );
      }
      switch (match.name) {
        case 'healthz':
          return sendJson(res, 200, { status: 'ok' });
        case 'readyz': {
          if (!this.ready) return sendJson(res, 503, { status: 'shutting down' }, { 'Retry-After': '5' });
          // Ready means the store answers, not just that the process is up.
          const problem = await this.pingStore();
          if (problem !== undefined) {
            return sendJson(
              res,
              503,
              { status: 'store unavailable', message: problem },
              { 'Retry-After': '5' },
            );
          }
          if (this.bus !== undefined && !this.bus.connected) {
            return sendJson(
              res,
              503,
              { status: 'fan-out unavailable', message: 'not connected to NATS' },
              { 'Retry-After': '5' },
            );
          }
          return sendJson(res, 200, { status: 'ready' });
        }
        case 'metrics':
          return sendText(res, 200, await this.metrics.text(), this.metrics.contentType);
      }
      if (!this.ready) {
        throw new HttpError('SLUICE_E_SHUTTING_DOWN', undefined, { headers: { 'Retry-After': '5' } });
      }
      const principal = this.authenticate(req);
      switch (match.name) {
        case 'events': {
          const ns = checkId('namespace', match.params[0]!);
          await this.authorize(principal, 'write', ns);
          const limit = principal.config.rateLimit ?? this.config.limits.rateLimit;
          const charge = (n: number) => this.limiter.charge(principal.id, limit, n);
          return await ingest(req, res, { principal, ns, url, arrived, receivedAt, charge }, this.ingestDeps);
        }
        case 'user': {
          const ns = checkId('namespace', match.params[0]!);
          const uid = checkId('uid', match.params[1]!);
          await this.authorize(principal, 'read', ns);
          const segments = await this.store.user(ns, uid, Date.now());
          return sendJson(res, 200, { ns, uid, segments });
        }
        case 'region_events': {
          const region = match.params[0]!;
          const hub = this.fanout.hubs.get(region);
          if (!hub) {
            throw new HttpError(
              'SLUICE_E_NOT_FOUND',
              `unknown region ${JSON.stringify(region)} (known: ${this.config.regions.join(', ')})`,
            );
          }
          await this.authorize(principal, 'subscribe', region);
          const header = req.headers['last-event-id'];
          const last =
            (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('lastEventId') ?? undefined;
          return hub.subscribe(res, last);
        }
        case 'profile': {
          await this.authorize(principal, 'admin', 'profile');
          const seconds = profileSeconds(url.searchParams.get('seconds'));
          const profile = await cpuProfile(seconds, this.closing.signal);
          res.setHeader('content-disposition', `attachment; filename="sluice-${Date.now()}.cpuprofile"`);
          return sendJson(res, 200, profile);
        }
      }
    } catch (e) {
      if (e instanceof ClientGone) return;
      const err = toHttpError(e);
      if (err.status === 401 || err.status === 403)
        this.metrics.authFailures.inc({ status: String(err.status) });
      if (err.code === 'SLUICE_E_INTERNAL') {
        const cause = err.cause instanceof Error ? err.cause : undefined;
        this.log('error', 'internal error', {
          path: req.url?.split('?')[0],
          error: cause?.stack ?? err.message,
        });
      }
      sendError(req, res, err);
    }
  }

  /** Why the store cannot answer now (it failed, or took over 2 s), or undefined when it answered. */
  private async pingStore(): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('the store did not answer within 2 s'), 2000);
    });
    try {
      return await Promise.race([
        this.store.ping().then(
          () => undefined,
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private authenticate(req: IncomingMessage): Principal {
    const principal = this.authenticator.authenticate(req);
    const limit = principal.config.rateLimit ?? this.config.limits.rateLimit;
    const { wait, by } = this.limiter.admit(principal.id, limit);
    if (wait > 0) {
      const rate =
        by === 'events' ? `${limit!.eventsPerSecond} events/s` : `${limit!.requestsPerSecond} requests/s`;
      throw new HttpError('SLUICE_E_RATE_LIMITED', `rate limit of ${rate} exceeded`, {
        headers: { 'Retry-After': String(wait) },
      });
    }
    return principal;
  }

  private async authorize(principal: Principal, action: Action, resource: string): Promise<void> {
    let allowed = false;
    try {
      allowed = await this.authorizer.authorize({ principal, action, resource });
    } catch (e) {
      // An authorizer that fails denies (fail closed).
      this.log('warn', 'authorizer failed', { error: String(e) });
    }
    if (allowed !== true) {
      const what = {
        write: 'write to namespace',
        read: 'read namespace',
        subscribe: 'subscribe to region',
        admin: 'use',
      }[action];
      throw new HttpError(
        'SLUICE_E_FORBIDDEN',
        `principal ${principal.id} may not ${what} ${JSON.stringify(resource)}`,
      );
    }
  }
}

/** Creates a server and starts listening. */
export async function startServer(
  options: ServerOptions & { host?: string; port?: number },
): Promise<SluiceServer> {
  const server = new SluiceServer(options);
  await server.listen({
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  return server;
}
