/**
 * segments: the compact provider line format, `<uid> TAB <item>[,<item>...] [TAB <timestamp>]`.
 * See README.md.
 */
import type { SegmentEvent } from '../../src/audience/index.js';
import { defineFormat } from '../../src/core/contracts.js';
import { createSegmentsSerializer } from './serializer.js';
import { createSegmentsTokenizer, type SegmentsOptions, segmentsOptions } from './tokenizer.js';

export { createSegmentsSerializer } from './serializer.js';
export {
  type Clock,
  createSegmentsTokenizer,
  type SegmentsOptions,
  segmentsOptions,
} from './tokenizer.js';

const segments = defineFormat<SegmentEvent, SegmentsOptions>({
  name: 'segments',
  description: 'Compact audience segments: <uid> TAB [-]seg[:ttl][,...] [TAB timestamp], one user per line',
  mediaTypes: ['text/x-sluice-segments'],
  extensions: ['segments', 'seg'],
  options: segmentsOptions,
  // The clock is read per line, so a line's events depend on that line alone.
  parallel: true,
  tokenizer: (options) => createSegmentsTokenizer(options),
  serializer: (options) => createSegmentsSerializer(options),
});

export default segments;

/** Example inputs: adds with and without ttl, removals, opt-out, every timestamp form, CRLF, blanks. */
export const samples: string[] = [
  'u1\tsports,news:86400\n' +
    'u2\t-sports\t1714564800\n' +
    'u3\t-*\t2024-05-01T12:00:00Z\n' +
    'u4\tauto:3600,-travel\t1714564800123\n',
  '\n  \nuser-é\tsegment-😀:60\t2024-05-01T14:00:00.250+02:00\r\nu5\tx\n',
];
