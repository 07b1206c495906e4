/**
 * Row → TSV line: TAB, LF, CR and backslash in a field are written as `\t`, `\n`,
 * `\r` and `\\` (every backslash is escaped, so any value reads back exactly).
 */
import type { Serializer } from '../../src/core/contracts.js';
import { type FieldCodec, type Row, RowWriter, serializeError } from '../csv/table.js';
import { checkTsvOptions, type TsvOptions } from './options.js';

const SPECIAL = /[\t\n\r\\]/;
const SPECIAL_ALL = /[\t\n\r\\]/g;
const ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\' };

export function escapeField(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (ch) => ESCAPES[ch]!) : value;
}

export const tsvCodec: FieldCodec = {
  delimiter: '\t',
  encode: escapeField,
  emptyRecord(kind) {
    // A row of one empty field is an empty line, which the tokenizer reads as that field
    // in a one-column table. A header naming one column "" would be skipped as blank.
    if (kind === 'row') return '';
    throw serializeError(
      'tsv: a one-column table cannot name its column "" (the header line would be blank)',
    );
  },
};

export function createTsvSerializer(options: TsvOptions): Serializer<Row> {
  checkTsvOptions(options);
  const writer = new RowWriter('tsv', options, tsvCodec);
  let first = true;
  // The first line of the output must not start with U+FEFF: a reader drops it as a
  // byte order mark, and tsv has no quoting to protect it.
  const guard = (line: string): string => {
    if (first) {
      first = false;
      if (line.charCodeAt(0) === 0xfeff) {
        throw serializeError(
          'tsv: the first field of the first line starts with U+FEFF, which a reader would drop as a byte order mark',
        );
      }
    }
    return line;
  };
  return {
    header(token) {
      const line = writer.header(token);
      return line === undefined ? undefined : guard(line);
    },
    serialize(token) {
      return first ? guard(writer.serialize(token)) : writer.serialize(token);
    },
  };
}
