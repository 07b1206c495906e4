import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { FrameDecoder } from '../../src/core/frame-decoder.js';
import { quotedFramer } from '../../src/core/framers.js';
import { chunkAt, serializeAll } from '../../src/testing/run-format.js';
import { arbitrary, hostileString, tableOf } from './arbitrary.js';
import csv from './index.js';
import { csvCodec } from './serializer.js';
import { rowBuilder, uniqueNames } from './table.js';
import { run, utf8 } from './test/helpers.js';

/** Text fragments that make framing and quoting hard, bytes that make UTF-8 hard. */
const fragment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(',', '"', '""', '\n', '\r\n', '\r', 'a', 'bc', ' ', ';', "'") },
  { weight: 2, arbitrary: fc.constantFrom('é', '😀', '\uFEFF', '\t') },
  { weight: 1, arbitrary: fc.constantFrom('"a""b"', '"x\ny"', ',"",', '"\r\n"') },
);
const textBytes = fc.array(fragment, { maxLength: 60 }).map((parts) => utf8(parts.join('')));
const rawBytes = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  // Mostly CSV, with a few invalid or truncated UTF-8 bytes mixed in.
  fc
    .tuple(textBytes, fc.array(fc.tuple(fc.nat(), fc.constantFrom(0xff, 0xc3, 0xe2, 0x80, 0xef))))
    .map(([bytes, bad]) => {
      const out = [...bytes];
      for (const [at, b] of bad) out.splice(at % (out.length + 1), 0, b);
      return new Uint8Array(out);
    }),
);
/** Input bytes: garbage, csv-like text, or a serialized hostile table (many quoted CR/LF). */
const inputBytes = fc.oneof(
  rawBytes,
  textBytes,
  tableOf().map(({ rows, columns }) => utf8(serializeAll(csv, rows, { columns, header: true }))),
);

const optionSets: Record<string, unknown>[] = [
  {},
  { header: false },
  { relaxColumnCount: true },
  { delimiter: ';', quote: "'" },
  { columns: ['x', 'y'], header: true },
  { columns: ['x', 'y', 'z'] },
];
/** Runs scale with SLUICE_PROPERTY_RUNS (a multiplier) for a long hunt. */
const scale = Number(process.env.SLUICE_PROPERTY_RUNS ?? 1);
const runs = (n: number) => ({ numRuns: Math.round(n * scale) });
const someOptions = fc.constantFrom(...optionSets);
const cutsOf = (bytes: Uint8Array) => fc.array(fc.nat({ max: bytes.length }), { maxLength: 12 });

describe('csv laws: chunk boundaries', () => {
  it('gives the same items and rejections however the bytes are cut', () => {
    fc.assert(
      fc.property(
        inputBytes.chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes), someOptions)),
        ([bytes, cuts, options]) => {
          expect(run(csv, bytes, { cuts, options })).toEqual(run(csv, bytes, { options }));
        },
      ),
      runs(400),
    );
  });

  it('gives the same items and rejections fed one byte at a time', () => {
    fc.assert(
      fc.property(inputBytes, someOptions, (bytes, options) => {
        const cuts = Array.from({ length: bytes.length }, (_, i) => i);
        expect(run(csv, bytes, { cuts, options })).toEqual(run(csv, bytes, { options }));
      }),
      runs(100),
    );
  });

  it('gives the same items and rejections however the bytes are cut, with records over maxRecordBytes', () => {
    fc.assert(
      fc.property(
        inputBytes.chain((bytes) =>
          fc.tuple(fc.constant(bytes), cutsOf(bytes), someOptions, fc.integer({ min: 1, max: 12 })),
        ),
        ([bytes, cuts, options, maxRecordBytes]) => {
          expect(run(csv, bytes, { cuts, options, maxRecordBytes })).toEqual(
            run(csv, bytes, { options, maxRecordBytes }),
          );
        },
      ),
      runs(400),
    );
  });
});

/**
 * LFs of `record` outside quoted fields, read with the tokenizer's quoting rules;
 * undefined when the record does not parse. A second, naive reading of the rules, to
 * check that the framer and the tokenizer agree on where quoted fields are.
 */
function lfOutsideQuotes(record: string, d = ',', q = '"'): number | undefined {
  const n = record.length;
  let count = 0;
  let i = 0;
  for (;;) {
    if (record[i] === q) {
      i++;
      for (;;) {
        const j = record.indexOf(q, i);
        if (j === -1) return undefined;
        i = j + 1;
        if (record[i] !== q) break;
        i++;
      }
      if (i === n) return count;
      if (record[i] !== d) return undefined;
      i++;
    } else {
      const j = record.indexOf(d, i);
      const end = j === -1 ? n : j;
      for (let k = i; k < end; k++) if (record[k] === '\n') count++;
      if (j === -1) return count;
      i = j + 1;
    }
  }
}

describe('csv laws: framer and tokenizer agree', () => {
  it('never hands the tokenizer a record with a line break outside a quoted field', () => {
    fc.assert(
      fc.property(
        inputBytes.chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes))),
        ([bytes, cuts]) => {
          const decoder = new FrameDecoder({ source: 't', framer: quotedFramer('"', ',') });
          const records: string[] = [];
          for (const chunk of chunkAt(bytes, cuts)) records.push(...(decoder.push(chunk)?.records ?? []));
          records.push(...(decoder.end()?.records ?? []));
          for (const record of records) expect(lfOutsideQuotes(record) ?? 0).toBe(0);
        },
      ),
      runs(300),
    );
  });

  it('never hands the tokenizer a record that ends inside a quoted field', () => {
    fc.assert(
      fc.property(inputBytes, someOptions, (bytes, options) => {
        const r = run(csv, bytes, { options });
        const late = r.rejects.filter((x) => x.code === 'SLUICE_E_UNTERMINATED_QUOTE' && x.stage !== 'frame');
        expect(late).toEqual([]);
      }),
      runs(300),
    );
  });
});

