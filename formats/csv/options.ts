import type { OptionsSchema } from '../../src/core/options.js';
import { checkColumns, optionError, type TableOptions } from './table.js';

export interface CsvOptions extends TableOptions {
  /** Field separator, one ASCII character. @default ',' */
  delimiter: string;
  /** Quote character, one ASCII character other than the delimiter. @default '"' */
  quote: string;
}

export const csvOptionsSchema: OptionsSchema<CsvOptions> = {
  delimiter: {
    type: 'char',
    description: 'field separator, one ASCII character (\\t or tab for TAB)',
    default: ',',
  },
  quote: {
    type: 'char',
    description: 'quote character, one ASCII character other than the delimiter',
    default: '"',
  },
  header: {
    type: 'boolean',
    description:
      'the first non-blank record is a header row naming the columns (default: true, or false when columns is given)',
  },
  columns: {
    type: 'string[]',
    description:
      'column names to use; without header=true the input has no header row, with header=true its header row is read and replaced',
  },
  relaxColumnCount: {
    type: 'boolean',
    description:
      'pad short rows with empty fields and key extra fields by position ("4", "5", ...) instead of rejecting the row',
    default: false,
  },
};

/**
 * What the schema cannot say: the framer works on bytes, so both characters must be
 * ASCII, and they must differ. Called by the framer, tokenizer and serializer, so a
 * bad option is a coded `SLUICE_E_OPTION` wherever the format is first used.
 */
export function checkCsvOptions(o: CsvOptions): void {
  for (const key of ['delimiter', 'quote'] as const) {
    const v = o[key];
    if (typeof v !== 'string' || v.length !== 1 || v.charCodeAt(0) > 0x7f || v === '\n' || v === '\r') {
      throw optionError(
        `option csv.${key}: expected one ASCII character other than CR or LF, got ${JSON.stringify(v)}`,
      );
    }
  }
  if (o.delimiter === o.quote) {
    throw optionError(
      `option csv.quote: expected a character other than the delimiter, got ${JSON.stringify(o.quote)}`,
    );
  }
  checkColumns('csv', o.columns);
}
