/**
 * The executable turns V8's parallel scavenges off when the conversion lanes take every
 * core (src/cli/gc-helpers.ts): the rule, and what `--stats` says on the built CLI,
 * with and without a GC flag the user gave node.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { checkedOnV8, wantsSerialScavenges } from '../../src/cli/gc-helpers.js';
import { requireBuiltCli, sluice, statsFrom } from './helpers.js';

describe('wantsSerialScavenges', () => {
  const none = { execArgv: [], nodeOptions: '', v8: '11.3.244.8-node.38' };

  it('only when workers start and the lanes take every core', () => {
    expect(wantsSerialScavenges({ lanes: 2, workers: true, cores: 2, ...none })).toBe(true);
    expect(wantsSerialScavenges({ lanes: 4, workers: true, cores: 2, ...none })).toBe(true);
    // Idle cores: the helpers have somewhere to run.
    expect(wantsSerialScavenges({ lanes: 2, workers: true, cores: 8, ...none })).toBe(false);
    // One lane (--threads 0 or 1): measured no better, so left as V8 has it.
    expect(wantsSerialScavenges({ lanes: 1, workers: false, cores: 1, ...none })).toBe(false);
    expect(wantsSerialScavenges({ lanes: 2, workers: false, cores: 2, ...none })).toBe(false);
  });

  it('leaves the collector alone when the user gave node a flag for it', () => {
    const base = { lanes: 2, workers: true, cores: 2, v8: '13.6.233.17-node.63' };
    for (const flag of [
      '--parallel-scavenge',
      '--no-parallel-scavenge',
      '--parallel_scavenge',
      '--single-threaded-gc',
      '--single-threaded',
    ]) {
      expect(wantsSerialScavenges({ ...base, execArgv: [flag], nodeOptions: '' }), flag).toBe(false);
      expect(wantsSerialScavenges({ ...base, execArgv: [], nodeOptions: `--x ${flag}` }), flag).toBe(false);
    }
    // Other flags are not about the collector's threads.
    expect(wantsSerialScavenges({ ...base, execArgv: ['--max-old-space-size=512'], nodeOptions: '' })).toBe(
      true,
    );
  });

  it('only on the V8 versions it was checked on: V8 prints an unknown flag on stdout, into the data', () => {
    const fill = { lanes: 2, workers: true, cores: 2, execArgv: [], nodeOptions: '' };
    expect(wantsSerialScavenges({ ...fill, v8: '12.4.254.21-node.57' })).toBe(true);
    expect(wantsSerialScavenges({ ...fill, v8: '10.2.154.26-node.22' })).toBe(false);
    expect(wantsSerialScavenges({ ...fill, v8: '14.1.146.11-node.14' })).toBe(false);
    expect(wantsSerialScavenges({ ...fill, v8: 'unknown' })).toBe(false);
  });
});

describe('sluice --threads and the collector', () => {
  requireBuiltCli();
  const csv = `id,name\n${Array.from({ length: 5_000 }, (_, i) => `${i},n${i}`).join('\n')}\n`;
  const gcOf = (stderr: string): unknown =>
    (statsFrom(stderr) as unknown as { threads?: { gc?: unknown } }).threads?.gc;

  it('says in --stats when it scavenges serially, and the bytes are the same', async () => {
    const serial = await sluice(['-f', 'csv', '-t', 'ndjson'], { input: csv });
    // `auto` is every core: the lanes always fill the machine (stdin is of unknown size, so workers start).
    const r = await sluice(['-f', 'csv', '-t', 'ndjson', '--threads', 'auto', '--stats'], { input: csv });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(serial.stdout);
    // Set only with a worker, and on the V8 majors it was checked on (Node 20, 22, 24).
    if (availableParallelism() > 1 && checkedOnV8()) {
      expect(gcOf(r.stderr)).toMatch(/serial scavenges.*--no-parallel-scavenge/);
    } else expect(gcOf(r.stderr)).toBeUndefined();
    const none = await sluice(['-f', 'csv', '-t', 'ndjson', '--threads', '0', '--stats'], { input: csv });
    expect(gcOf(none.stderr)).toBeUndefined();
  });

  it('does not when node was given a GC flag', async () => {
    const r = await sluice(['-f', 'csv', '-t', 'ndjson', '--threads', 'auto', '--stats'], {
      input: csv,
      nodeArgs: ['--parallel-scavenge'],
    });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').length).toBe(5_001);
    expect(gcOf(r.stderr)).toBeUndefined();
  });
});
