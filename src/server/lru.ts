/**
 * A bounded map with least-recently-used eviction and a time to live, for the
 * idempotency cache and the authorizer's decisions. A `Map` keeps insertion order, so
 * re-inserting on use makes its first key the least recently used one. Expired
 * entries are dropped when met; `maxEntries` bounds memory whatever the TTL.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; expires: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** Stores `value` for `ttlMs` (the cache's own by default). */
  set(key: K, value: V, ttlMs = this.ttlMs): void {
    if (this.maxEntries <= 0) return;
    this.map.delete(key);
    this.map.set(key, { value, expires: this.now() + ttlMs });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
