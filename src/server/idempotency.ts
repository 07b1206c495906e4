/**
 * `Idempotency-Key`: a client that retries a POST with the same key (after a timeout,
 * a dropped connection, a server restart) gets the first request's response, and its
 * events are not applied twice.
 *
 * Keys are scoped by principal: two principals may use the same key. Only a 200 is
 * remembered; an error leaves the key free, so the retry runs again (an error may have
 * applied part of a body, which is harmless: applying an event twice gives the same
 * state). A retry that arrives while the first request is still running is answered
 * 409; one that reuses a key for another namespace, region or format is answered 422.
 *
 * Answers are kept for `ttlMs` (default 24 hours). In memory, an LRU of `maxEntries`
 * answers the common case (a retry seconds later) without a store read. When the store
 * keeps an {@link IdempotencyLog} (the SQLite and PostgreSQL stores do), every answer is
 * also written there before it is sent, and a key missing from memory is looked up
 * there, so a restart forgets nothing; expired answers are pruned from it now and then. Between the
 * last commit of a body and that write there is a window in which a crash leaves the
 * events applied and the answer unrecorded: the retry then applies them again, which
 * changes nothing unless they carried no `ts` (each try then stamps its own receipt time).
 */
import type { IdempotencyLog } from '../audience/store/types.js';
import { HttpError } from './errors.js';
import { LruCache } from './lru.js';

interface Entry {
  fingerprint: string;
  /** Undefined while the first request runs (or while the store is being asked). */
  body?: string;
}

export type IdempotencyBegin =
  | { kind: 'replay'; body: string }
  | { kind: 'run'; finish(body: string): Promise<void>; abandon(): void }
  | { kind: 'none' };

const KEY = /^[\x21-\x7e]{1,255}$/;
/** How often, at most, expired answers are deleted from the store's log. */
const PRUNE_EVERY_MS = 60_000;

export interface IdempotencyOptions {
  maxEntries: number;
  ttlMs: number;
  /** The store's durable log, if it keeps one. */
  log?: IdempotencyLog | undefined;
  /** Told when the log fails to record or prune (the answer is still sent: its events are durable). */
  onLogError?: (e: unknown) => void;
  now?: () => number;
}

export class IdempotencyCache {
  private readonly cache: LruCache<string, Entry>;
  private readonly now: () => number;
  private lastPrune = 0;

  constructor(private readonly options: IdempotencyOptions) {
    this.cache = new LruCache(options.maxEntries, options.ttlMs);
    this.now = options.now ?? Date.now;
  }

  /**
   * Looks `key` up for `principal`. `fingerprint` names what the request does (its
   * namespace, region and format), so a key reused for something else is caught.
   * @throws HttpError 400 (a malformed key), 409 (in progress), 422 (reused differently),
   *   503 (the store's log cannot be read).
   */
  async begin(principal: string, key: string | undefined, fingerprint: string): Promise<IdempotencyBegin> {
    if (key === undefined) return { kind: 'none' };
    if (!KEY.test(key)) {
      throw new HttpError(
        'SLUICE_E_USAGE',
        'Idempotency-Key: expected 1 to 255 visible ASCII characters (a UUID, say)',
      );
    }
    if (this.options.maxEntries === 0) return { kind: 'none' };
    // Neither a principal id nor a key holds a control character: an LF cannot be in
    // either, and unlike NUL a PostgreSQL text column takes it.
    const id = `${principal}\n${key}`;
    const found = this.cache.get(id);
    if (found) return this.answer(found, fingerprint);
    // In memory before the store is asked, so a concurrent retry sees it in progress.
    const entry: Entry = { fingerprint };
    this.cache.set(id, entry);
    const { log } = this.options;
    if (log) {
      let stored: Awaited<ReturnType<IdempotencyLog['get']>>;
      try {
        stored = await log.get(id);
      } catch (e) {
        this.forget(id, entry);
        throw new HttpError('SLUICE_E_SINK', `cannot read the idempotency record: ${(e as Error).message}`, {
          headers: { 'Retry-After': '1' },
          cause: e,
        });
      }
      if (stored !== undefined && stored.at > this.now() - this.options.ttlMs) {
        const done: Entry = { fingerprint: stored.fingerprint, body: stored.body };
        this.cache.set(id, done);
        return this.answer(done, fingerprint);
      }
    }
    return {
      kind: 'run',
      finish: async (body) => {
        entry.body = body;
        // Re-set, so the TTL counts from the response, and the entry is back if it was evicted.
        this.cache.set(id, entry);
        if (log) await this.record(log, id, entry.fingerprint, body);
      },
      abandon: () => this.forget(id, entry),
    };
  }

  private answer(found: Entry, fingerprint: string): IdempotencyBegin {
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

  private forget(id: string, entry: Entry): void {
    if (this.cache.get(id) === entry) this.cache.delete(id);
  }

  private async record(log: IdempotencyLog, id: string, fingerprint: string, body: string): Promise<void> {
    const now = this.now();
    try {
      await log.put(id, { fingerprint, body, at: now });
    } catch (e) {
      this.options.onLogError?.(e);
    }
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      log.prune(now - this.options.ttlMs).catch((e) => this.options.onLogError?.(e));
    }
  }
}
