/**
 * The SQLite store in a worker thread of its own, behind the same {@link AudienceStore}
 * contract. better-sqlite3 is synchronous: in-process, every upsert runs on the event
 * loop's thread, so a server's HTTP parsing and its store writes take turns on one core.
 * Here the connection lives in a worker, the main thread only packs events and posts
 * them, and on two cores both run at once (`bench/serve.mjs` measures the difference).
 *
 * Events cross as columns (one array per field), which the structured clone copies
 * several times faster than an array of small objects. Calls are answered in the order
 * they were made, as the in-process store answers them; the worker validates events,
 * so a bad one rejects its call with the same `SLUICE_E_VALIDATION` error.
 *
 * A worker that dies (out of memory, a crash in the addon) rejects every call in
 * flight and every later call with `SLUICE_E_SINK`: never a silent loss. The worker
 * does not keep the process alive while no call is in flight.
 */
import { Worker } from 'node:worker_threads';
import { type ErrorCode, isSluiceError, SluiceError, type Stage } from '../../core/errors.js';
import { workerScript } from '../../core/worker-script.js';
import type { SegmentEvent } from '../segment-event.js';
import type { SqliteStoreOptions } from './sqlite.js';
import type {
  ApplyResult,
  AudienceStore,
  IdempotencyLog,
  IdempotencyRecord,
  Membership,
  StoreRow,
} from './types.js';

/** Events as columns; `ttl` is NaN where an event has none. */
export interface PackedEvents {
  ns: string[];
  uid: string[];
  seg: string[];
  /** 1 for remove, 0 for add. */
  remove: Uint8Array;
  ts: Float64Array;
  ttl: Float64Array;
}

export type StoreRequest =
  | { id: number; op: 'apply'; events: PackedEvents }
  | { id: number; op: 'user'; ns: string; uid: string; now: number | undefined }
  | { id: number; op: 'snapshot' }
  | { id: number; op: 'ping' }
  | { id: number; op: 'idempotency.get'; key: string }
  | { id: number; op: 'idempotency.put'; key: string; record: IdempotencyRecord }
  | { id: number; op: 'idempotency.prune'; before: number }
  | { id: number; op: 'close' };

export interface WireError {
  code?: ErrorCode;
  stage?: Stage;
  message: string;
}

export type StoreReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError }
  | { id: 0; ok: true; value: 'ready' }
  | { id: 0; ok: false; error: WireError };

/**
 * Packs events into columns, in one pass, or gives undefined when packing would change
 * one (a field of the wrong type, a field it would drop such as a misspelt `tll`): the
 * caller then sends the events as they are, and the worker's validation names the fault.
 */
export function packEvents(events: readonly SegmentEvent[]): PackedEvents | undefined {
  const n = events.length;
  const out: PackedEvents = {
    ns: new Array<string>(n),
    uid: new Array<string>(n),
    seg: new Array<string>(n),
    remove: new Uint8Array(n),
    ts: new Float64Array(n),
    ttl: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    if (!packable(e)) return undefined;
    out.ns[i] = e.ns;
    out.uid[i] = e.uid;
    out.seg[i] = e.seg;
    out.remove[i] = e.op === 'remove' ? 1 : 0;
    out.ts[i] = e.ts;
    out.ttl[i] = e.ttl ?? Number.NaN;
  }
  return out;
}

export function unpackEvents(p: PackedEvents): SegmentEvent[] {
  const n = p.uid.length;
  const out = new Array<SegmentEvent>(n);
  for (let i = 0; i < n; i++) {
    const ttl = p.ttl[i]!;
    const e: SegmentEvent = {
      ns: p.ns[i]!,
      uid: p.uid[i]!,
      seg: p.seg[i]!,
      op: p.remove[i] === 1 ? 'remove' : 'add',
      ts: p.ts[i]!,
    };
    if (!Number.isNaN(ttl)) e.ttl = ttl;
    out[i] = e;
  }
  return out;
}

/** True when packing keeps every field of `e` as it is. */
function packable(e: SegmentEvent): boolean {
  if (
    typeof e !== 'object' ||
    e === null ||
    typeof e.ns !== 'string' ||
    typeof e.uid !== 'string' ||
    typeof e.seg !== 'string' ||
    (e.op !== 'add' && e.op !== 'remove') ||
    typeof e.ts !== 'number' ||
    (e.ttl !== undefined && (typeof e.ttl !== 'number' || Number.isNaN(e.ttl)))
  ) {
    return false;
  }
  let keys = 0;
  for (const k in e) {
    if (!EVENT_KEYS.has(k)) return false;
    keys++;
  }
  return keys === (e.ttl === undefined ? ('ttl' in e ? 6 : 5) : 6);
}

