/**
 * How counterexamples are printed: inputs as quoted text with invalid bytes escaped
 * (`"a=1\r\n\xff"`), tokens with `util.inspect` on one line. A counterexample is read
 * by a person fixing a format, so it shows exactly which bytes and which cut.
 */
import { inspect } from 'node:util';

/** Counterexamples longer than this are cut, saying how much was left out. */
export const MAX_SHOWN = 2000;

/** `s`, cut to `max` characters (on a code point boundary) with a note of what was left out. */
export function truncate(s: string, max = MAX_SHOWN): string {
  if (s.length <= max) return s;
  let end = max;
  // Do not cut a surrogate pair in half.
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${s.slice(0, end)}… (${s.length - end} more characters)`;
}

const ESCAPES: Record<string, string> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '"': '\\"',
  '\\': '\\\\',
};

/** One character for a double-quoted literal: controls and invisible characters escaped. */
function escapeChar(ch: string): string {
  const e = ESCAPES[ch];
  if (e !== undefined) return e;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0) || /^[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]$/u.test(ch)) {
    return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\u{${cp.toString(16)}}`;
  }
  return ch;
}

/** A string as a double-quoted literal with controls, BOMs and line separators escaped. */
export function showText(s: string): string {
  let out = '"';
  for (const ch of s) out += escapeChar(ch);
  return `${out}"`;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 if the byte there does not start one. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    // No overlong forms (E0 A0..) and no surrogates (ED 80..9F).
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * Bytes as a double-quoted literal: valid UTF-8 shown as text (controls escaped), every
 * byte that is not part of a valid character as `\xNN`.
 */
export function showBytes(bytes: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const n = utf8SequenceLength(bytes, i);
    if (n === 0) {
      out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
      i++;
    } else {
      out += escapeChar(Buffer.from(bytes.subarray(i, i + n)).toString('utf8'));
      i += n;
    }
  }
  return `${out}"`;
}

/** A token or any value on one line, as `util.inspect` shows it (own `__proto__` keys included). */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return showText(v);
  return inspect(v, {
    depth: 8,
    breakLength: Number.POSITIVE_INFINITY,
    maxArrayLength: 50,
    maxStringLength: 500,
    compact: true,
  });
}

/** What a thrown value says, with its class and code when it has them: `TypeError: x is undefined`. */
export function showError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${e.message}`;
  }
  return `a thrown ${e === null ? 'null' : typeof e} (${showValue(e)})`;
}
