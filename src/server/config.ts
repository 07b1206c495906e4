/**
 * `sluice serve --config sluice.yaml`: the file's schema, its defaults, and its
 * validation. Every problem is reported with the path of the value at fault and what
 * was expected, all at once: `principals[1].keys[0]: expected "sha256:<64 hex>", got
 * "abc"`. The reference is `docs/reference/server.md`; keep the two together.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { idProblem } from '../audience/segment-event.js';
import { SluiceError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';

/** At least one of the two rates is set; each has its burst. */
export interface RateLimitConfig {
  /** Tokens added per second: the sustained request rate. */
  requestsPerSecond?: number;
  /** Bucket size: requests allowed in a burst. @default requestsPerSecond (at least 1) */
  burst?: number;
  /** The sustained rate of events applied (records accepted), whatever the requests' sizes. */
  eventsPerSecond?: number;
  /** Events allowed in a burst. @default eventsPerSecond (at least 1) */
  eventBurst?: number;
}

export interface PrincipalConfig {
  id: string;
  /** `sha256:<64 hex>` hashes of the principal's API keys (several allow rotation). */
  keys: string[];
  /** Namespaces the principal may write to and read from. */
  namespaces: string[];
  /** Regions whose event stream the principal may subscribe to. */
  subscribe: string[];
  /** May use the `/debug` routes. */
  admin: boolean;
  /** Overrides `limits.rateLimit` for this principal. */
  rateLimit?: RateLimitConfig | undefined;
}

export interface AuthorizerServiceConfig {
  url: string;
  timeoutMs: number;
  cacheTtlMs: number;
  cacheSize: number;
}

export interface ServerConfig {
  listen: { host: string; port: number };
  /**
   * `sqlite:<path>` (the path resolved against the config file's folder) or
   * `sqlite::memory:`; or a PostgreSQL URL (`postgres://user@host:5432/database`; a
   * password may come from PGPASSWORD instead of the URL).
   */
  store: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
  /**
   * When a commit counts as durable (the store's `synchronous` option): `normal` survives
   * the process crashing; `full` also survives power loss, at one fsync per group commit.
   */
  storeOptions: {
    synchronous: 'normal' | 'full';
    /** Run the store in a worker thread, so SQL and HTTP use two cores. */
    thread: boolean;
    /** SQLite page cache per connection, MiB (the store's default when absent). */
    cacheMiB?: number;
    /** WAL pages past which the WAL is copied back and started over (the store's default when absent). */
    walAutocheckpoint?: number;
    /** Who copies the WAL back into the database (the store's default, a thread, when absent). */
    checkpoint?: 'background' | 'inline';
  };
  regions: string[];
  /** Used when a POST names no region. */
  defaultRegion?: string | undefined;
  principals: PrincipalConfig[];
  authorizer?: AuthorizerServiceConfig | undefined;
  limits: {
    maxBodyBytes: number;
    maxRecordBytes: number;
    maxErrors: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxQueuedEvents: number;
    shutdownTimeoutMs: number;
    rateLimit?: RateLimitConfig | undefined;
  };
  groupCommit: { maxEvents: number; maxDelayMs: number; maxInFlight: number };
  idempotency: { maxEntries: number; ttlMs: number };
  fanout: {
    bufferEvents: number;
    maxSubscriberBufferBytes: number;
    heartbeatMs: number;
    /** Region fan-out across servers through NATS JetStream (see `nats-bus.ts`). */
    nats?: NatsFanoutConfig | undefined;
  };
}

export interface NatsFanoutConfig {
  /** `nats://host:port`, or several separated by commas (a cluster). */
  url: string;
  /** The JetStream stream, created when missing. */
  stream: string;
  /** Events of region r go to `<subjectPrefix>.r`; the stream takes `<subjectPrefix>.>`. */
  subjectPrefix: string;
  /** How long the stream keeps events (a new stream's `max_age`). */
  maxAgeSeconds: number;
}

/** The config as written, before defaults; what {@link resolveConfig} accepts from code. */
export type ServerConfigInput = Record<string, unknown>;

