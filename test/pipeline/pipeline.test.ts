import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Rejection, Sink } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { pipeline } from '../../src/core/pipeline.js';
import { FormatRegistry } from '../../src/core/registry.js';
import { collector, lines, memoryInput } from './helpers.js';

const registry = new FormatRegistry([lines]);

async function run(chunks: string[], extra: Partial<Parameters<typeof pipeline>[0]> = {}) {
  const out = collector();
  const stats = await pipeline({
    inputs: [memoryInput('mem', chunks)],
    from: 'lines',
    to: 'lines',
    output: out,
    registry,
    ...extra,
  });
  return { text: out.text(), stats };
}

describe('pipeline', () => {
  it('copies records from input to output through the formats', async () => {
    const { text, stats } = await run(['a\nb', '\nc\n']);
    expect(text).toBe('a\nb\nc\n');
    expect(stats.records).toEqual({ in: 3, emitted: 3, rejected: 0, skipped: 0 });
    expect(stats.items.written).toBe(3);
  });

  it('reads several inputs one after another in the order given', async () => {
    const out = collector();
    await pipeline({
      inputs: [memoryInput('one', ['1\n2\n']), memoryInput('two', ['3\n']), memoryInput('three', ['4'])],
      from: lines,
      to: lines,
      output: out,
    });
    expect(out.text()).toBe('1\n2\n3\n4\n');
  });

  it('decompresses gzip input recognised by its magic bytes', async () => {
    const gz = gzipSync(Buffer.from('x\ny\n'));
    const { text } = await run([gz.subarray(0, 1).toString('latin1')], {
      inputs: [memoryInput('data.bin', [gz.subarray(0, 1), gz.subarray(1)])],
    });
    expect(text).toBe('x\ny\n');
  });

  it('fails on the first bad record with its source and line, after writing the records before it', async () => {
    const out = collector();
    const err = await pipeline({
      inputs: [memoryInput('in.txt', ['a\nBAD\nc\n'])],
      from: lines,
      to: lines,
      output: out,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('SLUICE_E_VALIDATION');
    expect((err as SluiceError).describe()).toBe('in.txt:2: line 2 is bad [SLUICE_E_VALIDATION]');
    expect(out.text()).toBe('a\n');
  });

  it('skips bad records under the skip policy and counts them', async () => {
    const { text, stats } = await run(['a\nBAD\nc\nBAD\n'], { onError: 'skip' });
    expect(text).toBe('a\nc\n');
    expect(stats.records).toEqual({ in: 4, emitted: 2, rejected: 2, skipped: 0 });
    expect(stats.rejectedByCode).toEqual({ SLUICE_E_VALIDATION: 2 });
  });

  it('sends bad records to a dead-letter file with source, line, offset and code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-'));
    const dl = join(dir, 'rejects.ndjson');
    await run(['ok\nBAD\n'], { onError: `dead-letter=${dl}` });
    const rows = (await readFile(dl, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toEqual([
      {
        source: 'mem',
        line: 2,
        offset: 3,
        code: 'SLUICE_E_VALIDATION',
        stage: 'tokenize',
        message: 'line 2 is bad',
        record: 'BAD',
      },
    ]);
  });

  it('sends bad records to a dead-letter sink object', async () => {
    const got: Rejection[] = [];
    const sink: Sink<Rejection> = {
      name: 'mem',
      write: async (b) => void got.push(...b),
      close: async () => {},
    };
    await run(['BAD\nok\n'], { onError: { deadLetter: sink } });
    expect(got.map((r) => [r.line, r.code])).toEqual([[1, 'SLUICE_E_VALIDATION']]);
  });

  it('applies transforms: arrays fan out, undefined drops, throws reject with the line', async () => {
    const { text, stats } = await run(['a\nb\nc\nd\n'], {
      onError: 'skip',
      transforms: [
        (s: string) => (s === 'b' ? undefined : s),
        async (s: string) => {
          if (s === 'c') throw new Error('no c');
          return s === 'd' ? [s, s.toUpperCase()] : s;
        },
      ],
    });
    expect(text).toBe('a\nd\nD\n');
    expect(stats.items).toEqual({ tokenized: 4, filtered: 1, rejected: 1, written: 3 });
  });

  it('names the line of a record a transform rejected', async () => {
    const err = await run(['a\nb\nc\n'], {
      transforms: [
        (s: string) => {
          if (s === 'c') throw new Error('no c');
          return s;
        },
      ],
    }).catch((e: unknown) => e as SluiceError);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('SLUICE_E_TRANSFORM');
    expect((err as SluiceError).position).toEqual({ source: 'mem', line: 3, offset: 4 });
  });

  it('writes items to object sinks', async () => {
    const got: unknown[] = [];
    await pipeline({
      inputs: [memoryInput('m', ['x\ny\n'])],
      from: lines,
      sinks: [{ name: 'mem', write: async (b) => void got.push(...b), close: async () => {} }],
    });
    expect(got).toEqual(['x', 'y']);
  });

  it('refuses an output format without a serializer before reading input', async () => {
    const { serializer: _, ...noSer } = lines;
    const err = await pipeline({
      inputs: [memoryInput('m', ['x'])],
      from: lines,
      to: { ...noSer, name: 'noser' },
    }).catch((e: unknown) => e);
    expect((err as SluiceError).code).toBe('SLUICE_E_NO_SERIALIZER');
  });

  it('refuses an unknown option of the input format, naming it', async () => {
    const err = await run(['x'], { fromOptions: { nope: 1 } }).catch((e: unknown) => e);
    expect((err as SluiceError).code).toBe('SLUICE_E_OPTION');
    expect((err as SluiceError).message).toContain('lines.nope');
  });

  it('reports a missing input file as an input error naming it', async () => {
    const err = await pipeline({
      inputs: ['/nonexistent/x.txt'],
      from: lines,
      to: lines,
      output: collector(),
    }).catch((e: unknown) => e);
    expect((err as SluiceError).code).toBe('SLUICE_E_INPUT');
    expect((err as SluiceError).message).toContain('/nonexistent/x.txt');
  });

  it('writes to a file given as output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-'));
    const input = join(dir, 'in.txt');
    await writeFile(input, 'p\nq\n');
    const outPath = join(dir, 'out.txt');
    await pipeline({ inputs: [input], from: lines, to: lines, output: outPath });
    expect(await readFile(outPath, 'utf8')).toBe('p\nq\n');
  });

  it('stops with an abort error when its signal is aborted', async () => {
    const ac = new AbortController();
    const never = new (await import('node:stream')).PassThrough();
    const p = pipeline({
      inputs: [{ source: 'never', open: () => never }],
      from: lines,
      to: lines,
      output: collector(),
      signal: ac.signal,
    });
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect((err as SluiceError).code).toBe('SLUICE_E_ABORTED');
  });

  it('reads only a few batches ahead of a sink that has stopped, and loses none when it resumes', async () => {
    // Each chunk is one record, and so one batch. Batches held between the stages survive
    // the young generation's collections, which made a pipe to a slower reader cost
    // several times the GC of a file (docs/concurrency.md, session 9).
    let tokenized = 0;
    const counting: typeof lines = {
      ...lines,
      tokenizer: () => ({
        tokenize(record, _at, out) {
          tokenized++;
          out.push(record);
        },
      }),
    };
    const total = 200;
    const chunks = Array.from({ length: total }, (_, i) => `${i}\n`);
    let release!: () => void;
    const resumed = new Promise<void>((r) => {
      release = r;
    });
    const got: string[] = [];
    const done = pipeline({
      inputs: [memoryInput('m', chunks)],
      from: counting,
      sinks: [
        {
          name: 'stopped',
          write: async (b) => {
            await resumed;
            got.push(...(b as string[]));
          },
          close: async () => {},
        },
      ],
    });
    // Let the stages fill up until nothing moves.
    let before = -1;
    while (before !== tokenized) {
      before = tokenized;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(tokenized).toBeLessThanOrEqual(AHEAD);
    release();
    await done;
    expect(got).toEqual(chunks.map((c) => c.trimEnd()));
  });
});

/**
 * Batches a stopped sink lets the pipeline tokenize: the one the sink holds, one waiting
 * at the writer, one in the merge of the inputs and one in the tokenizer's readable
 * buffer (measured: 4; it was 22 with Node's default of 16 in the merge and 4 in the
 * tokenizer).
 */
const AHEAD = 4;
