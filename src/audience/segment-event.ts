/**
 * The canonical token of the audience domain and the two checks every provider format
 * shares: {@link validateSegmentEvent} (is this object a well-formed event?) and
 * {@link parseTimestamp} (the provider timestamp forms sluice accepts). Both throw
 * `SLUICE_E_VALIDATION` errors whose message names the field and says
 * "expected X, got Y", so a rejected record tells the provider what to fix.
 */
import { SluiceError } from '../core/errors.js';

export type SegmentOp = 'add' | 'remove';

/** One change to one user's membership of one segment, in one client namespace. */
export interface SegmentEvent {
  /** Client namespace the data is for. */
  ns: string;
  /** User id within the namespace. */
  uid: string;
  /** Segment id; {@link ALL_SEGMENTS} with op `remove` removes the user from every segment (opt-out). */
  seg: string;
  op: SegmentOp;
  /** Event time, integer milliseconds since 1970-01-01T00:00:00Z, in [0, {@link MAX_TIMESTAMP_MS}]. */
  ts: number;
  /** Whole seconds the membership lives after `ts`; only on `add`. Absent: it does not expire. */
  ttl?: number;
}

/** The segment id that, removed, means "every segment". It cannot be added. */
export const ALL_SEGMENTS = '*';

/** The largest time a JavaScript `Date` can hold (+275760-09-13T00:00:00Z), in ms. */
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;

/**
 * Integer timestamps below this are unix seconds, at or above it unix milliseconds.
 * 1e11 seconds is the year 5138; 1e11 milliseconds is 1973-03-03T09:46:40Z. So every
 * seconds value up to the year 5138 and every milliseconds value from March 1973 on is
 * read correctly; a milliseconds value before March 1973 would be misread as seconds
 * (write those as RFC 3339).
 */
export const SECONDS_CUTOFF = 1e11;

const FIELDS = new Set(['ns', 'uid', 'seg', 'op', 'ts', 'ttl']);

/**
 * Characters no id (namespace, uid, segment) may contain in any format: C0 and C1
 * control characters, DEL, and lone surrogates (not Unicode text; a UTF-8 writer or a
 * PostgreSQL `text` column would corrupt or refuse them).
 */
const BAD_ID_CHAR = /[\u0000-\u001f\u007f-\u009f]|\p{Surrogate}/u;

function fail(field: string, expected: string, got: unknown): never {
  throw new SluiceError(
    'SLUICE_E_VALIDATION',
    `segment event ${field}: expected ${expected}, got ${describeValue(got)}`,
    { stage: 'transform' },
  );
}

/** A short, safe rendering of any value for an error message. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') {
    const s = v.length > 64 ? `${v.slice(0, 64)}…` : v;
    return JSON.stringify(s);
  }
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  return `${typeof v} ${String(v)}`;
}

/**
 * Why `id` is not a valid id, or undefined when it is: the rule shared by every
 * format (non-empty, no control characters, well-formed Unicode). Formats with a
 * narrower syntax (the `segments` line format) add their own rules on top.
 */
export function idProblem(id: string): string | undefined {
  if (id.length === 0) return 'is empty';
  const m = BAD_ID_CHAR.exec(id);
  if (m) return `contains ${codePointName(m[0])} at index ${m.index}`;
  return undefined;
}

/** `U+0009`, for messages about characters that cannot be shown as themselves. */
export function codePointName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

function checkId(field: string, v: unknown): string {
  if (typeof v !== 'string') fail(field, 'a non-empty string', v);
  const problem = idProblem(v);
  if (problem !== undefined) {
    throw new SluiceError('SLUICE_E_VALIDATION', `segment event ${field} ${problem}: ${describeValue(v)}`, {
      stage: 'transform',
    });
  }
  return v;
}

/** True for an integer number of ms that a `Date` can hold, from the epoch on. */
export function isValidTimestampMs(ts: unknown): ts is number {
  return typeof ts === 'number' && Number.isSafeInteger(ts) && ts >= 0 && ts <= MAX_TIMESTAMP_MS;
}

/**
 * Checks that `obj` is a well-formed {@link SegmentEvent} and returns a fresh copy
 * holding only its fields. `ttl` absent, `undefined` or `null` all mean "no ttl"
 * (JSON producers often write `null` for absent). Unknown fields are rejected, so a
 * misspelt `tll` is an error and not a membership that silently never expires.
 *
 * @throws SluiceError `SLUICE_E_VALIDATION`, naming the field: `segment event ts:
 *   expected an integer number of milliseconds ..., got string "2024-05-01"`.
 * @example
 * ```ts
 * validateSegmentEvent({ ns: 'acme', uid: 'u1', seg: 'sports', op: 'add', ts: 1714564800000 });
 * ```
 */
