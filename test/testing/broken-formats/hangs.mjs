/**
 * BROKEN ON PURPOSE: one string per line with `\t`, `\n` and `\\` escapes. The
 * unescape loop only advances when it recognises an escape, so a line ending in a
 * lone backslash loops forever. The robustness law, run in a worker by check-format,
 * reports the hang with the input that caused it.
 */
import fc from 'fast-check';
import { defineFormat } from 'sluice';

function decodeEscapes(s) {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      i++;
    } else if (i + 1 < s.length) {
      const e = s[i + 1];
      out += e === 't' ? '\t' : e === 'n' ? '\n' : e;
      i += 2;
    }
    // BUG: a backslash at the end neither advances nor ends the loop.
  }
  return out;
}

const encodeEscapes = (s) => s.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n');

export default defineFormat({
  name: 'escaped',
  description: 'one string per line, with backslash escapes',
  mediaTypes: [],
  extensions: ['escaped'],
  tokenizer: () => ({
    tokenize(record, _at, out) {
      if (record !== '') out.push(decodeEscapes(record));
    },
  }),
  serializer: () => ({ serialize: encodeEscapes }),
});

export const samples = ['plain\nwith\\ttab\nC:\\\\path\n'];

export const arbitrary = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\r'));
