/**
 * A strict RFC 8259 checker that only runs when a record has already failed (or
 * overflowed a number): it finds the first error and says what it is and where, in
 * the same words on every Node version. V8's own messages differ between versions and
 * some carry no position at all (`Unexpected token 'a', "abc" is not valid JSON`).
 *
 * It is iterative (an explicit stack), so a record of a million `[` cannot overflow
 * the call stack.
 */

const WS_SPACE = 0x20;
const WS_TAB = 0x09;
const WS_LF = 0x0a;
const WS_CR = 0x0d;

/** Characters shown as `U+XXXX` in messages: controls, format characters, separators, unassigned. */
const UNPRINTABLE = /^[\p{C}\p{Z}]$/u;

/** 1-based column of UTF-16 index `i`, counted in Unicode characters (code points). */
export function columnAt(text: string, i: number): number {
  let col = 1;
  for (let k = 0; k < i && k < text.length; k++) {
    const c = text.charCodeAt(k);
    // The high half of a surrogate pair starts a character; the low half does not.
    if (c < 0xdc00 || c > 0xdfff || k === 0 || !isHigh(text.charCodeAt(k - 1))) col++;
  }
  return col;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function show(text: string, i: number): string {
  const cp = text.codePointAt(i)!;
  const ch = String.fromCodePoint(cp);
  return UNPRINTABLE.test(ch) ? `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` : ch;
}

/**
 * The first RFC 8259 error in `text` (one JSON text, surrounding whitespace allowed)
 * as a message such as `Unexpected token } in JSON at column 6 (expected a value)`,
 * or undefined if `text` is valid. A number too large for a 64-bit float (`1e400`,
 * which `JSON.parse` turns into `Infinity`) counts as an error: the spec lets an
 * implementation limit the range, and Infinity would be written back as `null`.
 */
export function jsonSyntaxError(text: string): string | undefined {
  const n = text.length;
  let i = 0;
  /** Open containers: 0x5b `[` or 0x7b `{`. */
  const stack: number[] = [];

  const skipWs = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === WS_SPACE || c === WS_TAB || c === WS_LF || c === WS_CR) i++;
      else return;
    }
  };
  const unexpected = (expected: string): string =>
    i >= n
      ? `Unexpected end of JSON at column ${columnAt(text, n)} (expected ${expected})`
      : `Unexpected token ${show(text, i)} in JSON at column ${columnAt(text, i)} (expected ${expected})`;

  /** Scans a string starting at the opening quote; returns an error or undefined. */
  const scanString = (): string | undefined => {
    const start = i;
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c === 0x5c) {
        const e = text.charCodeAt(i + 1);
        if (i + 1 >= n) break;
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) {
            if (i + k >= n) return `Unterminated string in JSON at column ${columnAt(text, start)}`;
            if (!isHex(text.charCodeAt(i + k))) {
              return `Bad Unicode escape in JSON string at column ${columnAt(text, i)} (expected 4 hex digits after \\u)`;
            }
          }
          i += 6;
          continue;
        }
        // " \ / b f n r t
        if (
          e === 0x22 ||
          e === 0x5c ||
          e === 0x2f ||
          e === 0x62 ||
          e === 0x66 ||
          e === 0x6e ||
          e === 0x72 ||
          e === 0x74
        ) {
          i += 2;
          continue;
        }
        return `Bad escape \\${show(text, i + 1)} in JSON string at column ${columnAt(text, i)}`;
      }
      if (c < 0x20) {
        return `Unescaped control character ${show(text, i)} in JSON string at column ${columnAt(text, i)}`;
      }
      i++;
    }
    return `Unterminated string in JSON at column ${columnAt(text, start)}`;
  };

  const scanDigits = (): number => {
    const from = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    return i - from;
  };

  const scanNumber = (): string | undefined => {
    const start = i;
    if (text.charCodeAt(i) === 0x2d) i++;
    if (i < n && text.charCodeAt(i) === 0x30) i++;
    else if (scanDigits() === 0) return unexpected('a digit');
    if (i < n && text.charCodeAt(i) === 0x2e) {
      i++;
      if (scanDigits() === 0) return unexpected('a digit after the decimal point');
    }
    if (i < n && (text.charCodeAt(i) | 0x20) === 0x65) {
      i++;
      if (i < n && (text.charCodeAt(i) === 0x2b || text.charCodeAt(i) === 0x2d)) i++;
      if (scanDigits() === 0) return unexpected('a digit in the exponent');
    }
    if (!Number.isFinite(Number(text.slice(start, i)))) {
      return `Number out of range in JSON at column ${columnAt(text, start)} (too large for a 64-bit float)`;
    }
    return undefined;
  };

  const scanLiteral = (word: string): string | undefined => {
    for (let k = 0; k < word.length; k++, i++) {
      if (i >= n || text.charCodeAt(i) !== word.charCodeAt(k)) return unexpected(`${word}`);
    }
    return undefined;
  };

  /** After `{` or `,` in an object: a property name and its colon. */
  const scanKey = (): string | undefined => {
    skipWs();
    if (i >= n || text.charCodeAt(i) !== 0x22) return unexpected('a property name in double quotes');
    const e = scanString();
    if (e) return e;
    skipWs();
    if (i >= n || text.charCodeAt(i) !== 0x3a) return unexpected("':' after the property name");
    i++;
    return undefined;
  };

  for (;;) {
    // A value is expected here.
    skipWs();
    if (i >= n) return unexpected('a value');
    const c = text.charCodeAt(i);
    let err: string | undefined;
    if (c === 0x7b || c === 0x5b) {
      i++;
      skipWs();
      const close = c === 0x7b ? 0x7d : 0x5d;
      if (i < n && text.charCodeAt(i) === close) {
        i++;
      } else {
        stack.push(c);
        if (c === 0x7b) {
          err = scanKey();
          if (err) return err;
        }
        continue;
      }
    } else if (c === 0x22) {
      err = scanString();
    } else if (c === 0x2d || isDigit(c)) {
      err = scanNumber();
    } else if (c === 0x74) {
      err = scanLiteral('true');
    } else if (c === 0x66) {
      err = scanLiteral('false');
    } else if (c === 0x6e) {
      err = scanLiteral('null');
    } else {
      return unexpected('a value');
    }
    if (err) return err;
    // A value ended: close containers until one expects another element.
    for (;;) {
      skipWs();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        return i < n ? unexpected('end of input after the JSON value') : undefined;
      }
      const close = top === 0x7b ? 0x7d : 0x5d;
      if (i < n && text.charCodeAt(i) === close) {
        i++;
        stack.pop();
        continue;
      }
      if (i < n && text.charCodeAt(i) === 0x2c) {
        i++;
        if (top === 0x7b) {
          err = scanKey();
          if (err) return err;
        }
        break;
      }
      return unexpected(`',' or '${top === 0x7b ? '}' : ']'}'`);
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}
