/**
 * csv: comma-separated values as RFC 4180 writes them (quoted fields may hold the
 * delimiter, doubled quotes and line breaks), read with a header row by default.
 * Tokens are plain objects, one string per column, keyed by the header names.
 * See README.md for the options and every edge case.
 */
import { defineFormat } from '../../src/core/contracts.js';
import { quotedFramer } from '../../src/core/framers.js';
import { type CsvOptions, checkCsvOptions, csvOptionsSchema } from './options.js';
import { createCsvSerializer } from './serializer.js';
import type { Row } from './table.js';
import { createCsvTokenizer } from './tokenizer.js';

export type { CsvOptions } from './options.js';
export type { Row } from './table.js';

const csv = defineFormat<Row, CsvOptions>({
  name: 'csv',
  description: 'Comma-separated values (RFC 4180): quoted fields, a header row naming the columns',
  mediaTypes: ['text/csv'],
  extensions: ['csv'],
  options: csvOptionsSchema,
  framer(options) {
    checkCsvOptions(options);
    return quotedFramer(options.quote, options.delimiter);
  },
  // A row depends only on its record and the header row.
  parallel: true,
  tokenizer: createCsvTokenizer,
  serializer: createCsvSerializer,
});

export default csv;

/** Example inputs, read with the default options. */
export const samples: string[] = [
  'id,name,city\n1,Ada,London\n2,Grace,New York\n',
  'id,quote\r\n1,"She said ""hi"", then left"\r\n2,"two\r\nlines"\r\n',
  'ns,uid,seg,op,ts\nacme,u1,sports,add,1700000000000\nacme,u2,*,remove,1700000000001\n',
  '\uFEFFa,b\n\n"",x\n" padded ",\n',
];
