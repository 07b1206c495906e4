/**
 * Valid logfmt records for the laws, kept apart from index.js so that running the
 * format never loads fast-check. `sluice check-format index.js` finds this file next to
 * the module; tests import it directly.
 */
import fc from 'fast-check';
import { arbitraries } from 'sluice/testing';

/** What a key cannot hold (index.js rejects it); everything else is fair game. */
const NOT_IN_KEY = /[ \t="\u0000-\u001f\u007f]/u;

/** Keys: common ones, names that trip up plain objects, and arbitrary text. */
const key = fc.oneof(
  fc.constantFrom(
    'level',
    'msg',
    'at',
    '__proto__',
    'constructor',
    'toString',
    '0',
    '10',
    'a.b',
    'C:\\path',
    '😀',
  ),
  fc
    .string({ unit: arbitraries.codePoint().filter((c) => !NOT_IN_KEY.test(c)), minLength: 1, maxLength: 6 })
    // index.js refuses a key that starts with U+FEFF (a reader drops it as a BOM).
    .filter((k) => k.charCodeAt(0) !== 0xfeff),
);

/**
 * A record: one to five distinct keys, each with a value full of quotes, spaces,
 * `=`, backslashes, line breaks, tabs, emoji, or nothing at all.
 * @type {fc.Arbitrary<Record<string, string>>}
 */
export const arbitrary = fc
  .uniqueArray(fc.tuple(key, arbitraries.hostileString()), {
    minLength: 1,
    maxLength: 5,
    selector: ([k]) => k,
  })
  .map((pairs) => {
    /** @type {Record<string, string>} */
    const record = {};
    for (const [k, v] of pairs) {
      Object.defineProperty(record, k, { value: v, writable: true, enumerable: true, configurable: true });
    }
    return record;
  });
