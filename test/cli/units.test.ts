/** The CLI's pure helpers, imported from source: value parsers and progress formatting. */
import { describe, expect, it } from 'vitest';
import { isBrokenPipe } from '../../src/cli/exit.js';
import {
  parseErrorPolicy,
  parseKeyValue,
  parsePositiveInt,
  parseSize,
  parseThreads,
} from '../../src/cli/parse-args.js';
import { bytes, count, duration, ProgressLine } from '../../src/cli/progress.js';
import { createStats } from '../../src/core/stats.js';

describe('option value parsers', () => {
  it('reads sizes with binary suffixes', () => {
    expect(parseSize('65536')).toBe(65536);
    expect(parseSize('64k')).toBe(65536);
    expect(parseSize('64KiB')).toBe(65536);
    expect(parseSize('1m')).toBe(1024 * 1024);
    expect(parseSize('1MB')).toBe(1024 * 1024);
    expect(parseSize('2g')).toBe(2 * 1024 ** 3);
  });

  it('refuses sizes that are not positive whole numbers of bytes', () => {
    for (const bad of ['0', '-1', '1.5k', 'k', '', '10x'])
      expect(() => parseSize(bad)).toThrow(/expected a size/);
  });

  it('accepts only whole numbers >= 1 as counts', () => {
    expect(parsePositiveInt('8')).toBe(8);
    for (const bad of ['0', '-2', '2.5', '1e3', ' '])
      expect(() => parsePositiveInt(bad)).toThrow(/integer >= 1/);
  });

  it('reads a thread count as a whole number >= 0, or auto', () => {
    expect(parseThreads('0')).toBe(0);
    expect(parseThreads('2')).toBe(2);
    expect(parseThreads('auto')).toBe('auto');
    for (const bad of ['-1', 'two', '1.5', '', 'Auto', 'auto2'])
      expect(() => parseThreads(bad)).toThrow(/integer >= 0 or auto/);
  });

  it('collects key=value pairs, splitting at the first = and letting the last value of a key win', () => {
    let o = parseKeyValue('delimiter=;');
    o = parseKeyValue('columns=a,b', o);
    o = parseKeyValue('expr=a=b', o);
    o = parseKeyValue('delimiter=|', o);
    expect(o).toEqual({ delimiter: '|', columns: 'a,b', expr: 'a=b' });
    expect(parseKeyValue('quote=')).toEqual({ quote: '' });
    expect(() => parseKeyValue('=x')).toThrow(/key=value/);
  });

  it('knows the three error policies', () => {
    expect(parseErrorPolicy('fail')).toBe('fail');
    expect(parseErrorPolicy('skip')).toBe('skip');
    expect(parseErrorPolicy('dead-letter=x.ndjson')).toBe('dead-letter=x.ndjson');
    expect(() => parseErrorPolicy('dead-letter=')).toThrow();
  });
});

describe('broken pipe detection', () => {
  it('finds EPIPE anywhere in the cause chain', () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(isBrokenPipe(new Error('outer', { cause: new Error('mid', { cause: epipe }) }))).toBe(true);
    expect(isBrokenPipe(new Error('other', { cause: new Error('ENOSPC') }))).toBe(false);
    const loop = new Error('loop') as Error & { cause?: unknown };
    loop.cause = loop;
    expect(isBrokenPipe(loop)).toBe(false);
  });
});

describe('progress line', () => {
  it('formats counts, bytes and durations for humans', () => {
    expect([count(999), count(12_345), count(4_500_000), count(123_000_000)]).toEqual([
      '999',
      '12.3k',
      '4.5M',
      '123M',
    ]);
    expect([bytes(512), bytes(65_536), bytes(1.5 * 1024 ** 2)]).toEqual(['512 B', '64.0 KiB', '1.5 MiB']);
    expect([duration(7), duration(754), duration(3723)]).toEqual(['0:07', '12:34', '1:02:03']);
  });

  it('redraws at most once per interval and erases itself on a terminal', () => {
    let t = 0;
    const out: string[] = [];
    const p = new ProgressLine({ stream: { write: (s) => out.push(s) }, tty: true, now: () => t });
    const stats = createStats();
    p.update(stats);
    t = 50;
    p.update(stats);
    t = 150;
    p.update(stats);
    expect(out).toHaveLength(2);
    expect(out.every((s) => s.startsWith('\r') && s.endsWith('\x1b[K'))).toBe(true);
    p.finish(stats);
    p.finish(stats);
    expect(out.at(-1)).toBe('\r\x1b[K');
    expect(out).toHaveLength(3);
  });

  it('shows a percentage and an ETA when the total size is known', () => {
    const out: string[] = [];
    const p = new ProgressLine({ stream: { write: (s) => out.push(s) }, tty: false });
    const stats = { ...createStats(), bytes: 250, totalBytes: 1000, bytesPerSecond: 50 };
    p.update(stats);
    expect(out[0]).toMatch(/25% ETA 0:15$/);
  });
});
