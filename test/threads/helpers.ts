/**
 * Runs the same conversion with `threads: 0` and with worker threads and collects what
 * each produced: the output bytes, the rejections (through a dead-letter sink) and the
 * ledger. Workers run the built code (dist/), so the suite checks the build is fresh.
 */
import { dirname, join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { Rejection, Sink } from '../../src/core/contracts.js';
import { type PipelineOptions, pipeline } from '../../src/core/pipeline.js';
import { streamInput } from '../../src/core/sources.js';
import { createStats, type RunStats } from '../../src/core/stats.js';

export { requireBuiltCli as requireBuild } from '../cli/helpers.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const fixture = (name: string): string => resolve(FIXTURES, name);

/** A Writable that keeps every byte written to it. */
export function collector(): Writable & { bytes(): Buffer } {
  const parts: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      // Copied: a chunk handed to a Writable may be reused once its callback ran.
      parts.push(Buffer.from(chunk));
      cb();
    },
  });
  return Object.assign(w, { bytes: () => Buffer.concat(parts) });
}

/** A dead-letter sink that keeps the rejections. */
export function rejectionSink(): Sink<Rejection> & { all: Rejection[] } {
  const all: Rejection[] = [];
  return {
    name: 'memory',
    all,
    async write(batch) {
      all.push(...batch);
    },
    async close() {},
  };
}

/** Rejections as comparable strings, sorted (their order across batches is not a contract). */
export function rejectionSet(rs: readonly Rejection[]): string[] {
  return rs
    .map(
      (r) =>
        `${r.code}|${r.stage}|${r.source}:${r.line}:${r.offset}|${r.message}|${JSON.stringify(r.record)}`,
    )
    .sort();
}

/** The part of the ledger that does not depend on timing. */
export function ledger(s: RunStats) {
  return {
    inputs: s.inputs,
    bytes: s.bytes,
    records: s.records,
    items: s.items,
    rejectedByCode: s.rejectedByCode,
  };
}

export interface Outcome {
  out: Buffer;
  rejects: Rejection[];
  stats: RunStats;
  error: unknown;
}

/**
 * One run. `inputs` are byte arrays (fed in `pieces` of the given sizes) or paths;
 * `onError` defaults to a dead letter that collects the rejections.
 */
export async function convert(
  inputs: readonly (Uint8Array | string)[],
  options: Omit<PipelineOptions, 'inputs' | 'output' | 'stats'> & { pieces?: number[] },
): Promise<Outcome> {
  const out = collector();
  const dead = rejectionSink();
  const stats = createStats();
  const { pieces, ...rest } = options;
  let error: unknown;
  try {
    await pipeline({
      onError: { deadLetter: dead },
      ...rest,
      inputs: inputs.map((x, i) => (typeof x === 'string' ? x : streamInput(piecesOf(x, pieces), `in${i}`))),
      output: out,
      stats,
    });
  } catch (e) {
    error = e;
  }
  return { out: out.bytes(), rejects: dead.all, stats, error };
}

function piecesOf(bytes: Uint8Array, sizes: number[] = []) {
  const chunks: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes.length === 0 ? bytes.length : Math.max(1, sizes[i % sizes.length]!);
    chunks.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return Readable.from(chunks, { objectMode: false });
}

/** Lines to splice into valid input: each breaks a record in its own way. */
export const HOSTILE_LINES: (string | number[])[] = [
  '',
  '   ',
  '"',
  'a,"b',
  '\t',
  'x'.repeat(90),
  [0xff, 0x41],
  [0xc3],
  '{"broken":',
  'é,😀',
];

/** Valid text for a format, with hostile lines spliced in, a BOM and CRLFs sometimes. */
export function hostile(valid: fc.Arbitrary<string[]>, lines: (string | number[])[] = HOSTILE_LINES) {
  return fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(...lines)), { maxLength: 4 }),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([records, inserts, bom, crlf, finalNewline]) => {
      const parts: Buffer[] = records.map((r) => Buffer.from(r));
      for (const [at, line] of inserts) {
        parts.splice(
          at % (parts.length + 1),
          0,
          typeof line === 'string' ? Buffer.from(line) : Buffer.from(line),
        );
      }
      const nl = Buffer.from(crlf ? '\r\n' : '\n');
      const body: Buffer[] = [];
      parts.forEach((p, i) => {
        body.push(p);
        if (i < parts.length - 1 || finalNewline) body.push(nl);
      });
      return new Uint8Array(
        Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), ...body]),
      );
    });
}
