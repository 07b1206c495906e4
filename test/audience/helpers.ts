import { expect } from 'vitest';
import { SluiceError } from '../../src/core/errors.js';

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
