/**
 * The store sink inside the pipeline (in process), and `sluice -o sqlite:<path>` (the
 * built CLI, spawned): events land in the store with its semantics, bad records are
 * rejected one by one under the error policy, and misuse is a usage error.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type SegmentEvent, validateSegmentEvent } from '../../src/audience/segment-event.js';
import { type ApplyResult, openSqliteStore } from '../../src/audience/store/index.js';
import type { Rejection, Sink } from '../../src/core/contracts.js';
import { SluiceError } from '../../src/core/errors.js';
import { pipeline } from '../../src/core/pipeline.js';
import { sqliteSink, storeSink } from '../../src/sinks/sqlite.js';
import { requireBuiltCli, sluice, statsFrom, tempDir } from '../cli/helpers.js';
import { failure } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let fileNo = 0;
const fresh = (ext: string): string => join(dir, `f${++fileNo}.${ext}`);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup?.());

const NOW = 1_800_000_000_000;

function collector(): { sink: Sink<Rejection>; rejects: Rejection[] } {
  const rejects: Rejection[] = [];
  return {
    rejects,
    sink: {
      name: 'rejects',
      async write(batch) {
        rejects.push(...batch);
      },
      async close() {},
    },
  };
}

describe('storeSink in a pipeline', () => {
  test('applies segments records to the store, one apply per batch', async () => {
    const store = await openSqliteStore(':memory:');
    const results: ApplyResult[] = [];
    const text =
      'u1\tsports:3600,news\t1700000000\nu2\t-sports\t1700000000\nu1\t-*\t1600000000\nu1\t-news\t1700000001\n';
    const stats = await pipeline({
      inputs: [Readable.from([text])],
      from: 'segments',
      fromOptions: { ns: 'acme' },
      transforms: [validateSegmentEvent],
      sinks: [storeSink(store, { closeStore: false, onApplied: (r) => results.push(r) })],
    });
    expect(stats.items.written).toBe(5);
    expect(results.reduce((n, r) => n + r.applied + r.ignored, 0)).toBe(5);
    expect(await store.user('acme', 'u1', 1_700_000_000_000)).toEqual([
      { seg: 'sports', ts: 1_700_000_000_000, expiresAt: 1_700_003_600_000 },
    ]);
    expect(await store.user('acme', 'u2', 1_700_000_000_000)).toEqual([]);
    await store.close();
  });

  test('records that are not valid events are rejected one by one, with their line, by the validating transform', async () => {
    const store = await openSqliteStore(':memory:');
    const lines = [
      { ns: 'acme', uid: 'u1', seg: 's', op: 'add', ts: 1 },
      { ns: 'acme', uid: 'u1', seg: 't', op: 'add', ts: 1, tll: 5 },
      { ns: 'acme', uid: 'u1', seg: '*', op: 'add', ts: 1 },
      { ns: 'acme', uid: 'u2', seg: 's', op: 'remove', ts: 1 },
    ];
    const { sink, rejects } = collector();
    const stats = await pipeline({
      inputs: [Readable.from([lines.map((l) => JSON.stringify(l)).join('\n')])],
      from: 'ndjson',
      transforms: [validateSegmentEvent],
      sinks: [storeSink(store, { closeStore: false })],
      onError: { deadLetter: sink },
    });
    expect(stats.items.written).toBe(2);
    expect(rejects.map((r) => [r.line, r.code])).toEqual([
      [2, 'SLUICE_E_VALIDATION'],
      [3, 'SLUICE_E_VALIDATION'],
    ]);
    expect(rejects[0]!.message).toMatch(/unknown field "tll"/);
    expect(await store.snapshot()).toEqual([
      { ns: 'acme', uid: 'u1', seg: 's', op: 'add', ts: 1 },
      { ns: 'acme', uid: 'u2', seg: 's', op: 'remove', ts: 1 },
    ]);
    await store.close();
  });

  test('without the transform, an invalid item fails its whole batch and nothing of it is applied', async () => {
    const store = await openSqliteStore(':memory:');
    const text = `${JSON.stringify({ ns: 'acme', uid: 'u1', seg: 's', op: 'add', ts: 1 })}\n{"ns":"acme"}\n`;
    const err = await failure(
      pipeline({
        inputs: [Readable.from([text])],
        from: 'ndjson',
        sinks: [storeSink(store, { closeStore: false })],
      }),
    );
    expect(err).toBeInstanceOf(SluiceError);
    expect(err.code).toBe('SLUICE_E_VALIDATION');
    expect(err.message).toMatch(/event 1/);
    expect(await store.snapshot()).toEqual([]);
    await store.close();
  });

  test('the sink closes its store once, however often it is closed; closeStore false leaves it open', async () => {
    const store = await openSqliteStore(':memory:');
    const keep = storeSink(store, { closeStore: false });
    await keep.close();
    expect(await store.apply([])).toEqual({ applied: 0, ignored: 0 });
    const owning = storeSink(store);
    await Promise.all([owning.close(), owning.close()]);
    await expect(store.apply([])).rejects.toThrow(/closed/);
  });

  test('sqliteSink opens a file store (failing before any input is read) and closes it with the sink', async () => {
    await expect(sqliteSink(join(dir, 'no', 'such', 'dir.db'))).rejects.toMatchObject({
      code: 'SLUICE_E_OUTPUT',
    });
    const path = fresh('db');
    const sink = await sqliteSink(path);
    expect(sink.name).toBe(`sqlite:${path}`);
    const event: SegmentEvent = { ns: 'acme', uid: 'u1', seg: 's', op: 'add', ts: 5 };
    await sink.write([event], new AbortController().signal);
    await sink.close();
    const store = await openSqliteStore(path);
    expect(await store.snapshot()).toEqual([event]);
    await store.close();
  });
});

describe('sluice -o sqlite:<path>', () => {
  beforeAll(() => requireBuiltCli());

  async function userOf(db: string, uid: string, ns = 'default') {
    const store = await openSqliteStore(db);
    try {
      return await store.user(ns, uid, NOW);
    } finally {
      await store.close();
    }
  }

  test('loads a segments file into a new store, writing nothing to stdout', async () => {
    const input = fresh('txt');
    await writeFile(
      input,
      'u1\tsports,news:86400\t1700000000\nu2\tsports\t1700000000\nu2\t-sports\t1700000001\nu3\tauto\t1700000000\nu3\t-*\t1700000000\n',
    );
    const db = fresh('db');
    const r = await sluice(['-f', 'segments', '-o', `sqlite:${db}`, input]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(await userOf(db, 'u1')).toEqual([{ seg: 'sports', ts: 1_700_000_000_000 }]);
    expect(await userOf(db, 'u2')).toEqual([]);
    expect(await userOf(db, 'u3')).toEqual([]);
    const store = await openSqliteStore(db);
    expect(await store.user('default', 'u1', 1_700_000_000_000)).toEqual([
      { seg: 'news', ts: 1_700_000_000_000, expiresAt: 1_700_086_400_000 },
      { seg: 'sports', ts: 1_700_000_000_000 },
    ]);
    await store.close();
  });

  test('a later run with older events does not undo newer ones (the store semantics hold across runs)', async () => {
    const db = fresh('db');
    const newer = fresh('txt');
    const older = fresh('txt');
    await writeFile(newer, 'u1\t-sports,news\t1700000100\n');
    await writeFile(older, 'u1\tsports,-news\t1700000000\n');
    expect((await sluice(['-f', 'segments', '-i', 'ns=acme', '-o', `sqlite:${db}`, newer])).code).toBe(0);
    const r = await sluice(['-f', 'segments', '-i', 'ns=acme', '--unordered', '-o', `sqlite:${db}`, older]);
    expect(r.code).toBe(0);
    expect(await userOf(db, 'u1', 'acme')).toEqual([{ seg: 'news', ts: 1_700_000_100_000 }]);
  });

  test('bad records: skipped and counted under --on-error skip, the good ones stored', async () => {
    const input = fresh('txt');
    await writeFile(input, 'u1\tsports\t1700000000\nu2\t*\t1700000000\nu3\tnews\t1700000000\n');
    const db = fresh('db');
    const r = await sluice(['-f', 'segments', '--on-error', 'skip', '--stats', '-o', `sqlite:${db}`, input]);
    expect(r.code).toBe(0);
    const stats = statsFrom(r.stderr);
    expect(stats.records).toMatchObject({ in: 3, rejected: 1 });
    expect(stats.items.written).toBe(2);
    expect(await userOf(db, 'u1')).toEqual([{ seg: 'sports', ts: 1_700_000_000_000 }]);
    expect(await userOf(db, 'u3')).toEqual([{ seg: 'news', ts: 1_700_000_000_000 }]);
  });

  test('under fail, a bad record ends the run with its line (exit 65); the events before it are stored', async () => {
    const input = fresh('ndjson');
    const ok = (uid: string) =>
      JSON.stringify({ ns: 'acme', uid, seg: 's', op: 'add', ts: 1_700_000_000_000 });
    await writeFile(
      input,
      `${ok('u1')}\n${ok('u2')}\n{"ns":"acme","uid":"u3","seg":"s","op":"add","ts":"yesterday"}\n${ok('u4')}\n`,
    );
    const db = fresh('db');
    const r = await sluice(['-f', 'ndjson', '-o', `sqlite:${db}`, input]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(
      new RegExp(
        `${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: segment event ts: .*\\[SLUICE_E_VALIDATION\\]`,
      ),
    );
    expect(await userOf(db, 'u1', 'acme')).toHaveLength(1);
    expect(await userOf(db, 'u2', 'acme')).toHaveLength(1);
    expect(await userOf(db, 'u4', 'acme')).toEqual([]);
  });

  test('-t or -O with a store output is a usage error (exit 64), and nothing is created', async () => {
    const input = fresh('txt');
    await writeFile(input, 'u1\tsports\n');
    const db = fresh('db');
    for (const extra of [
      ['-t', 'csv'],
      ['-O', 'x=1'],
    ]) {
      const r = await sluice(['-f', 'segments', ...extra, '-o', `sqlite:${db}`, input]);
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(/does not apply to -o sqlite:<path>.*\[SLUICE_E_USAGE\]/);
    }
    expect(existsSync(db)).toBe(false);
  });

  test('an unopenable store is exit 73; an empty path is exit 64; the db as an input is refused', async () => {
    const input = fresh('txt');
    await writeFile(input, 'u1\tsports\n');
    const missing = await sluice(['-f', 'segments', '-o', `sqlite:${join(dir, 'nope', 'a.db')}`, input]);
    expect(missing.code).toBe(73);
    expect(missing.stderr).toMatch(/cannot open sqlite store .*\[SLUICE_E_OUTPUT\]/);
    const notDb = await sluice(['-f', 'segments', '-o', `sqlite:${input}`, fresh('txt')]);
    expect(notDb.code).toBe(66); // the missing input is found first
    const empty = await sluice(['-f', 'segments', '-o', 'sqlite:', input]);
    expect(empty.code).toBe(64);
    const same = await sluice(['-f', 'segments', '-o', `sqlite:${input}`, input]);
    expect(same.code).toBe(64);
    expect(same.stderr).toMatch(/is also an input/);
  });

  test('a text file given as the store is refused with exit 73', async () => {
    const input = fresh('txt');
    const notDb = fresh('txt');
    await writeFile(input, 'u1\tsports\n');
    await writeFile(
      notDb,
      'just some text, long enough to look like a header and not a database\n'.repeat(20),
    );
    const r = await sluice(['-f', 'segments', '-o', `sqlite:${notDb}`, input]);
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/\[SLUICE_E_OUTPUT\]/);
  });
});
