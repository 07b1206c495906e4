import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  cliEnv,
  exited,
  firstLine,
  nonBlocking,
  requireBuiltCli,
  STACK_FRAME,
  start,
  tempDir,
} from './helpers.js';

const run = promisify(execFile);

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

  // A pipe's writes block, as a file's and a terminal's do: a write that finds the pipe
  // full sleeps in write(2) instead of handing the event loop to the stages upstream,
  // whose queued batches made the GC several times dearer (ADR 0016).
  it.skipIf(process.platform !== 'linux')('writes to a piped stdout in blocking mode', async () => {
    const child = start(['-f', 'ndjson'], { cwd: dir });
    const done = exited(child);
    child.stdin?.write('{"a":1}\n');
    await firstLine(child);
    const blocking = !nonBlocking(child.pid!, 1);
    child.stdin?.end();
    expect((await done).code).toBe(0);
    expect(blocking).toBe(true);
  });

  it("through a shell's pipe, writes what it writes into a file, and `| head -1` exits 0", async () => {
    const sluice = `'${process.execPath}' '${CLI}' -f csv big.csv`;
    const opts = { cwd: dir, env: cliEnv(), maxBuffer: 64 * 1024 * 1024 };
    await run('bash', ['-c', `${sluice} > file.ndjson`], opts);
    await run('bash', ['-c', `set -o pipefail; ${sluice} | cat > piped.ndjson`], opts);
    const [file, piped] = await Promise.all([
      readFile(join(dir, 'file.ndjson')),
      readFile(join(dir, 'piped.ndjson')),
    ]);
    expect(piped.length).toBeGreaterThan(1_000_000);
    expect(piped.equals(file)).toBe(true);
    // pipefail: the pipeline's status is sluice's unless that is 0.
    const head = await run('bash', ['-c', `set -o pipefail; ${sluice} | head -1`], opts);
    expect(head.stdout).toBe('{"id":"0","name":"user0","email":"user0@example.com"}\n');
    expect(head.stderr).toBe('');
  });
});
