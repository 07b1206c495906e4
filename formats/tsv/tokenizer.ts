/**
 * TSV line → row. Fields are separated by TAB and never quoted; a field writes TAB,
 * LF, CR and backslash as the escapes `\t`, `\n`, `\r` and `\\`, which are decoded
 * here. A backslash before any other character (or at the end of a field) is kept as
 * it is, so Windows paths and regexes read unchanged.
 */
import type { Tokenizer } from '../../src/core/contracts.js';
import { type Row, TableReader } from '../csv/table.js';
import { splitPlain } from '../csv/tokenizer.js';
import { checkTsvOptions, type TsvOptions } from './options.js';

const BACKSLASH = 0x5c;

/** Decodes the escapes of one field; a field without a backslash is returned as is. */
export function unescapeField(field: string): string {
  let i = field.indexOf('\\');
  if (i === -1) return field;
  let out = '';
  let from = 0;
  while (i !== -1) {
    let ch: string;
    switch (field.charCodeAt(i + 1)) {
      case 0x74: // t
        ch = '\t';
        break;
      case 0x6e: // n
        ch = '\n';
        break;
      case 0x72: // r
        ch = '\r';
        break;
      case BACKSLASH:
        ch = '\\';
        break;
      default:
        // Not an escape: the backslash is data. The next character is not a backslash
        // (that would be `\\`), so searching on from it misses nothing.
        i = field.indexOf('\\', i + 1);
        continue;
    }
    out += field.slice(from, i) + ch;
    from = i + 2;
    i = field.indexOf('\\', from);
  }
  return out + field.slice(from);
}

export function createTsvTokenizer(options: TsvOptions): Tokenizer<Row> {
  checkTsvOptions(options);
  // A one-column tsv table cannot quote an empty field: its empty line is that field.
  const table = new TableReader({ ...options, blankIsEmptyField: true });
  return {
    tokenize(record, at, out) {
      if (record.length === 0) {
        table.blank(at, out);
        return;
      }
      // Escapes never contain a raw TAB, so splitting first and decoding after is exact.
      const fields = splitPlain(record, '\t');
      if (record.indexOf('\\') !== -1) {
        for (let i = 0; i < fields.length; i++) fields[i] = unescapeField(fields[i]!);
      }
      table.row(fields, record, at, out);
    },
  };
}
