/**
 * The worker side of {@link openThreadedSqliteStore}: opens the SQLite store in this
 * thread and answers the main thread's calls in order (`threaded.ts` has the protocol).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import {
  type PackedEvents,
  type StoreReply,
  type StoreRequest,
  toWireError,
  unpackEvents,
} from './threaded.js';
import type { AudienceStore, IdempotencyLog } from './types.js';

const port = parentPort;
if (!port) throw new Error('store-worker.js runs only as a worker thread');
const { path, options } = workerData as { path: string; options: SqliteStoreOptions };
const reply = (m: StoreReply) => port.postMessage(m);

let store: AudienceStore;
try {
  store = await openSqliteStore(path, options);
  reply({ id: 0, ok: true, value: 'ready' });
} catch (e) {
  reply({ id: 0, ok: false, error: toWireError(e) });
  process.exit(1);
}

/** The SQLite store always keeps idempotency records. */
function log(): IdempotencyLog {
  if (!store.idempotency) throw new Error('the store keeps no idempotency records');
  return store.idempotency;
}

/** A packed batch, or whatever the caller sent when it could not be packed (validation words it). */
function events(p: PackedEvents | unknown): unknown {
  const packed = p as PackedEvents;
  return packed !== null && typeof packed === 'object' && packed.ts instanceof Float64Array
    ? unpackEvents(packed)
    : p;
}

async function answer(m: StoreRequest): Promise<unknown> {
  switch (m.op) {
    case 'apply':
      return store.apply(events(m.events) as never);
    case 'user':
      return store.user(m.ns, m.uid, m.now);
    case 'snapshot':
      return store.snapshot();
    case 'ping':
      return store.ping();
    case 'idempotency.get':
      return log().get(m.key);
    case 'idempotency.put':
      return log().put(m.key, m.record);
    case 'idempotency.prune':
      return log().prune(m.before);
    case 'close':
      return store.close();
  }
}

port.on('message', (m: StoreRequest) => {
  // The store queues its own calls, so answers come back in the order of the requests.
  answer(m).then(
    (value) => reply({ id: m.id, ok: true, value }),
    (e) => reply({ id: m.id, ok: false, error: toWireError(e) }),
  );
});
