/**
 * logfmt: one record per line, `key=value` pairs separated by spaces, as Heroku and
 * many Go services log:
 *
 *     level=info msg="user logged in" user=ada dur=0.031s
 *
 * A worked example of a sluice format, written only against the public API. It is
 * plain JavaScript with JSDoc types, so it runs without a build step; see
 * docs/guides/writing-a-format.md for the walk-through.
 *
 * The rules, stated once (the tokenizer and the serializer both follow them):
 * - pairs are separated by spaces or tabs; leading and trailing ones are ignored;
 * - a key is one or more characters other than space, tab, `=`, `"` and control characters,
 *   and does not start with U+FEFF (at the start of a file a reader drops it as a byte
 *   order mark, so the record would not read back);
 * - a value is bare (`user=ada`: characters other than space, tab, `=`, `"` and control
 *   characters; a backslash is an ordinary character there), quoted (`msg="a \"b\""`:
 *   a JSON string, with JSON's escapes), or absent (`ok` and `ok=` both read as `""`);
 * - a key may appear once per line: a duplicate rejects the line rather than losing a value;
 * - a line with only spaces and tabs carries no record (it is skipped).
 */
import { defineFormat, SluiceError } from 'sluice';

/**
 * A record: one own string property per key, in the order of the line.
 * @typedef {Record<string, string>} LogfmtRecord
 */

