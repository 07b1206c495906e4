/**
 * What csv and tsv share once a record is cut into fields: the header (read from the
 * input or given as `columns`), naming and counting fields, and building one row
 * object per record. The tsv format imports this module; nothing else should.
 *
 * Lifecycle: one {@link TableReader} per tokenizer (so per input). The tokenizer calls
 * {@link TableReader.blank} for every empty record and {@link TableReader.row} for
 * every other one, in input order, and {@link TableReader.splitFailed} before it
 * rejects a record it could not split, so a lost header row is never replaced by the
 * next data row. {@link RowWriter} is the serializer side: one per serializer.
 */
import type { Position } from '../../src/core/contracts.js';
import { type ErrorCode, SluiceError } from '../../src/core/errors.js';

/** A token of csv and tsv: one own string property per column. */
export type Row = Record<string, string>;

/** The options csv and tsv share. */
export interface TableOptions {
  /**
   * Whether the first non-blank record is a header row. Unset means true, unless
   * `columns` is given: then no header row is expected.
   */
  header?: boolean | undefined;
  /** Column names to use instead of (or, with `header: true`, in place of) the header row's. */
  columns?: readonly string[] | undefined;
  /** Pad short rows with empty fields and key extra fields by position, instead of rejecting the row. */
  relaxColumnCount: boolean;
}

/** `header` as the tokenizer and serializer apply it: explicit, else "no columns given". */
export function expectsHeader(o: TableOptions): boolean {
  return o.header ?? o.columns === undefined;
}

/** Throws `SLUICE_E_OPTION` for a `columns` list that cannot name a row. */
export function checkColumns(format: string, columns: readonly string[] | undefined): void {
  if (columns === undefined) return;
  if (columns.length === 0) {
    throw optionError(`option ${format}.columns: expected at least one column name, got an empty list`);
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) {
      throw optionError(`option ${format}.columns: expected distinct names, got ${JSON.stringify(c)} twice`);
    }
    seen.add(c);
  }
}

export function optionError(message: string): SluiceError {
  return new SluiceError('SLUICE_E_OPTION', message, { stage: 'config' });
}

export function recordError(code: ErrorCode, message: string, at: Position): SluiceError {
  // `at` is only valid during the tokenize call: keep a copy.
  return new SluiceError(code, message, {
    stage: 'tokenize',
    position: { source: at.source, line: at.line, offset: at.offset },
  });
}

/**
 * Makes header names usable as keys: the first occurrence of a name keeps it, a later
 * duplicate gets the first free `name_2`, `name_3`, ... that is neither an original
 * name nor already given out (`a,a,a_2` reads as `a`, `a_3`, `a_2`). Empty names stay
 * empty (they are legal keys and round-trip).
 */
export function uniqueNames(names: readonly string[]): string[] {
  const original = new Set(names);
  if (original.size === names.length) return [...names];
  const given = new Set<string>();
  return names.map((name) => {
    if (!given.has(name)) {
      given.add(name);
      return name;
    }
    let k = 2;
    let candidate = `${name}_${k}`;
    while (original.has(candidate) || given.has(candidate)) candidate = `${name}_${++k}`;
    given.add(candidate);
    return candidate;
  });
}

/** Header names of a headerless table: the 1-based column numbers, as Miller names them. */
export function positionalNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i + 1));
}

export type RowBuilder = (fields: readonly string[]) => Row;

/** Above this many columns the generated literal buys nothing (V8 goes to dictionary mode anyway). */
const MAX_GENERATED_COLUMNS = 1000;

/**
 * A function that turns a field array into a row object, built once per header.
 *
 * It is generated as one object literal (`return {"a": f[0], "b": f[1]}`) so every row
 * of a table is created from the same boilerplate and shares one hidden class, which
 * is markedly faster than assigning keys in a loop on the hot path. The names are
 * untrusted input, so each is emitted through `JSON.stringify`, whose output is always
 * a complete JavaScript string literal (quotes, backslashes, control characters and
 * lone surrogates are escaped; U+2028/U+2029 are legal in literals since ES2019): no
 * name can end the literal or inject code. `__proto__` is emitted as a computed key,
 * because a literal `"__proto__": v` would set the prototype instead of defining an
 * own property. Where code generation is disabled
 * (`--disallow-code-generation-from-strings`) a plain loop is used instead.
 */
export function rowBuilder(names: readonly string[]): RowBuilder {
  if (names.length <= MAX_GENERATED_COLUMNS) {
    const props = names.map((name, i) => {
      const key = JSON.stringify(name);
      return `${name === '__proto__' ? `[${key}]` : key}: f[${i}]`;
    });
    try {
      return new Function('f', `return {${props.join(', ')}};`) as RowBuilder;
    } catch {
      // Code generation from strings is disabled: fall through to the loop.
    }
  }
  const n = names.length;
  return (fields) => {
    const row: Row = {};
    for (let i = 0; i < n; i++) setOwn(row, names[i]!, fields[i]!);
    return row;
  };
}

/** `row[key] = value` as an own property, even for `__proto__`. */
export function setOwn(row: Row, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(row, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    row[key] = value;
  }
}

