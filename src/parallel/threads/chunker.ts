/**
 * Cuts one input's bytes into framing-aligned chunks for the worker threads: every
 * chunk starts at a record start and ends right after a record's terminating LF (the
 * input's last chunk may end without one), so a CSV quoted newline is never split and
 * each chunk can be decoded by a fresh {@link FrameDecoder} given its start line and
 * offset.
 *
 * It only finds record ends (with the format's own scanner, or the last LF for a
 * one-line-per-record framer) and counts LFs for line numbers; it never decodes. It
 * mirrors the decoder's rules at the input level: the BOM is dropped at offset 0, and a
 * record longer than the limit is dropped as it streams by (memory stays bounded) and
 * reported as the same `SLUICE_E_RECORD_TOO_LARGE` rejection the decoder would make.
 *
 * Each chunk is a view on a buffer of its own (one copy, gathering the reads), whose
 * ArrayBuffer can be transferred to a worker.
 */
import type { Framer, RecordScanner, Rejection } from '../../core/contracts.js';
import { MAX_REJECTED_TEXT, rejection } from '../../core/frame-decoder.js';
import type { LastEndScanner } from '../../core/framers.js';

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

export type ChunkEvent =
  | {
      kind: 'chunk';
      /** The chunk: a view on a buffer that holds nothing else the chunker still needs. */
      bytes: Uint8Array;
      startLine: number;
      startOffset: number;
      /** LF bytes in the chunk: the next chunk starts on line `startLine + lines`. */
      lines: number;
      /** Input bytes this chunk accounts for (its length, plus the BOM before the first chunk). */
      inputBytes: number;
    }
  | {
      /** An over-long record, dropped here: the rejection the decoder would have made. */
      kind: 'rejected';
      rejection: Rejection;
      inputBytes: number;
    };

export interface ChunkerOptions {
  source: string;
  framer: Framer;
  maxRecordBytes: number;
  /** New bytes gathered before a cut is attempted. */
  chunkBytes: number;
  /**
   * A buffer of at least `size` bytes that nothing else uses (its ArrayBuffer is
   * transferred to a worker). Default: a new one each time.
   */
  alloc?: (size: number) => Uint8Array;
}

/** A scanner that may skip to the last record end ({@link LastEndScanner}); without it every end is listed. */
type FastScanner = RecordScanner & Partial<Pick<LastEndScanner, 'lastEnd'>>;

export class Chunker {
  private readonly scanner: RecordScanner;
  private readonly multiline: boolean;
  /** Bytes after the last cut: a record under way (or, while discarding, its last byte). */
  private tail: Uint8Array = EMPTY;
  /** How much of `tail` the scanner has seen. */
  private scanned = 0;
  private parts: Uint8Array[] = [];
  private partsBytes = 0;
  /** Line and input offset of `tail[0]`. */
  private line = 1;
  private offset = 0;
  private started = false;
  /** BOM bytes not yet accounted for by an event. */
  private unaccounted = 0;
  /** Inside an over-long record: where it started, its first bytes, and the bytes and LFs dropped so far. */
  private discarding:
    | { line: number; offset: number; head: Uint8Array; dropped: number; lfs: number }
    | undefined;

  constructor(private readonly options: ChunkerOptions) {
    this.scanner = options.framer.scanner();
    this.multiline = options.framer.multiline;
  }

  push(data: Uint8Array): ChunkEvent[] {
    // A large buffer is taken a chunk's worth at a time, so it is shared out among the workers.
    if (data.length <= this.options.chunkBytes) return this.pushPiece(data);
    const events: ChunkEvent[] = [];
    for (let at = 0; at < data.length; at += this.options.chunkBytes) {
      for (const e of this.pushPiece(data.subarray(at, at + this.options.chunkBytes))) events.push(e);
    }
    return events;
  }

