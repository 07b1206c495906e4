/**
 * `Idempotency-Key`: a client that retries a POST with the same key (after a timeout,
 * a dropped connection) gets the first request's response, and its events are not
 * applied twice.
 *
 * Keys are scoped by principal: two principals may use the same key. Only a 200 is
 * remembered; an error leaves the key free, so the retry runs again (an error may have
 * applied part of a body, which is harmless: applying an event twice gives the same
 * state). A retry that arrives while the first request is still running is answered
 * 409; one that reuses a key for another namespace, region or format is answered 422.
 * Remembered responses are kept in an LRU of `maxEntries` for `ttlMs` (defaults:
 * 10,000 and 24 hours), in memory: a restart forgets them.
 */
import { HttpError } from './errors.js';
import { LruCache } from './lru.js';

interface Entry {
  fingerprint: string;
  /** Undefined while the first request runs. */
  body?: string;
}

export type IdempotencyBegin =
  | { kind: 'replay'; body: string }
  | { kind: 'run'; finish(body: string): void; abandon(): void }
  | { kind: 'none' };

const KEY = /^[\x21-\x7e]{1,255}$/;

export class IdempotencyCache {
  private readonly cache: LruCache<string, Entry>;

  constructor(maxEntries: number, ttlMs: number) {
    this.cache = new LruCache(maxEntries, ttlMs);
  }

  /**
   * Looks `key` up for `principal`. `fingerprint` names what the request does (its
   * namespace, region and format), so a key reused for something else is caught.
   * @throws HttpError 400 (a malformed key), 409 (in progress), 422 (reused differently).
   */
  begin(principal: string, key: string | undefined, fingerprint: string): IdempotencyBegin {
    if (key === undefined) return { kind: 'none' };
    if (!KEY.test(key)) {
      throw new HttpError(
        'SLUICE_E_USAGE',
        'Idempotency-Key: expected 1 to 255 visible ASCII characters (a UUID, say)',
      );
    }
    const id = `${principal}\u0000${key}`;
    const found = this.cache.get(id);
    if (found) {
      if (found.fingerprint !== fingerprint) {
        throw new HttpError(
          'SLUICE_E_IDEMPOTENCY_MISMATCH',
          'this Idempotency-Key was used for a request to another namespace, region or format',
        );
      }
      if (found.body === undefined) {
        throw new HttpError('SLUICE_E_CONFLICT', 'a request with this Idempotency-Key is still in progress', {
          headers: { 'Retry-After': '1' },
        });
      }
      return { kind: 'replay', body: found.body };
    }
    const entry: Entry = { fingerprint };
    this.cache.set(id, entry);
    return {
      kind: 'run',
      finish: (body) => {
        entry.body = body;
        // Re-set, so the TTL counts from the response, and the entry is back if it was evicted.
        this.cache.set(id, entry);
      },
      abandon: () => {
        if (this.cache.get(id) === entry) this.cache.delete(id);
      },
    };
  }
}
