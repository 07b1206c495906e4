/**
 * The pipeline's file output (`fileOutput`): pieces land in the file in order and as
 * UTF-8, each before its write resolves (writes are synchronous, as a redirected
 * stdout's are: ADR 0016); a path that cannot be opened or written gets a coded error
 * naming it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isSluiceError } from '../../src/core/errors.js';
import { fileOutput } from '../../src/sinks/file.js';
import { tempFilesWith } from '../cli/helpers.js';

const piece = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '😀', '\n'), minLength: 1000, maxLength: 100_000 }),
  fc.uint8Array({ maxLength: 300 }),
);

const tmp = tempFilesWith('out', '.txt');
const signal = new AbortController().signal;

const bytesOf = (p: string | Uint8Array): Buffer =>
  typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);

describe('fileOutput', () => {
  test('the file holds every piece, text as UTF-8, in order; each is there once its write resolves', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(piece, { maxLength: 4 }), { maxLength: 30 }), async (batches) => {
        const path = tmp.file();
        const { sink, released } = await fileOutput(path);
        let expected = Buffer.alloc(0);
        for (const batch of batches) {
          await sink.write(batch, signal);
          expected = Buffer.concat([expected, ...batch.map(bytesOf)]);
          // No stream buffers it: the bytes are in the file (the page cache) already.
          expect(readFileSync(path).equals(expected)).toBe(true);
          expect(released()).toBe(true);
        }
        await sink.close();
        expect(readFileSync(path).equals(expected)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  test('truncates, or appends when asked', async () => {
    const path = tmp.file();
    writeFileSync(path, 'old\n');
    const a = await fileOutput(path, { append: true });
    await a.sink.write(['more\n'], signal);
    await a.sink.close();
    expect(readFileSync(path, 'utf8')).toBe('old\nmore\n');
    const t = await fileOutput(path);
    await t.sink.write(['new\n'], signal);
    await t.sink.close();
    expect(readFileSync(path, 'utf8')).toBe('new\n');
  });

  test('a path that cannot be opened fails at once with SLUICE_E_OUTPUT naming it', async () => {
    const path = `${tmp.dir()}/no-such-dir/out.txt`;
    const e = await fileOutput(path).catch((x: unknown) => x);
    expect(isSluiceError(e) && e.code).toBe('SLUICE_E_OUTPUT');
    expect((e as Error).message).toContain(`cannot open ${path} for writing`);
  });

  // /dev/full takes the open and refuses every write with ENOSPC.
  test.skipIf(process.platform !== 'linux')(
    'a failed write rejects with SLUICE_E_OUTPUT naming the file and the reason, and so does close',
    async () => {
      const { sink } = await fileOutput('/dev/full');
      const e = await sink.write(['x\n'], signal).catch((x: unknown) => x);
      expect(isSluiceError(e) && e.code).toBe('SLUICE_E_OUTPUT');
      expect((e as Error).message).toMatch(/^cannot write to \/dev\/full: .*ENOSPC/);
      await expect(sink.write(['y\n'], signal)).rejects.toBe(e);
      await expect(sink.close()).rejects.toBe(e);
    },
  );
});
