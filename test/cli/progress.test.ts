import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli, sluice, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  requireBuiltCli();
  ({ dir, cleanup } = await tempDir());
  const rows = Array.from({ length: 20_000 }, (_, i) => `${i},x${i}`);
  await writeFile(join(dir, 'data.csv'), `id,x\n${rows.join('\n')}\n`);
  await writeFile(join(dir, 'data.csv.gz'), gzipSync(`id,x\n${rows.join('\n')}\n`));
});
afterAll(() => cleanup?.());

describe('progress', () => {
  it('draws a progress line on stderr with --progress, ending at 100% of a file input', async () => {
    const r = await sluice(['-f', 'csv', '--progress', 'data.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\rsluice: 20\.0k records {2}.+ rec\/s {2}.+\/s {2}100% ETA 0:00\s*\n$/);
  });

  it('shows no percentage for a gzip input, whose size on disk says nothing of the bytes to parse', async () => {
    const r = await sluice(['-f', 'csv', '--progress', 'data.csv.gz'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\rsluice: 20\.0k records {2}.+ rec\/s {2}.+\/s\s*\n$/);
    expect(r.stderr).not.toContain('%');
  });

  it('writes nothing on stderr without --progress when stderr is not a terminal', async () => {
    const r = await sluice(['-f', 'csv', 'data.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('writes nothing on stderr with --no-progress', async () => {
    const r = await sluice(['-f', 'csv', '--no-progress', 'data.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
