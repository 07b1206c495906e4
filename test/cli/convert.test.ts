import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNdjson, requireBuiltCli, sluice, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  requireBuiltCli();
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup?.());

describe('sluice convert', () => {
  it('converts CSV on stdin to NDJSON on stdout', async () => {
    const r = await sluice(['-f', 'csv', '-t', 'ndjson'], { input: 'id,name\n1,ann\n2,"bob, jr"\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"id":"1","name":"ann"}\n{"id":"2","name":"bob, jr"}\n');
  });

  it('writes NDJSON when no -t is given', async () => {
    const r = await sluice(['-f', 'csv'], { input: 'a\nx\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"a":"x"}\n');
  });

  it('reads several inputs in order, gunzipping the one that is gzip whatever its name', async () => {
    await writeFile(join(dir, 'a.csv'), 'n\n1\n2\n');
    await writeFile(join(dir, 'b.csv'), 'n\n3\n');
    await writeFile(join(dir, 'c.csv.gz'), gzipSync('n\n4\n5\n'));
    const r = await sluice(['-f', 'csv', '-t', 'ndjson', 'a.csv', 'b.csv', 'c.csv.gz'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout)).toEqual([{ n: '1' }, { n: '2' }, { n: '3' }, { n: '4' }, { n: '5' }]);
  });

  it('reads stdin where an input is "-"', async () => {
    await writeFile(join(dir, 'first.csv'), 'n\n1\n');
    const r = await sluice(['-f', 'csv', 'first.csv', '-'], { cwd: dir, input: 'n\n2\n' });
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout)).toEqual([{ n: '1' }, { n: '2' }]);
  });

  it('converts TSV to CSV', async () => {
    const r = await sluice(['-f', 'tsv', '-t', 'csv'], { input: 'id\tname\n1\tann\n2\tbob, jr\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('id,name\n1,ann\n2,"bob, jr"\n');
  });

  it('emits the same records with --unordered as in order, as a multiset', async () => {
    const files: string[] = [];
    for (let f = 0; f < 4; f++) {
      const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ f, i }));
      await writeFile(join(dir, `u${f}.ndjson`), `${lines.join('\n')}\n`);
      files.push(`u${f}.ndjson`);
    }
    const ordered = await sluice(['-f', 'ndjson', '-t', 'ndjson', ...files], { cwd: dir });
    const unordered = await sluice(
      ['-f', 'ndjson', '-t', 'ndjson', '--concurrency', '8', '--unordered', ...files],
      {
        cwd: dir,
      },
    );
    expect(ordered.code).toBe(0);
    expect(unordered.code).toBe(0);
    const lines = (s: string) => s.split('\n').filter(Boolean);
    expect(lines(ordered.stdout)).toHaveLength(20000);
    expect(lines(unordered.stdout).sort()).toEqual(lines(ordered.stdout).sort());
  });

  it('converts the segments provider format to NDJSON events', async () => {
    const r = await sluice(['-f', 'segments', '-t', 'ndjson', '-i', 'ns=acme'], {
      input: 'u1\tsports:3600,-news\t1700000000\nu2\t-*\n',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = parseNdjson(r.stdout) as Record<string, unknown>[];
    expect(events.slice(0, 2)).toEqual([
      { ns: 'acme', uid: 'u1', seg: 'sports', op: 'add', ts: 1_700_000_000_000, ttl: 3600 },
      { ns: 'acme', uid: 'u1', seg: 'news', op: 'remove', ts: 1_700_000_000_000 },
    ]);
    // Without a timestamp the event is stamped with the time of reading.
    expect(events[2]).toMatchObject({ ns: 'acme', uid: 'u2', seg: '*', op: 'remove' });
  });

  it('infers the input format from the first input file extension', async () => {
    await writeFile(join(dir, 'guess.tsv'), 'k\tv\na\tb\n');
    const r = await sluice(['guess.tsv'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"k":"a","v":"b"}\n');
  });

  it('writes to the file named by -o and nothing to stdout', async () => {
    const r = await sluice(['-f', 'csv', '-t', 'ndjson', '-o', 'out.ndjson'], { cwd: dir, input: 'a\n1\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(await readFile(join(dir, 'out.ndjson'), 'utf8')).toBe('{"a":"1"}\n');
  });

  it('passes -i and -O key=value options to the input and output formats', async () => {
    const r = await sluice(
      [
        '-f',
        'csv',
        '-i',
        'delimiter=;',
        '-i',
        'header=false',
        '-i',
        'columns=a,b',
        '-t',
        'csv',
        '-O',
        'delimiter=|',
      ],
      { input: '1;x\n2;y\n' },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('a|b\n1|x\n2|y\n');
  });

  it('rejects records longer than --max-record-bytes, which takes a size suffix', async () => {
    const long = 'x'.repeat(2000);
    const r = await sluice(['-f', 'csv', '--max-record-bytes', '1k', '--on-error', 'skip', '--stats'], {
      input: `a\nshort\n${long}\nend\n`,
    });
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout)).toEqual([{ a: 'short' }, { a: 'end' }]);
    expect(r.stderr).toContain('"SLUICE_E_RECORD_TOO_LARGE":1');
  });

  it('treats -- as the end of the options, so an input may start with a dash', async () => {
    await writeFile(join(dir, '-dash.csv'), 'a\n1\n');
    const r = await sluice(['-f', 'csv', '--', '-dash.csv'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"a":"1"}\n');
  });
});