/** Characters a key or a bare value cannot hold. */
const SPECIAL = /[ \t="\u0000-\u001f\u007f]/u;

/**
 * A coded rejection of the record at `at`. `at` is reused by the engine for the next
 * record, so its fields are copied.
 * @param {'SLUICE_E_PARSE' | 'SLUICE_E_VALIDATION'} code
 * @param {string} message
 * @param {import('sluice').Position} at
 * @param {number} index UTF-16 index in the record where the problem is
 * @param {string} record
 */
function reject(code, message, at, index, record) {
  const column = [...record.slice(0, index)].length + 1;
  return new SluiceError(code, `${message} at column ${column}`, {
    stage: 'tokenize',
    position: { source: at.source, line: at.line, offset: at.offset },
  });
}

/**
 * `record[key] = value` as an own property, even for `__proto__` (which as a plain
 * assignment would set the prototype instead).
 * @param {LogfmtRecord} record
 * @param {string} key
 * @param {string} value
 */
function setOwn(record, key, value) {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/** @param {number} c */
const isBlank = (c) => c === 0x20 || c === 0x09;

/**
 * Reads one line. Each step either advances or throws, so it always ends.
 * @param {string} line
 * @param {import('sluice').Position} at
 * @returns {LogfmtRecord | undefined} undefined for a blank line
 */
export function parseLine(line, at) {
  /** @type {LogfmtRecord} */
  const record = {};
  const n = line.length;
  let i = 0;
  let pairs = 0;
  for (;;) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i === n) return pairs === 0 ? undefined : record;
    // The key: up to a space, a tab, `=` or the end.
    const keyStart = i;
    while (i < n && !SPECIAL.test(line[i] ?? '')) i++;
    if (i === keyStart) {
      throw reject('SLUICE_E_PARSE', `expected a key, got ${JSON.stringify(line[i])}`, at, i, line);
    }
    const key = line.slice(keyStart, i);
    if (key.charCodeAt(0) === 0xfeff) {
      throw reject(
        'SLUICE_E_PARSE',
        'a key cannot start with U+FEFF (a byte order mark)',
        at,
        keyStart,
        line,
      );
    }
    if (Object.hasOwn(record, key)) {
      throw reject('SLUICE_E_VALIDATION', `duplicate key ${JSON.stringify(key)}`, at, keyStart, line);
    }
    let value = '';
    if (i < n && line[i] === '=') {
      i++;
      if (line[i] === '"') {
        // A JSON string: find its closing quote, skipping escaped characters.
        const open = i;
        i++;
        while (i < n && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
        if (i >= n) throw reject('SLUICE_E_PARSE', 'quoted value is not closed', at, open, line);
        i++;
        try {
          value = JSON.parse(line.slice(open, i));
        } catch (e) {
          throw reject(
            'SLUICE_E_PARSE',
            `bad quoted value (${e instanceof Error ? e.message : String(e)})`,
            at,
            open,
            line,
          );
        }
      } else {
        const valueStart = i;
        while (i < n && !SPECIAL.test(line[i] ?? '')) i++;
        value = line.slice(valueStart, i);
      }
    }
    // After a pair: a separator or the end, nothing else.
    if (i < n && !isBlank(line.charCodeAt(i))) {
      throw reject(
        'SLUICE_E_PARSE',
        `expected a space after the value of ${JSON.stringify(key)}, got ${JSON.stringify(line[i])}`,
        at,
        i,
        line,
      );
    }
    setOwn(record, key, value);
    pairs++;
  }
}

/**
 * A serialize error: the token cannot be written as logfmt.
 * @param {string} message
 */
function refuse(message) {
  return new SluiceError('SLUICE_E_SERIALIZE', `cannot write as logfmt: ${message}`, { stage: 'serialize' });
}

/**
 * A value as written: bare when it reads back as itself, quoted (JSON) otherwise. The
 * empty string is quoted so that `k=""` says what it means; a lone surrogate is
 * quoted because JSON escapes it, where UTF-8 could not hold it.
 * @param {string} value
 */
function writeValue(value) {
  return value === '' || SPECIAL.test(value) || !value.isWellFormed() ? JSON.stringify(value) : value;
}

/**
 * Writes one record; refuses what would not read back as itself.
 * @param {unknown} token
 * @returns {string}
 */
export function writeLine(token) {
  if (typeof token !== 'object' || token === null || Array.isArray(token)) {
    throw refuse(
      `expected an object of key/value pairs, got ${Array.isArray(token) ? 'an array' : String(token)}`,
    );
  }
  const keys = Object.keys(token);
  // An empty line would read back as a blank line, which is no record at all.
  if (keys.length === 0) throw refuse('a record needs at least one key');
  const parts = [];
  for (const key of keys) {
    if (SPECIAL.test(key) || !key.isWellFormed()) {
      throw refuse(`key ${JSON.stringify(key)} contains a space, a tab, '=', '"' or a control character`);
    }
    if (key.charCodeAt(0) === 0xfeff) {
      throw refuse(
        `key ${JSON.stringify(key)} starts with U+FEFF, which a reader drops as a byte order mark`,
      );
    }
    const v = /** @type {Record<string, unknown>} */ (token)[key];
    if (typeof v === 'string') parts.push(`${key}=${writeValue(v)}`);
    else if (typeof v === 'number' || typeof v === 'boolean') parts.push(`${key}=${writeValue(String(v))}`);
    else
      throw refuse(`the value of ${JSON.stringify(key)} is ${v === null ? 'null' : typeof v}, not a string`);
  }
  return parts.join(' ');
}

/** @type {import('sluice').Format<LogfmtRecord, Record<never, never>>} */
const logfmt = defineFormat({
  name: 'logfmt',
  description: 'logfmt: key=value pairs separated by spaces, one record per line',
  mediaTypes: ['text/x-logfmt'],
  extensions: ['logfmt'],
  // No framer: the default one record per line is right, since a quoted value writes
  // a line break as \n. Every line stands alone, so chunks may go to any worker.
  parallel: true,
  tokenizer: () => ({
    tokenize(record, at, out) {
      const parsed = parseLine(record, at);
      if (parsed !== undefined) out.push(parsed);
    },
  }),
  serializer: () => ({ serialize: writeLine }),
});

export default logfmt;

/** Example inputs: quoting, escapes, bare keys, CRLF, blank lines, non-ASCII text. */
export const samples = [
  'level=info msg="user logged in" user=ada ip=10.0.0.1\n' +
    'level=warn msg="disk almost full" free="1.5 GiB" path=/var/log\n',
  'at=error code=H12 desc="Request timeout" method=GET path="/"\r\n\n   \nservice=api dur=0.031s cached\n',
  'msg="a \\"quote\\", a backslash \\\\ and a tab \\t" emoji=😀 city=Zürich path=C:\\Temp\n',
  'bad="unterminated\nkey=value=value\n=nokey\nx=1 x=2\n',
];