export const DEFAULTS = {
  listen: '127.0.0.1:8080',
  limits: {
    maxBodyBytes: 64 * 1024 * 1024,
    maxRecordBytes: 1024 * 1024,
    maxErrors: 100,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 120_000,
    keepAliveTimeoutMs: 5_000,
    maxQueuedEvents: 200_000,
    shutdownTimeoutMs: 30_000,
  },
  // maxInFlight: 2 with the store in its thread (the next group forms while the store
  // writes), 1 without (`resolveConfig`).
  groupCommit: { maxEvents: 10_000, maxDelayMs: 0, maxInFlight: 2 },
  idempotency: { maxEntries: 10_000, ttlMs: 24 * 60 * 60 * 1000 },
  fanout: { bufferEvents: 10_000, maxSubscriberBufferBytes: 4 * 1024 * 1024, heartbeatMs: 15_000 },
  nats: { stream: 'SLUICE_EVENTS', subjectPrefix: 'sluice.events', maxAgeSeconds: 24 * 60 * 60 },
  authorizer: { timeoutMs: 1_000, cacheTtlMs: 30_000, cacheSize: 10_000 },
} as const;

export const KEY_HASH = /^sha256:[0-9a-f]{64}$/;

/** Reads, parses and validates a config file; errors name the file, and the line for YAML syntax. */
export async function loadConfig(path: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SluiceError('SLUICE_E_USAGE', `cannot read config ${path}: ${(e as Error).message}`, {
      stage: 'config',
      cause: e,
    });
  }
  return parseConfig(text, path);
}

/** Parses YAML text (JSON is YAML too) and validates it; `path` names it in errors and anchors relative paths. */
export function parseConfig(text: string, path = 'sluice.yaml'): ServerConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const lines = doc.errors.slice(0, 10).map((e) => {
      const at = lineCounter.linePos(e.pos[0]);
      return `${path}${at ? `:${at.line}:${at.col}` : ''}: ${e.message.split('\n')[0]}`;
    });
    throw configError(path, lines, 'is not valid YAML');
  }
  return resolveConfig(doc.toJS() as unknown, { source: path, baseDir: dirname(resolve(path)) });
}

function configError(source: string, problems: string[], what = 'is not valid'): SluiceError {
  return new SluiceError('SLUICE_E_USAGE', `config ${source} ${what}:\n  ${problems.join('\n  ')}`, {
    stage: 'config',
  });
}

/** Walks the raw value, collecting every problem with its path. */
class Checker {
  readonly problems: string[] = [];

  fail(path: string, expected: string, got: unknown): undefined {
    this.problems.push(`${path}: expected ${expected}, got ${describe(got)}`);
    return undefined;
  }

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  object(path: string, v: unknown, known: readonly string[]): Record<string, unknown> | undefined {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.fail(path, 'a mapping', v);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) {
        this.problem(join(path, k), `unknown setting (known: ${known.join(', ')})`);
      }
    }
    return o;
  }

  string(path: string, v: unknown): string | undefined {
    if (typeof v !== 'string' || v.length === 0) return this.fail(path, 'a non-empty string', v);
    return v;
  }

  id(path: string, v: unknown): string | undefined {
    const s = this.string(path, v);
    if (s === undefined) return undefined;
    const p = idProblem(s);
    if (p !== undefined) return this.fail(path, `an id without control characters (it ${p})`, v);
    return s;
  }

  boolean(path: string, v: unknown): boolean | undefined {
    if (typeof v !== 'boolean') return this.fail(path, 'true or false', v);
    return v;
  }

  integer(path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      return this.fail(path, `an integer from ${min} to ${max}`, v);
    }
    return v;
  }

  number(path: string, v: unknown, min: number): number | undefined {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      return this.fail(path, `a number >= ${min}`, v);
    }
    return v;
  }

  /** Bytes: an integer, or a string such as `64m`, `512k`, `1g` (powers of 1024). */
  size(path: string, v: unknown, min: number): number | undefined {
    if (typeof v === 'string') {
      const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(v.trim());
      if (!m) return this.fail(path, 'a size such as 1048576, 512k, 64m or 1g', v);
      const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
        m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'
      ];
      v = Number(m[1]) * unit;
    }
    return this.integer(path, v, min);
  }

  list<T>(path: string, v: unknown, item: (p: string, x: unknown) => T | undefined, nonEmpty = false): T[] {
    if (!Array.isArray(v)) {
      this.fail(path, nonEmpty ? 'a non-empty list' : 'a list', v);
      return [];
    }
    if (nonEmpty && v.length === 0) this.fail(path, 'a non-empty list', v);
    const out: T[] = [];
    v.forEach((x, i) => {
      const r = item(`${path}[${i}]`, x);
      if (r !== undefined) out.push(r);
    });
    return out;
  }

  unique(path: string, values: readonly string[], what: string): void {
    const seen = new Set<string>();
    values.forEach((v, i) => {
      if (seen.has(v)) this.problem(`${path}[${i}]`, `duplicate ${what} ${JSON.stringify(v)}`);
      seen.add(v);
    });
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  return `${typeof v} ${String(v)}`;
}

