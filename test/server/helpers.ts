/**
 * Starts the real server on a free loopback port, with the real SQLite store, and
 * talks to it with a real HTTP client (undici). Every test server gets its own
 * principals and keys, its own undici Agent, and is closed gracefully by `close()`.
 */
import { connect, type Socket } from 'node:net';
import { Agent, type Dispatcher, request } from 'undici';
import { type AudienceStore, openSqliteStore } from '../../src/audience/store/index.js';
import { hashKey, newKey } from '../../src/server/auth.js';
import type { Authorizer } from '../../src/server/authorizer.js';
import { resolveConfig, type ServerConfig } from '../../src/server/config.js';
import { type LogFn, SluiceServer } from '../../src/server/server.js';

export interface TestPrincipal {
  id: string;
  namespaces?: string[];
  subscribe?: string[];
  admin?: boolean;
  rateLimit?: { requestsPerSecond?: number; burst?: number; eventsPerSecond?: number; eventBurst?: number };
}

/** Writer acme (namespaces acme, client-a), reader-less bidder-eu (subscribe eu), ops (admin). */
export const DEFAULT_PRINCIPALS: TestPrincipal[] = [
  { id: 'acme', namespaces: ['acme', 'client-a'] },
  { id: 'other', namespaces: ['other'] },
  { id: 'bidder-eu', subscribe: ['eu'] },
  { id: 'ops', admin: true },
];

export interface TestServer {
  server: SluiceServer;
  url: string;
  store: AudienceStore;
  config: ServerConfig;
  /** The plain key of each principal, by id. */
  keys: Record<string, string>;
  logs: { level: string; message: string; fields?: Record<string, unknown> }[];
  agent: Agent;
  /** `Authorization` header for a principal. */
  auth(id: string): Record<string, string>;
  /** An HTTP request to a path of the server. */
  req(path: string, options?: ReqOptions): Promise<Reply>;
  /** POST a body to a namespace's events as `principal` (acme by default). */
  post(ns: string, body: string | Buffer, options?: PostOptions): Promise<Reply>;
  close(): Promise<void>;
}

export interface ReqOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface PostOptions {
  principal?: string;
  contentType?: string;
  region?: string | null;
  query?: string;
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected loosely.
  json: any;
}

export interface StartOptions {
  principals?: TestPrincipal[];
  /** Merged over the base config (listen, store, regions, principals are set). */
  config?: Record<string, unknown>;
  /** Wraps the real store (to hold or count commits); the wrapper must pass everything to it. */
  wrapStore?: (store: AudienceStore) => AudienceStore;
  store?: AudienceStore;
  authorizer?: Authorizer;
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const principals = options.principals ?? DEFAULT_PRINCIPALS;
  const keys: Record<string, string> = {};
  for (const p of principals) keys[p.id] = newKey();
  const config = resolveConfig({
    listen: '127.0.0.1:0',
    store: 'sqlite::memory:',
    regions: ['us', 'eu', 'apac'],
    principals: principals.map((p) => ({
      id: p.id,
      keys: [hashKey(keys[p.id]!)],
      ...(p.namespaces ? { namespaces: p.namespaces } : {}),
      ...(p.subscribe ? { subscribe: p.subscribe } : {}),
      ...(p.admin ? { admin: true } : {}),
      ...(p.rateLimit ? { rateLimit: p.rateLimit } : {}),
    })),
    ...options.config,
  });
  const store = options.store ?? (await openSqliteStore(':memory:'));
  const logs: TestServer['logs'] = [];
  const log: LogFn = (level, message, fields) => {
    logs.push({ level, message, ...(fields ? { fields } : {}) });
  };
  const server = new SluiceServer({
    config,
    store: options.wrapStore ? options.wrapStore(store) : store,
    ownsStore: false,
    log,
    defaultMetrics: false,
    ...(options.authorizer ? { authorizer: options.authorizer } : {}),
  });
  await server.listen();
  const url = server.url;
  const agent = new Agent({ keepAliveTimeout: 1000, connections: 64 });
  const t: TestServer = {
    server,
    url,
    store,
    config,
    keys,
    logs,
    agent,
    auth: (id) => ({ authorization: `Bearer ${keys[id]}` }),
    async req(path, opts = {}) {
      const r = await request(`${url}${path}`, {
        dispatcher: agent,
        method: opts.method ?? 'GET',
        ...(opts.headers ? { headers: opts.headers } : {}),
        ...(opts.body !== undefined ? { body: opts.body } : {}),
      });
      const text = await r.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: r.statusCode, headers: r.headers, text, json };
    },
    post(ns, body, o = {}) {
      const headers: Record<string, string> = {
        ...t.auth(o.principal ?? 'acme'),
        'content-type': o.contentType ?? 'application/x-ndjson',
        ...(o.region === null ? {} : { 'x-sluice-region': o.region ?? 'eu' }),
        ...o.headers,
      };
      return t.req(`/v1/namespaces/${encodeURIComponent(ns)}/events${o.query ?? ''}`, {
        method: 'POST',
        headers,
        body,
      });
    },
    async close() {
      await server.close();
      await agent.close();
      if (!options.store) await store.close();
    },
  };
  return t;
}

