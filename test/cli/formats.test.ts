import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuiltCli, sluice } from './helpers.js';

beforeAll(requireBuiltCli);

interface FormatInfo {
  name: string;
  description: string;
  mediaTypes: string[];
  extensions: string[];
  output: boolean;
  options: Record<string, { type: string; description: string; default?: unknown }>;
}

describe('sluice formats', () => {
  it('lists the four built-in formats with their media types, extensions and options', async () => {
    const r = await sluice(['formats']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const name of ['csv', 'tsv', 'ndjson', 'segments'])
      expect(r.stdout).toMatch(new RegExp(`^${name}\\b`, 'm'));
    expect(r.stdout).toContain('text/csv');
    expect(r.stdout).toContain('.csv');
    expect(r.stdout).toMatch(/^ {4}delimiter +char +default "," +field separator/m);
  });

  it('prints the same as JSON with --json, every option with its type and description', async () => {
    const r = await sluice(['formats', '--json']);
    expect(r.code).toBe(0);
    const formats = JSON.parse(r.stdout) as FormatInfo[];
    expect(formats.map((f) => f.name).sort()).toEqual(['csv', 'ndjson', 'segments', 'tsv']);
    for (const f of formats) {
      expect(f.mediaTypes.length).toBeGreaterThan(0);
      expect(f.extensions.length).toBeGreaterThan(0);
      for (const spec of Object.values(f.options)) {
        expect(spec.type).toMatch(/^(string|char|boolean|integer|string\[\])$/);
        expect(spec.description).not.toBe('');
      }
    }
    const csv = formats.find((f) => f.name === 'csv')!;
    expect(csv.output).toBe(true);
    expect(csv.options.delimiter).toMatchObject({ type: 'char', default: ',' });
  });
});

describe('help and version', () => {
  it('prints usage with every flag on --help and exits 0', async () => {
    const r = await sluice(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: sluice \[options\] \[inputs\.\.\.\]/);
    for (const flag of [
      '--from',
      '--to',
      '--output',
      '--input-option',
      '--output-option',
      '--concurrency',
      '--unordered',
      '--on-error',
      '--max-record-bytes',
      '--transform',
      '--stats',
      '--progress',
      '--no-progress',
      '--threads',
      '--profile',
      'formats',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('prints the version from package.json on --version and exits 0', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await sluice(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });
});