const TOP = [
  'listen',
  'store',
  'storeOptions',
  'regions',
  'defaultRegion',
  'principals',
  'authorizer',
  'limits',
  'groupCommit',
  'idempotency',
  'fanout',
] as const;

/**
 * Validates a config object (parsed YAML, or built in code) and fills in defaults.
 * `baseDir` anchors a relative SQLite path. Throws one `SLUICE_E_USAGE` error listing
 * every problem, each with its path.
 */
export function resolveConfig(
  raw: unknown,
  { source = 'config', baseDir = process.cwd() }: { source?: string; baseDir?: string } = {},
): ServerConfig {
  const c = new Checker();
  const o = c.object('', raw ?? undefined, TOP);
  if (!o) throw configError(source, ['expected a mapping at the top level']);
  const get = (k: (typeof TOP)[number]) => o[k];

  const listen = parseListen(c, get('listen') ?? DEFAULTS.listen);
  const store = parseStore(c, get('store'), baseDir);
  let synchronous: 'normal' | 'full' = 'normal';
  let thread = true;
  const tuning: { cacheMiB?: number; walAutocheckpoint?: number; checkpoint?: 'background' | 'inline' } = {};
  if (get('storeOptions') !== undefined && store?.kind === 'postgres') {
    // Settings that would be ignored are refused: they tune SQLite only.
    c.fail(
      'storeOptions',
      'nothing with a postgres:// store (these settings tune SQLite)',
      get('storeOptions'),
    );
  } else if (get('storeOptions') !== undefined) {
    const so = c.object('storeOptions', get('storeOptions'), [
      'synchronous',
      'thread',
      'cacheMiB',
      'walAutocheckpoint',
      'checkpoint',
    ]);
    for (const k of ['cacheMiB', 'walAutocheckpoint'] as const) {
      if (so?.[k] === undefined) continue;
      const v = c.integer(`storeOptions.${k}`, so[k], 0);
      if (v !== undefined) tuning[k] = v;
    }
    if (so?.synchronous !== undefined) {
      if (so.synchronous === 'normal' || so.synchronous === 'full') synchronous = so.synchronous;
      else c.fail('storeOptions.synchronous', 'normal or full', so.synchronous);
    }
    if (so?.thread !== undefined) thread = c.boolean('storeOptions.thread', so.thread) ?? thread;
    if (so?.checkpoint !== undefined) {
      if (so.checkpoint === 'background' || so.checkpoint === 'inline') tuning.checkpoint = so.checkpoint;
      else c.fail('storeOptions.checkpoint', 'background or inline', so.checkpoint);
    }
  }
  const regions = c.list('regions', get('regions'), (p, x) => c.id(p, x), true);
  c.unique('regions', regions, 'region');
  let defaultRegion: string | undefined;
  if (get('defaultRegion') !== undefined) {
    defaultRegion = c.id('defaultRegion', get('defaultRegion'));
    if (defaultRegion !== undefined && !regions.includes(defaultRegion)) {
      c.fail('defaultRegion', `one of the regions (${regions.join(', ')})`, defaultRegion);
    }
  }

  const limitsRaw = get('limits') === undefined ? {} : c.object('limits', get('limits'), LIMIT_KEYS);
  const limits = parseLimits(c, limitsRaw ?? {});
  const principals = c.list(
    'principals',
    get('principals'),
    (p, x) => parsePrincipal(c, p, x, regions),
    true,
  );
  c.unique(
    'principals',
    principals.map((p) => p.id),
    'principal id',
  );
  const keyOwner = new Map<string, string>();
  principals.forEach((p, i) => {
    p.keys.forEach((k, j) => {
      const owner = keyOwner.get(k);
      if (owner !== undefined && owner !== p.id) {
        c.problem(`principals[${i}].keys[${j}]`, `this key hash is also a key of principal ${owner}`);
      }
      keyOwner.set(k, p.id);
    });
  });

  let authorizer: AuthorizerServiceConfig | undefined;
  if (get('authorizer') !== undefined) {
    const a = c.object('authorizer', get('authorizer'), ['url', 'timeoutMs', 'cacheTtlMs', 'cacheSize']);
    if (a) {
      const url = c.string('authorizer.url', a.url);
      if (url !== undefined && !/^https?:\/\/[^/]/.test(url)) c.fail('authorizer.url', 'an http(s) URL', url);
      const d = DEFAULTS.authorizer;
      authorizer = {
        url: url ?? '',
        timeoutMs: opt(a.timeoutMs, d.timeoutMs, (v) => c.integer('authorizer.timeoutMs', v, 1, 60_000)),
        cacheTtlMs: opt(a.cacheTtlMs, d.cacheTtlMs, (v) => c.integer('authorizer.cacheTtlMs', v, 0)),
        cacheSize: opt(a.cacheSize, d.cacheSize, (v) => c.integer('authorizer.cacheSize', v, 1)),
      };
    }
  }

  const gc =
    get('groupCommit') === undefined
      ? {}
      : (c.object('groupCommit', get('groupCommit'), ['maxEvents', 'maxDelayMs', 'maxInFlight']) ?? {});
  const groupCommit = {
    maxEvents: opt(gc.maxEvents, DEFAULTS.groupCommit.maxEvents, (v) =>
      c.integer('groupCommit.maxEvents', v, 1),
    ),
    maxDelayMs: opt(gc.maxDelayMs, DEFAULTS.groupCommit.maxDelayMs, (v) =>
      c.integer('groupCommit.maxDelayMs', v, 0, 1000),
    ),
    // Without its own thread SQLite writes on the event loop's thread: a second commit in
    // flight would only wait behind the first, in a smaller group. PostgreSQL writes in
    // its own process.
    maxInFlight: opt(
      gc.maxInFlight,
      thread || store?.kind === 'postgres' ? DEFAULTS.groupCommit.maxInFlight : 1,
      (v) => c.integer('groupCommit.maxInFlight', v, 1, 16),
    ),
  };
  const id =
    get('idempotency') === undefined
      ? {}
      : (c.object('idempotency', get('idempotency'), ['maxEntries', 'ttlMs']) ?? {});
  const idempotency = {
    maxEntries: opt(id.maxEntries, DEFAULTS.idempotency.maxEntries, (v) =>
      c.integer('idempotency.maxEntries', v, 0),
    ),
    ttlMs: opt(id.ttlMs, DEFAULTS.idempotency.ttlMs, (v) => c.integer('idempotency.ttlMs', v, 1)),
  };
  const fo =
    get('fanout') === undefined
      ? {}
      : (c.object('fanout', get('fanout'), [
          'bufferEvents',
          'maxSubscriberBufferBytes',
          'heartbeatMs',
          'nats',
        ]) ?? {});
  const fanout = {
    bufferEvents: opt(fo.bufferEvents, DEFAULTS.fanout.bufferEvents, (v) =>
      c.integer('fanout.bufferEvents', v, 0),
    ),
    maxSubscriberBufferBytes: opt(
      fo.maxSubscriberBufferBytes,
      DEFAULTS.fanout.maxSubscriberBufferBytes,
      (v) => c.size('fanout.maxSubscriberBufferBytes', v, 1024),
    ),
    heartbeatMs: opt(fo.heartbeatMs, DEFAULTS.fanout.heartbeatMs, (v) =>
      c.integer('fanout.heartbeatMs', v, 10),
    ),
    nats: fo.nats === undefined ? undefined : parseNats(c, fo.nats, regions),
  };

  if (c.problems.length > 0) throw configError(source, c.problems);
  return {
    listen: listen!,
    store: store!,
    storeOptions: { synchronous, thread, ...tuning },
    regions,
    ...(defaultRegion !== undefined ? { defaultRegion } : {}),
    principals,
    ...(authorizer ? { authorizer } : {}),
    limits,
    groupCommit,
    idempotency,
    fanout,
  };
}

