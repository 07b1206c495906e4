/**
 * Threads (`threads: N`: the main thread and N-1 workers; N workers with `isolate`), by
 * example: transforms run in the lanes, what worker threads cannot do is a usage error,
 * a dying worker fails the run loudly (never a silent gap), the pool never keeps the
 * process alive, files and gzip are read, profiles are written.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import csv from '../../formats/csv/index.js';
import { defineFormat } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { AUTO_WORKERS_FROM_BYTES, pipeline } from '../../src/core/pipeline.js';
import type { AnyFormat } from '../../src/core/registry.js';
import { streamInput } from '../../src/core/sources.js';
import { collector, convert, fixture, ledger, rejectionSet, rejectionSink, requireBuild } from './helpers.js';

let dir: string;
beforeAll(async () => {
  requireBuild();
  dir = await mkdtemp(join(tmpdir(), 'sluice-threads-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `n` CSV rows with ids 1..n, some with quoted newlines and commas. */
function users(n: number, header = 'id,name,note'): string {
  let s = `${header}\n`;
  for (let i = 1; i <= n; i++)
    s += `${i},user${i},${i % 5 === 0 ? `"line one\nline two, with a comma ""${i}"""` : 'plain'}\n`;
  return s;
}

describe('threads: transforms', () => {
  /** The threads (by threadId, 0 the main thread) that tagged the items of a run. */
  const taggedBy = (out: Buffer): Set<number> =>
    new Set(
      out
        .toString()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { thread: number }).thread),
    );

  it('runs transform modules on the main thread and in the worker: threads 2 is the main thread and one worker', async () => {
    // More chunks than the window holds, so the main thread cannot convert them all while the worker starts.
    const input = Buffer.from(users(3000));
    const threaded = await convert([input], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      chunkBytes: 512,
      transforms: [fixture('tag-thread.mjs')],
    });
    expect(threaded.error).toBeUndefined();
    const threads = taggedBy(threaded.out);
    expect(threads.has(0)).toBe(true);
    expect(threads.size).toBe(2);
    expect(threaded.stats.threads).toMatchObject({ requested: 2, used: 2, workers: 1 });
  });

  it('with isolate, runs them in worker threads only: threads 2 is two workers', async () => {
    // Enough chunks that the worker ready first cannot convert them all before the other is ready.
    const input = Buffer.from(users(20_000));
    const threaded = await convert([input], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      isolate: true,
      chunkBytes: 512,
      transforms: [fixture('tag-thread.mjs')],
    });
    expect(threaded.error).toBeUndefined();
    const threads = taggedBy(threaded.out);
    expect(threads.has(0)).toBe(false);
    expect(threads.size).toBe(2);
    expect(threaded.stats.threads).toMatchObject({ requested: 2, used: 2, workers: 2 });
    const serial = await convert([input], {
      from: 'csv',
      to: 'ndjson',
      transforms: [fixture('tag-thread.mjs')],
    });
    expect(new Set(serial.out.toString().match(/"thread":\d+/g))).toEqual(new Set(['"thread":0']));
  });

  it('gives async transforms the same output, in order', async () => {
    const input = Buffer.from(users(200));
    const t = [fixture('async-upper.mjs')];
    const serial = await convert([input], { from: 'csv', to: 'csv', transforms: t });
    for (const threads of [1, 3]) {
      const threaded = await convert([input], {
        from: 'csv',
        to: 'csv',
        transforms: t,
        threads,
        chunkBytes: 300,
      });
      expect(threaded.out.toString(), `threads ${threads}`).toBe(serial.out.toString());
      expect(threaded.stats.threads).toMatchObject({ used: threads, chunkBytes: 300 });
    }
    expect(serial.out.toString()).toContain('USER17');
  });

  it('writes the CSV header from the run first item even when the first chunks yield none', async () => {
    // drop-first.mjs drops ids that sort below "4": the first items to survive are far in.
    const input = Buffer.from(users(400));
    const t = [fixture('drop-first.mjs')];
    const serial = await convert([input], { from: 'csv', to: 'csv', transforms: t });
    const threaded = await convert([input], {
      from: 'csv',
      to: 'csv',
      transforms: t,
      threads: 3,
      chunkBytes: 64,
    });
    expect(threaded.out.toString()).toBe(serial.out.toString());
    expect(threaded.out.toString().startsWith('id,name,note\n4,')).toBe(true);
  });

  it('primes every worker with the first item: NDJSON objects of varying keys to CSV', async () => {
    const lines = ['7', '{"b":1,"a":2}'];
    for (let i = 0; i < 300; i++) lines.push(JSON.stringify(i % 3 === 0 ? { a: i, b: i, c: i } : { a: i }));
    const input = Buffer.from(`${lines.join('\n')}\n`);
    const serial = await convert([input], { from: 'ndjson', to: 'csv' });
    const threaded = await convert([input], { from: 'ndjson', to: 'csv', threads: 3, chunkBytes: 40 });
    expect(threaded.out.toString()).toBe(serial.out.toString());
    expect(threaded.out.toString().startsWith('b,a\n1,2\n')).toBe(true);
    expect(rejectionSet(threaded.rejects)).toEqual(rejectionSet(serial.rejects));
    expect(serial.rejects.filter((r) => r.stage === 'serialize').length).toBeGreaterThan(90);
  });
});