  private pushPiece(data: Uint8Array): ChunkEvent[] {
    if (data.length === 0) return [];
    this.parts.push(data);
    this.partsBytes += data.length;
    if (!this.started) {
      const head = this.parts.length === 1 ? data : concat(this.parts, this.partsBytes);
      // A BOM can only be judged once three bytes are here.
      if (head.length < 3 && isBomPrefix(head)) return [];
      this.started = true;
      this.parts = [head];
      if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
        this.parts = [head.subarray(3)];
        this.partsBytes -= 3;
        this.offset = 3;
        this.unaccounted = 3;
      }
    }
    if (this.partsBytes < this.options.chunkBytes && !this.discarding) return [];
    return this.process(false);
  }

  /**
   * Input bytes read straight into `buf[at, at + filled)`, a buffer of the caller's that
   * nothing else uses (no gathering copy). `buf[0, at)` is room for the record under way,
   * which goes right before the new bytes when it fits, so a read can start before the
   * last chunk is cut (when the read begins, the record under way is not known yet).
   * When it does not fit, both are copied into a new buffer. Not to be mixed with `push`.
   */
  commit(buf: Uint8Array, at: number, filled: number): ChunkEvent[] {
    if (filled === 0) return [];
    const t = this.tail.length;
    let b: Uint8Array;
    if (t <= at) {
      b = buf.subarray(at - t, at + filled);
      b.set(this.tail, 0);
    } else {
      b = this.newBuffer(t + filled);
      b.set(this.tail, 0);
      b.set(buf.subarray(at, at + filled), t);
    }
    if (!this.started) {
      // A BOM can only be judged once three bytes are here: keep them, unscanned, until then.
      if (b.length < 3 && isBomPrefix(b)) {
        this.tail = b.slice();
        this.scanned = 0;
        return [];
      }
      this.started = true;
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
        b = b.subarray(3);
        this.offset = 3;
        this.unaccounted = 3;
      }
    }
    return this.cut(b, false);
  }

  /** Bytes pushed that no event accounts for yet: less than a chunk's worth, waiting for more. */
  get pending(): number {
    return this.partsBytes;
  }

  /**
   * The complete records pushed so far, as a chunk now, without waiting for a chunk's
   * worth: for an input that has gone quiet (a pipe from a slow producer), so its
   * records do not wait for bytes that may be long in coming. The record under way
   * stays, as after any cut. Not for `commit`.
   */
  flush(): ChunkEvent[] {
    if (this.partsBytes === 0 || !this.started) return [];
    return this.process(false);
  }

  /** At end of input: the rest, as a final chunk (which may lack a terminator) or a rejection. */
  end(): ChunkEvent[] {
    this.started = true;
    return this.process(true);
  }

  private newBuffer(size: number): Uint8Array {
    // Not from Buffer's shared pool: this buffer's ArrayBuffer is transferred to a worker.
    // A plain Uint8Array view (not a Buffer), so `slice` copies.
    return this.options.alloc
      ? this.options.alloc(size).subarray(0, size)
      : new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
  }

  private process(final: boolean): ChunkEvent[] {
    const total = this.tail.length + this.partsBytes;
    if (total === 0 && !(final && this.unaccounted > 0)) return [];
    const buf = this.newBuffer(total);
    buf.set(this.tail, 0);
    let at = this.tail.length;
    for (const p of this.parts) {
      buf.set(p, at);
      at += p.length;
    }
    this.parts = [];
    this.partsBytes = 0;
    return this.cut(buf, final);
  }

  /** Cuts `buf` (the record under way, then new bytes) after its last record end. */
  private cut(buf: Uint8Array, final: boolean): ChunkEvent[] {
    const events: ChunkEvent[] = [];
    // The first and the last record end in `buf`, scanning only what is new.
    let first = -1;
    let last = -1;
    const fast = (this.scanner as FastScanner).lastEnd;
    if (this.multiline && fast !== undefined && !this.discarding) {
      // The scanner can say where the last record ends without listing every end.
      last = fast.call(this.scanner, buf, this.scanned);
    } else if (this.multiline) {
      const ends: number[] = [];
      this.scanner.scan(buf, this.scanned, ends);
      if (ends.length > 0) {
        first = ends[0]!;
        last = ends[ends.length - 1]!;
      }
    } else {
      // One record per line: every LF ends a record.
      last = buf.lastIndexOf(LF);
      if (last < this.scanned) last = -1;
      // The first end only matters to end an over-long record being dropped.
      else if (this.discarding) first = buf.indexOf(LF, this.scanned);
    }
    let start = 0;
    const d = this.discarding;
    if (d) {
      if (first === -1) {
        if (final) {
          addToHead(d, buf);
          events.push(this.rejectDiscarded(d.dropped + buf.length));
          this.tail = EMPTY;
          return events;
        }
        this.dropAllButLast(buf);
        return events;
      }
      // The over-long record ends at `first`.
      const contentEnd = first > 0 && buf[first - 1] === CR ? first - 1 : first;
      addToHead(d, buf.subarray(0, contentEnd));
      const recordBytes = d.dropped + first + 1;
      events.push(this.rejectDiscarded(recordBytes));
      this.line = d.line + (this.multiline ? d.lfs + countLF(buf, 0, first + 1) : 1);
      this.offset = d.offset + recordBytes;
      start = first + 1;
    }
    let cut = start;
    if (last >= start) {
      cut = last + 1;
      const bytes = buf.subarray(start, cut);
      const lines = countLF(bytes, 0, bytes.length);
      events.push({
        kind: 'chunk',
        bytes,
        startLine: this.line,
        startOffset: this.offset,
        lines,
        inputBytes: bytes.length + this.takeUnaccounted(),
      });
      this.line += lines;
      this.offset += bytes.length;
    }
    const rest = buf.subarray(cut);
    if (final) {
      this.tail = EMPTY;
      this.scanned = 0;
      if (rest.length > 0 || this.unaccounted > 0) {
        // The input's last record, without a terminator: the decoder judges it (size, open quote).
        // A copy, so this chunk's buffer is not shared with the one before it.
        const bytes = rest.slice();
        events.push({
          kind: 'chunk',
          bytes,
          startLine: this.line,
          startOffset: this.offset,
          lines: countLF(bytes, 0, bytes.length),
          inputBytes: bytes.length + this.takeUnaccounted(),
        });
      }
      return events;
    }
    if (rest.length > this.options.maxRecordBytes + 1) {
      // The record under way is already too long (even if its last byte is the CR of a
      // CRLF): drop it as it streams by, as the decoder does.
      this.discarding = { line: this.line, offset: this.offset, head: EMPTY, dropped: 0, lfs: 0 };
      this.dropAllButLast(rest);
      return events;
    }
    // Copied out, so the chunk's buffer holds nothing the chunker still needs.
    this.tail = rest.slice();
    this.scanned = this.tail.length;
    return events;
  }

  /**
   * Drops the bytes of the over-long record in `buf` but its last one: the scanner looks at
   * the byte before a quote to tell a field start, so the next buffer must keep it.
   */
  private dropAllButLast(buf: Uint8Array): void {
    const d = this.discarding!;
    const dropped = buf.subarray(0, buf.length - 1);
    addToHead(d, dropped);
    d.dropped += dropped.length;
    if (this.multiline) d.lfs += countLF(dropped, 0, dropped.length);
    this.tail = buf.slice(buf.length - 1);
    this.scanned = 1;
  }

  private rejectDiscarded(recordBytes: number): ChunkEvent {
    const d = this.discarding!;
    this.discarding = undefined;
    const r = rejection(
      this.options.source,
      'SLUICE_E_RECORD_TOO_LARGE',
      d.line,
      d.offset,
      Buffer.from(d.head.buffer, d.head.byteOffset, d.head.length).toString('utf8'),
      0,
      `record exceeds the maximum record size of ${this.options.maxRecordBytes} bytes`,
    );
    return { kind: 'rejected', rejection: r, inputBytes: recordBytes + this.takeUnaccounted() };
  }

  private takeUnaccounted(): number {
    const n = this.unaccounted;
    this.unaccounted = 0;
    return n;
  }
}