const EVENT_KEYS = new Set(['ns', 'uid', 'seg', 'op', 'ts', 'ttl']);

export function toWireError(e: unknown): WireError {
  if (isSluiceError(e)) return { code: e.code, stage: e.stage, message: e.message };
  return { message: e instanceof Error ? e.message : String(e) };
}

function fromWireError(w: WireError): SluiceError {
  return new SluiceError(w.code ?? 'SLUICE_E_SINK', w.message, { stage: w.stage ?? 'sink' });
}

interface Call {
  resolve(value: unknown): void;
  reject(e: unknown): void;
}

/**
 * Opens the SQLite store at `path` (or `':memory:'`, private to the worker) in a worker
 * thread. Resolves once it is open, with the same errors {@link openSqliteStore} gives.
 */
export async function openThreadedSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<AudienceStore> {
  const worker = new Worker(workerScript(import.meta.url, 'src/audience/store/store-worker.js'), {
    workerData: { path, options },
  });
  const store = new ThreadedStore(worker, path);
  try {
    await store.ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  return store;
}

class ThreadedStore implements AudienceStore {
  readonly ready: Promise<void>;
  readonly idempotency: IdempotencyLog = {
    get: (key) => this.call({ op: 'idempotency.get', key }) as Promise<IdempotencyRecord | undefined>,
    put: (key, record) => this.call({ op: 'idempotency.put', key, record }) as Promise<void>,
    prune: (before) => this.call({ op: 'idempotency.prune', before }) as Promise<number>,
  };
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private dead: SluiceError | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly worker: Worker,
    private readonly path: string,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.calls.set(0, { resolve: () => resolve(), reject });
    });
    worker.on('message', (m: StoreReply) => {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (m.ok) call.resolve(m.value);
      else call.reject(fromWireError(m.error));
      this.updateRef();
    });
    worker.on('error', (e) => this.fail(`the store worker failed: ${e.message}`));
    worker.on('exit', (code) => this.fail(`the store worker exited (code ${code})`));
  }

  apply(events: readonly SegmentEvent[]): Promise<ApplyResult> {
    const packed = Array.isArray(events) ? packEvents(events) : undefined;
    if (packed === undefined) {
      // Let the worker's validation word the error; it sees the same value either way.
      return this.call({ op: 'apply', events: events as never }) as Promise<ApplyResult>;
    }
    if (events.length === 0) return Promise.resolve({ applied: 0, ignored: 0 });
    return this.call({ op: 'apply', events: packed }) as Promise<ApplyResult>;
  }

  user(ns: string, uid: string, now?: number): Promise<Membership[]> {
    return this.call({ op: 'user', ns, uid, now }) as Promise<Membership[]>;
  }

  snapshot(): Promise<StoreRow[]> {
    return this.call({ op: 'snapshot' }) as Promise<StoreRow[]>;
  }

  ping(): Promise<void> {
    return this.call({ op: 'ping' }) as Promise<void>;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.dead) {
        try {
          await this.call({ op: 'close' }, true);
        } finally {
          this.dead ??= this.closedError();
          await this.worker.terminate();
        }
      }
    })();
    return this.closing;
  }

  private call(
    request: Omit<StoreRequest, 'id'> & Record<string, unknown>,
    closing = false,
  ): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.closing && !closing) return Promise.reject(this.closedError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.updateRef();
      try {
        this.worker.postMessage({ ...request, id });
      } catch (e) {
        // Not cloneable (a function inside an event, say): the in-process store would refuse it too.
        this.calls.delete(id);
        this.updateRef();
        reject(
          new SluiceError('SLUICE_E_VALIDATION', `apply: ${(e as Error).message}`, {
            stage: 'sink',
            cause: e,
          }),
        );
      }
    });
  }

  /** Keeps the process alive only while a call waits for its answer. */
  private updateRef(): void {
    if (this.calls.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private closedError(): SluiceError {
    return new SluiceError('SLUICE_E_SINK', `sqlite store ${this.path} is closed`, { stage: 'sink' });
  }

  private fail(message: string): void {
    if (this.dead) return;
    this.dead = new SluiceError('SLUICE_E_SINK', `sqlite store ${this.path}: ${message}`, { stage: 'sink' });
    for (const call of this.calls.values()) call.reject(this.dead);
    this.calls.clear();
  }
}
