import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, requireBuiltCli, STACK_FRAME, start, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  requireBuiltCli();
  ({ dir, cleanup } = await tempDir());
  // Large enough (a few MB of output) that the writer is still writing when the reader leaves.
  const rows = Array.from({ length: 200_000 }, (_, i) => `${i},user${i},user${i}@example.com`);
  await writeFile(join(dir, 'big.csv'), `id,name,email\n${rows.join('\n')}\n`);
});
afterAll(() => cleanup?.());

/** Resolves with the first line the child writes on stdout. */
function firstLine(child: ReturnType<typeof start>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        child.stdout?.off('data', onData);
        resolve(text.slice(0, nl));
      }
    };
    child.stdout?.on('data', onData);
    child.on('close', () => reject(new Error(`exited before writing a line; got ${JSON.stringify(text)}`)));
  });
}

describe('shell pipelines', () => {
  it('exits 0 without a word on stderr when the reader of stdout goes away, like `| head -1`', async () => {
    const child = start(['-f', 'csv', 'big.csv'], { cwd: dir });
    child.stdin?.end();
    const done = exited(child);
    expect(await firstLine(child)).toBe('{"id":"0","name":"user0","email":"user0@example.com"}');
    child.stdout?.destroy();
    const r = await done;
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('stops reading stdin and exits 0 when the reader of stdout goes away', async () => {
    const child = start(['-f', 'ndjson'], { cwd: dir });
    const done = exited(child);
    // Keep stdin open: the CLI must not wait for its end once nobody reads the output.
    const chunk = `${Array.from({ length: 1000 }, (_, i) => `{"i":${i}}`).join('\n')}\n`;
    child.stdin?.write(chunk);
    expect(await firstLine(child)).toBe('{"i":0}');
    child.stdout?.destroy();
    const timer = setInterval(() => child.stdin?.write(chunk), 5);
    const r = await done.finally(() => clearInterval(timer));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('exits 130 on SIGINT, without a stack trace', async () => {
    const child = start(['-f', 'ndjson'], { cwd: dir });
    const done = exited(child);
    child.stdin?.write('{"a":1}\n');
    // Once a record is out, the run (and its SIGINT handler) is under way.
    await firstLine(child);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
