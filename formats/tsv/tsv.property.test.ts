import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { serializeAll } from '../../src/testing/run-format.js';
import { anyText, hostileString, tableOf } from '../csv/arbitrary.js';
import { run, utf8 } from '../csv/test/helpers.js';
import { arbitrary } from './arbitrary.js';
import tsv from './index.js';
import { escapeField } from './serializer.js';
import { unescapeField } from './tokenizer.js';

const scale = Number(process.env.SLUICE_PROPERTY_RUNS ?? 1);
const runs = (n: number) => ({ numRuns: Math.round(n * scale) });

/** Names a tsv header can hold: not a lone "" column, not U+FEFF first (see README). */
const writable = (names: string[]): boolean =>
  !(names.length === 1 && names[0] === '') && !names[0]!.startsWith('\uFEFF');

const fragment = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('\t', '\\', '\\t', '\\n', '\\\\', '\n', '\r\n', '\r', 'a', 'bc', ' '),
  },
  { weight: 2, arbitrary: fc.constantFrom('é', '😀', '\uFEFF', '"', ',') },
);
const textBytes = fc.array(fragment, { maxLength: 60 }).map((parts) => utf8(parts.join('')));
const inputBytes = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  textBytes,
  fc
    .tuple(textBytes, fc.array(fc.tuple(fc.nat(), fc.constantFrom(0xff, 0xc3, 0xf0, 0x80, 0xef))))
    .map(([bytes, bad]) => {
      const out = [...bytes];
      for (const [at, b] of bad) out.splice(at % (out.length + 1), 0, b);
      return new Uint8Array(out);
    }),
  tableOf({ names: writable }).map(({ rows, columns }) =>
    utf8(serializeAll(tsv, rows, { columns, header: true })),
  ),
);
const someOptions = fc.constantFrom<Record<string, unknown>>(
  {},
  { header: false },
  { relaxColumnCount: true },
  { columns: ['x'] },
  { columns: ['x', 'y'], header: true },
);
const cutsOf = (bytes: Uint8Array) => fc.array(fc.nat({ max: bytes.length }), { maxLength: 12 });

describe('tsv laws: chunk boundaries', () => {
  it('gives the same items and rejections however the bytes are cut', () => {
    fc.assert(
      fc.property(
        inputBytes.chain((bytes) =>
          fc.tuple(
            fc.constant(bytes),
            cutsOf(bytes),
            someOptions,
            fc.option(fc.integer({ min: 1, max: 12 })),
          ),
        ),
        ([bytes, cuts, options, max]) => {
          const limit = max === null ? {} : { maxRecordBytes: max };
          expect(run(tsv, bytes, { cuts, options, ...limit })).toEqual(
            run(tsv, bytes, { options, ...limit }),
          );
        },
      ),
      runs(400),
    );
  });

  it('gives the same items and rejections fed one byte at a time', () => {
    fc.assert(
      fc.property(inputBytes, someOptions, (bytes, options) => {
        const cuts = Array.from({ length: bytes.length }, (_, i) => i);
        expect(run(tsv, bytes, { cuts, options })).toEqual(run(tsv, bytes, { options }));
      }),
      runs(100),
    );
  });
});

describe('tsv laws: accounting', () => {
  it('accounts for every data record of arbitrary bytes as one item or one coded rejection', () => {
    fc.assert(
      fc.property(
        inputBytes,
        someOptions,
        fc.option(fc.integer({ min: 1, max: 40 })),
        (bytes, options, max) => {
          const r = run(tsv, bytes, { options, ...(max === null ? {} : { maxRecordBytes: max }) });
          expect(r.records).toBe(r.items.length + r.rejects.length);
          for (const reject of r.rejects) expect(ERROR_CODES[reject.code].exit).toBe(65);
          for (const row of r.items) for (const v of Object.values(row)) expect(typeof v).toBe('string');
        },
      ),
      runs(500),
    );
  });
});

describe('tsv laws: round trips', () => {
  it('decodes what it encodes, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString(10), anyText(20)), (v) => {
        const text = escapeField(v);
        expect(text).not.toMatch(/[\t\n\r]/);
        expect(unescapeField(text)).toBe(v);
      }),
      runs(300),
    );
  });

  it('reads back any table it writes', () => {
    fc.assert(
      fc.property(tableOf({ names: writable }), ({ rows }) => {
        const r = run(tsv, serializeAll(tsv, rows));
        expect(r.rejects).toEqual([]);
        expect(r.items).toEqual(rows);
      }),
      runs(300),
    );
  });

  it('reads back any table it writes without a header row when given the columns', () => {
    fc.assert(
      fc.property(tableOf(), ({ rows, columns }) => {
        fc.pre(rows.length === 0 || !String(rows[0]![columns[0]!]).startsWith('\uFEFF'));
        const options = { columns };
        const r = run(tsv, serializeAll(tsv, rows, options), { options });
        expect(r.rejects).toEqual([]);
        expect(r.items).toEqual(rows);
      }),
      runs(100),
    );
  });

  it('reads back tokens of the exported arbitrary', () => {
    fc.assert(
      fc.property(fc.array(arbitrary, { maxLength: 5 }), (rows) => {
        expect(run(tsv, serializeAll(tsv, rows)).items).toEqual(rows);
      }),
      runs(100),
    );
  });

  it('reads the same tokens from tsv it wrote from tokens it read (tsv → tokens → tsv → tokens)', () => {
    fc.assert(
      fc.property(inputBytes, (bytes) => {
        const first = run(tsv, bytes);
        fc.pre(first.items.length > 0 && writable(Object.keys(first.items[0]!)));
        const second = run(tsv, serializeAll(tsv, first.items));
        expect(second.rejects).toEqual([]);
        expect(second.items).toEqual(first.items);
      }),
      runs(300),
    );
  });
});