export interface TableReaderOptions extends TableOptions {
  /**
   * True when an empty record is a row of one empty field in a one-column table
   * (tsv, which cannot quote). Otherwise empty records are always skipped.
   */
  blankIsEmptyField?: boolean;
}

/**
 * `header`: the next non-blank record is the header row; `data`: records are rows;
 * `broken`: the header row was lost and no `columns` were given, so no row can be named.
 */
type State = 'header' | 'data' | 'broken';

/**
 * The header/field-count state machine of one input. It never sees a chunk boundary;
 * it only needs the records in order.
 *
 * The header row can be lost: the tokenizer may reject it (it does not parse), or the
 * framer may (invalid UTF-8, too long), in which case the tokenizer never sees it.
 * Taking the next data row for the header would then silently mis-name every field,
 * and lose that row. So until the header is read the reader checks that records arrive
 * without a gap in line numbers (the framer passes on every record, blank ones too, so
 * a gap is a rejected record, necessarily the non-blank header row). Once the header is
 * lost, rows are read with `columns` if given, else each one is rejected with
 * `SLUICE_E_VALIDATION`. A consequence for callers that feed a fresh tokenizer (a
 * worker): feed it the input's records from line 1 through the header row, blank lines
 * included.
 */
export class TableReader {
  private readonly relax: boolean;
  private readonly blankIsEmptyField: boolean;
  private readonly given: readonly string[] | undefined;
  private state: State;
  private nameSet: ReadonlySet<string> = new Set();
  /**
   * Number of columns once rows are being read; -1 before (header awaited or lost, or
   * headerless input without `columns` before its first row). So `width !== -1`
   * implies rows are being read, which lets {@link row} take its fast path on one
   * comparison.
   */
  private width = -1;
  private build: RowBuilder = () => ({});
  /** Line the next record must start on while the header is awaited. */
  private nextLine = 1;
  /** Why the header is missing, once `broken`. */
  private brokenBecause = '';

  constructor(o: TableReaderOptions) {
    this.relax = o.relaxColumnCount;
    this.blankIsEmptyField = o.blankIsEmptyField ?? false;
    this.given = o.columns;
    this.state = expectsHeader(o) ? 'header' : 'data';
    if (o.columns !== undefined) {
      this.setColumns(o.columns);
      if (this.state === 'data') this.width = o.columns.length;
    }
  }

  /** An empty record: usually skipped; in a one-column tsv table, a row with one empty field. */
  blank(at: Position, out: Row[]): void {
    if (this.state === 'header') {
      this.checkContiguous(at, '');
      if (this.state === 'header') return;
    }
    if (this.blankIsEmptyField && this.width === 1) out.push(this.build(['']));
  }

  /**
   * The tokenizer is rejecting a record it could not split. If that record was to be
   * the header row, the header is lost. Call it before rethrowing.
   */
  splitFailed(at: Position): void {
    if (this.state === 'header') this.headerLost(`the header row (line ${at.line}) was rejected`);
  }

  /** A non-empty record, split into (decoded) fields. `record` is its text, for line counting. */
  row(fields: string[], record: string, at: Position, out: Row[]): void {
    const n = fields.length;
    if (n === this.width) {
      out.push(this.build(fields));
      return;
    }
    if (this.state === 'header') {
      this.checkContiguous(at, record);
      if (this.state === 'header') {
        this.readHeader(fields, at);
        return;
      }
      // The header was lost before this record: read it as a row.
      if (n === this.width) {
        out.push(this.build(fields));
        return;
      }
    }
    if (this.state === 'broken') {
      throw recordError(
        'SLUICE_E_VALIDATION',
        `no header: ${this.brokenBecause}, so the fields of this row cannot be named`,
        at,
      );
    }
    if (this.width === -1) {
      // Headerless without `columns`: the first row fixes the width.
      this.setColumns(positionalNames(n));
      this.width = n;
      out.push(this.build(fields));
      return;
    }
    if (!this.relax) {
      throw recordError('SLUICE_E_FIELD_COUNT', `expected ${this.width} fields, got ${n}`, at);
    }
    out.push(n < this.width ? this.padded(fields) : this.extended(fields, at));
  }

  private readHeader(fields: string[], at: Position): void {
    this.state = 'data';
    if (this.given !== undefined) {
      // `header: true` with `columns`: the file's header row is consumed, the given names are used.
      this.width = this.given.length;
      if (fields.length !== this.given.length) {
        throw recordError(
          'SLUICE_E_FIELD_COUNT',
          `header row has ${fields.length} fields but ${this.given.length} columns were given`,
          at,
        );
      }
      return;
    }
    this.setColumns(uniqueNames(fields));
    this.width = fields.length;
  }

  /** While the header is awaited: a gap in line numbers means the framer rejected the header row. */
  private checkContiguous(at: Position, record: string): void {
    if (at.line !== this.nextLine) {
      this.headerLost(`the header row (line ${this.nextLine}) was rejected`);
      return;
    }
    let lf = 0;
    for (let i = record.indexOf('\n'); i !== -1; i = record.indexOf('\n', i + 1)) lf++;
    this.nextLine = at.line + lf + 1;
  }

