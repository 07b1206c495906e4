/**
 * The two framers every built-in format needs. A format with other rules writes its
 * own {@link Framer}; these are also the reference for how.
 */

import type { Framer, RecordScanner } from './contracts.js';
import type { ErrorCode } from './errors.js';

const LF = 0x0a;

/**
 * A scanner that can also say where the last record end in a buffer is without listing
 * every end: what the thread chunker needs (it cuts after the last record end only).
 * `lastEnd(buf, from)` returns the index of the last LF at or after `from` that ends a
 * record, or -1, and leaves the scanner in the state {@link RecordScanner.scan} would
 * leave it in over the same bytes; the two can be mixed call by call.
 */
export interface LastEndScanner extends RecordScanner {
  lastEnd(buf: Uint8Array, from: number): number;
}

/** A framer whose scanners are {@link LastEndScanner}s. */
export interface LastEndFramer extends Framer {
  scanner(): LastEndScanner;
}

/** `buf` as a Buffer view (no copy): Buffer's `indexOf` is memchr, a plain Uint8Array's is several times slower. */
function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
}

/** One record per line: every LF ends a record. */
export const newlineFramer: Framer = {
  name: 'newline',
  multiline: false,
  scanner(): RecordScanner {
    return {
      scan(buf, from, ends) {
        for (let i = buf.indexOf(LF, from); i !== -1; i = buf.indexOf(LF, i + 1)) ends.push(i);
      },
    };
  },
};

/**
 * RFC 4180 quoting: an LF inside a quoted field does not end the record. A quote
 * opens a field only at the start of a field (after the delimiter or at the start of
 * a record); elsewhere it is data, so one stray quote cannot swallow the rest of the
 * file. Inside a field a doubled quote is an escaped quote, which the toggle below
 * handles for free (close, then open again).
 *
 * Both `quote` and `delimiter` must be single-byte (ASCII) characters.
 */
export function quotedFramer(quote: string, delimiter: string): LastEndFramer {
  const q = asciiByte(quote, 'quote');
  const d = asciiByte(delimiter, 'delimiter');
  return {
    name: `quoted(${quote})`,
    multiline: true,
    scanner(): LastEndScanner {
      let inQuote = false;
      // True while the last byte consumed was a closing quote: a quote right after it
      // is the second half of a doubled (escaped) quote and re-opens the field.
      let justClosed = false;
      return {
        scan(buf, from, ends) {
          const n = buf.length;
          let i = from;
          // Next quote and next LF, found with indexOf (memchr) so a quote-free stretch
          // is scanned at native speed; each is searched again only once passed.
          let nq = buf.indexOf(q, i);
          let nl = buf.indexOf(LF, i);
          while (i < n) {
            if (inQuote) {
              if (nq === -1) return;
              inQuote = false;
              justClosed = true;
              i = nq + 1;
            } else if (nq !== -1 && (nl === -1 || nq < nl)) {
              // A quote opens a field only at a field start. Index 0 is one: nq === 0 only
              // when from === 0, and the decoder then hands over a buffer that begins at a
              // record start (while it drops an over-long record it keeps the last byte
              // scanned, so from >= 1 and buf[nq - 1] is always the real previous byte).
              const prev = buf[nq - 1];
              if ((justClosed && nq === i) || nq === 0 || prev === d || prev === LF) inQuote = true;
              justClosed = false;
              i = nq + 1;
            } else if (nl === -1) {
              justClosed = false;
              return;
            } else {
              ends.push(nl);
              justClosed = false;
              i = nl + 1;
            }
            if (nq !== -1 && nq < i) nq = buf.indexOf(q, i);
            if (nl !== -1 && nl < i) nl = buf.indexOf(LF, i);
          }
        },
        lastEnd(bytes, from) {
          // The same state machine as `scan`, but between two quotes only the last LF
          // matters (every LF outside quotes ends a record): a quote-free stretch costs a
          // memchr forward and a search back to its last LF, so a buffer without quotes
          // costs one `indexOf` and one `lastIndexOf`. Linear however the quotes fall:
          // every quote found is consumed, the next LF is searched again only once
          // passed, and the search back stops at that LF.
          const buf = asBuffer(bytes);
          const n = buf.length;
          let last = -1;
          let i = from;
          let nl = buf.indexOf(LF, i);
          while (i < n) {
            const nq = buf.indexOf(q, i);
            if (inQuote) {
              if (nq === -1) return last;
              inQuote = false;
              justClosed = true;
              i = nq + 1;
              continue;
            }
            if (nl !== -1 && nl < i) nl = buf.indexOf(LF, i);
            const stop = nq === -1 ? n : nq;
            if (nl !== -1 && nl < stop) {
              // LFs in [i, stop) all end records; the last of them is the one wanted.
              last = buf.lastIndexOf(LF, stop - 1);
              justClosed = false;
            }
            if (nq === -1) {
              // Bytes but no quote after them: no field was just closed.
              justClosed = false;
              return last;
            }
            // A quote opens a field only at a field start (see `scan`).
            const prev = buf[nq - 1];
            if ((justClosed && nq === i) || nq === 0 || prev === d || prev === LF) inQuote = true;
            justClosed = false;
            i = nq + 1;
          }
          return last;
        },
        pendingError(): ErrorCode | undefined {
          return inQuote ? 'SLUICE_E_UNTERMINATED_QUOTE' : undefined;
        },
      };
    },
  };
}

function asciiByte(ch: string, what: string): number {
  const c = ch.charCodeAt(0);
  if (ch.length !== 1 || c > 0x7f || c === LF || c === 0x0d) {
    throw new TypeError(`${what} must be one ASCII character other than CR or LF, got ${JSON.stringify(ch)}`);
  }
  return c;
}
