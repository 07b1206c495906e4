/**
 * From the records of any format to {@link SegmentEvent}s, by field name: `uid`,
 * `seg`, `op`, `ts`, `ttl` (and `ns`, which must match the namespace in the path).
 * Records come as objects: an NDJSON object, a CSV or TSV row keyed by its header
 * row, or an event the `segments` format already made.
 *
 * - `op` absent or empty: `add`.
 * - `ts` absent, `null` or empty: the time the request was received. A string is read
 *   by `parseTimestamp` (unix seconds, unix milliseconds, RFC 3339). A JSON number must
 *   be a non-negative integer, read as seconds below 1e11 and milliseconds from there
 *   on, like a string of digits.
 * - `ttl` absent, `null` or empty: none. A string of digits is read as a number.
 * - `ns` absent or empty: the path's namespace; anything else is a validation error.
 * - With `numbersAreMs` (for formats whose tokens are already events, like `segments`),
 *   a numeric `ts` is milliseconds whatever its size.
 * - Any other field is a validation error (a misspelt `tll` must not become a
 *   membership that never expires).
 */
import {
  describeValue,
  parseTimestamp,
  SECONDS_CUTOFF,
  type SegmentEvent,
  validateSegmentEvent,
} from '../audience/segment-event.js';
import { SluiceError } from '../core/errors.js';

const INTEGER = /^\d+$/;

function invalid(message: string): never {
  throw new SluiceError('SLUICE_E_VALIDATION', message, { stage: 'transform' });
}

function empty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/**
 * The transform that turns one record into one event for namespace `ns`; `receivedAt`
 * (ms) stands in for an absent `ts`. It throws `SLUICE_E_VALIDATION` naming the field,
 * which the engine turns into a rejection with the record's line.
 */
export function toSegmentEvent(
  ns: string,
  receivedAt: number,
  { numbersAreMs = false }: { numbersAreMs?: boolean } = {},
): (record: unknown) => SegmentEvent {
  const readTs = numbersAreMs ? readTsMs : readTsAny;
  return (record) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      invalid(`expected an object with fields uid, seg, op, ts, ttl, got ${describeValue(record)}`);
    }
    const r = record as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(r)) {
      const v = r[key];
      switch (key) {
        case 'ns':
          if (!empty(v) && v !== ns) {
            invalid(
              `segment event ns: expected ${JSON.stringify(ns)} (the namespace in the path) or none, got ${describeValue(v)}`,
            );
          }
          break;
        case 'uid':
        case 'seg':
          out[key] = v;
          break;
        case 'op':
          if (!empty(v)) out.op = v;
          break;
        case 'ts':
          if (!empty(v)) out.ts = readTs(v);
          break;
        case 'ttl':
          if (!empty(v)) out.ttl = typeof v === 'string' && INTEGER.test(v) && v.length < 16 ? Number(v) : v;
          break;
        default:
          // validateSegmentEvent names the unknown field and lists the known ones.
          out[key] = v;
      }
    }
    out.ns = ns;
    out.op ??= 'add';
    out.ts ??= receivedAt;
    return validateSegmentEvent(out);
  };
}

/** For formats whose tokens are already events (`segments`): a number is milliseconds. */
function readTsMs(v: unknown): unknown {
  return typeof v === 'string' ? parseTimestamp(v) : v;
}

function readTsAny(v: unknown): unknown {
  if (typeof v === 'string') return parseTimestamp(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < SECONDS_CUTOFF) return v * 1000;
  // Other numbers pass through as milliseconds; validateSegmentEvent refuses what is not.
  return v;
}