/** The default when the value is absent, else the checked value (a placeholder when it is wrong: the checker throws later). */
function opt<T>(v: unknown, dflt: T, check: (v: unknown) => T | undefined): T {
  if (v === undefined) return dflt;
  return check(v) ?? dflt;
}

/** A NATS subject token: no dots, wildcards or whitespace. */
const SUBJECT_TOKEN = /^[^.*>\s]+$/;

/** `fanout.nats`: a URL, or a mapping with the URL and the stream's names. */
function parseNats(c: Checker, v: unknown, regions: readonly string[]): NatsFanoutConfig | undefined {
  const o =
    typeof v === 'string'
      ? { url: v }
      : c.object('fanout.nats', v, ['url', 'stream', 'subjectPrefix', 'maxAgeSeconds']);
  if (!o) return undefined;
  const d = DEFAULTS.nats;
  const url = c.string('fanout.nats.url', o.url);
  if (url !== undefined) {
    for (const u of url.split(',').map((x) => x.trim())) {
      // Never echo a URL that may hold a password.
      if (!/^(nats|tls):\/\/[^/]/.test(u) || !URL.canParse(u)) {
        const shown = URL.canParse(u) ? redactUrl(u) : 'a string that is not a URL';
        c.fail('fanout.nats.url', 'nats://host:port (several separated by commas)', shown);
      }
    }
  }
  const stream = opt(o.stream, d.stream, (x) => {
    const s = c.string('fanout.nats.stream', x);
    if (s !== undefined && !/^[^.*>/\\\s]+$/.test(s)) {
      return c.fail('fanout.nats.stream', 'a stream name without dots, wildcards, slashes or whitespace', x);
    }
    return s;
  });
  const subjectPrefix = opt(o.subjectPrefix, d.subjectPrefix, (x) => {
    const s = c.string('fanout.nats.subjectPrefix', x);
    if (s !== undefined && !s.split('.').every((t) => SUBJECT_TOKEN.test(t))) {
      return c.fail(
        'fanout.nats.subjectPrefix',
        'subject tokens separated by dots, without wildcards or whitespace',
        x,
      );
    }
    return s;
  });
  regions.forEach((r, i) => {
    if (!SUBJECT_TOKEN.test(r)) {
      c.problem(
        `regions[${i}]`,
        `${JSON.stringify(r)} cannot be a NATS subject token (no dots, wildcards or whitespace)`,
      );
    }
  });
  const maxAgeSeconds = opt(o.maxAgeSeconds, d.maxAgeSeconds, (x) =>
    c.integer('fanout.nats.maxAgeSeconds', x, 1),
  );
  return { url: url ?? '', stream, subjectPrefix, maxAgeSeconds };
}

