/**
 * Bytes to record batches: the one place that knows about chunk boundaries, CR/LF,
 * the BOM, strict UTF-8 and the record size limit. It is a plain class (no stream) so
 * that property tests can drive it synchronously with any chunking.
 */
import { isUtf8 } from 'node:buffer';
import type { Framer, RecordBatch, RecordScanner, Rejection } from './contracts.js';
import { ERROR_CODES, type ErrorCode, SluiceError } from './errors.js';
import { newlineFramer } from './framers.js';

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/** Rejected records keep at most this much of their text, so a dead letter stays small. */
export const MAX_REJECTED_TEXT = 1024;

export interface FrameDecoderOptions {
  /** Names the input in positions and errors: a path, `-` for stdin, a URL. */
  source: string;
  framer?: Framer;
  /** Longest record accepted, in bytes, terminator excluded. Default 1 MiB. */
  maxRecordBytes?: number;
  /**
   * Line of the first byte given, when the bytes start mid-input (at a record start):
   * a worker thread decoding one chunk of a larger input. Default 1.
   */
  startLine?: number;
  /**
   * Input offset of the first byte given, when the bytes start mid-input (at a record
   * start). Default 0. A BOM is only looked for at offset 0.
   */
  startOffset?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

export class FrameDecoder {
  readonly source: string;
  private readonly scanner: RecordScanner;
  private readonly multiline: boolean;
  private readonly maxRecordBytes: number;
  /** Bytes received but not yet cut into records; always starts at a record start (or in a discarded record). */
  private pending: Buffer = EMPTY;
  /** How much of `pending` the scanner has already seen. */
  private scanned = 0;
  /** Input offset of `pending[0]`. */
  private base = 0;
  /** Line on which `pending[0]` lies. */
  private line = 1;
  private started = false;
  /**
   * Inside an over-long record: its bytes are dropped until the record ends, except
   * the first {@link MAX_REJECTED_TEXT} (kept as bytes, so the rejection's text does not
   * depend on where chunks were cut).
   */
  private discarding: { line: number; offset: number; head: Buffer } | undefined;
  /** Bytes received since the last batch returned: a batch reports them in `bytes`. */
  private unreported = 0;
  private ended = false;
  /** Byte ranges (start, end pairs) of the records of the batch being cut, decoded together. */
  private readonly ranges: number[] = [];

  constructor(options: FrameDecoderOptions) {
    this.source = options.source;
    const framer = options.framer ?? newlineFramer;
    this.scanner = framer.scanner();
    this.multiline = framer.multiline;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.line = options.startLine ?? 1;
    this.base = options.startOffset ?? 0;
    // Mid-input, the bytes at hand are not the start of the input: no BOM there.
    if (this.base > 0) this.started = true;
    if (!Number.isSafeInteger(this.maxRecordBytes) || this.maxRecordBytes < 1) {
      throw new SluiceError(
        'SLUICE_E_OPTION',
        `maxRecordBytes: expected a positive integer, got ${options.maxRecordBytes}`,
        {
          stage: 'config',
        },
      );
    }
  }

  /** Cuts every complete record out of the input so far. Returns undefined when there is none. */
  push(chunk: Uint8Array): RecordBatch | undefined {
    if (this.ended) throw new Error('FrameDecoder: push after end');
    if (chunk.length === 0) return undefined;
    this.unreported += chunk.length;
    let buf = this.pending.length === 0 ? toBuffer(chunk) : Buffer.concat([this.pending, chunk]);
    if (!this.started) {
      // A BOM can only be judged once three bytes are here. Copied: `buf` may be the
      // caller's chunk, which the caller may reuse once push returns.
      if (buf.length < 3 && isBomPrefix(buf)) {
        this.pending = Buffer.from(buf);
        return undefined;
      }
      this.started = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        buf = buf.subarray(3);
        this.base = 3;
      }
    }
    const ends: number[] = [];
    this.scanner.scan(buf, this.scanned, ends);
    return this.cut(buf, ends);
  }