describe('csv laws: accounting', () => {
  it('accounts for every data record of arbitrary bytes as one item or one coded rejection', () => {
    fc.assert(
      fc.property(
        inputBytes,
        someOptions,
        fc.option(fc.integer({ min: 1, max: 40 })),
        (bytes, options, max) => {
          const r = run(csv, bytes, { options, ...(max === null ? {} : { maxRecordBytes: max }) });
          expect(r.records).toBe(r.items.length + r.rejects.length);
          for (const reject of r.rejects) {
            expect(Object.keys(ERROR_CODES)).toContain(reject.code);
            // Record-level codes only: a bad record never ends the run by itself.
            expect(ERROR_CODES[reject.code].exit).toBe(65);
            expect(reject.line).toBeGreaterThanOrEqual(1);
          }
          for (const row of r.items) for (const v of Object.values(row)) expect(typeof v).toBe('string');
        },
      ),
      runs(500),
    );
  });
});

describe('csv laws: round trips', () => {
  it('reads back any table it writes', () => {
    fc.assert(
      fc.property(tableOf(), ({ rows }) => {
        const r = run(csv, serializeAll(csv, rows));
        expect(r.rejects).toEqual([]);
        expect(r.items).toEqual(rows);
      }),
      runs(300),
    );
  });

  it('reads back any table it writes with another delimiter and quote', () => {
    fc.assert(
      fc.property(
        tableOf(),
        fc.constantFrom(',', ';', '\t', '|', ' ', 'a'),
        fc.constantFrom('"', "'", '`'),
        ({ rows }, delimiter, quote) => {
          const options = { delimiter, quote };
          const r = run(csv, serializeAll(csv, rows, options), { options });
          expect(r.rejects).toEqual([]);
          expect(r.items).toEqual(rows);
        },
      ),
      runs(100),
    );
  });

  it('reads back any table it writes without a header row when given the columns', () => {
    fc.assert(
      fc.property(tableOf(), ({ rows, columns }) => {
        const options = { columns };
        const r = run(csv, serializeAll(csv, rows, options), { options });
        expect(r.rejects).toEqual([]);
        expect(r.items).toEqual(rows);
      }),
      runs(100),
    );
  });

  it('reads back tokens of the exported arbitrary', () => {
    fc.assert(
      fc.property(fc.array(arbitrary, { maxLength: 5 }), (rows) => {
        expect(run(csv, serializeAll(csv, rows)).items).toEqual(rows);
      }),
      runs(100),
    );
  });

  it('reads the same tokens from csv it wrote from tokens it read (csv → tokens → csv → tokens)', () => {
    fc.assert(
      fc.property(
        inputBytes,
        fc.constantFrom<Record<string, unknown>>({}, { header: false }),
        (bytes, options) => {
          const first = run(csv, bytes, { options });
          fc.pre(first.items.length > 0);
          const second = run(csv, serializeAll(csv, first.items, options), { options });
          expect(second.rejects).toEqual([]);
          expect(second.items).toEqual(first.items);
        },
      ),
      runs(300),
    );
  });

  it('writes a field bare unless it holds the delimiter, the quote, CR or LF or starts with U+FEFF', () => {
    const { encode } = csvCodec(',', '"');
    fc.assert(
      fc.property(hostileString(), (v) => {
        const needs = /[,"\r\n]/.test(v) || v.startsWith('\uFEFF');
        expect(encode(v) !== v).toBe(needs);
        if (needs) expect(encode(v)).toBe(`"${v.replaceAll('"', '""')}"`);
      }),
      runs(100),
    );
  });

  it('writes one record per token, whatever the token holds', () => {
    fc.assert(
      fc.property(tableOf({ maxRows: 4 }), ({ rows }) => {
        const r = run(csv, serializeAll(csv, rows));
        expect(r.records).toBe(rows.length);
      }),
      runs(100),
    );
  });
});

describe('csv laws: header names', () => {
  const names = fc.array(
    fc.oneof(hostileString(3), fc.constantFrom('__proto__', 'constructor', 'a', 'a_2', '', '1', '01')),
    { maxLength: 8 },
  );

  it('makes any header names unique, keeping every first occurrence and the column count', () => {
    fc.assert(
      fc.property(names, (raw) => {
        const unique = uniqueNames(raw);
        expect(unique.length).toBe(raw.length);
        expect(new Set(unique).size).toBe(raw.length);
        raw.forEach((name, i) => {
          if (raw.indexOf(name) === i) expect(unique[i]).toBe(name);
        });
      }),
      runs(300),
    );
  });

  it('builds rows whose own keys are exactly the names, each holding its field', () => {
    fc.assert(
      fc.property(names, (raw) => {
        const unique = uniqueNames(raw);
        const fields = unique.map((_, i) => `v${i}`);
        const row = rowBuilder(unique)(fields);
        expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
        expect(Object.keys(row).sort()).toEqual([...unique].sort());
        unique.forEach((name, i) => {
          expect(Object.getOwnPropertyDescriptor(row, name)?.value).toBe(fields[i]);
        });
      }),
      runs(300),
    );
  });
});
