import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNdjson, requireBuiltCli, STACK_FRAME, sluice, statsFrom, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  requireBuiltCli();
  ({ dir, cleanup } = await tempDir());
  // Line 4 has three fields under a two-column header.
  await writeFile(join(dir, 'bad.csv'), 'id,name\n1,ann\n2,bob\n3,cy,extra\n4,dee\n');
});
afterAll(() => cleanup?.());

describe('error policies', () => {
  it('fails on the first bad record with exit 65, naming source, line and reason, after writing the records before it', async () => {
    const r = await sluice(['-f', 'csv', 'bad.csv'], { cwd: dir });
    expect(r.code).toBe(65);
    expect(parseNdjson(r.stdout)).toEqual([
      { id: '1', name: 'ann' },
      { id: '2', name: 'bob' },
    ]);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sluice: bad\.csv:4: .+ \[SLUICE_E_FIELD_COUNT\]$/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('skips bad records under --on-error skip and --stats balances the ledger', async () => {
    const r = await sluice(['-f', 'csv', '--on-error', 'skip', '--stats', 'bad.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout)).toHaveLength(3);
    const stats = statsFrom(r.stderr);
    expect(stats.records.in).toBe(stats.records.emitted + stats.records.rejected);
    expect(stats.records).toMatchObject({ in: 4, emitted: 3, rejected: 1 });
    expect(stats.rejectedByCode).toEqual({ SLUICE_E_FIELD_COUNT: 1 });
  });

  it('prints the stats on stderr also when the run fails', async () => {
    const r = await sluice(['-f', 'csv', '--stats', 'bad.csv'], { cwd: dir });
    expect(r.code).toBe(65);
    expect(statsFrom(r.stderr).records.rejected).toBe(1);
    expect(r.stderr).toContain('[SLUICE_E_FIELD_COUNT]');
  });

  it('writes rejected records to the dead letter with source, line, offset and code', async () => {
    const r = await sluice(['-f', 'csv', '--on-error', 'dead-letter=rejects.ndjson', 'bad.csv'], {
      cwd: dir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout)).toHaveLength(3);
    const dead = parseNdjson(await readFile(join(dir, 'rejects.ndjson'), 'utf8'));
    expect(dead).toEqual([
      expect.objectContaining({
        source: 'bad.csv',
        line: 4,
        offset: 'id,name\n1,ann\n2,bob\n'.length,
        code: 'SLUICE_E_FIELD_COUNT',
        stage: 'tokenize',
        record: '3,cy,extra',
      }),
    ]);
  });
});

describe('usage and environment errors', () => {
  it('exits 64 for an unknown input format and lists the known ones', async () => {
    const r = await sluice(['-f', 'xml'], { input: '' });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(
      /^sluice: unknown format "xml" \(known: .*csv.*tsv.*ndjson.*segments.*\) \[SLUICE_E_UNKNOWN_FORMAT\]\n$/,
    );
  });

  it('exits 64 for an unknown output format', async () => {
    const r = await sluice(['-f', 'csv', '-t', 'yaml'], { input: 'a\n1\n' });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown format "yaml"');
    expect(r.stdout).toBe('');
  });

  it('exits 64 when the input format cannot be inferred from stdin', async () => {
    const r = await sluice([], { input: 'a\n' });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/give -f <format> \(known: .*\) \[SLUICE_E_USAGE\]/);
  });

  it('exits 66 naming a missing input, without truncating the -o file', async () => {
    await writeFile(join(dir, 'keep.ndjson'), 'precious\n');
    const r = await sluice(['-f', 'csv', 'nope.csv', '-o', 'keep.ndjson'], { cwd: dir });
    expect(r.code).toBe(66);
    expect(r.stderr).toBe('sluice: cannot read nope.csv: no such file [SLUICE_E_INPUT]\n');
    expect(await readFile(join(dir, 'keep.ndjson'), 'utf8')).toBe('precious\n');
  });

  it('exits 64 when the output file is one of the inputs', async () => {
    await writeFile(join(dir, 'same.csv'), 'a\n1\n');
    const r = await sluice(['-f', 'csv', '-t', 'csv', 'same.csv', '-o', 'same.csv'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('also an input');
    expect(await readFile(join(dir, 'same.csv'), 'utf8')).toBe('a\n1\n');
  });

  it('exits 64 with one line for an unknown flag', async () => {
    const r = await sluice(['-f', 'csv', '--bogus']);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe("sluice: unknown option '--bogus' (see sluice --help) [SLUICE_E_USAGE]\n");
  });

  it('exits 64 for a --concurrency that is not an integer >= 1', async () => {
    for (const bad of ['0', '-1', '1.5', 'many']) {
      const r = await sluice(['-f', 'csv', '--concurrency', bad]);
      expect(r.code).toBe(64);
      expect(r.stderr).toContain('expected an integer >= 1');
    }
  });

  it('exits 64 for an --on-error policy it does not know', async () => {
    const r = await sluice(['-f', 'csv', '--on-error', 'ignore']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('expected fail, skip or dead-letter=<path>, got "ignore"');
  });

  it('exits 64 for an -i option that is not key=value', async () => {
    const r = await sluice(['-f', 'csv', '-i', 'header']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('expected key=value, got "header"');
  });

  it('exits 64 for a format option the format does not have, naming the known ones', async () => {
    const r = await sluice(['-f', 'csv', '-i', 'sep=;'], { input: 'a\n' });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/unknown option csv\.sep \(known: .*delimiter.*\) \[SLUICE_E_OPTION\]/);
  });

  it('exits 64 for a format option value of the wrong type', async () => {
    const r = await sluice(['-f', 'csv', '-i', 'header=maybe'], { input: 'a\n' });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('csv.header');
    expect(r.stderr).toContain('[SLUICE_E_OPTION]');
  });

  it('prints the stack of an error only when SLUICE_DEBUG=1', async () => {
    const quiet = await sluice(['-f', 'csv', 'missing.csv'], { cwd: dir });
    expect(quiet.stderr).not.toMatch(STACK_FRAME);
    const loud = await sluice(['-f', 'csv', 'missing.csv'], {
      cwd: dir,
      env: { ...process.env, SLUICE_DEBUG: '1' },
    });
    expect(loud.code).toBe(66);
    expect(loud.stderr).toMatch(STACK_FRAME);
  });
});
