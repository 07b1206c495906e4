/**
 * Audience stores: the {@link AudienceStore} contract, the SQLite implementation, and
 * {@link openStore}, which opens one from a target string (`sqlite:./audience.db`), the
 * form the CLI's `-o` and the server's `store:` setting take.
 */
import { SluiceError } from '../../core/errors.js';
import { describeValue } from '../segment-event.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { AudienceStore } from './types.js';

export { APPLICATION_ID, openSqliteStore, SCHEMA_VERSION, type SqliteStoreOptions } from './sqlite.js';
export { openThreadedSqliteStore } from './threaded.js';
export type {
  ApplyResult,
  AudienceStore,
  IdempotencyLog,
  IdempotencyRecord,
  Membership,
  StoreRow,
} from './types.js';

/** A parsed store target. */
export interface StoreTarget {
  kind: 'sqlite';
  /** A file path, or `:memory:`. */
  path: string;
}

/** The store schemes sluice knows, as `scheme:` prefixes. */
export const STORE_SCHEMES = ['sqlite:'] as const;

/**
 * Reads a store target: `sqlite:<path>` (`sqlite::memory:` for a private in-memory store).
 * Returns undefined for a string that names no store scheme (a plain output path).
 *
 * @throws SluiceError `SLUICE_E_OPTION` for `sqlite:` with no path.
 */
export function parseStoreTarget(target: string): StoreTarget | undefined {
  if (!target.startsWith('sqlite:')) return undefined;
  const path = target.slice('sqlite:'.length);
  if (path.trim() === '') {
    throw new SluiceError('SLUICE_E_OPTION', `store ${describeValue(target)}: expected sqlite:<path>`, {
      stage: 'config',
    });
  }
  return { kind: 'sqlite', path };
}

/**
 * Opens the store a target names (see {@link parseStoreTarget}).
 *
 * @throws SluiceError `SLUICE_E_OPTION` for a target that names no store, and whatever
 *   opening that store throws (`SLUICE_E_OUTPUT` for a file that cannot be opened).
 */
export async function openStore(target: string, options: SqliteStoreOptions = {}): Promise<AudienceStore> {
  const parsed = parseStoreTarget(target);
  if (!parsed) {
    throw new SluiceError(
      'SLUICE_E_OPTION',
      `store ${describeValue(target)}: expected one of ${STORE_SCHEMES.map((s) => `${s}<path>`).join(', ')}`,
      { stage: 'config' },
    );
  }
  return openSqliteStore(parsed.path, options);
}
