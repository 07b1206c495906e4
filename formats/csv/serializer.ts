/**
 * Row → CSV record. A field is quoted exactly when reading it back needs it: it holds
 * the delimiter, the quote, CR or LF, or starts with U+FEFF (which at the start of
 * the output would be taken for a byte order mark and dropped). Leading and trailing
 * spaces need no quotes: the tokenizer keeps them.
 */
import type { Serializer } from '../../src/core/contracts.js';
import type { CsvOptions } from './options.js';
import { checkCsvOptions } from './options.js';
import { type FieldCodec, type Row, RowWriter } from './table.js';

/** A regex character class entry for one ASCII character, safe whatever the character. */
function classChar(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

export function csvCodec(delimiter: string, quote: string): FieldCodec {
  const special = new RegExp(`[${classChar(delimiter)}${classChar(quote)}\\r\\n]`);
  const doubled = quote + quote;
  return {
    delimiter,
    encode: (v) =>
      special.test(v) || v.charCodeAt(0) === 0xfeff ? `${quote}${v.replaceAll(quote, doubled)}${quote}` : v,
    // A lone empty field would be an empty line, which reads back as a blank line.
    emptyRecord: () => doubled,
  };
}

export function createCsvSerializer(options: CsvOptions): Serializer<Row> {
  checkCsvOptions(options);
  return new RowWriter('csv', options, csvCodec(options.delimiter, options.quote));
}
