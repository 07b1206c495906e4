/**
 * The id rules of the `segments` line format, shared by its tokenizer and serializer so
 * that whatever one writes the other reads back, and whatever one refuses the other
 * refuses too.
 */
import { codePointName } from '../../src/audience/index.js';

/**
 * What a uid or segment id may not contain in this format: what no format allows
 * (control characters, lone surrogates), plus whitespace (invisible in the file and
 * usually a mistake, as in `news, sports`) and the separators `,` and `:`. TAB, CR and
 * LF are both whitespace and controls.
 */
const FORBIDDEN = /[\s,:\u0000-\u001f\u007f-\u009f]|\p{Surrogate}/u;

export const ID_RULE = "ids cannot contain whitespace, control characters, ',' or ':'";

/** The first character `id` may not contain, with its UTF-16 index, or undefined. */
export function forbiddenChar(id: string): { index: number; name: string } | undefined {
  const m = FORBIDDEN.exec(id);
  if (!m) return undefined;
  const ch = m[0];
  return { index: m.index, name: ch === ',' || ch === ':' ? `'${ch}'` : codePointName(ch) };
}

/** 1-based column of UTF-16 index `i` in `text`, counted in Unicode characters. */
export function columnAt(text: string, i: number): number {
  let col = 1;
  for (let k = 0; k < i && k < text.length; k++) {
    const c = text.charCodeAt(k);
    const prev = k > 0 ? text.charCodeAt(k - 1) : 0;
    // The low half of a surrogate pair does not start a new character.
    if (!(c >= 0xdc00 && c <= 0xdfff && prev >= 0xd800 && prev <= 0xdbff)) col++;
  }
  return col;
}

/** `"text"`, cut to 64 characters, for messages. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
