/**
 * The verbatim fast path (ADR 0008): when a run converts a format to itself and nothing
 * but the byte serializer will see the items, a record the format proves canonical
 * (`Format.canonical`) goes to the output as its own text, neither tokenized nor
 * serialized. `tokenizeBatch` wraps such a record in a {@link VerbatimRecord} item;
 * `writeBatch` writes its text. Both the in-process pipeline and the worker threads use
 * these two steps, so the fast path has one implementation, and its output is the slow
 * path's, byte for byte, by the format's promise.
 */
import type { Format, Serializer } from './contracts.js';
import { resolveOptions } from './options.js';

/** A record's check: true when the record is copied through as it is. */
export type CanonicalCheck = (record: string) => boolean;

/**
 * An item that is a record's own text, to be written as it is. Only made when the run
 * qualifies ({@link verbatimApplies}), so only `writeBatch` with the run's serializer
 * ever sees one: never a transform, an object sink or a serializer's `header`.
 */
export class VerbatimRecord {
  constructor(readonly text: string) {}
}

export interface VerbatimRun {
  // biome-ignore lint/suspicious/noExplicitAny: any format, any options.
  from: Format<any, any>;
  fromOptions: Record<string, unknown> | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  to: Format<any, any> | undefined;
  toOptions: Record<string, unknown> | undefined;
  /** The run's byte serializer, if it writes bytes. */
  serializer: Serializer<unknown> | undefined;
  /** Transforms of any kind (functions or modules). */
  transforms: number;
  /** Sinks that receive items as objects (besides the byte output). */
  objectSinks: number;
}

/**
 * Whether a run may take the verbatim fast path: the same format on both sides with the
 * same options, a `canonical` check, a serializer without a header, no transforms, and
 * no consumer of items but that serializer.
 */
export function verbatimApplies(run: VerbatimRun): boolean {
  const { from, to, serializer } = run;
  if (to === undefined || from !== to || from.canonical === undefined) return false;
  if (serializer === undefined || serializer.header !== undefined) return false;
  if (run.transforms > 0 || run.objectSinks > 0) return false;
  const a = resolveOptions(from.options, run.fromOptions, `${from.name}.`) as Record<string, unknown>;
  const b = resolveOptions(to.options, run.toOptions, `${to.name}.`) as Record<string, unknown>;
  return sameOptions(a, b);
}

/** The format's check for its resolved options, when it has one. */
// biome-ignore lint/suspicious/noExplicitAny: any format, any options.
export function canonicalCheck(format: Format<any, any>, options: object): CanonicalCheck | undefined {
  return format.canonical?.(options);
}

/** Resolved options are flat records of strings, numbers, booleans and lists of strings. */
function sameOptions(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length || x.some((v, i) => !Object.is(v, y[i]))) return false;
    } else if (!Object.is(x, y)) {
      return false;
    }
  }
  return true;
}
