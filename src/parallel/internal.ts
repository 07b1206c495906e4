/**
 * Helpers shared by the parallel stages: option checks whose messages read
 * "name: expected X, got Y" (the form `src/core/options.ts` uses for format
 * options), and the abort plumbing both stages wire the same way. Internal: not
 * re-exported from `src/parallel/index.ts`.
 */
import { isSluiceError, SluiceError } from '../core/errors.js';

/** How a rejected value is shown in a message: strings quoted so `"4"` and `4` read differently. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return `an object (${v.constructor?.name ?? 'no prototype'})`;
  return String(v);
}

/** Throws the coded option error; `stage: 'config'` because these are caller mistakes, not data errors. */
export function optionError(name: string, expected: string, got: unknown): never {
  throw new SluiceError('SLUICE_E_OPTION', `${name}: expected ${expected}, got ${describeValue(got)}`, {
    stage: 'config',
  });
}

/**
 * Reads an integer option: `undefined` means "use the default"; anything else must be
 * a safe integer >= `min` (or `Infinity`, when `allowInfinity` is set).
 */
export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    optionError(name, `an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}`, value);
  }
  return value;
}

export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') optionError(name, 'true or false', value);
  return value;
}

export function signalOption(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) optionError(name, 'an AbortSignal', value);
  return value;
}

/** The error a stage is destroyed with when its `signal` option fires; the signal's reason is kept as `cause`. */
export function abortedError(reason: unknown): SluiceError {
  return new SluiceError('SLUICE_E_ABORTED', undefined, { cause: reason });
}

/**
 * The reason given to the signals of work still in flight when a stage is torn down.
 * An abort error passes through as is (so the chain stays one level deep); any other
 * failure becomes `SLUICE_E_ABORTED` with the failure as `cause`, so task code can
 * tell "I was cancelled" from "I failed" by the code alone.
 */
export function teardownReason(err: Error | null | undefined): SluiceError {
  if (isSluiceError(err) && err.code === 'SLUICE_E_ABORTED') return err;
  return err
    ? new SluiceError('SLUICE_E_ABORTED', `cancelled because the stream failed: ${err.message}`, {
        cause: err,
      })
    : new SluiceError('SLUICE_E_ABORTED', 'cancelled because the stream was destroyed');
}

/**
 * Calls `onAbort` once when `signal` aborts (at once, synchronously, if it already
 * has) and returns a function that detaches the listener. Detaching matters: a
 * long-lived signal shared by many streams would otherwise keep every one of them
 * reachable and trip Node's MaxListenersExceededWarning.
 */
export function whenAborted(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (signal === undefined) return noop;
  if (signal.aborted) {
    onAbort();
    return noop;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function noop(): void {}
