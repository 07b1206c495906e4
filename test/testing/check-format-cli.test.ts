/**
 * `sluice check-format`, spawned from the build as a user runs it: the worked example
 * passes, every deliberately broken format fails with the law that protects against
 * its bug, and the command's usage errors are coded. Seeds are random, as a user's
 * are: each broken format's bug is found within a few dozen cases (measured over 200
 * seeds), far inside the 100 runs per law.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuiltCli, STACK_FRAME, sluice, tempDir } from '../cli/helpers.js';

const BROKEN = 'test/testing/broken-formats';
const EXAMPLE = 'examples/formats/logfmt/index.js';

/** The law lines of check-format's output: `✓ title (…)`, `✗ title: …`, `- title: skipped (…)`. */
function lawLines(stdout: string): { mark: string; title: string; line: string }[] {
  return stdout
    .split('\n')
    .filter((l) => /^[✓✗-] /.test(l))
    .map((line) => {
      const m = /^([✓✗-]) ([a-z ]+?)(?: \(|:)/.exec(line);
      return { mark: m?.[1] ?? '', title: m?.[2] ?? '', line };
    });
}

function failedLaws(stdout: string): string[] {
  return lawLines(stdout)
    .filter((l) => l.mark === '✗')
    .map((l) => l.title);
}

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  requireBuiltCli();
  ({ dir, cleanup } = await tempDir());
  // Formats that need no import: a format is a plain object.
  await writeFile(
    join(dir, 'upper.mjs'),
    `export default {
  name: 'upper', description: 'lines, upper-cased', mediaTypes: [], extensions: [],
  tokenizer: () => ({ tokenize(record, _at, out) { if (record !== '') out.push(record.toUpperCase()); } }),
};
export const samples = ['a\\nb\\n'];
`,
  );
  await writeFile(join(dir, 'no-default.mjs'), 'export const format = {};\n');
  await writeFile(join(dir, 'not-a-format.mjs'), 'export default { name: 42 };\n');
  await writeFile(join(dir, 'syntax-error.mjs'), 'export default {\n');
  await writeFile(
    join(dir, 'format.ts'),
    `const format: { name: string; description: string; mediaTypes: string[]; extensions: string[]; tokenizer: () => unknown } = {
  name: 'typed', description: '', mediaTypes: [], extensions: [],
  tokenizer: () => ({ tokenize(record: string, _at: unknown, out: string[]) { if (record !== '') out.push(record); } }),
};
export default format;
`,
  );
  await mkdir(join(dir, 'sibling'));
  await writeFile(
    join(dir, 'sibling', 'index.mjs'),
    `export default {
  name: 'words', description: '', mediaTypes: [], extensions: [],
  tokenizer: () => ({ tokenize(record, _at, out) { if (record !== '') out.push(record); } }),
};
`,
  );
  await writeFile(join(dir, 'sibling', 'arbitrary.mjs'), 'export const notArbitrary = 1;\n');
  await writeFile(join(dir, 'sample.txt'), 'x\ny\n');
});
afterAll(() => cleanup?.());

