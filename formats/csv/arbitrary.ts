/**
 * fast-check arbitraries for csv and tsv tokens: strings built to break quoting and
 * escaping, and rows that share one key set (a table), which is what the round-trip
 * laws need. Only well-formed Unicode: a lone surrogate cannot survive UTF-8.
 */
import fc from 'fast-check';
import { type Row, setOwn } from './table.js';

/** Pieces that stress a separator-based format. */
export const HOSTILE_PIECES = [
  ',',
  ';',
  '"',
  '""',
  "'",
  '\t',
  '\r',
  '\n',
  '\r\n',
  '\\',
  '\\t',
  '\\n',
  '\\\\',
  ' ',
  '😀',
  '\uFEFF',
  '\u2028',
  '\0',
  'é',
] as const;

/**
 * Any Unicode scalar value (no lone surrogates), weighted towards ASCII. Built by hand:
 * `fc.string({ unit: 'binary' })` spends seconds building tables on first use, which
 * would land on every import of the format module.
 */
export const anyCodePoint: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x7f }) },
    { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xd7ff }) },
    { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xffff }) },
    { weight: 2, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
  )
  .map((cp) => String.fromCodePoint(cp));

/** Up to `max` arbitrary code points. */
export function anyText(max = 3): fc.Arbitrary<string> {
  return fc.array(anyCodePoint, { maxLength: max }).map((cps) => cps.join(''));
}

/** A string of hostile pieces and arbitrary code points (astral ones included), possibly empty. */
export function hostileString(maxPieces = 6): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE_PIECES), anyText()), { maxLength: maxPieces })
    .map((pieces) => pieces.join(''));
}

/** A row with exactly these keys (as own properties, `__proto__` included). */
export function rowOf(
  names: readonly string[],
  values: fc.Arbitrary<string> = hostileString(),
): fc.Arbitrary<Row> {
  return fc.array(values, { minLength: names.length, maxLength: names.length }).map((vs) => {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) setOwn(row, names[i]!, vs[i]!);
    return row;
  });
}

/**
 * A table: distinct column names (hostile too) and rows that all have them.
 * `names` filters the generated names, for formats that cannot write some.
 */
export function tableOf(
  options: { maxColumns?: number; maxRows?: number; names?: (names: string[]) => boolean } = {},
): fc.Arbitrary<{ columns: string[]; rows: Row[] }> {
  const name = fc.oneof(
    { weight: 3, arbitrary: hostileString(3) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '0', '10', '-1', 'a_2') },
  );
  return fc
    .uniqueArray(name, { minLength: 1, maxLength: options.maxColumns ?? 5 })
    .filter(options.names ?? (() => true))
    .chain((columns) =>
      fc.array(rowOf(columns), { maxLength: options.maxRows ?? 6 }).map((rows) => ({ columns, rows })),
    );
}

/**
 * Valid tokens that share one key set, names chosen to be hard to write: the
 * delimiter, a quote, a line break, `__proto__`, an integer-like name, the empty name.
 */
export const arbitrary: fc.Arbitrary<Row> = rowOf([
  'id',
  'name, full',
  'say "hi"',
  'multi\nline',
  '__proto__',
  'constructor',
  '',
  ' padded ',
  '😀',
  '2',
]);
