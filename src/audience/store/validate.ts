/** What every store checks the same way: the events `apply` is given, the schema version it opens. */
import { SluiceError } from '../../core/errors.js';
import { describeValue, type SegmentEvent, validateSegmentEvent } from '../segment-event.js';

export /** Validated copies of `events`, or a `SLUICE_E_VALIDATION` error naming the first bad one's index. */
function validateAll(events: readonly SegmentEvent[]): SegmentEvent[] {
  if (!Array.isArray(events)) {
    throw new SluiceError(
      'SLUICE_E_VALIDATION',
      `apply: expected an array of segment events, got ${describeValue(events)}`,
      {
        stage: 'sink',
      },
    );
  }
  const out = new Array<SegmentEvent>(events.length);
  for (let i = 0; i < events.length; i++) {
    try {
      out[i] = validateSegmentEvent(events[i]);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new SluiceError('SLUICE_E_VALIDATION', `apply: event ${i}: ${message}`, {
        stage: 'sink',
        cause: e,
      });
    }
  }
  return out;
}

/** Why a store written with schema `found` cannot be opened by code that reads `reads`. */
export function versionProblem(found: number, reads: number): string {
  return `schema version ${found} is not the one this sluice reads (${reads}); ${
    found > reads ? 'it was written by a newer sluice' : 'it is too old'
  }`;
}
