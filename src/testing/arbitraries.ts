/**
 * Building blocks for format authors' arbitraries (`arbitraries.hostileString()` and
 * friends), and the byte-level inputs the laws feed to a format. Strings are built to
 * break quoting and escaping: delimiters, quotes, line breaks, tabs, backslashes,
 * non-BMP characters, a BOM, and the empty string.
 *
 * Code points are drawn by hand instead of with `fc.string({ unit: 'binary' })`, which
 * spends seconds building tables on first use.
 */
import fc from 'fast-check';

/**
 * Pieces that break separator-, quote- and escape-based formats. Exported so an author
 * can filter out the ones a format cannot hold (a format that refuses line breaks, say).
 */
export const HOSTILE_PIECES: readonly string[] = [
  ',',
  ';',
  '|',
  ':',
  '=',
  '#',
  ' ',
  '  ',
  '\t',
  '"',
  '""',
  "'",
  '`',
  '\\',
  '\\"',
  '\\n',
  '\\t',
  '\\\\',
  '\r',
  '\n',
  '\r\n',
  '{',
  '}',
  '[',
  ']',
  '\0',
  '\u007f',
  'é',
  '😀',
  '\uFEFF',
  '\u00a0',
  '\u2028',
  'null',
  'true',
  '-',
  '0',
];

/**
 * Any Unicode scalar value (a code point that is not a surrogate), weighted towards
 * ASCII. Lone surrogates are left out: they cannot be encoded as UTF-8, so no text
 * format can hold them unescaped.
 */
export function codePoint(): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }) },
      { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xd7ff }) },
      { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xffff }) },
      { weight: 2, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
    )
    .map((cp) => String.fromCodePoint(cp));
}

/** Up to `maxLength` arbitrary code points (see {@link codePoint}), possibly none. */
export function text(options: { maxLength?: number } = {}): fc.Arbitrary<string> {
  return fc.array(codePoint(), { maxLength: options.maxLength ?? 4 }).map((cps) => cps.join(''));
}

export interface HostileStringOptions {
  /** Pieces to draw from. @default HOSTILE_PIECES */
  pieces?: readonly string[];
  /** At most this many pieces and runs of arbitrary text. @default 6 */
  maxPieces?: number;
  /** At least this many pieces or runs of text (1: never the empty string). @default 0 */
  minPieces?: number;
  /** Also draw lone surrogates (`\ud800`): only for formats that escape them. @default false */
  loneSurrogates?: boolean;
}

/**
 * Strings that stress a format's escaping: hostile pieces mixed with arbitrary text
 * (non-BMP characters included), the empty string among them.
 *
 * @example
 * ```ts
 * // a value for a format that cannot hold line breaks
 * const value = arbitraries.hostileString({ pieces: HOSTILE_PIECES.filter((p) => !/[\r\n]/.test(p)) });
 * ```
 */
export function hostileString(options: HostileStringOptions = {}): fc.Arbitrary<string> {
  const pieces = options.pieces ?? HOSTILE_PIECES;
  // Runs of text are never empty, so that `minPieces: 1` means a non-empty string.
  const units: fc.Arbitrary<string>[] = [
    fc.array(codePoint(), { minLength: 1, maxLength: 3 }).map((c) => c.join('')),
  ];
  if (pieces.length > 0) units.push(fc.constantFrom(...pieces));
  if (options.loneSurrogates) {
    units.push(fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)));
  }
  return fc
    .array(fc.oneof(...units), { minLength: options.minPieces ?? 0, maxLength: options.maxPieces ?? 6 })
    .map((parts) => parts.join(''));
}

/**
 * Byte sequences that make framing hard: line ends, quotes, a BOM, and invalid or
 * truncated UTF-8 (a lone continuation byte, a lead byte without its continuation).
 */
export const HOSTILE_BYTES: readonly (readonly number[])[] = [
  [0x0a],
  [0x0d],
  [0x0d, 0x0a],
  [0x22],
  [0x27],
  [0x2c],
  [0x09],
  [0x5c],
  [0x3d],
  [0x20],
  [0x00],
  [0xff],
  [0xc3],
  [0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xef, 0xbb, 0xbf],
  [0xc3, 0xa9],
  [0xf0, 0x9f, 0x98, 0x80],
];

/** One piece of hostile text or bytes, as UTF-8 where it is text. */
const fragment: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_PIECES).map((s) => Buffer.from(s, 'utf8')) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_BYTES).map((b) => Uint8Array.from(b)) },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9]{1,4}$/).map((s) => Buffer.from(s, 'utf8')) },
);

/**
 * Bytes that look like line-oriented text with trouble in it: hostile pieces, short
 * words and invalid UTF-8, with LF or CRLF line ends.
 */
export function hostileBytes(options: { maxFragments?: number } = {}): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fragment, { maxLength: options.maxFragments ?? 40 })
    .map((parts) => new Uint8Array(Buffer.concat(parts)));
}

/** Anything at all: uniformly random bytes. */
export function anyBytes(options: { maxLength?: number } = {}): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength: options.maxLength ?? 96 });
}
