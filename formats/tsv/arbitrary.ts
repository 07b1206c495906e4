/**
 * fast-check arbitraries for tsv, kept out of index.ts so that running the format never
 * loads fast-check (ADR 0005).
 */
import type fc from 'fast-check';
import { rowOf } from '../csv/arbitrary.js';
import type { Row } from '../csv/table.js';

/**
 * Valid tokens that share one key set, names chosen to be hard to write: TAB, LF,
 * backslashes, `__proto__`, an integer-like name, the empty name.
 */
export const arbitrary: fc.Arbitrary<Row> = rowOf([
  'id',
  'tab\there',
  'multi\nline',
  'C:\\path',
  '__proto__',
  'constructor',
  '',
  ' padded ',
  '😀',
  '2',
]);
