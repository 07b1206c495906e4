import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNdjson, requireBuiltCli, STACK_FRAME, sluice, statsFrom, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

const USERS = 'id,name,role\n1,ann,admin\n2,bob,bot\n3,cy,user\n4,dee,bot\n5,eve,user\n';

beforeAll(async () => {
  requireBuiltCli();
  ({ dir, cleanup } = await tempDir());
  await writeFile(join(dir, 'users.csv'), USERS);
  await writeFile(
    join(dir, 'upper.mjs'),
    'export default (row) => ({ ...row, name: row.name.toUpperCase() });\n',
  );
  await writeFile(
    join(dir, 'no-bots.mjs'),
    "export default (row) => (row.role === 'bot' ? undefined : row);\n",
  );
  await writeFile(
    join(dir, 'picky.mjs'),
    "export default async (row) => { if (row.id === '3') throw new Error('id 3 is cursed'); return row; };\n",
  );
  await writeFile(join(dir, 'not-a-function.mjs'), 'export default 42;\n');
  await writeFile(join(dir, 'no-default.mjs'), 'export const transform = (x) => x;\n');
  await writeFile(join(dir, 'broken.mjs'), 'export default (row => ;\n');
  // Holds the event loop open forever: the CLI must still exit when the run is over.
  await writeFile(join(dir, 'lingering.mjs'), 'setInterval(() => {}, 1000);\nexport default (row) => row;\n');
});
afterAll(() => cleanup?.());

describe('--transform', () => {
  it("applies a module's default export to every record", async () => {
    const r = await sluice(['-f', 'csv', '--transform', 'upper.mjs', 'users.csv'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((parseNdjson(r.stdout) as { name: string }[]).map((x) => x.name)).toEqual([
      'ANN',
      'BOB',
      'CY',
      'DEE',
      'EVE',
    ]);
  });

  it('drops the records for which a transform returns undefined, and chains transforms in order', async () => {
    const r = await sluice(
      ['-f', 'csv', '--transform', 'no-bots.mjs', '--transform', 'upper.mjs', '--stats', 'users.csv'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    expect((parseNdjson(r.stdout) as { name: string }[]).map((x) => x.name)).toEqual(['ANN', 'CY', 'EVE']);
    expect(statsFrom(r.stderr).items).toMatchObject({ tokenized: 5, filtered: 2, written: 3 });
  });

  it('rejects the records a transform throws on, under --on-error skip', async () => {
    const r = await sluice(
      [
        '-f',
        'csv',
        '--transform',
        'picky.mjs',
        '--on-error',
        'dead-letter=dead.ndjson',
        '--stats',
        'users.csv',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect((parseNdjson(r.stdout) as { id: string }[]).map((x) => x.id)).toEqual(['1', '2', '4', '5']);
    expect(statsFrom(r.stderr).items).toMatchObject({ rejected: 1, written: 4 });
    const dead = parseNdjson(await readFile(join(dir, 'dead.ndjson'), 'utf8'));
    expect(dead).toEqual([
      expect.objectContaining({
        source: 'users.csv',
        line: 4,
        code: 'SLUICE_E_TRANSFORM',
        message: 'id 3 is cursed',
      }),
    ]);
  });

  it('fails with exit 65 naming the line when a transform throws under the fail policy', async () => {
    const r = await sluice(['-f', 'csv', '--transform', 'picky.mjs', 'users.csv'], { cwd: dir });
    expect(r.code).toBe(65);
    expect(r.stderr).toBe('sluice: users.csv:4: id 3 is cursed [SLUICE_E_TRANSFORM]\n');
    expect(parseNdjson(r.stdout)).toHaveLength(2);
  });

  it('exits when the run is over even if a transform module keeps the event loop busy', async () => {
    const r = await sluice(['-f', 'csv', '--transform', 'lingering.mjs', 'users.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout)).toHaveLength(5);
  });

  it.each([
    ['not-a-function.mjs', 'the default export must be a function'],
    ['no-default.mjs', 'has no default export'],
    ['missing.mjs', 'cannot load transform missing.mjs: no such file'],
    ['broken.mjs', 'cannot load transform broken.mjs: '],
  ])('exits 64 with SLUICE_E_MODULE and a clear message for a bad module (%s)', async (module, message) => {
    const r = await sluice(['-f', 'csv', '--transform', module, 'users.csv'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/\[SLUICE_E_MODULE\]\n$/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
