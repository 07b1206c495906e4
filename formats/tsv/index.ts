/**
 * tsv: tab-separated values, one record per line, no quoting; TAB, LF, CR and
 * backslash inside a field are written as the escapes `\t`, `\n`, `\r`, `\\`.
 * Read with a header row by default. See README.md for the options and edge cases.
 */
import { defineFormat } from '../../src/core/contracts.js';
import type { Row } from '../csv/table.js';
import { type TsvOptions, tsvOptionsSchema } from './options.js';
import { createTsvSerializer } from './serializer.js';
import { createTsvTokenizer } from './tokenizer.js';

export type { Row } from '../csv/table.js';
export type { TsvOptions } from './options.js';

const tsv = defineFormat<Row, TsvOptions>({
  name: 'tsv',
  description: 'Tab-separated values: a header row, one record per line, \\t \\n \\r \\\\ escapes',
  mediaTypes: ['text/tab-separated-values'],
  extensions: ['tsv', 'tab'],
  options: tsvOptionsSchema,
  // The default newline framer: no record spans lines, since LF in a field is escaped.
  // A row depends only on its line and the header row.
  parallel: true,
  tokenizer: createTsvTokenizer,
  serializer: createTsvSerializer,
});

export default tsv;

/** Example inputs, read with the default options. */
export const samples: string[] = [
  'id\tname\tcity\n1\tAda\tLondon\n2\tGrace\tNew York\n',
  'id\tnote\r\n1\tcol\\tumn\\nbreak\r\n2\tC:\\Users\\ada\r\n',
  'ns\tuid\tseg\top\tts\nacme\tu1\tsports\tadd\t1700000000000\nacme\tu2\t*\tremove\t1700000000001\n',
  '\uFEFFa\tb\n\n\tx\n padded \t\n',
];
