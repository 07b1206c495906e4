/**
 * Writes one event per line: `uid TAB [-]seg[:ttl] TAB ts`. The timestamp is written
 * so that it reads back exactly: as unix milliseconds when it is at or above the
 * seconds/milliseconds cutoff (1e11, March 1973), otherwise as RFC 3339 with
 * milliseconds (`1970-01-02T00:00:00.000Z`), because digits below the cutoff would be
 * read back as seconds.
 *
 * An event the format cannot hold is refused with `SLUICE_E_SERIALIZE` rather than
 * written as something else: another namespace than `segments.ns` (the format has no
 * namespace column), ids with whitespace, control characters, `,` or `:`, a segment
 * id starting with `-`, an added event without a ttl when `defaultTtl` is set (it
 * would read back with the default), and anything `validateSegmentEvent` refuses.
 */
import {
  formatTimestamp,
  SECONDS_CUTOFF,
  type SegmentEvent,
  validateSegmentEvent,
} from '../../src/audience/index.js';
import type { Serializer } from '../../src/core/contracts.js';
import { isSluiceError, SluiceError } from '../../src/core/errors.js';
import { forbiddenChar, ID_RULE, quote } from './syntax.js';
import { checkSegmentsOptions, type SegmentsOptions } from './tokenizer.js';

function refuse(reason: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_E_SERIALIZE', `cannot write as a segments line: ${reason}`, {
    stage: 'serialize',
    ...(cause === undefined ? {} : { cause }),
  });
}

export function createSegmentsSerializer(options: SegmentsOptions): Serializer<SegmentEvent> {
  checkSegmentsOptions(options);
  const { ns, defaultTtl } = options;
  return {
    serialize(token: SegmentEvent): string {
      let e: SegmentEvent;
      try {
        e = validateSegmentEvent(token);
      } catch (err) {
        throw refuse(isSluiceError(err) ? err.message : String(err), err);
      }
      if (e.ns !== ns) {
        throw refuse(
          `the event is for namespace ${quote(e.ns)} but segments.ns is ${quote(ns)} (the format has no namespace column)`,
        );
      }
      const badUid = forbiddenChar(e.uid);
      if (badUid) throw refuse(`uid ${quote(e.uid)} contains ${badUid.name} (${ID_RULE})`);
      const badSeg = forbiddenChar(e.seg);
      if (badSeg) throw refuse(`segment id ${quote(e.seg)} contains ${badSeg.name} (${ID_RULE})`);
      if (e.seg.charCodeAt(0) === 0x2d) {
        throw refuse(`segment id ${quote(e.seg)} starts with '-', which the format reads as remove`);
      }
      if (e.op === 'add' && e.ttl === undefined && defaultTtl !== undefined) {
        throw refuse(
          `the event has no ttl, but with segments.defaultTtl=${defaultTtl} it would read back with one`,
        );
      }
      const item = `${e.op === 'remove' ? '-' : ''}${e.seg}${e.ttl === undefined ? '' : `:${e.ttl}`}`;
      const ts = e.ts >= SECONDS_CUTOFF ? String(e.ts) : formatTimestamp(e.ts);
      return `${e.uid}\t${item}\t${ts}`;
    },
  };
}