/** NDJSON lines from objects. */
export function ndjson(records: readonly unknown[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A real SSE client over undici: parses frames as they arrive. `waitFor(n)` resolves
 * once `n` events (comments excluded) have arrived; `closed` once the server ended the stream.
 */
export async function subscribe(
  t: TestServer,
  region: string,
  principal = 'bidder-eu',
  headers: Record<string, string> = {},
) {
  const controller = new AbortController();
  const r = await request(`${t.url}/v1/regions/${region}/events`, {
    dispatcher: t.agent,
    headers: { ...t.auth(principal), ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let buffer = '';
  let ended = false;
  let endResolve: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    endResolve = resolve;
  });
  const check = () => {
    for (const w of [...waiters]) {
      if (events.length >= w.n || ended) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  r.body.setEncoding('utf8');
  r.body.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const ev: SseEvent = { event: 'message', data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line === '') continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') ev.id = value;
        else if (field === 'event') ev.event = value;
        else if (field === 'data') {
          ev.data = hasData ? `${ev.data}\n${value}` : value;
          hasData = true;
        }
      }
      if (hasData) events.push(ev);
    }
    check();
  });
  const end = () => {
    ended = true;
    check();
    endResolve();
  };
  r.body.on('end', end);
  r.body.on('error', end);
  r.body.on('close', end);
  return {
    status: r.statusCode,
    headers: r.headers,
    events,
    closed,
    waitFor(n: number, timeoutMs = 5000): Promise<void> {
      if (events.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${n} events, got ${events.length}`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close() {
      controller.abort();
      r.body.destroy();
    },
  };
}

/** A raw TCP connection to the server, for what an HTTP client will not send. */
export function rawSocket(t: TestServer): Promise<Socket> {
  const u = new URL(t.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => resolve(s));
    s.on('error', reject);
  });
}

/** Everything the server sends on a raw socket until it closes (or `timeoutMs`). */
export function readAll(s: Socket, timeoutMs = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve({ text, closed: false }), timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
    });
    const done = () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    };
    s.on('close', done);
    s.on('error', () => {});
  });
}

/** Holds every `apply` of the real store until `release()`; counts calls and their sizes. */
export function gatedStore(store: AudienceStore) {
  let open = false;
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => {
    release = r;
  });
  const calls: number[] = [];
  const wrapped: AudienceStore = {
    async apply(events) {
      calls.push(events.length);
      if (!open) await gate;
      return store.apply(events);
    },
    user: (ns, uid, now) => store.user(ns, uid, now),
    snapshot: () => store.snapshot(),
    ping: () => store.ping(),
    close: () => store.close(),
    ...(store.idempotency ? { idempotency: store.idempotency } : {}),
  };
  return {
    store: wrapped,
    calls,
    release() {
      open = true;
      release();
    },
    hold() {
      open = false;
      gate = new Promise<void>((r) => {
        release = r;
      });
    },
  };
}

/** Polls `cond` every 10 ms until it holds, or fails after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
