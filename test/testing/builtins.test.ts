/**
 * Every built-in format obeys the laws of sluice/testing, with its own arbitrary and
 * samples. segments runs with the clock stopped (`fixedTime`): a line without a
 * timestamp takes the time of reading, which two readings of the same line would
 * otherwise disagree about by a millisecond now and then.
 */
import { arbitrary as csvArbitrary } from '../../formats/csv/arbitrary.js';
import csv, { samples as csvSamples } from '../../formats/csv/index.js';
import { arbitrary as ndjsonArbitrary } from '../../formats/ndjson/arbitrary.js';
import ndjson, { samples as ndjsonSamples } from '../../formats/ndjson/index.js';
import { arbitrary as segmentsArbitrary } from '../../formats/segments/arbitrary.js';
import segments, { samples as segmentsSamples } from '../../formats/segments/index.js';
import { arbitrary as tsvArbitrary } from '../../formats/tsv/arbitrary.js';
import tsv, { samples as tsvSamples } from '../../formats/tsv/index.js';
import { describeFormatLaws } from '../../src/testing/index.js';

await describeFormatLaws(csv, { arbitrary: csvArbitrary, samples: csvSamples });
await describeFormatLaws(tsv, { arbitrary: tsvArbitrary, samples: tsvSamples });
await describeFormatLaws(ndjson, { arbitrary: ndjsonArbitrary, samples: ndjsonSamples });
await describeFormatLaws(segments, {
  arbitrary: segmentsArbitrary,
  samples: segmentsSamples,
  fixedTime: Date.UTC(2024, 4, 1, 12),
});
// Headerless tables: the first data row fixes the width, which the thread engine replays.
await describeFormatLaws(csv, {
  samples: csvSamples,
  options: { header: false },
  name: 'csv (header=false)',
});
await describeFormatLaws(tsv, {
  samples: tsvSamples,
  options: { header: false },
  name: 'tsv (header=false)',
});
