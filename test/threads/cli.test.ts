/**
 * `--threads` and `--profile` on the built CLI: same bytes as `--threads 0` from a file
 * and from stdin, usage errors, a dying worker's exit status, profiles and `--stats`.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkedOnV8 } from '../../src/cli/gc-helpers.js';
import {
  CLI,
  cliEnv,
  exited,
  firstLine,
  requireBuiltCli,
  STACK_FRAME,
  sluice,
  start,
  statsFrom,
  tempDir,
} from '../cli/helpers.js';
import { fixture } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let csv: string;

beforeAll(async () => {
  requireBuiltCli();
  ({ dir, cleanup } = await tempDir());
  let s = 'id,name,note\n';
  for (let i = 1; i <= 20_000; i++)
    s += `${i},user${i},${i % 7 === 0 ? '"two\nlines, ""quoted"""' : 'plain'}\n`;
  csv = s;
  await writeFile(join(dir, 'users.csv'), csv);
});
afterAll(() => cleanup?.());

describe('sluice --threads', () => {
  it('writes the same bytes as --threads 0, from a file and from stdin', async () => {
    const serial = await sluice(['-f', 'csv', '-t', 'csv', 'users.csv'], { cwd: dir });
    expect(serial.code).toBe(0);
    for (const threads of [['1'], ['2'], ['3'], ['auto'], ['1', '--isolate'], ['2', '--isolate']]) {
      const file = await sluice(['-f', 'csv', '-t', 'csv', '--threads', ...threads, 'users.csv'], {
        cwd: dir,
      });
      expect(file.stderr).toBe('');
      expect(file.code).toBe(0);
      expect(file.stdout, threads.join(' ')).toBe(serial.stdout);
    }
    const stdin = await sluice(['-f', 'csv', '-t', 'csv', '--threads', '2'], { cwd: dir, input: csv });
    expect(stdin.code).toBe(0);
    expect(stdin.stdout).toBe(serial.stdout);
  });

  it('reads stdin as it is: a file from where the shell left it, gzip, a pipe', async () => {
    const serial = await sluice(['-f', 'csv', '-t', 'csv', 'users.csv'], { cwd: dir });
    /** Runs with stdin redirected from `file` (`sluice < file`), after `skip` bytes of it were read. */
    const redirected = async (file: string, skip = 0): Promise<{ code: unknown; stdout: string }> => {
      const fd = openSync(join(dir, file), 'r');
      if (skip > 0) readSync(fd, Buffer.alloc(skip), 0, skip, null);
      const child = spawn(process.execPath, [CLI, '-f', 'csv', '-t', 'csv', '--threads', '2'], {
        cwd: dir,
        env: cliEnv(),
        stdio: [fd, 'pipe', 'pipe'],
      });
      closeSync(fd);
      const out: Buffer[] = [];
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      const code = await new Promise((resolve) => child.on('close', resolve));
      return { code, stdout: Buffer.concat(out).toString('utf8') };
    };
    // Part of the file already read by someone else: the run starts at the descriptor's offset.
    const skip = 'id,name,note\n'.length;
    const after = await redirected('users.csv', skip);
    expect(after.code).toBe(0);
    const rest = await sluice(['-f', 'csv', '-t', 'csv'], { cwd: dir, input: csv.slice(skip) });
    expect(after.stdout).toBe(rest.stdout);
    expect(rest.stdout.startsWith('1,user1,plain\n')).toBe(true);
    // A gzip file as stdin: its first bytes, read directly, go on through the decompressor.
    await writeFile(join(dir, 'users.csv.gz'), gzipSync(csv));
    const gzFile = await redirected('users.csv.gz');
    expect(gzFile.code).toBe(0);
    expect(gzFile.stdout).toBe(serial.stdout);
    const gzPipe = await sluice(['-f', 'csv', '-t', 'csv', '--threads', '2'], {
      cwd: dir,
      input: gzipSync(csv),
    });
    expect(gzPipe.stderr).toBe('');
    expect(gzPipe.stdout).toBe(serial.stdout);
  });

  it('exits 130 on SIGINT while stdin, a pipe, is open and idle after some input', async () => {
    const child = start(['-f', 'ndjson', '--threads', '2'], { cwd: dir });
    const done = exited(child);
    // More than one chunk of input, so a record comes out: then the run, and its SIGINT
    // handler, is under way (a fixed wait was not always long enough on a loaded machine).
    child.stdin?.write('{"a":1}\n'.repeat(40_000));
    await firstLine(child);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('writes to -o, with --unordered the same lines', async () => {
    const r = await sluice(['-f', 'csv', '--threads', '2', '--unordered', '-o', 'out.ndjson', 'users.csv'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const serial = await sluice(['-f', 'csv', 'users.csv'], { cwd: dir });
    const sorted = (s: string) => s.split('\n').sort();
    expect(sorted(readFileSync(join(dir, 'out.ndjson'), 'utf8'))).toEqual(sorted(serial.stdout));
  });

  it('rejects a thread count that is not a whole number >= 0 (exit 64)', async () => {
    for (const bad of ['-1', 'two', '1.5', '']) {
      const r = await sluice(['-f', 'csv', '--threads', bad, 'users.csv'], { cwd: dir });
      expect(r.code, bad).toBe(64);
      expect(r.stderr).toMatch(/--threads/);
    }
    const store = await sluice(['-f', 'segments', '--threads', '2', '-o', 'sqlite:a.db'], {
      cwd: dir,
      input: '',
    });
    expect(store.code).toBe(64);
    expect(store.stderr).toMatch(/worker threads do not apply to -o sqlite/);
    // One thread is the main thread alone: the store works there.
    const one = await sluice(['-f', 'segments', '--threads', '1', '-o', 'sqlite:one.db'], {
      cwd: dir,
      input: 'u1\tsports\t1714564800\n',
    });
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
  });

  it('runs --transform modules in the lanes, and exits even if one lingers', async () => {
    const r = await sluice(
      ['-f', 'csv', '--threads', '2', '--transform', fixture('lingering.mjs'), 'users.csv'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').length).toBe(20_001);
  });

  it('with --isolate, exits 70 with one line naming the input and lines when a worker dies', async () => {
    const r = await sluice(
      ['-f', 'csv', '--threads', '2', '--isolate', '--transform', fixture('exit-on.mjs'), 'users.csv'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(70);
    expect(r.stderr).toMatch(
      /^sluice: worker thread \d died while converting users\.csv lines \d+-\d+: it exited with code 3 \[SLUICE_E_INTERNAL\]\n$/,
    );
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('--threads 1 converts on the main thread alone, in chunks; with a store output, in process, saying why', async () => {
    const one = await sluice(['-f', 'csv', '--threads', '1', '--stats', 'users.csv'], { cwd: dir });
    expect(one.code).toBe(0);
    expect((statsFrom(one.stderr) as { threads?: unknown }).threads).toEqual({
      requested: 1,
      used: 1,
      workers: 0,
      chunkBytes: 262_144,
    });
    const zero = await sluice(['-f', 'csv', 'users.csv'], { cwd: dir });
    expect(one.stdout).toBe(zero.stdout);
    const store = await sluice(['-f', 'segments', '--threads', '1', '--stats', '-o', 'sqlite:one-stats.db'], {
      cwd: dir,
      input: 'u1\tsports\t1714564800\n',
    });
    expect(store.code).toBe(0);
    expect((statsFrom(store.stderr) as { threads?: { note?: string } }).threads?.note).toBe(
      'sinks take objects: converted by the in-process pipeline',
    );
  });

  it('reports the thread use and time per stage in --stats', async () => {
    const r = await sluice(['-f', 'csv', '--threads', '2', '--stats', 'users.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    const stats = statsFrom(r.stderr) as ReturnType<typeof statsFrom> & {
      stages: Record<string, number>;
      threads: Record<string, unknown>;
    };
    expect(stats.records.in).toBe(20_000);
    // Two lanes fill a machine of two cores or fewer: the executable then scavenges serially.
    // (On the V8 majors it was checked on: Node 20, 22, 24.)
    const fills = availableParallelism() <= 2 && checkedOnV8();
    expect(stats.threads).toEqual({
      requested: 2,
      used: 2,
      workers: 1,
      chunkBytes: 262_144,
      ...(fills ? { gc: expect.stringContaining('--no-parallel-scavenge') } : {}),
    });
    expect(Object.keys(stats.stages).sort()).toEqual([
      'frame',
      'read',
      'serialize',
      'tokenize',
      'transform',
      'write',
    ]);
    // `auto` reaches the library as such: a small file is converted without workers.
    const auto = await sluice(['-f', 'csv', '--threads', 'auto', '--stats', 'users.csv'], { cwd: dir });
    expect(auto.code).toBe(0);
    expect((statsFrom(auto.stderr) as typeof stats).threads).toMatchObject({ used: 1, workers: 0 });
  });
});

describe('sluice --profile', () => {
  it('writes the main thread profile and one per worker', async () => {
    const r = await sluice(['-f', 'csv', '--threads', '3', '--profile', 'run.cpuprofile', 'users.csv'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    for (const name of ['run.cpuprofile', 'run.worker-1.cpuprofile', 'run.worker-2.cpuprofile']) {
      const p = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { nodes: unknown[]; samples: unknown[] };
      expect(p.nodes.length, name).toBeGreaterThan(1);
      expect(p.samples.length, name).toBeGreaterThan(0);
    }
  });

  it('without threads, profiles the main thread; an unwritable path is exit 73 before any output', async () => {
    const r = await sluice(['-f', 'csv', '--profile', 'solo.cpuprofile', 'users.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'solo.cpuprofile'), 'utf8')).nodes.length).toBeGreaterThan(1);
    const bad = await sluice(['-f', 'csv', '--profile', 'no/such/dir/p.cpuprofile', 'users.csv'], {
      cwd: dir,
    });
    expect(bad.code).toBe(73);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/cannot write the profile/);
  });

  it('lists both flags in --help', async () => {
    const r = await sluice(['--help']);
    expect(r.stdout).toMatch(/--threads <n>/);
    expect(r.stdout).toMatch(/--profile <file>/);
  });
});
