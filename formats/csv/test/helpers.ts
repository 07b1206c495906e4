/**
 * Test helpers shared by the csv and tsv tests (excluded from the build): run a format
 * over text cut in given places, and compare runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Format } from '../../../src/core/contracts.js';
import {
  chunkAt,
  type FormatRun,
  type RunFormatOptions,
  runFormat,
} from '../../../src/testing/run-format.js';

export const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** Runs `input` (text or bytes) in one chunk, or cut at `cuts`. */
export function run<T, O extends object>(
  format: Format<T, O>,
  input: string | Uint8Array,
  run: RunFormatOptions & { cuts?: readonly number[] } = {},
): FormatRun<T> {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  const { cuts, ...rest } = run;
  return runFormat(format, cuts ? chunkAt(bytes, cuts) : [bytes], rest);
}

/** Every cut point: the input fed one byte at a time. */
export function everyByte(input: string | Uint8Array): number[] {
  const n = typeof input === 'string' ? utf8(input).length : input.length;
  return Array.from({ length: n }, (_, i) => i);
}

export interface FixtureExpectation {
  options: Record<string, unknown>;
  items: unknown[];
  rejects: { line: number; code: string; message: string }[];
  records: number;
  skipped: number;
}

/** The fixtures of a format folder: each `name.<ext>` with its `name.expected.json`. */
export function fixtures(
  dir: URL,
  ext: string,
): { name: string; bytes: Uint8Array; expected: FixtureExpectation }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(`.${ext}`))
    .sort()
    .map((f) => {
      const name = f.slice(0, -ext.length - 1);
      return {
        name,
        bytes: new Uint8Array(readFileSync(new URL(f, dir))),
        expected: JSON.parse(
          readFileSync(new URL(`${name}.expected.json`, dir), 'utf8'),
        ) as FixtureExpectation,
      };
    });
}

/** A run reduced to what a fixture's expectation states. */
export function summary(r: FormatRun<unknown>): Omit<FixtureExpectation, 'options'> {
  return {
    items: r.items,
    rejects: r.rejects.map(({ line, code, message }) => ({ line, code, message })),
    records: r.records,
    skipped: r.skipped,
  };
}
