/**
 * BROKEN ON PURPOSE: one string per line, where blank lines and lines starting with
 * `#` are comments. The serializer writes every string as it is, so a value that
 * starts with `#` (or is empty) comes back as a comment: the record is silently
 * dropped, counted as skipped. The no-record-dropped law fails.
 */
import { defineFormat, SluiceError } from 'sluice';
import { arbitraries } from 'sluice/testing';

export default defineFormat({
  name: 'lines',
  description: 'one string per line; # starts a comment',
  mediaTypes: [],
  extensions: ['lines'],
  tokenizer: () => ({
    tokenize(record, _at, out) {
      if (record === '' || record.startsWith('#')) return;
      out.push(record);
    },
  }),
  serializer: () => ({
    serialize(line) {
      // Line breaks are refused properly; a leading `#` is not (BUG).
      if (/[\r\n]/.test(line)) throw new SluiceError('SLUICE_E_SERIALIZE', 'a line break cannot be written');
      return line;
    },
  }),
});

export const samples = ['# a comment\nfirst\n\nsecond\n'];

export const arbitrary = arbitraries.hostileString({
  pieces: arbitraries.HOSTILE_PIECES.filter((p) => !/[\r\n]/.test(p)),
});
