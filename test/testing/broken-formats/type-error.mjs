/**
 * BROKEN ON PURPOSE: one `key=value` per line. The tokenizer indexes the result of a
 * regular expression match, which is `null` for a line without `=`: a plain TypeError
 * instead of a coded rejection. Valid lines round-trip fine; only the robustness law
 * (arbitrary bytes, tokenizer called directly) sees it.
 */
import fc from 'fast-check';
import { defineFormat } from 'sluice';

const PAIR = /^(\w+)=(.*)$/;

export default defineFormat({
  name: 'pair',
  description: 'one key=value per line',
  mediaTypes: [],
  extensions: ['pair'],
  tokenizer: () => ({
    tokenize(record, _at, out) {
      const m = record.match(PAIR);
      out.push({ key: m[1], value: m[2] }); // BUG: m is null when the line has no `=`
    },
  }),
  serializer: () => ({ serialize: (t) => `${t.key}=${t.value}` }),
});

export const samples = ['a=1\nb=two words\n'];

export const arbitrary = fc.record({
  key: fc.stringMatching(/^\w{1,8}$/),
  value: fc.string({ maxLength: 12 }).filter((s) => !/[\r\n]/.test(s)),
});