  /**
   * Flushes the final unterminated record, if any. Call once. The batch also carries the
   * bytes of pushes that completed no record, so it may hold no record at all.
   */
  end(): RecordBatch | undefined {
    if (this.ended) return undefined;
    this.ended = true;
    const buf = this.pending;
    this.pending = EMPTY;
    const batch = this.newBatch(this.unreported);
    this.unreported = 0;
    if (this.discarding) {
      this.addToHead(buf);
      this.rejectDiscarded(batch);
    } else if (buf.length > 0) {
      // The final record has no terminator: a CR at its end is data (only a CR before
      // an LF is part of a terminator), and it must pass the size limit too.
      const pendingError = this.scanner.pendingError?.();
      if (buf.length > this.maxRecordBytes) {
        this.rejectTooLarge(batch, this.line, this.base, buf.subarray(0, MAX_REJECTED_TEXT));
      } else if (pendingError) {
        this.reject(batch, pendingError, this.line, this.base, buf.subarray(0, MAX_REJECTED_TEXT));
      } else {
        this.emit(batch, 0, buf.length, this.line, this.base);
        this.decodeRecords(batch, buf);
      }
    }
    return batch.records.length + batch.rejects.length > 0 || batch.bytes > 0 ? batch : undefined;
  }

  private cut(buf: Buffer, ends: number[]): RecordBatch | undefined {
    const batch = this.newBatch(this.unreported);
    let start = 0;
    let line = this.line;
    for (const end of ends) {
      const recordLine = line;
      line += this.multiline ? countLF(buf, start, end) + 1 : 1;
      // The record without its terminator (LF, or CR LF). While discarding, `buf` always
      // holds at least one byte of the record before `end` (see below), so the CR is here.
      const contentEnd = end > start && buf[end - 1] === CR ? end - 1 : end;
      if (this.discarding) {
        this.addToHead(buf.subarray(0, contentEnd));
        this.rejectDiscarded(batch);
      } else if (contentEnd - start > this.maxRecordBytes) {
        this.rejectTooLarge(
          batch,
          recordLine,
          this.base + start,
          buf.subarray(start, Math.min(contentEnd, start + MAX_REJECTED_TEXT)),
        );
      } else {
        this.emit(batch, start, contentEnd, recordLine, this.base + start);
      }
      start = end + 1;
    }
    this.decodeRecords(batch, buf);
    this.base += start;
    this.line = line;
    let rest = buf.subarray(start);
    if (rest.length > this.maxRecordBytes + 1) {
      // The record under way is already too long (even if its last byte is the CR of a
      // CRLF): remember where it began, drop its bytes, and reject it once its end is
      // found. Memory stays bounded.
      this.discarding ??= { line: this.line, offset: this.base, head: EMPTY };
      // Keep the last byte: the scanner looks at the byte before a quote to tell a field
      // start, and index 0 of a buffer means "record start" to it, so the buffer handed
      // over next must not begin mid-record without that byte.
      const dropped = rest.subarray(0, rest.length - 1);
      this.addToHead(dropped);
      if (this.multiline) this.line += countLF(dropped, 0, dropped.length);
      this.base += dropped.length;
      rest = rest.subarray(rest.length - 1);
    }
    // Copy the tail out of the chunk so the chunk itself can be collected.
    this.pending = rest.length === 0 ? EMPTY : Buffer.from(rest);
    this.scanned = this.pending.length;
    // A chunk that completes no record returns nothing; its bytes go with the next batch.
    if (batch.records.length + batch.rejects.length === 0) return undefined;
    this.unreported = 0;
    return batch;
  }

  private newBatch(bytes: number): RecordBatch {
    return { source: this.source, records: [], lines: [], offsets: [], rejects: [], bytes };
  }

  private emit(batch: RecordBatch, start: number, end: number, line: number, offset: number): void {
    // Decoding is deferred to decodeRecords so that a whole batch is checked and
    // decoded at once; until then a record is its byte range.
    this.ranges.push(start, end);
    batch.lines.push(line);
    batch.offsets.push(offset);
  }

  private reject(batch: RecordBatch, code: ErrorCode, line: number, offset: number, text: Uint8Array): void {
    batch.rejects.push(
      rejection(this.source, code, line, offset, Buffer.from(text).toString('utf8'), batch.lines.length),
    );
  }

  private rejectDiscarded(batch: RecordBatch): void {
    const d = this.discarding!;
    this.discarding = undefined;
    this.rejectTooLarge(batch, d.line, d.offset, d.head);
  }

