/**
 * A sink that applies {@link SegmentEvent}s to an {@link AudienceStore}: one
 * `store.apply` (one transaction) per pipeline batch, resolving once it is committed.
 *
 * The {@link Sink} contract has no per-item rejection: a sink takes a batch or fails
 * the run. So records are checked before they reach it, by {@link validateSegmentEvent}
 * used as the pipeline's last transform (the CLI does this for `-o sqlite:<path>`): a
 * record that is not a valid event is then rejected on its own, with its source and
 * line, under the run's error policy (`fail`, `skip`, `dead-letter=`). The sink checks
 * again, because a library user may leave the transform out: an invalid item then fails
 * the whole batch with `SLUICE_E_VALIDATION` and nothing of that batch is applied.
 */

import type { SegmentEvent } from '../audience/segment-event.js';
import { openSqliteStore, type SqliteStoreOptions } from '../audience/store/sqlite.js';
import type { ApplyResult, AudienceStore } from '../audience/store/types.js';
import type { Sink } from '../core/contracts.js';

export interface StoreSinkOptions {
  /** The sink's name in messages. @default 'store' */
  name?: string;
  /** Close the store when the sink closes. @default true */
  closeStore?: boolean;
  /** Called after each batch is committed, with what it did (for counters). */
  onApplied?: (result: ApplyResult) => void;
}

/** A sink over any audience store. */
export function storeSink(store: AudienceStore, options: StoreSinkOptions = {}): Sink<SegmentEvent> {
  const closeStore = options.closeStore ?? true;
  let closing: Promise<void> | undefined;
  return {
    name: options.name ?? 'store',
    async write(batch, signal) {
      if (batch.length === 0) return;
      signal.throwIfAborted();
      const result = await store.apply(batch);
      options.onApplied?.(result);
    },
    close() {
      closing ??= closeStore ? store.close() : Promise.resolve();
      return closing;
    },
  };
}

/**
 * Opens (creating if needed) a SQLite audience store at `path` and returns a sink over
 * it that closes it when the sink closes. Opening fails before any input is read.
 *
 * @example
 * ```ts
 * await pipeline({
 *   inputs: ['provider.txt'], from: 'segments',
 *   transforms: [validateSegmentEvent],          // bad records rejected one by one
 *   sinks: [await sqliteSink('./audience.db')],
 * });
 * ```
 */
export async function sqliteSink(
  path: string,
  options: SqliteStoreOptions & Omit<StoreSinkOptions, 'closeStore'> = {},
): Promise<Sink<SegmentEvent>> {
  const { name, onApplied, ...storeOptions } = options;
  const store = await openSqliteStore(path, storeOptions);
  return storeSink(store, {
    name: name ?? `sqlite:${path}`,
    ...(onApplied ? { onApplied } : {}),
  });
}
