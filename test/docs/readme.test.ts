/**
 * README.md's examples, run as written on small inputs made here: the main job, every
 * line of the tour (`npx sluice` run as the built CLI), the transform module and the
 * Node snippet. A README whose examples fail is a defect, so they are tests.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cliEnv, parseNdjson, ROOT, requireBuiltCli, tempDir } from '../cli/helpers.js';

const run = promisify(execFile);
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The bodies of the README's fenced blocks tagged `lang`, in order. */
function blocks(lang: string): string[] {
  return [...readme.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);
}

/** A README shell line as it runs here: `npx sluice` is the built CLI. */
const asRun = (line: string) =>
  line.replaceAll('npx sluice', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)}`);

async function sh(line: string, cwd: string) {
  try {
    const { stdout, stderr } = await run('sh', ['-c', asRun(line)], {
      cwd,
      env: cliEnv(),
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const CSV = 'user_id,email,segments\nu1,ann@example.com,sports;-news\nu2,,autos\n';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  requireBuiltCli();
  ({ dir, cleanup } = await tempDir());
  const files: Record<string, string | Buffer> = {
    'users.csv': CSV,
    'a.csv': 'id,n\n1,a\n',
    'b.csv': 'id,n\n2,b\n',
    'c.csv.gz': gzipSync('id,n\n3,c\n'),
    'x.tsv': 'id\tname\n1\tx\n',
    'big.ndjson': '{"a":1}\n{"a":2}\n',
    // One row with a field too many: rejected, the rest converted.
    'big.csv': 'id,n\n1,a\n2,b,extra\n3,c\n',
    'data.csv': '1;ann\n2;bob\n',
    'provider.txt': 'u1\tsports:3600,-news\t1700000000\n',
  };
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  // The tour's transform module is the README's own.
  const [redact] = blocks('js');
  await writeFile(join(dir, 'redact.js'), redact!);
  await symlink(join(ROOT, 'examples'), join(dir, 'examples'));
});
afterAll(() => cleanup?.());

describe('README.md', () => {
  it('the main job converts users.csv to NDJSON', async () => {
    const main = blocks('sh')
      .find((b) => b.includes('< users.csv'))!
      .trim();
    expect(main).toBe('npx sluice -f csv -t ndjson < users.csv > users.ndjson');
    expect((await sh(main, dir)).code).toBe(0);
    expect(parseNdjson(readFileSync(join(dir, 'users.ndjson'), 'utf8'))).toEqual([
      { user_id: 'u1', email: 'ann@example.com', segments: 'sports;-news' },
      { user_id: 'u2', email: '', segments: 'autos' },
    ]);
  });

  const tour = blocks('sh')
    .find((b) => b.includes('five') || b.includes('Several inputs'))!
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => l.replace(/\s+#.*$/, ''));

  it('has a tour', () => {
    expect(tour.length).toBeGreaterThan(10);
  });

  it.each(tour)('tour: %s', async (line) => {
    const r = await sh(line, dir);
    expect(r.stderr).not.toMatch(/SLUICE_E_INTERNAL/);
    expect(r.code, r.stderr).toBe(0);
  });

  it('the tour did what it says', async () => {
    const all = parseNdjson(readFileSync(join(dir, 'all.ndjson'), 'utf8'));
    expect(all).toEqual([
      { id: '1', n: 'a' },
      { id: '2', n: 'b' },
      { id: '3', n: 'c' },
    ]);
    expect(readFileSync(join(dir, 'rejects.ndjson'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(parseNdjson(readFileSync(join(dir, 'out.ndjson'), 'utf8'))).toEqual([
      { id: '1', name: 'ann' },
      { id: '2', name: 'bob' },
    ]);
    expect(existsSync(join(dir, 'audience.db'))).toBe(true);
    const redacted = await sh('npx sluice -f csv --transform ./redact.js users.csv', dir);
    expect(parseNdjson(redacted.stdout)).toEqual([
      { user_id: 'u1', email: '***@example.com', segments: 'sports;-news' },
    ]);
  });

  it('the Node snippet runs as written', async () => {
    const [snippet] = blocks('ts');
    const script = snippet!.replace(
      "from 'sluice'",
      `from ${JSON.stringify(join(ROOT, 'dist/src/index.js'))}`,
    );
    await writeFile(join(dir, 'snippet.mjs'), script);
    const { stderr } = await run(process.execPath, ['snippet.mjs'], { cwd: dir, env: cliEnv() });
    expect(stderr).toMatch(/in: 2.*emitted: 2/s);
    expect(parseNdjson(readFileSync(join(dir, 'users.ndjson'), 'utf8'))).toEqual([
      { user_id: 'u1', email: 'ann@example.com', segments: 'sports;-news', seen: true },
      { user_id: 'u2', email: '', segments: 'autos', seen: true },
    ]);
  });
});
