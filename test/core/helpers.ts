/**
 * Shared fixtures for the core tests: trivial inline formats (the real formats are
 * written elsewhere) and a driver that runs the frame decoder over chunks and puts
 * every batch together, with each rejection's `at` made global.
 */
import { expect } from 'vitest';
import { defineFormat, type Framer, type Rejection } from '../../src/core/contracts.js';
import { FrameDecoder } from '../../src/core/frame-decoder.js';
import { quotedFramer } from '../../src/core/framers.js';

/** One token per record: the record's text. */
export const lines = defineFormat<string, Record<string, never>>({
  name: 'lines',
  description: 'one string per line',
  mediaTypes: ['text/plain'],
  extensions: ['txt'],
  tokenizer: () => ({
    tokenize(record, _at, out) {
      out.push(record);
    },
  }),
});

/** The same, framed with CSV quoting. */
export const quotedLines = defineFormat<string, Record<string, never>>({
  ...lines,
  name: 'quoted-lines',
  framer: () => quotedFramer('"', ','),
});

export interface Decoded {
  records: string[];
  lines: number[];
  offsets: number[];
  /** Rejections with `at` counted over the whole input, not per batch. */
  rejects: Rejection[];
  /** Sum of `bytes` over every batch. */
  bytes: number;
  batches: number;
}

export interface DecodeOptions {
  framer?: Framer;
  maxRecordBytes?: number;
  source?: string;
}

/** Feeds `chunks` in order, then ends, and joins every batch. */
export function decodeAll(chunks: Iterable<Uint8Array | string>, options: DecodeOptions = {}): Decoded {
  const decoder = new FrameDecoder({
    source: options.source ?? 'test',
    ...(options.framer ? { framer: options.framer } : {}),
    ...(options.maxRecordBytes !== undefined ? { maxRecordBytes: options.maxRecordBytes } : {}),
  });
  const out: Decoded = { records: [], lines: [], offsets: [], rejects: [], bytes: 0, batches: 0 };
  const add = (b: ReturnType<FrameDecoder['push']>): void => {
    if (!b) return;
    out.batches++;
    expect(b.records.length).toBe(b.lines.length);
    expect(b.records.length).toBe(b.offsets.length);
    for (const r of b.rejects) out.rejects.push({ ...r, at: r.at + out.records.length });
    out.records.push(...b.records);
    out.lines.push(...b.lines);
    out.offsets.push(...b.offsets);
    out.bytes += b.bytes;
  };
  for (const c of chunks) add(decoder.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
  add(decoder.end());
  return out;
}

/** Every byte of `input` as its own chunk. */
export function bytewise(input: Uint8Array | string): Uint8Array[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  return [...bytes].map((b) => Uint8Array.of(b));
}

export function bytes(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
}

export const BOM = [0xef, 0xbb, 0xbf];
