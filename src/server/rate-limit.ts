/**
 * Per-principal rate limits, as token buckets refilled continuously up to their burst:
 *
 * - requests: a request takes one token before anything else happens; without one it is
 *   refused with 429 and a `Retry-After` saying when the next token comes.
 * - events: a request needs the bucket out of debt to start (at least one token), and
 *   every event it applies takes one, so a request may run the bucket into debt. How
 *   many events a body holds is only known once it is read, so the debt is what makes
 *   the limit exact on average: the principal's next request waits until it is repaid.
 */
import type { RateLimitConfig } from './config.js';

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly requests = new Map<string, Bucket>();
  private readonly events = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Admits a request of `id` under `limit`: 0 when it may go on (its request token is
   * taken), else the seconds to wait before retrying (at least 1, as `Retry-After` takes
   * whole seconds), and which limit refused it.
   */
  admit(id: string, limit: RateLimitConfig | undefined): { wait: number; by?: 'requests' | 'events' } {
    if (!limit) return { wait: 0 };
    const now = this.now();
    const e =
      limit.eventsPerSecond === undefined
        ? undefined
        : this.refill(this.events, id, limit.eventBurst!, limit.eventsPerSecond, now);
    if (e && e.tokens < 1) return { wait: waitFor(e.tokens, limit.eventsPerSecond!), by: 'events' };
    if (limit.requestsPerSecond !== undefined) {
      const r = this.refill(this.requests, id, limit.burst!, limit.requestsPerSecond, now);
      if (r.tokens < 1) return { wait: waitFor(r.tokens, limit.requestsPerSecond), by: 'requests' };
      r.tokens -= 1;
    }
    return { wait: 0 };
  }

  /** Takes `n` event tokens from `id` (it may go into debt); nothing without an event limit. */
  charge(id: string, limit: RateLimitConfig | undefined, n: number): void {
    if (limit?.eventsPerSecond === undefined || n <= 0) return;
    const b = this.refill(this.events, id, limit.eventBurst!, limit.eventsPerSecond, this.now());
    b.tokens -= n;
  }

  private refill(buckets: Map<string, Bucket>, id: string, burst: number, rate: number, now: number): Bucket {
    let b = buckets.get(id);
    if (!b) {
      b = { tokens: burst, updated: now };
      buckets.set(id, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.updated) / 1000) * rate);
    b.updated = now;
    return b;
  }
}

/** Whole seconds until a bucket holding `tokens` has one again. */
function waitFor(tokens: number, rate: number): number {
  return Math.max(1, Math.ceil((1 - tokens) / rate));
}