/** Keeps the first {@link MAX_REJECTED_TEXT} bytes of the record being dropped (copied). */
function addToHead(d: { head: Uint8Array }, bytes: Uint8Array): void {
  const room = MAX_REJECTED_TEXT - d.head.length;
  if (room <= 0 || bytes.length === 0) return;
  const add = bytes.subarray(0, room);
  const head = new Uint8Array(d.head.length + add.length);
  head.set(d.head, 0);
  head.set(add, d.head.length);
  d.head = head;
}

function concat(parts: readonly Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * LF bytes in `buf[start, end)`. Four bytes at a time (SWAR: a byte of `w ^ 0x0a0a0a0a`
 * is zero where `w` has an LF), so that it costs the same however short the lines are;
 * `indexOf` per LF costs a call per line.
 *
 * The byte loops (unaligned head, tail) and the word loop are separate functions: in
 * one function, V8 (Node 20) compiled the long word loop on stack replacement before the
 * rarely run byte loops had type feedback, then deoptimized that same code again on
 * nearly every call (measured: 282 deoptimizations in one 150 MB run), each time
 * running a chunk's words in the interpreter.
 */
export function countLF(buf: Uint8Array, start: number, end: number): number {
  const head = Math.min(end, start + ((4 - ((buf.byteOffset + start) & 3)) & 3));
  let n = countLFBytes(buf, start, head);
  // An even number of words: the word loop takes them two at a time.
  const words = ((end - head) >> 3) << 1;
  if (words > 0) n += countLFWords(new Int32Array(buf.buffer, buf.byteOffset + head, words));
  return n + countLFBytes(buf, head + (words << 2), end);
}

function countLFBytes(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (buf[i] === LF) n++;
  return n;
}

/** LF bytes in `w`, of an even length. */
function countLFWords(w: Int32Array): number {
  let n = 0;
  for (let k = 0; k < w.length; ) {
    // Two words a turn, their per-byte LF flags (0 or 1) summed in the byte lanes of
    // `acc`, which hold at most 2 × 63 = 126: added across lanes once per block, not per
    // word (measured alone on 150 MB: 33 ms, against 48 ms for one word and a sum each).
    const stop = Math.min(w.length, k + 126);
    let acc = 0;
    for (; k < stop; k += 2) acc += lfFlags(w[k]!) + lfFlags(w[k + 1]!);
    n += (acc & 0xff) + ((acc >>> 8) & 0xff) + ((acc >>> 16) & 0xff) + (acc >>> 24);
  }
  return n;
}

/** 1 in each byte of `w` that is an LF, 0 in the others (SWAR, exact: no carries between bytes). */
function lfFlags(w: number): number {
  const x = w ^ 0x0a0a0a0a;
  return (~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) >>> 7) & 0x01010101;
}

function isBomPrefix(buf: Uint8Array): boolean {
  const bom = [0xef, 0xbb, 0xbf];
  for (let i = 0; i < buf.length; i++) if (buf[i] !== bom[i]) return false;
  return true;
}
