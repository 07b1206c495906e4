/**
 * The compact provider line format: one user per line,
 *
 *     <uid> TAB <item>[,<item>...] [TAB <timestamp>]
 *
 * where an item is `[-]<segment>[:<ttl seconds>]`. Every item becomes one
 * {@link SegmentEvent}; all items of a line share the line's timestamp (or, without
 * one, the time the line was read). A line is all or nothing: one bad item rejects
 * the whole line and none of its events is emitted.
 */
import {
  ALL_SEGMENTS,
  idProblem,
  isValidTimestampMs,
  readTimestamp,
  type SegmentEvent,
} from '../../src/audience/index.js';
import type { Position, Tokenizer } from '../../src/core/contracts.js';
import { type ErrorCode, SluiceError } from '../../src/core/errors.js';
import type { OptionsSchema } from '../../src/core/options.js';
import { columnAt, forbiddenChar, ID_RULE, quote } from './syntax.js';

export interface SegmentsOptions {
  /**
   * Namespace stamped on every event read, and the only namespace the serializer
   * writes (the format has no column for it).
   * @default 'default'
   */
  ns: string;
  /**
   * Seconds an added membership lives when its item gives no `:ttl`. Absent: such
   * memberships do not expire. Never applied to removals.
   */
  defaultTtl?: number;
}

export const segmentsOptions: OptionsSchema<SegmentsOptions> = {
  ns: { type: 'string', description: 'namespace stamped on every event', default: 'default' },
  defaultTtl: {
    type: 'integer',
    min: 0,
    description: 'ttl in seconds for added segments that give none (default: no expiry)',
  },
};

/** Returns the current time in ms since the epoch; `Date.now` unless a test injects another. */
export type Clock = () => number;

const TAB = '\t';
const INTEGER = /^\d+$/;
const BLANK = /^[ \t\r]*$/;

