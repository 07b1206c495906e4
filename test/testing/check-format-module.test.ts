/**
 * `checkFormatModule`, the API under `sluice check-format`: the laws run in a worker
 * thread, so a tokenizer that never returns fails its law and the others still run.
 * It is imported from the build ('sluice/testing'), since the worker is a built file.
 */

import { checkFormatModule, type LawResult, type ModuleInfo } from 'sluice/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli } from '../cli/helpers.js';

beforeAll(() => requireBuiltCli());

describe('checkFormatModule', () => {
  it('loads the module in a worker, says what it found, and reports each law as it finishes', async () => {
    const loaded: ModuleInfo[] = [];
    const seen: LawResult[] = [];
    const report = await checkFormatModule('examples/formats/logfmt/index.js', {
      runs: 10,
      seed: 11,
      onLoad: (info) => loaded.push(info),
      onResult: (r) => seen.push(r),
    });
    expect(loaded).toEqual([
      {
        module: 'examples/formats/logfmt/index.js',
        format: 'logfmt',
        arbitrary: 'arbitrary.js',
        samples: 4,
        seed: 11,
        runs: 10,
      },
    ]);
    expect(report.results).toEqual(seen);
    expect(report.results.map((r) => r.status)).toEqual(Array(6).fill('passed'));
  });

  it('fails the law whose case never returns, names that case, and runs the next laws in a fresh worker', async () => {
    const report = await checkFormatModule('test/testing/broken-formats/hangs.mjs', {
      laws: ['robustness', 'round-trip'],
      caseTimeoutMs: 300,
    });
    const [robustness, roundTrip] = report.results;
    expect(robustness).toMatchObject({ law: 'robustness', status: 'failed', hang: true });
    expect(robustness?.status === 'failed' && robustness.counterexample).toMatch(/^input "/);
    expect(roundTrip).toMatchObject({ law: 'round-trip', status: 'passed' });
  });

  it('rejects a module it cannot load with a coded module error', async () => {
    await expect(checkFormatModule('test/testing/broken-formats/README.md')).rejects.toMatchObject({
      code: 'SLUICE_E_MODULE',
    });
  });
});