describe('threads: 1, the main thread converting chunks alone', () => {
  it('converts through the chunk engine with no worker: function transforms and formats not built in work', async () => {
    const mine = defineFormat({ ...csv, name: 'mine' });
    // Called on the main thread (the only one there is), with every batch's items.
    const upper = (row: unknown) => {
      const r = row as Record<string, string>;
      return { ...r, name: r.name!.toUpperCase() };
    };
    const input = Buffer.from(users(2000));
    const options = { from: mine, to: 'ndjson', transforms: [upper] };
    const serial = await convert([input], options);
    const one = await convert([input], { ...options, threads: 1, chunkBytes: 700, pieces: [333, 50] });
    expect(one.error).toBeUndefined();
    expect(one.out.toString()).toBe(serial.out.toString());
    expect(one.out.toString()).toContain('"name":"USER17"');
    expect(ledger(one.stats)).toEqual(ledger(serial.stats));
    expect(one.stats.threads).toEqual({ requested: 1, used: 1, workers: 0, chunkBytes: 700 });
  });

  it('leaves a format that is not parallel-safe to the in-process pipeline, with a note', async () => {
    const serialCsv = defineFormat({ ...csv, name: 'serial-csv', parallel: false });
    const input = Buffer.from(users(50));
    const one = await convert([input], { from: serialCsv, to: 'ndjson', threads: 1 });
    const zero = await convert([input], { from: serialCsv, to: 'ndjson' });
    expect(one.out.toString()).toBe(zero.out.toString());
    expect(one.stats.threads).toEqual({
      requested: 1,
      used: 1,
      workers: 0,
      note: 'format serial-csv is not parallel-safe (parallel: false): converted by the in-process pipeline',
    });
  });
});

