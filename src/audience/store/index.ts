/**
 * Audience stores: the {@link AudienceStore} contract, the SQLite and PostgreSQL
 * implementations, and {@link openStore}, which opens one from a target string
 * (`sqlite:./audience.db`, `postgres://host/db`), the form the CLI's `-o` and the
 * server's `store:` setting take.
 */
import { SluiceError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact-url.js';
import { describeValue } from '../segment-event.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgres.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { AudienceStore } from './types.js';

export { openPostgresStore, type PostgresStoreOptions } from './postgres.js';
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
export type StoreTarget =
  | {
      kind: 'sqlite';
      /** A file path, or `:memory:`. */
      path: string;
    }
  | {
      kind: 'postgres';
      /** A connection URL, `postgres://user:password@host:port/database`. */
      url: string;
    };

/** The store schemes sluice knows, as `scheme:` prefixes. */
export const STORE_SCHEMES = ['sqlite:', 'postgres:', 'postgresql:'] as const;

/**
 * Reads a store target: `sqlite:<path>` (`sqlite::memory:` for a private in-memory store)
 * or a PostgreSQL URL (`postgres://…` or `postgresql://…`). Returns undefined for a string
 * that names no store scheme (a plain output path).
 *
 * @throws SluiceError `SLUICE_E_OPTION` for `sqlite:` with no path, or a PostgreSQL URL
 *   that does not parse.
 */
export function parseStoreTarget(target: string): StoreTarget | undefined {
  if (target.startsWith('postgres://') || target.startsWith('postgresql://')) {
    if (!URL.canParse(target)) {
      throw new SluiceError('SLUICE_E_OPTION', `store ${redactUrl(target)}: not a valid URL`, {
        stage: 'config',
      });
    }
    return { kind: 'postgres', url: target };
  }
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
export async function openStore(
  target: string,
  options: { sqlite?: SqliteStoreOptions; postgres?: PostgresStoreOptions } = {},
): Promise<AudienceStore> {
  const parsed = parseStoreTarget(target);
  if (!parsed) {
    throw new SluiceError(
      'SLUICE_E_OPTION',
      `store ${describeValue(target)}: expected sqlite:<path> or postgres://<host>/<database>`,
      { stage: 'config' },
    );
  }
  return parsed.kind === 'postgres'
    ? openPostgresStore(parsed.url, options.postgres)
    : openSqliteStore(parsed.path, options.sqlite);
}
