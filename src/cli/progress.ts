/**
 * The progress line on stderr: records, bytes, rates, and a percentage with an ETA
 * when the total input size is known. Redrawn in place with `\r`, at most every
 * `intervalMs`; on a terminal it is erased at the end, elsewhere (forced with
 * `--progress`) the final state is left on its own line.
 */
import type { RunStats } from '../index.js';

export interface ProgressOptions {
  /** Where to draw; only its `write` is used. */
  stream: { write(s: string): unknown };
  /** A terminal: clear the line with ANSI escapes, erase it at the end. */
  tty: boolean;
  /** Show a percentage and ETA when `stats.totalBytes` is known. @default true */
  percent?: boolean;
  /** Minimum time between redraws. @default 100 */
  intervalMs?: number;
  now?: () => number;
}

export class ProgressLine {
  private last = Number.NEGATIVE_INFINITY;
  private width = 0;
  private drawn = false;
  private done = false;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.intervalMs = options.intervalMs ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  /** Called as often as the pipeline likes (after every batch); draws only when the interval has passed. */
  update(stats: RunStats): void {
    if (this.done) return;
    const t = this.now();
    if (t - this.last < this.intervalMs) return;
    this.last = t;
    this.draw(formatProgress(stats, this.options.percent ?? true));
  }

  /** Ends the line: erased on a terminal, or left with its final numbers otherwise. Idempotent. */
  finish(stats: RunStats): void {
    if (this.done) return;
    this.done = true;
    if (this.options.tty) {
      if (this.drawn) this.options.stream.write('\r\x1b[K');
    } else {
      this.draw(formatProgress(stats, this.options.percent ?? true));
      this.options.stream.write('\n');
    }
  }

  private draw(line: string): void {
    if (this.options.tty) {
      this.options.stream.write(`\r${line}\x1b[K`);
    } else {
      // No escapes in a file: pad over the previous, longer line instead.
      this.options.stream.write(`\r${line.padEnd(this.width)}`);
      this.width = Math.max(this.width, line.length);
    }
    this.drawn = true;
  }
}

/** `1.2M records  34.5 MiB  456k rec/s  12.3 MiB/s  42% ETA 0:13` */
export function formatProgress(stats: RunStats, percent = true): string {
  const parts = [
    `${count(stats.records.in)} records`,
    bytes(stats.bytes),
    `${count(stats.recordsPerSecond)} rec/s`,
    `${bytes(stats.bytesPerSecond)}/s`,
  ];
  if (stats.records.rejected > 0) parts.push(`${count(stats.records.rejected)} rejected`);
  const total = stats.totalBytes;
  if (percent && total !== undefined && total > 0 && stats.bytes <= total) {
    const pct = Math.floor((stats.bytes / total) * 100);
    let eta = '';
    if (stats.bytesPerSecond > 0) eta = ` ETA ${duration((total - stats.bytes) / stats.bytesPerSecond)}`;
    parts.push(`${pct}%${eta}`);
  }
  return `sluice: ${parts.join('  ')}`;
}

/** 999, 12.3k, 4.5M, 1.2G */
export function count(n: number): string {
  if (n < 1000) return String(Math.round(n));
  for (const [unit, size] of [
    ['G', 1e9],
    ['M', 1e6],
    ['k', 1e3],
  ] as const) {
    if (n >= size) return `${(n / size).toFixed(n >= size * 100 ? 0 : 1)}${unit}`;
  }
  return String(n);
}

/** 512 B, 64.0 KiB, 1.5 MiB, 2.0 GiB */
export function bytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  // Switch units at 1000, not 1024, so the width stays at most "999.9 KiB".
  while (v >= 1000 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** 0:07, 12:34, 1:02:03 */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