function parseListen(c: Checker, v: unknown): { host: string; port: number } | undefined {
  if (typeof v === 'number') v = String(v);
  if (typeof v !== 'string') return c.fail('listen', 'host:port or a port', v);
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):)?(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) return c.fail('listen', 'host:port (127.0.0.1:8080, [::1]:8080) or a port', v);
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port };
}

function parseStore(c: Checker, v: unknown, baseDir: string): ServerConfig['store'] | undefined {
  if (typeof v === 'string' && /^postgres(ql)?:\/\//.test(v)) {
    // Never echo a URL that may hold a password.
    if (!URL.canParse(v)) return c.fail('store', 'a valid postgres:// URL', redactUrl(v));
    return { kind: 'postgres', url: v };
  }
  if (typeof v !== 'string' || !v.startsWith('sqlite:') || v.length === 'sqlite:'.length) {
    return c.fail('store', '"sqlite:<path>", "sqlite::memory:" or "postgres://<host>/<database>"', v);
  }
  const path = v.slice('sqlite:'.length);
  return { kind: 'sqlite', path: path === ':memory:' || isAbsolute(path) ? path : resolve(baseDir, path) };
}

const LIMIT_KEYS = [
  'maxBodyBytes',
  'maxRecordBytes',
  'maxErrors',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'keepAliveTimeoutMs',
  'maxQueuedEvents',
  'shutdownTimeoutMs',
  'rateLimit',
] as const;

function parseLimits(c: Checker, l: Record<string, unknown>): ServerConfig['limits'] {
  const d = DEFAULTS.limits;
  const limits: ServerConfig['limits'] = {
    maxBodyBytes: opt(l.maxBodyBytes, d.maxBodyBytes, (v) => c.size('limits.maxBodyBytes', v, 1)),
    maxRecordBytes: opt(l.maxRecordBytes, d.maxRecordBytes, (v) => c.size('limits.maxRecordBytes', v, 16)),
    maxErrors: opt(l.maxErrors, d.maxErrors, (v) => c.integer('limits.maxErrors', v, 0, 100_000)),
    headersTimeoutMs: opt(l.headersTimeoutMs, d.headersTimeoutMs, (v) =>
      c.integer('limits.headersTimeoutMs', v, 10),
    ),
    requestTimeoutMs: opt(l.requestTimeoutMs, d.requestTimeoutMs, (v) =>
      c.integer('limits.requestTimeoutMs', v, 10),
    ),
    keepAliveTimeoutMs: opt(l.keepAliveTimeoutMs, d.keepAliveTimeoutMs, (v) =>
      c.integer('limits.keepAliveTimeoutMs', v, 0),
    ),
    maxQueuedEvents: opt(l.maxQueuedEvents, d.maxQueuedEvents, (v) =>
      c.integer('limits.maxQueuedEvents', v, 1),
    ),
    shutdownTimeoutMs: opt(l.shutdownTimeoutMs, d.shutdownTimeoutMs, (v) =>
      c.integer('limits.shutdownTimeoutMs', v, 0),
    ),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    c.problem(
      'limits.headersTimeoutMs',
      `must not exceed limits.requestTimeoutMs (${limits.headersTimeoutMs} > ${limits.requestTimeoutMs})`,
    );
  }
  if (l.rateLimit !== undefined) limits.rateLimit = parseRateLimit(c, 'limits.rateLimit', l.rateLimit);
  return limits;
}