  /** Same text and message whether the record was seen whole or dropped piece by piece. */
  private rejectTooLarge(batch: RecordBatch, line: number, offset: number, head: Uint8Array): void {
    batch.rejects.push(
      rejection(
        this.source,
        'SLUICE_E_RECORD_TOO_LARGE',
        line,
        offset,
        Buffer.from(head).toString('utf8'),
        batch.lines.length,
        `record exceeds the maximum record size of ${this.maxRecordBytes} bytes`,
      ),
    );
  }

  /** Keeps the first MAX_REJECTED_TEXT bytes of the record being discarded (copied). */
  private addToHead(bytes: Uint8Array): void {
    const d = this.discarding!;
    const room = MAX_REJECTED_TEXT - d.head.length;
    if (room > 0 && bytes.length > 0) d.head = Buffer.concat([d.head, bytes.subarray(0, room)]);
  }

  /**
   * Strict UTF-8 without paying per record on the happy path: one native check over
   * the whole span, and only when it fails, a check per record to find the culprits.
   * Fills `batch.records` from the byte ranges `emit` collected.
   */
  private decodeRecords(batch: RecordBatch, buf: Buffer): void {
    const ranges = this.ranges;
    const n = ranges.length / 2;
    if (n === 0) return;
    const spanStart = ranges[0]!;
    const spanEnd = ranges[2 * n - 1]!;
    if (isUtf8(buf.subarray(spanStart, spanEnd))) {
      // One decode for the whole batch; when it is ASCII (byte offsets are character
      // offsets) each record is a slice of it, which costs a fraction of a decode per
      // record. Slices keep the batch's text alive only as long as its tokens live.
      const text = buf.toString('utf8', spanStart, spanEnd);
      const ascii = text.length === spanEnd - spanStart;
      for (let r = 0; r < n; r++) {
        const s = ranges[2 * r]!;
        const e = ranges[2 * r + 1]!;
        batch.records.push(ascii ? text.slice(s - spanStart, e - spanStart) : buf.toString('utf8', s, e));
      }
      ranges.length = 0;
      return;
    }
    const keep: number[] = [];
    for (let r = 0; r < n; r++) {
      const s = ranges[2 * r]!;
      const e = ranges[2 * r + 1]!;
      if (isUtf8(buf.subarray(s, e))) {
        keep.push(r);
        batch.records.push(buf.toString('utf8', s, e));
        continue;
      }
      batch.rejects.push(
        rejection(this.source, 'SLUICE_E_UTF8', batch.lines[r]!, batch.offsets[r]!, undefined, keep.length),
      );
    }
    ranges.length = 0;
    // Earlier rejections counted records that are now gone; re-express their `at`.
    for (const rej of batch.rejects) {
      if (rej.code !== 'SLUICE_E_UTF8') rej.at = keep.filter((r) => r < rej.at).length;
    }
    batch.lines = keep.map((r) => batch.lines[r]!);
    batch.offsets = keep.map((r) => batch.offsets[r]!);
    batch.rejects.sort((a, b) => a.offset - b.offset);
  }
}

/**
 * Cuts a rejected record's text to at most {@link MAX_REJECTED_TEXT} UTF-8 bytes, on a
 * character boundary (a cut never leaves half a surrogate pair or a U+FFFD behind).
 */
export function truncateText(text: string): string {
  if (text.length * 3 <= MAX_REJECTED_TEXT) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_REJECTED_TEXT) return text;
  let end = MAX_REJECTED_TEXT;
  // Back up to the first byte of the character the limit falls in (continuation bytes are 10xxxxxx).
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}

export function rejection(
  source: string,
  code: ErrorCode,
  line: number,
  offset: number,
  record: string | undefined,
  at: number,
  message: string = ERROR_CODES[code].message,
): Rejection {
  const r: Rejection = { code, stage: 'frame', message, source, line, offset, at };
  if (record !== undefined) r.record = truncateText(record);
  return r;
}

function countLF(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(LF, start); i !== -1 && i < end; i = buf.indexOf(LF, i + 1)) n++;
  return n;
}

function isBomPrefix(buf: Uint8Array): boolean {
  const bom = [0xef, 0xbb, 0xbf];
  for (let i = 0; i < buf.length; i++) if (buf[i] !== bom[i]) return false;
  return true;
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}