export function validateSegmentEvent(obj: unknown): SegmentEvent {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new SluiceError(
      'SLUICE_E_VALIDATION',
      `segment event: expected an object, got ${describeValue(obj)}`,
      { stage: 'transform' },
    );
  }
  const o = obj as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!FIELDS.has(key)) {
      throw new SluiceError(
        'SLUICE_E_VALIDATION',
        `segment event: unknown field ${JSON.stringify(key)} (known: ${[...FIELDS].join(', ')})`,
        { stage: 'transform' },
      );
    }
  }
  const ns = checkId('ns', o.ns);
  const uid = checkId('uid', o.uid);
  const seg = checkId('seg', o.seg);
  const op = o.op;
  if (op !== 'add' && op !== 'remove') fail('op', '"add" or "remove"', op);
  const ts = o.ts;
  if (!isValidTimestampMs(ts)) {
    fail(
      'ts',
      `an integer number of milliseconds since 1970-01-01T00:00:00Z, at most ${MAX_TIMESTAMP_MS}`,
      ts,
    );
  }
  if (seg === ALL_SEGMENTS && op === 'add') {
    fail('seg', 'a segment id other than "*" for op "add" ("*" can only be removed)', seg);
  }
  const event: SegmentEvent = { ns, uid, seg, op, ts };
  const ttl = o.ttl;
  if (ttl !== undefined && ttl !== null) {
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0) {
      fail('ttl', 'a whole number of seconds >= 0', ttl);
    }
    if (op !== 'add') fail('ttl', 'no ttl on a removal (only an added membership expires)', ttl);
    event.ttl = ttl;
  }
  return event;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const INTEGER = /^\d+$/;
const MS_PER_DAY = 86_400_000;

/** Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * Reads a provider timestamp and returns integer milliseconds since the epoch.
 *
 * - Unix time: a string of ASCII digits. Values below {@link SECONDS_CUTOFF} (1e11) are
 *   seconds, others milliseconds: `1714564800` and `1714564800000` are the same instant.
 *   No sign, no fraction, no spaces.
 * - RFC 3339 (section 5.6, strict): `2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.250+02:00`.
 *   `T` and `Z` may be lower case (as RFC 3339 allows); a space instead of `T`, a
 *   missing offset, or a date alone are rejected. Fractions are truncated to the
 *   millisecond. A leap second (`:60`) is accepted only where it can occur, at
 *   23:59:60 UTC, and is read as the following second.
 *
 * The result must lie in [0, {@link MAX_TIMESTAMP_MS}]: times before 1970 are rejected.
 *
 * @throws SluiceError `SLUICE_E_VALIDATION` naming what is wrong: `bad timestamp
 *   "2024-13-45T00:00:00Z": month 13 is out of range (01-12)`.
 */
export function parseTimestamp(text: string): number {
  const r = readTimestamp(text);
  if (typeof r === 'string') {
    const what = typeof text === 'string' ? `bad timestamp ${describeValue(text)}` : 'bad timestamp';
    throw new SluiceError('SLUICE_E_VALIDATION', `${what}: ${r}`, {
      stage: 'transform',
    });
  }
  return r;
}

/**
 * {@link parseTimestamp} without the exception: the ms, or why `text` is not a
 * timestamp (`month 13 is out of range (01-12)`), for callers that word the error
 * themselves (a tokenizer adding the column).
 */
export function readTimestamp(text: string): number | string {
  if (typeof text !== 'string') return `expected a string, got ${describeValue(text)}`;
  if (INTEGER.test(text)) {
    // 20 digits is already far beyond the range; stop before Number() rounds.
    if (text.length > 20) return `out of range (at most ${MAX_TIMESTAMP_MS} ms)`;
    const n = Number(text);
    const ms = n < SECONDS_CUTOFF ? n * 1000 : n;
    if (ms > MAX_TIMESTAMP_MS) return `out of range (at most ${MAX_TIMESTAMP_MS} ms)`;
    return ms;
  }
  const m = RFC3339.exec(text);
  if (!m) {
    return 'expected unix seconds, unix milliseconds (digits only) or an RFC 3339 date-time such as 2024-05-01T12:00:00Z';
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12) return `month ${m[2]} is out of range (01-12)`;
  const dim = daysInMonth(year, month);
  if (day < 1 || day > dim) return `day ${m[3]} is out of range (01-${dim} for ${m[1]}-${m[2]})`;
  if (hour > 23) return `hour ${m[4]} is out of range (00-23)`;
  if (minute > 59) return `minute ${m[5]} is out of range (00-59)`;
  if (second > 60) return `second ${m[6]} is out of range (00-60)`;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23) return `offset hour ${m[9]} is out of range (00-23)`;
    if (om > 59) return `offset minute ${m[10]} is out of range (00-59)`;
    offsetMinutes = (oh * 60 + om) * (m[8] === '-' ? -1 : 1);
  }
  const fraction = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const ms =
    ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 +
    second * 1000 +
    fraction;
  // A leap second, read as the following second, lands on the first second of a UTC day.
  if (second === 60 && (((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) - fraction !== 0) {
    return 'a leap second (:60) can only be 23:59:60 UTC';
  }
  if (ms < 0) return 'before 1970-01-01T00:00:00Z';
  return ms;
}

/** 9999-12-31T23:59:59.999Z: the last instant RFC 3339 (four-digit years) can write. */
export const MAX_RFC3339_MS = 253_402_300_799_999;

/**
 * Writes integer ms as RFC 3339 in UTC with millisecond precision
 * (`2024-05-01T12:00:00.000Z`); {@link parseTimestamp} reads it back exactly.
 *
 * @throws RangeError outside [0, {@link MAX_RFC3339_MS}] or for a non-integer.
 */
export function formatTimestamp(ts: number): string {
  if (!Number.isSafeInteger(ts) || ts < 0 || ts > MAX_RFC3339_MS) {
    throw new RangeError(`formatTimestamp: expected integer ms in [0, ${MAX_RFC3339_MS}], got ${ts}`);
  }
  return new Date(ts).toISOString();
}
