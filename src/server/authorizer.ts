/**
 * Authorization: may this principal do this action on this resource? The server asks
 * an {@link Authorizer} after authentication and before reading any body byte. Two
 * come with sluice: the static policy from the config, and a client of an HTTP
 * authorization service that caches decisions and fails closed.
 */
import type { Principal } from './auth.js';
import type { AuthorizerServiceConfig } from './config.js';
import { LruCache } from './lru.js';

/**
 * - `write`: POST events to namespace `resource`;
 * - `read`: GET a user's segments in namespace `resource`;
 * - `subscribe`: receive the event stream of region `resource`;
 * - `admin`: use the `/debug` routes (`resource` is the route name, `profile`).
 */
export type Action = 'write' | 'read' | 'subscribe' | 'admin';

export interface AuthorizationRequest {
  principal: Principal;
  action: Action;
  resource: string;
}

/**
 * Decides whether a request may go on. Lifecycle: `authorize` may be called
 * concurrently, any number of times, until `close`; it must not throw (a failure to
 * decide is a denial) and should answer in well under the request timeout. `close` is
 * called once when the server stops and must be idempotent.
 */
export interface Authorizer {
  authorize(request: AuthorizationRequest): boolean | Promise<boolean>;
  close?(): void | Promise<void>;
}

/**
 * The policy in the config: a principal writes to and reads from its `namespaces`,
 * subscribes to its `subscribe` regions, and uses the debug routes when `admin`.
 */
export function staticAuthorizer(): Authorizer {
  return {
    authorize({ principal, action, resource }) {
      const c = principal.config;
      switch (action) {
        case 'write':
        case 'read':
          return c.namespaces.includes(resource);
        case 'subscribe':
          return c.subscribe.includes(resource);
        case 'admin':
          return c.admin;
        default:
          return false;
      }
    },
  };
}

export interface HttpAuthorizerStats {
  /** Decisions asked of the service. */
  requests: number;
  /** Answers given from the cache. */
  cacheHits: number;
  /** Requests that failed (timeout, network error, non-2xx, bad body): each was a denial. */
  failures: number;
}

/**
 * Asks an HTTP service: `POST <url>` with
 * `{"principal": "acme-data", "action": "write", "resource": "acme"}`; a `2xx`
 * answer with the JSON body `{"allow": true}` allows, any other answer denies.
 * Decisions (allow and deny alike) are cached for `cacheTtlMs`, keyed by principal,
 * action and resource, in an LRU of `cacheSize` entries; concurrent identical
 * questions share one request. A timeout (`timeoutMs`), a network error, a non-2xx
 * status or a body that is not `{"allow": boolean}` denies and is **not** cached, so
 * the service is asked again on the next request.
 */
export function httpAuthorizer(config: AuthorizerServiceConfig): Authorizer & { stats: HttpAuthorizerStats } {
  const cache = new LruCache<string, boolean>(config.cacheSize, config.cacheTtlMs);
  const inflight = new Map<string, Promise<boolean>>();
  const stats: HttpAuthorizerStats = { requests: 0, cacheHits: 0, failures: 0 };
  const controller = new AbortController();

  async function ask(request: AuthorizationRequest): Promise<boolean> {
    stats.requests++;
    try {
      const res = await fetch(config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          principal: request.principal.id,
          action: request.action,
          resource: request.resource,
        }),
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(config.timeoutMs)]),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`status ${res.status}`);
      const body = JSON.parse(text) as { allow?: unknown };
      if (typeof body?.allow !== 'boolean') throw new Error('expected {"allow": true|false}');
      if (config.cacheTtlMs > 0) cache.set(key(request), body.allow);
      return body.allow;
    } catch {
      stats.failures++;
      return false;
    }
  }

  return {
    stats,
    authorize(request) {
      const k = key(request);
      const cached = cache.get(k);
      if (cached !== undefined) {
        stats.cacheHits++;
        return cached;
      }
      let p = inflight.get(k);
      if (!p) {
        p = ask(request).finally(() => inflight.delete(k));
        inflight.set(k, p);
      }
      return p;
    },
    close() {
      controller.abort();
      cache.clear();
    },
  };
}

function key(r: AuthorizationRequest): string {
  return `${r.principal.id}\u0000${r.action}\u0000${r.resource}`;
}