describe('sluice check-format on the worked example', () => {
  it('passes every law of the logfmt example and exits 0', async () => {
    const r = await sluice(['check-format', EXAMPLE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lawLines(r.stdout).map((l) => `${l.mark} ${l.title}`)).toEqual([
      '✓ accounting and robustness',
      '✓ framing invariance',
      '✓ purity',
      '✓ round trip',
      '✓ no record dropped',
      '✓ parallel invariance',
    ]);
    expect(r.stdout).toMatch(
      /^sluice check-format: logfmt \(.*\): arbitrary from arbitrary\.js, 4 samples, seed -?\d+, 100 runs per law$/m,
    );
    expect(r.stdout).toMatch(/✓ round trip \(100 runs\)/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('6 passed, 0 failed, 0 skipped');
  });
});

describe('sluice check-format on deliberately broken formats', () => {
  it('fails a serializer that forgets to escape the separator on the round-trip law, and exits 65', async () => {
    const r = await sluice(['check-format', `${BROKEN}/unescaped-serializer.mjs`]);
    expect(r.code).toBe(65);
    expect(failedLaws(r.stdout)).toEqual(['round trip']);
    expect(r.stdout).toMatch(/✗ round trip: counterexample tokens .*\|.* seed -?\d+/);
  });

  it('fails a tokenizer that throws a plain TypeError on the robustness law, naming the TypeError', async () => {
    const r = await sluice(['check-format', `${BROKEN}/type-error.mjs`]);
    expect(r.code).toBe(65);
    expect(failedLaws(r.stdout)).toEqual(['accounting and robustness']);
    expect(r.stdout).toMatch(
      /why: the tokenizer threw TypeError: .* instead of a SluiceError with a record-level code/,
    );
  });

  it('fails a tokenizer that carries state across records while claiming parallel on the parallel law', async () => {
    const r = await sluice(['check-format', `${BROKEN}/stateful-parallel.mjs`]);
    expect(r.code).toBe(65);
    expect(failedLaws(r.stdout)).toEqual(['parallel invariance']);
    expect(r.stdout).toMatch(/fresh tokenizers per chunk: .* the format must say parallel: false/);
  });

  it('fails a tokenizer that drops valid records on the no-record-dropped law', async () => {
    const r = await sluice(['check-format', `${BROKEN}/drops-records.mjs`]);
    expect(r.code).toBe(65);
    expect(failedLaws(r.stdout)).toContain('no record dropped');
    expect(r.stdout).toMatch(
      /why: wrote \d+ tokens? and read back \d+ tokens?; records that gave no token: /,
    );
  });

  it('fails a tokenizer that loops forever on the robustness law, as a hang, and goes on with the next law', async () => {
    const r = await sluice([
      'check-format',
      `${BROKEN}/hangs.mjs`,
      '--timeout',
      '300',
      '--law',
      'robustness',
      'round-trip',
    ]);
    expect(r.code).toBe(65);
    expect(lawLines(r.stdout).map((l) => `${l.mark} ${l.title}`)).toEqual([
      '✗ accounting and robustness',
      '✓ round trip',
    ]);
    expect(r.stdout).toMatch(/why: no answer within 300 ms .*the case never returned/);
    expect(r.stdout).toMatch(/the case above never returned; it was not shrunk/);
  });
});

describe('sluice check-format output and options', () => {
  it('prints one JSON document with a result per law under --json', async () => {
    const r = await sluice([
      'check-format',
      `${BROKEN}/type-error.mjs`,
      '--json',
      '--runs',
      '20',
      '--seed',
      '7',
    ]);
    expect(r.code).toBe(65);
    const report = JSON.parse(r.stdout) as {
      format: string;
      seed: number;
      ok: boolean;
      results: { law: string; status: string; seed: number; counterexample?: string }[];
    };
    expect(report).toMatchObject({ format: 'pair', seed: 7, ok: false });
    expect(report.results.map((x) => x.law)).toEqual([
      'robustness',
      'framing',
      'purity',
      'round-trip',
      'no-record-dropped',
      'parallel',
    ]);
    expect(report.results[0]).toMatchObject({ status: 'failed', seed: 7 });
    expect(report.results[0]?.counterexample).toMatch(/^input "/);
  });

  it('replays the same shrunk counterexample with the same --seed', async () => {
    const args = [
      'check-format',
      `${BROKEN}/unescaped-serializer.mjs`,
      '--law',
      'round-trip',
      '--seed',
      '12345',
    ];
    const [a, b] = await Promise.all([sluice(args), sluice(args)]);
    const line = (s: string) => s.split('\n').find((l) => l.startsWith('✗'));
    expect(line(a.stdout)).toMatch(/seed 12345$/);
    expect(line(a.stdout)).toBe(line(b.stdout));
  });

  it('runs only the laws named with --law, in the order of the laws', async () => {
    const r = await sluice(['check-format', EXAMPLE, '--law', 'purity', 'framing', '--runs', '10']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lawLines(r.stdout).map((l) => l.title)).toEqual(['purity', 'framing invariance']);
  });

  it('skips the laws that need a serializer or an arbitrary, saying why, and exits 0', async () => {
    const r = await sluice(['check-format', 'upper.mjs', '--runs', '20'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('- round trip: skipped (no serializer)');
    expect(r.stdout).toContain('- no record dropped: skipped (no serializer)');
    expect(r.stdout).toMatch(/no arbitrary, 1 sample,/);
  });

  it('adds --samples files to the inputs', async () => {
    const r = await sluice(
      ['check-format', 'upper.mjs', '--runs', '5', '--samples', 'sample.txt', 'sample.txt'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no arbitrary, 3 samples,/);
  });

  it('finds a built-in format’s arbitrary in its sibling arbitrary.js', async () => {
    const r = await sluice(['check-format', 'dist/formats/csv/index.js', '--runs', '20']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sluice check-format: csv .*arbitrary from arbitrary\.js/);
  });

  it('passes a format that stamps the time of reading when the clock is fixed with --fixed-time', async () => {
    const r = await sluice([
      'check-format',
      'dist/formats/segments/index.js',
      '--runs',
      '20',
      '--fixed-time',
      '2024-05-01T12:00:00Z',
    ]);
    expect(r.code).toBe(0);
    expect(failedLaws(r.stdout)).toEqual([]);
  });

  it('passes format options given with --option to the format', async () => {
    const r = await sluice([
      'check-format',
      'dist/formats/csv/index.js',
      '--option',
      'delimiter=;',
      '--runs',
      '10',
    ]);
    expect(r.code).toBe(0);
    const bad = await sluice(['check-format', 'dist/formats/csv/index.js', '--option', 'delimiter=xx']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/option csv\.delimiter: expected a single character.*\[SLUICE_E_OPTION\]/);
  });
});

describe.concurrent('sluice check-format usage errors', () => {
  it('exits 64 naming the file when the module does not exist', async () => {
    const r = await sluice(['check-format', 'nope.mjs'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toBe('sluice: cannot load format module nope.mjs: no such file [SLUICE_E_MODULE]\n');
  });

  it('exits 64 when the module has no default export', async () => {
    const r = await sluice(['check-format', 'no-default.mjs'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/no-default\.mjs: it has no default export \(the Format\) \[SLUICE_E_MODULE\]/);
  });

  it('exits 64 when the default export is not a format', async () => {
    const r = await sluice(['check-format', 'not-a-format.mjs'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/not a sluice format: name must be a lower-case identifier \[SLUICE_E_MODULE\]/);
  });

  it('exits 64 without a stack trace when the module does not parse', async () => {
    const r = await sluice(['check-format', 'syntax-error.mjs'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(
      /^sluice: cannot load format module syntax-error\.mjs: .*\[SLUICE_E_MODULE\]\n$/,
    );
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('exits 64 when a sibling arbitrary file exports no arbitrary', async () => {
    const r = await sluice(['check-format', 'sibling/index.mjs'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/arbitrary\.mjs: it exports no `arbitrary`/);
  });

  const stripsTypes = typeof (process.features as unknown as Record<string, unknown>).typescript === 'string';

  it.skipIf(stripsTypes)(
    'says that a TypeScript module must be compiled first on a Node that cannot strip types',
    async () => {
      const r = await sluice(['check-format', 'format.ts'], { cwd: dir });
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(
        /format\.ts: Node v[\d.]+ cannot import TypeScript: compile the module to JavaScript first/,
      );
    },
  );

  it.runIf(stripsTypes)('checks a TypeScript module as it is on a Node that strips types', async () => {
    const r = await sluice(['check-format', 'format.ts', '--runs', '10'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sluice check-format: typed /);
  });

  it('exits 66 when a samples file cannot be read', async () => {
    const r = await sluice(['check-format', EXAMPLE, '--samples', 'missing.txt']);
    expect(r.code).toBe(66);
    expect(r.stderr).toBe('sluice: cannot read samples missing.txt: no such file [SLUICE_E_INPUT]\n');
  });

  it('exits 64 for an unknown law, listing the laws', async () => {
    const r = await sluice(['check-format', EXAMPLE, '--law', 'speed']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(
      /unknown law "speed" \(laws: robustness, framing, purity, round-trip, no-record-dropped, parallel\)/,
    );
  });

  it('exits 64 for a seed that is not a 32-bit integer', async () => {
    const r = await sluice(['check-format', EXAMPLE, '--seed', '99999999999']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--seed.*expected a 32-bit integer/);
  });

  it('exits 64 without a module', async () => {
    const r = await sluice(['check-format']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/missing required argument 'module'/);
  });

  it('describes itself and every law in --help', async () => {
    const r = await sluice(['check-format', '--help'], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: sluice check-format <module> \[options\]/);
    // Commander wraps the help text: compare with the line breaks folded.
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(
      'only these laws: robustness, framing, purity, round-trip, no-record-dropped, parallel',
    );
  });
});