describe('threads: a slow stream', () => {
  /** Waits until `out` holds `text`, for up to 10 s; the caller's assertions tell what came. */
  async function written(out: { bytes(): Buffer }, text: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!out.bytes().toString().includes(text) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Converts an input whose producer writes two records, then waits until they have come
   * out (up to 10 s) before writing the rest: an engine that held records until a
   * chunk's worth had arrived would never write them, and the run would end with only
   * what the end of input let through.
   */
  async function firstRecordsBeforeTheRest(
    threads: number,
    from: AnyFormat | 'csv' = 'csv',
  ): Promise<[before: string, after: string]> {
    const input = new PassThrough();
    const out = collector();
    const run = pipeline({
      inputs: [streamInput(input, 'slow')],
      from,
      to: 'ndjson',
      threads,
      output: out,
    });
    input.write('id,name\n1,a\n2,');
    input.write('b\n3,');
    await written(out, '"id":"2"');
    const before = out.bytes().toString();
    input.end('c\n');
    await run;
    return [before, out.bytes().toString().slice(before.length)];
  }

  /** CSV whose tokenizer has a `flush` (no built-in format has one). */
  const csvWithFlush = (name: string, flush: (out: unknown[]) => void) =>
    defineFormat({
      ...csv,
      name,
      tokenizer: (options) => {
        const inner = csv.tokenizer(options);
        return { tokenize: (record, at, out) => inner.tokenize(record, at, out), flush };
      },
    });

  it.each([1, 2])(
    'threads %i: writes the records a quiet pipe has sent without waiting for a chunk to fill',
    async (threads) => {
      expect(await firstRecordsBeforeTheRest(threads)).toEqual([
        '{"id":"1","name":"a"}\n{"id":"2","name":"b"}\n',
        '{"id":"3","name":"c"}\n',
      ]);
    },
  );

  it('threads 1: a format whose tokenizer flushes writes them too, and its flush once at the end', async () => {
    // A chunk waits to learn whether it is the input's last, whose tokenizer is flushed;
    // on a quiet pipe it goes, and a job of its own flushes at the end.
    const footed = csvWithFlush('footed', (out) => void out.push({ footer: 'end' }));
    expect(await firstRecordsBeforeTheRest(1, footed)).toEqual([
      '{"id":"1","name":"a"}\n{"id":"2","name":"b"}\n',
      '{"id":"3","name":"c"}\n{"footer":"end"}\n',
    ]);
  });

  it('threads 1: a flush that rejects names where the last record started, as at threads 0, quiet pipe or not', async () => {
    const failing = csvWithFlush('failing-flush', () => {
      throw new SluiceError('SLUICE_E_PARSE', 'no footer');
    });
    const text = 'id,name\n1,a\n2,b\n3,c\n';
    const zero = await convert([Buffer.from(text)], { from: failing, to: 'ndjson' });
    expect(zero.rejects).toMatchObject([
      { code: 'SLUICE_E_PARSE', message: 'no footer', line: 4, offset: 16 },
    ]);
    const chunked = await convert([Buffer.from(text)], {
      from: failing,
      to: 'ndjson',
      threads: 1,
      chunkBytes: 5,
    });
    expect([chunked.out.toString(), chunked.rejects]).toEqual([zero.out.toString(), zero.rejects]);
    // An input of nothing but its header: the flush goes in a job of no bytes as well.
    const headZero = await convert([Buffer.from('id,name\n')], { from: failing, to: 'ndjson' });
    expect(headZero.rejects).toMatchObject([{ line: 1, offset: 0 }]);
    const headOne = await convert([Buffer.from('id,name\n')], { from: failing, to: 'ndjson', threads: 1 });
    expect(headOne.rejects).toEqual(headZero.rejects);

    // Every record sent, then quiet, then the end with no more bytes: the flush goes in
    // a job of its own, after the chunk that held the last record.
    const input = new PassThrough();
    const out = collector();
    const dead = rejectionSink();
    const run = pipeline({
      inputs: [streamInput(input, 'in0')],
      from: failing,
      to: 'ndjson',
      threads: 1,
      output: out,
      onError: { deadLetter: dead },
    });
    input.write(text);
    await written(out, '"id":"3"');
    // Written before the end: the path under test, not the held chunk flushed at the end.
    expect(out.bytes().toString()).toContain('"id":"3"');
    input.end();
    await run;
    expect([out.bytes().toString(), dead.all]).toEqual([zero.out.toString(), zero.rejects]);
  });
});

describe('threads: what cannot run in workers', () => {
  const run = (extra: Record<string, unknown>) =>
    pipeline({ inputs: [], from: 'csv', to: 'ndjson', output: join(dir, 'x'), threads: 2, ...extra });

  it('refuses function transforms with a usage error (functions cannot cross threads)', async () => {
    await expect(run({ transforms: [(x: unknown) => x] })).rejects.toMatchObject({
      code: 'SLUICE_E_USAGE',
      message: expect.stringMatching(/module/),
    });
  });

  it('refuses object sinks and a missing output format', async () => {
    const sink = { name: 's', write: async () => {}, close: async () => {} };
    await expect(run({ sinks: [sink] })).rejects.toMatchObject({ code: 'SLUICE_E_USAGE' });
    await expect(pipeline({ inputs: [], from: 'csv', sinks: [sink], threads: 2 })).rejects.toMatchObject({
      code: 'SLUICE_E_USAGE',
    });
  });

  it('runs one thread (without isolate) with object sinks in process, and says so', async () => {
    const items: unknown[] = [];
    const sink = {
      name: 's',
      write: async (batch: unknown[]) => void items.push(...batch),
      close: async () => {},
    };
    const stats = await pipeline({
      inputs: [streamInput(Readable.from([Buffer.from(users(20))]), 'in0')],
      from: 'csv',
      sinks: [sink],
      transforms: [(x: unknown) => x],
      threads: 1,
    });
    expect(items).toHaveLength(20);
    expect(stats.threads).toEqual({
      requested: 1,
      used: 1,
      workers: 0,
      note: 'sinks take objects: converted by the in-process pipeline',
    });
  });

  it('refuses a format the workers cannot load by name', async () => {
    const mine = defineFormat({ ...csv, name: 'mine' });
    await expect(run({ from: mine })).rejects.toMatchObject({
      code: 'SLUICE_E_USAGE',
      message: expect.stringMatching(/mine is not a built-in/),
    });
  });

  it("takes threads: 'auto' as one per core the process may use", async () => {
    const r = await convert([Buffer.from(users(50))], { from: 'csv', to: 'ndjson', threads: 'auto' });
    expect(r.error).toBeUndefined();
    const cores = availableParallelism();
    expect(r.stats.threads).toMatchObject({ requested: cores, used: cores });
    const serial = await convert([Buffer.from(users(50))], { from: 'csv', to: 'ndjson' });
    expect(r.out.toString()).toBe(serial.out.toString());
  });

  it("starts no worker for threads: 'auto' when the input files are small, and obeys a count", async () => {
    const file = join(dir, 'small-auto.csv');
    await writeFile(file, users(500));
    const size = (await readFile(file)).length;
    const auto = await convert([file], { from: 'csv', to: 'ndjson', threads: 'auto' });
    expect(auto.error).toBeUndefined();
    // The main thread alone, converting chunks as with threads: 1.
    expect(auto.stats.threads).toMatchObject({ used: 1, workers: 0, chunkBytes: 256 * 1024 });
    // With one core, auto is one thread anyway, and there is nothing to explain.
    if (availableParallelism() > 1) {
      expect(auto.stats.threads?.note).toContain(
        `${size} bytes of input is less than the ${AUTO_WORKERS_FROM_BYTES}`,
      );
    }
    const two = await convert([file], { from: 'csv', to: 'ndjson', threads: 2 });
    expect(two.stats.threads).toMatchObject({ requested: 2, used: 2, workers: 1 });
    expect(auto.out.toString()).toBe(two.out.toString());
  });

  it('refuses a bad thread count or chunk size', async () => {
    await expect(run({ threads: -1 })).rejects.toMatchObject({ code: 'SLUICE_E_OPTION' });
    await expect(run({ threads: 1.5 })).rejects.toMatchObject({ code: 'SLUICE_E_OPTION' });
    await expect(run({ chunkBytes: 0 })).rejects.toMatchObject({ code: 'SLUICE_E_OPTION' });
  });

  it('converts a format that is not parallel-safe on the main thread, and says so', async () => {
    const serialCsv = defineFormat({ ...csv, name: 'serial-csv', parallel: false });
    const input = Buffer.from(users(50));
    const r = await convert([input], {
      from: serialCsv,
      to: 'ndjson',
      threads: 2,
      transforms: [(x: unknown) => x],
    });
    expect(r.error).toBeUndefined();
    expect(r.stats.threads).toMatchObject({
      requested: 2,
      used: 1,
      workers: 0,
      note: expect.stringMatching(/parallel: false/),
    });
    const serial = await convert([input], { from: 'csv', to: 'ndjson' });
    expect(r.out.toString()).toBe(serial.out.toString());
  });

  it('fails before writing anything when a transform module does not load', async () => {
    await writeFile(join(dir, 'not-fn.mjs'), 'export default 42;\n');
    const r = await convert([Buffer.from(users(10))], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      transforms: [join(dir, 'not-fn.mjs')],
    });
    expect(r.error).toMatchObject({
      code: 'SLUICE_E_MODULE',
      message: expect.stringMatching(/must be a function/),
    });
    expect(r.out.length).toBe(0);
  });
});

