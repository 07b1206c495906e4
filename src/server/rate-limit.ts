/**
 * Per-principal rate limits: one token bucket per principal, refilled continuously at
 * `requestsPerSecond` up to `burst`. A request takes one token; without one it is
 * refused with 429 and a `Retry-After` saying when the next token comes.
 */
import type { RateLimitConfig } from './config.js';

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Takes a token for `id` under `limit`: 0 when the request may go on, else the
   * seconds to wait before retrying (at least 1, as `Retry-After` takes whole seconds).
   */
  take(id: string, limit: RateLimitConfig | undefined): number {
    if (!limit) return 0;
    const now = this.now();
    let b = this.buckets.get(id);
    if (!b) {
      b = { tokens: limit.burst, updated: now };
      this.buckets.set(id, b);
    }
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.updated) / 1000) * limit.requestsPerSecond);
    b.updated = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / limit.requestsPerSecond));
  }
}
