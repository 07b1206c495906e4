import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli, sluice, tempDir } from '../cli/helpers.js';

describe('sluice keys', () => {
  beforeAll(() => requireBuiltCli());

  it('new prints a fresh key and the sha256 line of that key', async () => {
    const r = await sluice(['keys', 'new']);
    expect(r.code).toBe(0);
    const [key, hash, ...rest] = r.stdout.split('\n');
    expect(rest).toEqual(['']);
    expect(key).toMatch(/^sk_sluice_[A-Za-z0-9_-]{43}$/);
    expect(hash).toBe(`sha256:${createHash('sha256').update(key!).digest('hex')}`);
    expect(r.stderr).toContain('not stored anywhere');
  });

  it('new gives a different key every time', async () => {
    const [a, b] = await Promise.all([sluice(['keys', 'new', '--json']), sluice(['keys', 'new', '--json'])]);
    expect(JSON.parse(a.stdout).key).not.toBe(JSON.parse(b.stdout).key);
  });

  it('hash reads a key on stdin and prints its sha256 line', async () => {
    const r = await sluice(['keys', 'hash'], { input: 'sk_sluice_abc\n' });
    expect(r.stdout).toBe(`sha256:${createHash('sha256').update('sk_sluice_abc').digest('hex')}\n`);
  });

  it('serve without --config is a usage error', async () => {
    const r = await sluice(['serve']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--config');
  });

  it('serve with a bad config names the path of the problem and exits 64', async () => {
    const { dir, cleanup } = await tempDir();
    await writeFile(join(dir, 'bad.yaml'), 'store: nope\nregions: [eu]\nprincipals: []\n');
    const r = await sluice(['serve', '--config', join(dir, 'bad.yaml')]);
    await cleanup();
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(
      'store: expected "sqlite:<path>", "sqlite::memory:" or "postgres://<host>/<database>", got "nope"',
    );
    expect(r.stderr).toContain('principals: expected a non-empty list');
  });
});