describe('threads: a worker that dies fails the run loudly', () => {
  // With isolate: on the main thread's lane, a transform that kills its thread ends the process, as at threads 0.
  const cases: [string, RegExp][] = [
    ['exit-on.mjs', /exited with code 3/],
    ['hog.mjs', /memory/i],
  ];
  it.each(cases)('%s: SLUICE_E_INTERNAL naming the input and the lines of the chunk', async (name, why) => {
    const input = Buffer.from(users(60));
    const r = await convert([input], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      isolate: true,
      chunkBytes: 100,
      transforms: [fixture(name)],
    });
    expect(r.error).toBeInstanceOf(SluiceError);
    const e = r.error as SluiceError;
    expect(e.code).toBe('SLUICE_E_INTERNAL');
    expect(e.message).toMatch(why);
    // Row id 13 is on line 15 (header, and the two-line note of row 5, come first).
    const m = /while converting in0 lines (\d+)-(\d+)/.exec(e.message);
    expect(m, e.message).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(15);
    expect(Number(m![2])).toBeGreaterThanOrEqual(15);
    // Nothing from the dead worker's chunk or after it: the output is a prefix of the full one.
    const full = await convert([input], { from: 'csv', to: 'ndjson' });
    expect(full.out.toString().startsWith(r.out.toString())).toBe(true);
    expect(r.out.toString()).not.toContain('"id":"13"');
  });

  it('an error thrown later, outside the transform call (a timer), fails the run too', async () => {
    const input = Buffer.from(users(60));
    const r = await convert([input], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      isolate: true,
      chunkBytes: 100,
      transforms: [fixture('throw-async.mjs')],
    });
    expect(r.error).toMatchObject({
      code: 'SLUICE_E_INTERNAL',
      message: expect.stringMatching(/^worker thread \d died.*: boom from a timer$/),
    });
    const full = await convert([input], { from: 'csv', to: 'ndjson' });
    expect(full.out.toString().startsWith(r.out.toString())).toBe(true);
  });

  it('ends the run even when a transform module keeps its thread busy forever', async () => {
    const r = await convert([Buffer.from(users(30))], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      isolate: true,
      transforms: [fixture('lingering.mjs')],
    });
    expect(r.error).toBeUndefined();
    expect(r.stats.records.in).toBe(30);
  });

  it('stops on abort even while the workers are still loading their modules', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const p = convert([Buffer.from(users(100))], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      transforms: [fixture('slow-load.mjs')],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    const r = await p;
    expect(r.error).toMatchObject({ code: 'SLUICE_E_ABORTED' });
    expect(r.out.length).toBe(0);
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('stops on abort: SLUICE_E_ABORTED, workers terminated', async () => {
    const controller = new AbortController();
    const big = Buffer.from(users(20_000));
    const p = convert([big], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      chunkBytes: 4096,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    const r = await p;
    expect(r.error).toMatchObject({ code: 'SLUICE_E_ABORTED' });
  });
});

describe('threads: inputs and outputs', () => {
  it('reads files directly, gzip ones as streams, several in order, each with its own header', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv.gz');
    const c = join(dir, 'c.csv');
    await writeFile(a, `\uFEFF${users(2000)}`);
    await writeFile(b, gzipSync(users(700, 'id,other,note')));
    await writeFile(c, '');
    const serial = await convert([a, b, c], { from: 'csv', to: 'ndjson' });
    const threaded = await convert([a, b, c], { from: 'csv', to: 'ndjson', threads: 2, chunkBytes: 1000 });
    expect(threaded.out.toString()).toBe(serial.out.toString());
    expect(ledger(threaded.stats)).toEqual(ledger(serial.stats));
    expect(threaded.stats.records.in).toBe(2700);
  });

  it('writes to a file output, and the header of an empty output', async () => {
    const out0 = join(dir, 'o0.csv');
    const out2 = join(dir, 'o2.csv');
    const input = join(dir, 'big.csv');
    await writeFile(input, users(30_000));
    await pipeline({ inputs: [input], from: 'csv', to: 'csv', output: out0 });
    await pipeline({ inputs: [input], from: 'csv', to: 'csv', output: out2, threads: 2 });
    expect((await readFile(out2)).equals(await readFile(out0))).toBe(true);
    const headerOnly = join(dir, 'h.csv');
    await writeFile(headerOnly, 'a,b\n\n');
    const toOptions = { columns: 'x,y', header: 'true' };
    const e0 = await convert([headerOnly], { from: 'csv', to: 'csv', toOptions });
    const e2 = await convert([headerOnly], { from: 'csv', to: 'csv', toOptions, threads: 2 });
    expect(e2.out.toString()).toBe('x,y\n');
    expect(e2.out.toString()).toBe(e0.out.toString());
    expect(ledger(e2.stats)).toEqual(ledger(e0.stats));
  });

  it('reports time per stage and how threads were used', async () => {
    const r = await convert([Buffer.from(users(3000))], {
      from: 'csv',
      to: 'ndjson',
      threads: 2,
      timings: true,
      transforms: [fixture('reshape.mjs')],
    });
    expect(r.stats.threads).toEqual({ requested: 2, used: 2, workers: 1, chunkBytes: 256 * 1024 });
    for (const stage of ['read', 'frame', 'tokenize', 'transform', 'serialize', 'write'] as const) {
      expect(r.stats.stages?.[stage], stage).toBeGreaterThanOrEqual(0);
    }
    const serial = await convert([Buffer.from(users(3000))], { from: 'csv', to: 'ndjson', timings: true });
    expect(Object.keys(serial.stats.stages ?? {}).sort()).toEqual(['serialize', 'tokenize', 'write']);
    const quiet = await convert([Buffer.from(users(10))], { from: 'csv', to: 'ndjson', threads: 1 });
    expect(quiet.stats.stages).toBeUndefined();
  });
});

