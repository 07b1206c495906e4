/**
 * CSV record → row. The quote-aware framer has already cut the input into records
 * (a quoted field may hold LF and CRLF), dropped the BOM and the CR of each CRLF
 * terminator; this module splits one record into fields and hands them to the
 * shared {@link TableReader}.
 */
import type { Position, Tokenizer } from '../../src/core/contracts.js';
import type { CsvOptions } from './options.js';
import { checkCsvOptions } from './options.js';
import { type Row, recordError, TableReader } from './table.js';

/**
 * Splits a record that contains no quote character: the hot path. A loop over
 * `indexOf` beats `String.prototype.split` on unique strings and allocates only the
 * field array and the fields.
 */
export function splitPlain(record: string, delimiter: string): string[] {
  const fields: string[] = [];
  let start = 0;
  for (let i = record.indexOf(delimiter); i !== -1; i = record.indexOf(delimiter, start)) {
    fields.push(record.slice(start, i));
    start = i + 1;
  }
  fields.push(record.slice(start));
  return fields;
}

/**
 * Splits a record with RFC 4180 quoting, reading quotes exactly as the framer does:
 * a quote at the start of a field opens a quoted field, in which a doubled quote is
 * one quote and delimiters, CR and LF are data; the closing quote must be followed by
 * the delimiter or the end of the record. A quote anywhere else (`ab"c`) is data.
 */
export function splitQuoted(record: string, delimiter: string, quote: string, at: Position): string[] {
  const d = delimiter.charCodeAt(0);
  const q = quote.charCodeAt(0);
  const n = record.length;
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (record.charCodeAt(i) !== q) {
      const j = record.indexOf(delimiter, i);
      if (j === -1) {
        fields.push(record.slice(i));
        return fields;
      }
      fields.push(record.slice(i, j));
      i = j + 1;
      continue;
    }
    // A quoted field: copy the runs between quotes, a doubled quote being one quote.
    let value = '';
    let from = i + 1;
    for (;;) {
      const j = record.indexOf(quote, from);
      if (j === -1) {
        // The framer never ends a record inside a quote; this is a tokenizer fed by something else.
        throw recordError(
          'SLUICE_E_UNTERMINATED_QUOTE',
          `field ${fields.length + 1}: quoted field is not closed`,
          at,
        );
      }
      if (record.charCodeAt(j + 1) === q) {
        value += record.slice(from, j + 1);
        from = j + 2;
        continue;
      }
      value += record.slice(from, j);
      i = j + 1;
      break;
    }
    fields.push(value);
    if (i === n) return fields;
    if (record.charCodeAt(i) !== d) {
      throw recordError(
        'SLUICE_E_PARSE',
        `field ${fields.length}: ${JSON.stringify(String.fromCodePoint(record.codePointAt(i)!))} after the closing quote, expected ${JSON.stringify(delimiter)} or the end of the record`,
        at,
      );
    }
    // Past the delimiter; at the end of the record the next turn adds the last, empty field.
    i++;
  }
}

export function createCsvTokenizer(options: CsvOptions): Tokenizer<Row> {
  checkCsvOptions(options);
  const { delimiter, quote } = options;
  const table = new TableReader(options);
  return {
    tokenize(record, at, out) {
      if (record.length === 0) {
        table.blank(at, out);
        return;
      }
      if (record.indexOf(quote) === -1) {
        table.row(splitPlain(record, delimiter), record, at, out);
        return;
      }
      let fields: string[];
      try {
        fields = splitQuoted(record, delimiter, quote, at);
      } catch (e) {
        table.splitFailed(at);
        throw e;
      }
      table.row(fields, record, at, out);
    },
  };
}
