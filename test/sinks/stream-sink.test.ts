/**
 * The stream sink writes each piece in order, through real streams: with reused
 * buffers into a file and a pipe, and without them into a Writable that keeps what it
 * is given (which reused buffers would corrupt).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { streamSink } from '../../src/sinks/stream-sink.js';
import { tempFilesWith } from '../cli/helpers.js';

const pieces = fc.array(
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: fc.constantFrom('a', 'é', '😀', '\n'), minLength: 1000, maxLength: 200_000 }),
  ),
  { maxLength: 40 },
);

const tmp = tempFilesWith('out', '.txt');

describe('streamSink', () => {
  test('into a file, with reused buffers: the file holds every piece in order', async () => {
    await fc.assert(
      fc.asyncProperty(pieces, async (texts) => {
        const path = tmp.file();
        const sink = streamSink(createWriteStream(path), { name: path, reuseBuffers: true });
        for (const t of texts) await sink.write([t], new AbortController().signal);
        await sink.close();
        expect(readFileSync(path).equals(Buffer.from(texts.join(''), 'utf8'))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  test('into a pipe, with reused buffers: the reader gets every piece in order', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `${i}:${'é😀x'.repeat(i * 37)}\n`);
    const cat = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const got: Buffer[] = [];
    cat.stdout.on('data', (b: Buffer) => got.push(b));
    const exited = new Promise((resolve) => cat.on('close', resolve));
    const sink = streamSink(cat.stdin, { name: 'cat', reuseBuffers: true });
    for (const t of texts) await sink.write([t], new AbortController().signal);
    await sink.close();
    await exited;
    expect(Buffer.concat(got).toString('utf8')).toBe(texts.join(''));
  });

  test('by default, a Writable that keeps its chunks keeps them intact', async () => {
    const kept: Buffer[] = [];
    const keeper = new Writable({
      write(chunk: Buffer, _enc, cb) {
        kept.push(chunk);
        cb();
      },
    });
    const sink = streamSink(keeper);
    // 4.5 MB: more than a few reused buffers would hold.
    const texts = Array.from({ length: 300 }, (_, i) => `piece ${i} ${'z'.repeat(i * 100)}\n`);
    for (const [i, t] of texts.entries()) {
      await sink.write([t], new AbortController().signal);
      // Let the write callbacks run, as they do between a pipeline's batches.
      if (i % 10 === 0) await setImmediate();
    }
    await sink.close();
    expect(Buffer.concat(kept).toString('utf8')).toBe(texts.join(''));
  });
});
