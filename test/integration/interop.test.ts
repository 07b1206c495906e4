/**
 * sluice's streams inside other people's pipelines, and sluice checked against the
 * naive split2 → through2 pipeline that users would otherwise write (ADR 0002).
 */
import { Readable, type Transform, type TransformCallback } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import fc from 'fast-check';
import split2 from 'split2';
import { chain } from 'stream-chain';
import through2 from 'through2';
import { describe, expect, it } from 'vitest';
import ndjson from '../../formats/ndjson/index.js';
import type { Batch } from '../../src/core/contracts.js';
import { pipeline } from '../../src/core/pipeline.js';
import { createTokenizerStream } from '../../src/core/tokenize-stream.js';
import { collector, memoryInput } from '../pipeline/helpers.js';

/** The pipeline a user would write by hand: split2 → through2.obj(JSON.parse) → JSON.stringify. */
async function naive(text: string): Promise<string> {
  const out = collector();
  await streamPipeline(
    Readable.from([Buffer.from(text)]),
    split2(),
    through2.obj(function (this: Transform, line: string, _enc: BufferEncoding, cb: TransformCallback) {
      if (line.trim() !== '') this.push(`${JSON.stringify(JSON.parse(line))}\n`);
      cb();
    }),
    out,
  );
  return out.text();
}

async function viaSluice(text: string, cuts: number[]): Promise<string> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const c of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    chunks.push(bytes.subarray(prev, c));
    prev = c;
  }
  chunks.push(bytes.subarray(prev));
  const out = collector();
  await pipeline({ inputs: [memoryInput('x', chunks)], from: ndjson, to: ndjson, output: out });
  return out.text();
}

describe('interoperability', () => {
  it('gives the same NDJSON as the naive split2 + through2 pipeline on valid input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { maxLength: 30 }),
        fc.array(fc.nat(2000), { maxLength: 10 }),
        async (values, cuts) => {
          const text = values.map((v) => `${JSON.stringify(v)}\n`).join('');
          expect(await viaSluice(text, cuts)).toBe(await naive(text));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('runs a tokenizer stream as a stage of a stream-chain chain', async () => {
    const items: unknown[] = [];
    const c = chain([
      createTokenizerStream(ndjson, { source: 'chain' }),
      (batch: Batch<unknown>) => batch.items,
      (xs: unknown[]) => xs.length,
    ]);
    c.on('data', (n: number) => items.push(n));
    await streamPipeline(Readable.from([Buffer.from('{"a":1}\n[2]\n'), Buffer.from('3\n')]), c);
    expect(items.reduce((a: number, b) => a + (b as number), 0)).toBe(3);
  });
});
