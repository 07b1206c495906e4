/**
 * `sluice/testing`: the laws every format must obey, checked with fast-check, and the
 * arbitraries to build a format's own generators. See docs/guides/writing-a-format.md.
 *
 * - `describeFormatLaws(format, { arbitrary, samples })`: one test per law, in vitest
 *   (or any runner with `describe`/`it`).
 * - `checkFormat(format, options)`: run the laws in process, one result per law.
 * - `checkFormatModule(path, options)`: the same on a format module, in a worker thread
 *   with a time limit per case (what `sluice check-format` runs).
 * - `formatLaws(format, options)`: the laws one by one, for other runners.
 */
import * as arbitraries from './arbitraries.js';

export type { HostileStringOptions } from './arbitraries.js';
export { type DescribeFormatLawsOptions, describeFormatLaws, type TestApi } from './describe-format-laws.js';
export { checkFormat, type FormatLaw, formatLaws } from './format-laws.js';
export { type FormatModule, loadFormatModule } from './format-module.js';
export {
  type CheckFormatModuleOptions,
  checkFormatModule,
  type ModuleInfo,
  type ModuleReport,
} from './isolated.js';
export { LAW_IDS } from './laws/index.js';
export type { FormatLawOptions, LawId, LawResult } from './laws/types.js';
export { failureDetails, failureMessage, lawLine, summaryLine } from './report.js';
export { chunkAt, type FormatRun, type RunFormatOptions, runFormat, serializeAll } from './run-format.js';
export { arbitraries };