describe('threads: --profile', () => {
  it('writes a .cpuprofile of the main thread and of each worker', async () => {
    const input = join(dir, 'p.csv');
    await writeFile(input, users(5000));
    const profile = join(dir, 'run.cpuprofile');
    const stats = await pipeline({
      inputs: [input],
      from: 'csv',
      to: 'ndjson',
      output: join(dir, 'p.out'),
      threads: 2,
      isolate: true,
      profile,
    });
    expect(stats.stages?.tokenize).toBeGreaterThan(0);
    for (const path of [
      profile,
      join(dir, 'run.worker-1.cpuprofile'),
      join(dir, 'run.worker-2.cpuprofile'),
    ]) {
      const p = JSON.parse(readFileSync(path, 'utf8')) as {
        nodes: unknown[];
        samples: number[];
        startTime: number;
      };
      expect(p.nodes.length, path).toBeGreaterThan(1);
      expect(Array.isArray(p.samples)).toBe(true);
      expect(typeof p.startTime).toBe('number');
    }
  });

  it('profiles the main thread alone at threads: 0; an unwritable path fails before reading', async () => {
    const profile = join(dir, 'solo.cpuprofile');
    await pipeline({ inputs: [], from: 'csv', to: 'ndjson', output: join(dir, 's.out'), profile });
    expect(JSON.parse(readFileSync(profile, 'utf8')).nodes.length).toBeGreaterThan(0);
    await expect(
      pipeline({
        inputs: [],
        from: 'csv',
        to: 'ndjson',
        output: join(dir, 's.out'),
        profile: join(dir, 'no/such/dir/p'),
      }),
    ).rejects.toMatchObject({ code: 'SLUICE_E_OUTPUT' });
  });
});