  private headerLost(because: string): void {
    if (this.given !== undefined) {
      // The columns are known anyway: the lost row was the header row to be discarded.
      this.state = 'data';
      this.width = this.given.length;
    } else {
      this.state = 'broken';
      this.brokenBecause = because;
    }
  }

  private setColumns(names: readonly string[]): void {
    this.nameSet = new Set(names);
    this.build = rowBuilder(names);
  }

  private padded(fields: string[]): Row {
    const all = fields.slice();
    while (all.length < this.width) all.push('');
    return this.build(all);
  }

  /** Relaxed: extra fields are keyed by their 1-based position, like Miller's ragged mode. */
  private extended(fields: string[], at: Position): Row {
    const row = this.build(fields);
    for (let i = this.width; i < fields.length; i++) {
      const key = String(i + 1);
      if (this.nameSet.has(key)) {
        throw recordError(
          'SLUICE_E_FIELD_COUNT',
          `expected ${this.width} fields, got ${fields.length}: extra field ${key} would overwrite column "${key}"`,
          at,
        );
      }
      row[key] = fields[i]!;
    }
    return row;
  }
}

/** How a format writes one field and copes with a record that would be an empty line. */
export interface FieldCodec {
  /** Field separator. */
  delimiter: string;
  /** The field's text as it appears in the record. Called unbound: it must not use `this`. */
  encode(value: string): string;
  /**
   * The text for a one-column record whose field is empty, which as an empty line
   * would read back as a blank line (csv quotes it: `""`). May throw when the format
   * cannot express it.
   */
  emptyRecord(kind: 'header' | 'row'): string;
}

export function serializeError(message: string): SluiceError {
  return new SluiceError('SLUICE_E_SERIALIZE', message, { stage: 'serialize' });
}

/**
 * The serializer side of a table: fixes the columns (`columns`, else the keys of the
 * first token, in their order) and writes tokens in that column order.
 *
 * A column the token lacks (or holds `undefined`/`null`) is written empty; numbers,
 * booleans and bigints are written with `String`; any other value, or a key that is
 * not a column, is a `SLUICE_E_SERIALIZE` error naming the key. Only own properties
 * count: a missing `constructor` column is empty, not `function Object()`.
 */
export class RowWriter {
  private names: readonly string[] | undefined;
  private nameSet: ReadonlySet<string> = new Set();
  private readonly writeHeader: boolean;

  constructor(
    private readonly format: string,
    options: TableOptions,
    private readonly codec: FieldCodec,
  ) {
    this.writeHeader = expectsHeader(options);
    if (options.columns !== undefined) this.fix(options.columns);
  }

  header(first: Readonly<Record<string, unknown>> | undefined): string | undefined {
    const names = this.names ?? (first === undefined ? undefined : this.fix(Object.keys(first)));
    if (!this.writeHeader || names === undefined) return undefined;
    const line = this.join(names);
    return line === '' && names.length === 1 ? this.codec.emptyRecord('header') : line;
  }

  serialize(token: Readonly<Record<string, unknown>>): string {
    const names = this.names ?? this.fix(Object.keys(token));
    const n = names.length;
    const { delimiter, encode } = this.codec;
    let line = '';
    let present = 0;
    for (let i = 0; i < n; i++) {
      const key = names[i]!;
      const v = token[key];
      let text: string;
      if (typeof v === 'string') {
        present++;
        text = v;
      } else if (v === undefined || !Object.hasOwn(token, key)) {
        text = '';
      } else {
        present++;
        text = this.toText(key, v);
      }
      line = i === 0 ? encode(text) : `${line}${delimiter}${encode(text)}`;
    }
    if (present !== Object.keys(token).length) this.checkKeys(token);
    return line === '' && n === 1 ? this.codec.emptyRecord('row') : line;
  }

  private fix(names: readonly string[]): readonly string[] {
    if (names.length === 0) {
      throw serializeError(
        `${this.format}: cannot write a row without columns (the first token has no keys)`,
      );
    }
    this.names = names;
    this.nameSet = new Set(names);
    return names;
  }

  private join(values: readonly string[]): string {
    return values.map(this.codec.encode).join(this.codec.delimiter);
  }

  private toText(key: string, v: unknown): string {
    switch (typeof v) {
      case 'number':
      case 'boolean':
      case 'bigint':
        return String(v);
      default:
        if (v === null) return '';
        throw serializeError(
          `${this.format}: field ${JSON.stringify(key)} holds ${Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`}; only strings, numbers, booleans and null can be written`,
        );
    }
  }

  private checkKeys(token: Readonly<Record<string, unknown>>): void {
    for (const key of Object.keys(token)) {
      if (!this.nameSet.has(key)) {
        throw serializeError(
          `${this.format}: field ${JSON.stringify(key)} is not a column (columns: ${listNames(this.nameSet)})`,
        );
      }
    }
  }
}

function listNames(names: Iterable<string>): string {
  const all = [...names];
  const shown = all.slice(0, 10).map((c) => JSON.stringify(c));
  return all.length > 10 ? `${shown.join(', ')}, ... ${all.length - 10} more` : shown.join(', ');
}