function parseRateLimit(c: Checker, path: string, v: unknown): RateLimitConfig | undefined {
  const r = c.object(path, v, ['requestsPerSecond', 'burst', 'eventsPerSecond', 'eventBurst']);
  if (!r) return undefined;
  const out: RateLimitConfig = {};
  let ok = true;
  for (const [rateKey, burstKey] of [
    ['requestsPerSecond', 'burst'],
    ['eventsPerSecond', 'eventBurst'],
  ] as const) {
    if (r[rateKey] === undefined) {
      if (r[burstKey] !== undefined) {
        c.fail(`${path}.${burstKey}`, `to be given with ${rateKey}`, r[burstKey]);
        ok = false;
      }
      continue;
    }
    const rate = c.number(`${path}.${rateKey}`, r[rateKey], 0.001);
    const burst =
      r[burstKey] === undefined
        ? Math.max(1, Math.ceil(rate ?? 1))
        : c.integer(`${path}.${burstKey}`, r[burstKey], 1);
    if (rate === undefined || burst === undefined) ok = false;
    else {
      out[rateKey] = rate;
      out[burstKey] = burst;
    }
  }
  if (r.requestsPerSecond === undefined && r.eventsPerSecond === undefined) {
    c.fail(path, 'requestsPerSecond, eventsPerSecond or both', v);
    return undefined;
  }
  return ok ? out : undefined;
}

const PRINCIPAL_KEYS = ['id', 'keys', 'namespaces', 'subscribe', 'admin', 'rateLimit'] as const;

function parsePrincipal(
  c: Checker,
  path: string,
  v: unknown,
  regions: string[],
): PrincipalConfig | undefined {
  const p = c.object(path, v, PRINCIPAL_KEYS);
  if (!p) return undefined;
  const id = c.id(`${path}.id`, p.id);
  const keys = c.list(
    `${path}.keys`,
    p.keys,
    (kp, k) => {
      if (typeof k !== 'string' || !KEY_HASH.test(k)) {
        return c.fail(kp, '"sha256:<64 hex>" (the line `sluice keys new` prints; never the key itself)', k);
      }
      return k;
    },
    true,
  );
  c.unique(`${path}.keys`, keys, 'key hash');
  const namespaces =
    p.namespaces === undefined ? [] : c.list(`${path}.namespaces`, p.namespaces, (q, x) => c.id(q, x));
  const subscribe =
    p.subscribe === undefined
      ? []
      : c.list(`${path}.subscribe`, p.subscribe, (q, x) => {
          const r = c.id(q, x);
          if (r !== undefined && !regions.includes(r))
            return c.fail(q, `one of the regions (${regions.join(', ')})`, r);
          return r;
        });
  const admin = p.admin === undefined ? false : (c.boolean(`${path}.admin`, p.admin) ?? false);
  const rateLimit =
    p.rateLimit === undefined ? undefined : parseRateLimit(c, `${path}.rateLimit`, p.rateLimit);
  if (id === undefined) return undefined;
  return { id, keys, namespaces, subscribe, admin, ...(rateLimit ? { rateLimit } : {}) };
}

/**
 * Reads a listen address (`127.0.0.1:8080`, `[::1]:0`, `8080`), as `--listen` takes it.
 * @throws SluiceError `SLUICE_E_USAGE` naming what was expected.
 */
export function parseListenAddress(text: string): { host: string; port: number } {
  const c = new Checker();
  const r = parseListen(c, text);
  if (!r)
    throw new SluiceError('SLUICE_E_USAGE', `--listen: ${c.problems[0]!.replace(/^listen: /, '')}`, {
      stage: 'config',
    });
  return r;
}