/** Checks options given directly (not through `resolveOptions`), so a bad `ns` fails at creation. */
export function checkSegmentsOptions(options: SegmentsOptions): void {
  const fail = (what: string, got: unknown): never => {
    throw new SluiceError(
      'SLUICE_E_OPTION',
      `option segments.${what}, got ${typeof got === 'string' ? quote(got) : String(got)}`,
      { stage: 'config' },
    );
  };
  if (typeof options.ns !== 'string' || idProblem(options.ns) !== undefined) {
    fail('ns: expected a non-empty namespace without control characters', options.ns);
  }
  const d = options.defaultTtl;
  if (d !== undefined && (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    fail('defaultTtl: expected an integer >= 0', d);
  }
}

/**
 * Makes a tokenizer. `clock` gives the time of ingestion for lines without a
 * timestamp; it is read at most once per line, so all items of a line share it.
 *
 * @example
 * ```ts
 * const t = createSegmentsTokenizer({ ns: 'acme' }, () => 1714564800000);
 * ```
 */
export function createSegmentsTokenizer(
  options: SegmentsOptions,
  clock: Clock = Date.now,
): Tokenizer<SegmentEvent> {
  checkSegmentsOptions(options);
  const { ns, defaultTtl } = options;
  return {
    tokenize(record: string, at: Position, out: SegmentEvent[]): void {
      tokenizeLine(record, at, out, ns, defaultTtl, clock);
    },
  };
}

function error(code: ErrorCode, message: string, at: Position, cause?: unknown): SluiceError {
  return new SluiceError(code, message, {
    stage: 'tokenize',
    position: { source: at.source, line: at.line, offset: at.offset },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Reads one line, checking left to right so that the first problem on the line is the one reported. */
function tokenizeLine(
  record: string,
  at: Position,
  out: SegmentEvent[],
  ns: string,
  defaultTtl: number | undefined,
  clock: Clock,
): void {
  // Only a line that starts with a space, TAB or CR (or is empty) can be blank.
  const c0 = record.charCodeAt(0);
  if ((c0 === 0x20 || c0 === 0x09 || c0 === 0x0d || record.length === 0) && BLANK.test(record)) return;
  const tab1 = record.indexOf(TAB);
  if (tab1 === -1 || tab1 === 0) {
    if (tab1 === -1) {
      throw error('SLUICE_E_FIELD_COUNT', 'missing TAB: expected <uid> TAB <segments> [TAB <timestamp>]', at);
    }
    throw error('SLUICE_E_PARSE', 'empty uid: the line starts with a TAB', at);
  }
  const tab2 = record.indexOf(TAB, tab1 + 1);
  if (tab2 !== -1 && record.indexOf(TAB, tab2 + 1) !== -1) {
    throw error(
      'SLUICE_E_FIELD_COUNT',
      `too many fields: expected <uid> TAB <segments> [TAB <timestamp>], got ${record.split(TAB).length} TAB-separated fields`,
      at,
    );
  }

  const uid = record.slice(0, tab1);
  const badUid = forbiddenChar(uid);
  if (badUid) {
    throw error(
      'SLUICE_E_VALIDATION',
      `uid ${quote(uid)} contains ${badUid.name} at column ${columnAt(record, badUid.index)} (${ID_RULE})`,
      at,
    );
  }

  const itemsEnd = tab2 === -1 ? record.length : tab2;
  if (itemsEnd === tab1 + 1) {
    throw error('SLUICE_E_PARSE', `no segments after the uid at column ${columnAt(record, tab1 + 1)}`, at);
  }
  // Events get their time once the whole line has been read (the timestamp comes last).
  const first = out.length;
  let start = tab1 + 1;
  while (start <= itemsEnd) {
    let end = record.indexOf(',', start);
    if (end === -1 || end > itemsEnd) end = itemsEnd;
    out.push(readItem(record, start, end, at, ns, uid, defaultTtl));
    start = end + 1;
  }

  let ts: number;
  if (tab2 === -1) {
    ts = clock();
    if (!isValidTimestampMs(ts)) {
      throw error(
        'SLUICE_E_INTERNAL',
        `the clock returned ${ts}, not an integer number of ms since 1970`,
        at,
      );
    }
  } else {
    const tsText = record.slice(tab2 + 1);
    if (tsText === '') {
      throw error(
        'SLUICE_E_PARSE',
        `empty timestamp at column ${columnAt(record, tab2 + 1)} (leave out the last TAB to use the time of reading)`,
        at,
      );
    }
    const r = readTimestamp(tsText);
    if (typeof r === 'string') {
      throw error(
        'SLUICE_E_VALIDATION',
        `bad timestamp ${quote(tsText)} at column ${columnAt(record, tab2 + 1)}: ${r}`,
        at,
      );
    }
    ts = r;
  }
  for (let i = first; i < out.length; i++) out[i]!.ts = ts;
}

function readItem(
  record: string,
  start: number,
  end: number,
  at: Position,
  ns: string,
  uid: string,
  defaultTtl: number | undefined,
): SegmentEvent {
  if (start === end) {
    throw error(
      'SLUICE_E_PARSE',
      `empty item at column ${columnAt(record, start)} (two commas in a row, or a comma at the start or end)`,
      at,
    );
  }
  const item = record.slice(start, end);
  const remove = item.charCodeAt(0) === 0x2d; // '-'
  const colon = item.indexOf(':');
  const segStart = remove ? 1 : 0;
  const seg = colon === -1 ? item.slice(segStart) : item.slice(segStart, colon);
  if (seg === '') {
    throw error(
      'SLUICE_E_PARSE',
      `empty segment id in item ${quote(item)} at column ${columnAt(record, start)}`,
      at,
    );
  }
  if (seg.charCodeAt(0) === 0x2d) {
    throw error(
      'SLUICE_E_VALIDATION',
      `segment id ${quote(seg)} at column ${columnAt(record, start + segStart)} starts with '-' (a single '-' before the segment means remove)`,
      at,
    );
  }
  const bad = forbiddenChar(seg);
  if (bad) {
    throw error(
      'SLUICE_E_VALIDATION',
      `segment id ${quote(seg)} contains ${bad.name} at column ${columnAt(record, start + segStart + bad.index)} (${ID_RULE})`,
      at,
    );
  }
  if (!remove && seg === ALL_SEGMENTS) {
    throw error(
      'SLUICE_E_VALIDATION',
      `segment "*" at column ${columnAt(record, start)} cannot be added: "-*" removes the user from every segment`,
      at,
    );
  }
  // ts is set by the caller once the line's timestamp is known.
  const event: SegmentEvent = { ns, uid, seg, op: remove ? 'remove' : 'add', ts: 0 };
  if (colon !== -1) {
    const ttlText = item.slice(colon + 1);
    const ttl = INTEGER.test(ttlText) ? Number(ttlText) : Number.NaN;
    if (!Number.isSafeInteger(ttl)) {
      throw error(
        'SLUICE_E_VALIDATION',
        `bad ttl ${quote(ttlText)} in item ${quote(item)} at column ${columnAt(record, start + colon + 1)}: expected a whole number of seconds >= 0`,
        at,
      );
    }
    if (remove) {
      throw error(
        'SLUICE_E_VALIDATION',
        `a removal cannot have a ttl: item ${quote(item)} at column ${columnAt(record, start)} (only an added membership expires)`,
        at,
      );
    }
    event.ttl = ttl;
  } else if (!remove && defaultTtl !== undefined) {
    event.ttl = defaultTtl;
  }
  return event;
}
