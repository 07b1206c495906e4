import type { OptionsSchema } from '../../src/core/options.js';
import { checkColumns, type TableOptions } from '../csv/table.js';

export type TsvOptions = TableOptions;

export const tsvOptionsSchema: OptionsSchema<TsvOptions> = {
  header: {
    type: 'boolean',
    description:
      'the first non-blank line is a header row naming the columns (default: true, or false when columns is given)',
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

export function checkTsvOptions(o: TsvOptions): void {
  checkColumns('tsv', o.columns);
}
