import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { type Batch, defineFormat, type Format } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { quotedFramer } from '../../src/core/framers.js';
import { createTokenizerStream, type TokenizerStreamOptions } from '../../src/core/tokenize-stream.js';
import { runFormat } from '../../src/testing/run-format.js';
import { lines, quotedLines } from './helpers.js';

async function collect<T>(
  format: Format<T, never> | Format<T, object>,
  chunks: (string | Buffer)[],
  options: TokenizerStreamOptions = {},
): Promise<Batch<T>[]> {
  const batches: Batch<T>[] = [];
  await pipeline(
    Readable.from(chunks),
    createTokenizerStream(format as Format<T, object>, options),
    new Writable({
      objectMode: true,
      write(batch: Batch<T>, _enc, cb) {
        batches.push(batch);
        cb();
      },
    }),
  );
  return batches;
}

const items = <T>(batches: Batch<T>[]): T[] => batches.flatMap((b) => b.items);

/** Upper-cases records when `upper` is set; joins fields with `sep`; flushes a trailer. */
const configurable = defineFormat<string, { upper: boolean; sep: string; trailer: string[] }>({
  name: 'configurable',
  description: 'test format with options',
  mediaTypes: [],
  extensions: [],
  options: {
    upper: { type: 'boolean', description: 'upper-case', default: false },
    sep: { type: 'char', description: 'field separator', default: ',' },
    trailer: { type: 'string[]', description: 'tokens emitted at the end', default: [] },
  },
  framer: (o) => quotedFramer('"', o.sep),
  tokenizer: (o) => ({
    tokenize(record, _at, out) {
      out.push(o.upper ? record.toUpperCase() : record);
    },
    flush(out) {
      out.push(...o.trailer);
    },
  }),
});

describe('createTokenizerStream', () => {
  it('turns a Readable of chunks into batches of tokens in a stream/promises pipeline', async () => {
    const batches = await collect(lines, ['a\nb', 'c\n', 'd']);
    expect(items(batches)).toEqual(['a', 'bc', 'd']);
  });

  it('gives the same tokens as the synchronous runFormat', async () => {
    const chunks = ['x\r\n"y', '\nz"\n', 'w'];
    expect(items(await collect(quotedLines, chunks))).toEqual(runFormat(quotedLines, chunks).items);
  });

  it('names the source `-` by default', async () => {
    const batches = await collect(lines, ['a\n']);
    expect(batches[0]?.source).toBe('-');
  });

  it('names the given source in batches and rejections', async () => {
    const batches = await collect(lines, [Buffer.from([0xff, 0x0a])], { source: 'in.txt' });
    expect(batches.every((b) => b.source === 'in.txt')).toBe(true);
    expect(batches.flatMap((b) => b.rejects)).toMatchObject([{ source: 'in.txt', code: 'SLUICE_E_UTF8' }]);
  });

  it('reports rejections in batches instead of failing the stream', async () => {
    const throwing = defineFormat<string, Record<string, never>>({
      ...lines,
      tokenizer: () => ({
        tokenize(record, _at, out) {
          if (record === 'bad') throw new Error('nope');
          out.push(record);
        },
      }),
    });
    const batches = await collect(throwing, ['ok\nbad\nok2\n']);
    expect(items(batches)).toEqual(['ok', 'ok2']);
    expect(batches.flatMap((b) => b.rejects)).toMatchObject([{ code: 'SLUICE_E_PARSE', line: 2, offset: 3 }]);
  });

  it('uses the format framer with the resolved options', async () => {
    const batches = await collect(configurable, ['a;"b\nc"\nd\n'], { options: { sep: ';' } });
    expect(items(batches)).toEqual(['a;"b\nc"', 'd']);
  });

  it('gives the tokenizer options coerced from strings', async () => {
    const batches = await collect(configurable, ['a\n'], { options: { upper: 'yes' } });
    expect(items(batches)).toEqual(['A']);
  });

  it('emits the tokens of flush at the end', async () => {
    const batches = await collect(configurable, ['a\nb'], { options: { trailer: 'x,y' } });
    expect(items(batches)).toEqual(['a', 'b', 'x', 'y']);
  });

  it('applies maxRecordBytes', async () => {
    const batches = await collect(lines, ['ok\ntoo long\n'], { maxRecordBytes: 4 });
    expect(items(batches)).toEqual(['ok']);
    expect(batches.flatMap((b) => b.rejects)).toMatchObject([{ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2 }]);
  });

  it('accounts for every input byte in the batches', async () => {
    const input = '\ufeffa\nbb\r\nccc';
    const batches = await collect(
      lines,
      [...Buffer.from(input)].map((b) => Buffer.of(b)),
    );
    expect(batches.reduce((n, b) => n + b.bytes, 0)).toBe(Buffer.byteLength(input));
  });

  it('gives no tokens for empty input', async () => {
    expect(items(await collect(lines, []))).toEqual([]);
  });

  it('rejects an unknown option with SLUICE_E_OPTION naming it', () => {
    let error: unknown;
    try {
      createTokenizerStream(configurable, { options: { colour: 'red' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: 'SLUICE_E_OPTION', stage: 'config' });
    expect((error as Error).message).toMatch(/unknown option configurable\.colour/);
  });

  it('rejects any option for a format that has none', () => {
    expect(() => createTokenizerStream(lines, { options: { x: 1 } })).toThrow(/this format has no options/);
  });

  it('rejects an ill-typed option with the expected and the given value', () => {
    expect(() => createTokenizerStream(configurable, { options: { upper: 'maybe' } })).toThrow(
      'option configurable.upper: expected true or false, got "maybe"',
    );
  });

  it('rejects an invalid maxRecordBytes before any byte is read', () => {
    expect(() => createTokenizerStream(lines, { maxRecordBytes: 0 })).toThrow(/maxRecordBytes/);
  });

  it('makes a fresh tokenizer per stream', async () => {
    let made = 0;
    const counting = defineFormat<number, Record<string, never>>({
      name: 'counting',
      description: 'numbers its tokenizers',
      mediaTypes: [],
      extensions: [],
      tokenizer: () => {
        const id = ++made;
        return {
          tokenize(_r, _at, out) {
            out.push(id);
          },
        };
      },
    });
    expect(items(await collect(counting, ['a\n']))).toEqual([1]);
    expect(items(await collect(counting, ['a\n']))).toEqual([2]);
  });
});
