import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';
import { tempDir } from '../cli/helpers.js';

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

/**
 * A temporary folder for one test file, made before its tests and removed after them.
 * `file()` names a fresh file in it; `dir()` is the folder.
 */
export function tempFiles(prefix: string): { file: () => string; dir: () => string } {
  let dir = '';
  let cleanup: (() => Promise<void>) | undefined;
  let n = 0;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(() => cleanup?.());
  return { file: () => join(dir, `${prefix}-${++n}.db`), dir: () => dir };
}
