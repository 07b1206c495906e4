/** The audience domain: the canonical {@link SegmentEvent} token and its shared checks. */
export {
  ALL_SEGMENTS,
  codePointName,
  describeValue,
  formatTimestamp,
  idProblem,
  isValidTimestampMs,
  MAX_RFC3339_MS,
  MAX_TIMESTAMP_MS,
  parseTimestamp,
  readTimestamp,
  SECONDS_CUTOFF,
  type SegmentEvent,
  type SegmentOp,
  validateSegmentEvent,
} from './segment-event.js';
