/**
 * The audience store contract: where {@link SegmentEvent}s are applied and memberships
 * are read back. SQLite implements it now (`sqlite.ts`); PostgreSQL can follow behind
 * the same interface. The semantics are in `docs/reference/store.md`; in short, the
 * state is a pure function of the set of events applied, whatever their order or
 * batching:
 *
 * - per (ns, uid, seg) the store keeps the winning event: the greatest `ts`; at equal
 *   `ts` a `remove` beats an `add`; between two adds at equal `ts` the longer-lived one
 *   wins (no ttl beats any ttl, a larger ttl beats a smaller one). Removes are kept
 *   (tombstones), so an older add arriving late loses.
 * - per (ns, uid) the store keeps the greatest `ts` of a `seg: '*'` remove (opt-out).
 * - a membership is live at `now` when its winning event is an `add`, its `ts` is
 *   greater than the user's opt-out `ts` (a tie goes to the opt-out), and it has no
 *   ttl or `now < ts + ttl * 1000`. Opt-outs and expiry are applied when reading.
 */
import type { SegmentEvent } from '../segment-event.js';

/** A live membership, as {@link AudienceStore.user} returns it. */
export interface Membership {
  seg: string;
  /** The `ts` of the add that made it (ms since the epoch). */
  ts: number;
  /** `ts + ttl * 1000` (ms); absent when the membership does not expire. */
  expiresAt?: number;
}

/** What one {@link AudienceStore.apply} call did. `applied + ignored` is the number of events given. */
export interface ApplyResult {
  /** Events that became the store's winning event for their key (they changed the state). */
  applied: number;
  /**
   * Events that did not change the state: older than what the store has, losing a tie to
   * it, or equal to it (a duplicate).
   */
  ignored: number;
}

/**
 * One row of {@link AudienceStore.snapshot}: the winning event of one (ns, uid, seg), or,
 * with `seg: '*'` and `op: 'remove'`, the latest opt-out of one (ns, uid). `ttl` is present
 * only on adds that have one.
 */
export type StoreRow = SegmentEvent;

/** A remembered answer to a request that carried an `Idempotency-Key`. */
export interface IdempotencyRecord {
  /** What the request did (namespace, region, format, options): a reused key must match it. */
  fingerprint: string;
  /** The response body that was sent. */
  body: string;
  /** When it was answered (ms since the epoch). */
  at: number;
}

/**
 * Answers to requests with an `Idempotency-Key`, kept with the data they describe, so a
 * client retrying after a server restart gets the first answer instead of applying its
 * body again (`src/server/idempotency.ts`). Ids are opaque strings without NUL, which a
 * PostgreSQL text column refuses (the server's are the principal and the key, joined by
 * an LF).
 */
export interface IdempotencyLog {
  get(id: string): Promise<IdempotencyRecord | undefined>;
  /** Records (or replaces) the answer for `id`; resolves once it is as durable as an `apply`. */
  put(id: string, record: IdempotencyRecord): Promise<void>;
  /** Forgets every answer given before `before` (ms); resolves with how many. */
  prune(before: number): Promise<number>;
}

export interface AudienceStore {
  /**
   * Where answers to idempotent requests are kept, when the store keeps them (the SQLite
   * store does). Without it the server remembers them in memory only.
   */
  readonly idempotency?: IdempotencyLog;
  /**
   * Applies events atomically as one batch (all or none) and resolves once they are
   * committed (durability: see the implementation's options). Any order, and any split
   * into calls, of the same events gives the same state. Every event must be a valid
   * {@link SegmentEvent} (see `validateSegmentEvent`); if one is not, the call rejects with
   * `SLUICE_E_VALIDATION` and applies nothing. Calls are applied one after another in the
   * order they were made.
   */
  apply(events: readonly SegmentEvent[]): Promise<ApplyResult>;
  /**
   * The user's live memberships at time `now` (ms since the epoch; default `Date.now()`),
   * sorted by `seg` in code point order. Reflects every `apply` that has resolved.
   */
  user(ns: string, uid: string, now?: number): Promise<Membership[]>;
  /**
   * A canonical dump of the whole state, for tests and debugging: every (ns, uid, seg) row
   * with its op, ts and ttl, plus every `'*'` opt-out row, sorted by (ns, uid, seg) in code
   * point order. Two stores that applied the same set of events have equal snapshots.
   */
  snapshot(): Promise<StoreRow[]>;
  /**
   * Resolves once the store answers a trivial query: what a readiness probe asks. Rejects
   * with `SLUICE_E_SINK` when the store cannot (closed, its file gone, its worker dead).
   */
  ping(): Promise<void>;
  /** Waits for calls in progress, then releases the store. Idempotent; other calls after it reject. */
  close(): Promise<void>;
}
