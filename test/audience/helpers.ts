import { randomBytes } from 'node:crypto';
import { expect, inject } from 'vitest';
import { openPostgresStore } from '../../src/audience/store/postgres.js';
import type { AudienceStore } from '../../src/audience/store/types.js';
import { SluiceError } from '../../src/core/errors.js';
import { tempFilesWith } from '../cli/helpers.js';

/** The SluiceError `p` rejects with (fails the test if it resolves or rejects with anything else). */
export async function failure(p: Promise<unknown>): Promise<SluiceError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SluiceError);
    return e as SluiceError;
  }
  throw new Error('expected a rejection');
}

/** The code of the SluiceError `p` rejects with. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  return (await failure(p)).code;
}

/** A temporary folder for one test file: `file()` names a fresh database file in it; `dir()` is the folder. */
export function tempFiles(prefix: string): { file: () => string; dir: () => string } {
  return tempFilesWith(prefix, '.db');
}

/** The test PostgreSQL server's URL (test/setup/postgres.ts), or '' when there is none. */
export const postgresUrl: string = inject('postgresUrl');

let schemaNo = 0;
/**
 * Opens a PostgreSQL store in a fresh schema of its own, on the test server. Its
 * parameters match `openSqliteStore`'s so it can stand in a table of stores; the path
 * and SQLite options are ignored.
 */
export function openTestPostgresStore(_path?: string, _options?: unknown): Promise<AudienceStore> {
  const schema = `t_${randomBytes(4).toString('hex')}_${++schemaNo}`;
  return openPostgresStore(postgresUrl, { schema });
}
