import { describe, expect, it } from 'vitest';
import type { Rejection } from '../../src/core/contracts.js';
import { DEFAULT_MAX_RECORD_BYTES, FrameDecoder, MAX_REJECTED_TEXT } from '../../src/core/frame-decoder.js';
import { quotedFramer } from '../../src/core/framers.js';
import { BOM, bytes, bytewise, decodeAll } from './helpers.js';

const quoted = quotedFramer('"', ',');

describe('FrameDecoder: records and terminators', () => {
  it('cuts one record per LF-terminated line', () => {
    expect(decodeAll(['a\nbb\nccc\n']).records).toEqual(['a', 'bb', 'ccc']);
  });

  it('joins a record split across pushes', () => {
    expect(decodeAll(['ab', 'c\nd', 'e\n']).records).toEqual(['abc', 'de']);
  });

  it('gives the same records when every byte is a separate push', () => {
    expect(decodeAll(bytewise('one\ntwo\r\nthree')).records).toEqual(['one', 'two', 'three']);
  });

  it('strips the CR of a CRLF terminator', () => {
    expect(decodeAll(['a\r\nb\r\n']).records).toEqual(['a', 'b']);
  });

  it('strips a CR that ends one push when the LF starts the next', () => {
    expect(decodeAll(['a\r', '\nb\n']).records).toEqual(['a', 'b']);
  });

  it('keeps a lone CR inside a record', () => {
    expect(decodeAll(['a\rb\n']).records).toEqual(['a\rb']);
  });

  it('strips only the last CR before an LF', () => {
    expect(decodeAll(['a\r\r\n']).records).toEqual(['a\r']);
  });

  it('keeps a CR that ends the input without an LF', () => {
    expect(decodeAll(['a\nb\r']).records).toEqual(['a', 'b\r']);
  });

  it('emits a final record that has no terminator', () => {
    expect(decodeAll(['a\nlast']).records).toEqual(['a', 'last']);
  });

  it('does not emit an empty record after a final terminator', () => {
    expect(decodeAll(['a\n']).records).toEqual(['a']);
  });

  it('gives nothing for empty input', () => {
    const d = new FrameDecoder({ source: 's' });
    expect(d.end()).toBeUndefined();
  });

  it('gives nothing for empty pushes', () => {
    const d = new FrameDecoder({ source: 's' });
    expect(d.push(new Uint8Array(0))).toBeUndefined();
    expect(d.end()).toBeUndefined();
  });

  it('gives one empty record for a lone LF', () => {
    const out = decodeAll(['\n']);
    expect(out.records).toEqual(['']);
    expect(out.lines).toEqual([1]);
    expect(out.offsets).toEqual([0]);
  });

  it('gives an empty record for each blank line', () => {
    expect(decodeAll(['\n\r\n\n']).records).toEqual(['', '', '']);
  });

  it('returns undefined from push when no record is complete yet', () => {
    const d = new FrameDecoder({ source: 's' });
    expect(d.push(Buffer.from('abc'))).toBeUndefined();
    expect(d.push(Buffer.from('\n'))?.records).toEqual(['abc']);
  });

  it('names the source on every batch and rejection', () => {
    const d = new FrameDecoder({ source: 'in.txt' });
    const b = d.push(bytes('ok\n', [0xff], '\n'));
    expect(b?.source).toBe('in.txt');
    expect(b?.rejects[0]?.source).toBe('in.txt');
  });

  it('throws when pushed after end', () => {
    const d = new FrameDecoder({ source: 's' });
    d.end();
    expect(() => d.push(Buffer.from('a'))).toThrow(/after end/);
  });

  it('returns undefined from a second end', () => {
    const d = new FrameDecoder({ source: 's' });
    d.push(Buffer.from('a'));
    expect(d.end()?.records).toEqual(['a']);
    expect(d.end()).toBeUndefined();
  });

  it('does not depend on the caller keeping its chunk unchanged', () => {
    const d = new FrameDecoder({ source: 's' });
    const chunk = Buffer.from('ab');
    d.push(chunk);
    chunk.fill(0x78);
    expect(d.push(Buffer.from('\n'))?.records).toEqual(['ab']);
  });

  it('does not depend on the caller keeping a held BOM prefix unchanged', () => {
    const d = new FrameDecoder({ source: 's' });
    const chunk = Buffer.from([0xef, 0xbb]);
    d.push(chunk);
    chunk.fill(0x78);
    expect(d.push(Buffer.from([0xbf, 0x61, 0x0a]))?.records).toEqual(['a']);
  });

  it('accepts a plain Uint8Array view into a larger buffer', () => {
    const backing = Buffer.from('xxa\nbxx');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 3);
    expect(decodeAll([view]).records).toEqual(['a', 'b']);
  });
});

describe('FrameDecoder: byte accounting', () => {
  it('reports every input byte in the batches', () => {
    const input = 'ab\ncd\r\nef';
    expect(decodeAll(bytewise(input)).bytes).toBe(input.length);
  });

  it('reports the BOM bytes when the BOM arrives byte by byte', () => {
    const input = bytes(BOM, 'a\n');
    expect(decodeAll(bytewise(input)).bytes).toBe(input.length);
  });

  it('reports the bytes of a BOM-only input', () => {
    expect(decodeAll([Buffer.from(BOM)]).bytes).toBe(3);
    expect(decodeAll(bytewise(Buffer.from(BOM))).bytes).toBe(3);
  });

  it('reports the bytes of a dropped over-long record', () => {
    const input = `${'x'.repeat(100)}\nok\n`;
    expect(decodeAll(bytewise(input), { maxRecordBytes: 10 }).bytes).toBe(input.length);
  });
});

describe('FrameDecoder: BOM', () => {
  it('drops a UTF-8 BOM at the start', () => {
    expect(decodeAll([bytes(BOM, 'a\nb\n')]).records).toEqual(['a', 'b']);
  });

  it('counts the dropped BOM in byte offsets', () => {
    expect(decodeAll([bytes(BOM, 'a\nb\n')]).offsets).toEqual([3, 5]);
  });

  it('drops a BOM split across the first pushes byte by byte', () => {
    const out = decodeAll(bytewise(bytes(BOM, 'a\nb')));
    expect(out.records).toEqual(['a', 'b']);
    expect(out.offsets).toEqual([3, 5]);
  });

  it('drops a BOM whose first two bytes arrive together', () => {
    expect(decodeAll([Buffer.from([0xef, 0xbb]), bytes([0xbf], 'a\n')]).records).toEqual(['a']);
  });

  it('gives nothing for a BOM-only input', () => {
    const out = decodeAll([Buffer.from(BOM)]);
    expect(out.records).toEqual([]);
    expect(out.rejects).toEqual([]);
  });

  it('gives nothing for a BOM-only input fed byte by byte', () => {
    const out = decodeAll(bytewise(Buffer.from(BOM)));
    expect(out.records).toEqual([]);
    expect(out.rejects).toEqual([]);
  });

  it('gives one empty record for a BOM followed by LF', () => {
    const out = decodeAll([bytes(BOM, '\n')]);
    expect(out.records).toEqual(['']);
    expect(out.offsets).toEqual([3]);
  });

  it('keeps a BOM that is not at the start of the input', () => {
    expect(decodeAll([bytes('a\n', BOM, 'b\n')]).records).toEqual(['a', '\ufeffb']);
  });

  it('drops only the first of two leading BOMs', () => {
    expect(decodeAll(bytewise(bytes(BOM, BOM, 'x'))).records).toEqual(['\ufeffx']);
  });

  it('keeps the bytes of a BOM prefix that is not a BOM, rejecting them as invalid UTF-8', () => {
    const out = decodeAll([Buffer.from([0xef, 0xbb]), Buffer.from('a\nb\n')]);
    expect(out.records).toEqual(['b']);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_UTF8', line: 1, offset: 0 }]);
  });

  it('rejects an input that is a truncated BOM as invalid UTF-8', () => {
    const out = decodeAll([Buffer.from([0xef, 0xbb])]);
    expect(out.records).toEqual([]);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_UTF8', line: 1, offset: 0 }]);
  });

  it('does not mistake a leading LF for a BOM prefix', () => {
    expect(decodeAll(bytewise('\nz')).records).toEqual(['', 'z']);
  });
});

describe('FrameDecoder: positions', () => {
  it('gives each record its 1-based line', () => {
    expect(decodeAll(['a\n\nb\r\nc']).lines).toEqual([1, 2, 3, 4]);
  });

  it('gives each record the byte offset of its first byte', () => {
    expect(decodeAll(['a\n\nbc\r\nd']).offsets).toEqual([0, 2, 3, 7]);
  });

  it('counts offsets in bytes, not characters', () => {
    const out = decodeAll(['é€\n😀\nz']);
    expect(out.records).toEqual(['é€', '😀', 'z']);
    expect(out.offsets).toEqual([0, 6, 11]);
  });

  it('keeps counting lines and offsets across pushes', () => {
    const out = decodeAll(['a\nb', 'c\nd\n', 'e']);
    expect(out.lines).toEqual([1, 2, 3, 4]);
    expect(out.offsets).toEqual([0, 2, 5, 7]);
  });
});

describe('FrameDecoder: UTF-8', () => {
  it('reassembles multi-byte characters split byte by byte across pushes', () => {
    const text = 'añb€c😀\n日本語';
    expect(decodeAll(bytewise(text)).records).toEqual(['añb€c😀', '日本語']);
  });

  it('rejects only the record with invalid UTF-8', () => {
    const out = decodeAll([bytes('a\nb', [0xff], 'c\nd\n')]);
    expect(out.records).toEqual(['a', 'd']);
    expect(out.rejects).toHaveLength(1);
  });

  it('codes an invalid UTF-8 rejection SLUICE_E_UTF8 at the frame stage', () => {
    const [r] = decodeAll([bytes([0xc3, 0x28], '\n')]).rejects;
    expect(r).toMatchObject({ code: 'SLUICE_E_UTF8', stage: 'frame', source: 'test' });
  });

  it('gives an invalid UTF-8 rejection the line and offset of its record', () => {
    const [r] = decodeAll([bytes('a\nbb\n', [0x80], '\n')]).rejects;
    expect(r).toMatchObject({ line: 3, offset: 5 });
  });

  it('leaves out the text of a record that cannot be decoded', () => {
    const [r] = decodeAll([bytes([0xff], '\n')]).rejects;
    expect(r).not.toHaveProperty('record');
  });

  it('counts the records before an invalid one in its `at`', () => {
    const out = decodeAll([bytes('a\nb\n', [0xff], '\nc\n', [0xfe], '\nd\n')]);
    expect(out.records).toEqual(['a', 'b', 'c', 'd']);
    expect(out.rejects.map((r) => r.at)).toEqual([2, 3]);
  });

  it('re-counts the `at` of an earlier rejection after invalid records are removed', () => {
    // In one batch: bad UTF-8, then ok, then too large. `at` of the too-large one must
    // count only the records kept: 1, not 2.
    const d = new FrameDecoder({ source: 's', maxRecordBytes: 4 });
    const b = d.push(bytes([0xff], '\nok\ntoolong\nz\n'));
    expect(b?.records).toEqual(['ok', 'z']);
    expect(b?.rejects.map((r) => [r.code, r.at])).toEqual([
      ['SLUICE_E_UTF8', 0],
      ['SLUICE_E_RECORD_TOO_LARGE', 1],
    ]);
  });

  it('orders the rejections of a batch by offset', () => {
    const d = new FrameDecoder({ source: 's', maxRecordBytes: 4 });
    const b = d.push(bytes('toolong\n', [0xff], '\n'));
    expect(b?.rejects.map((r) => r.code)).toEqual(['SLUICE_E_RECORD_TOO_LARGE', 'SLUICE_E_UTF8']);
    expect(b?.rejects.map((r) => r.offset)).toEqual([0, 8]);
  });

  it('rejects a character truncated at the end of the input', () => {
    const out = decodeAll([bytes('ok\nab', [0xe2, 0x82])]);
    expect(out.records).toEqual(['ok']);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_UTF8', line: 2, offset: 3 }]);
  });

  it('rejects a character truncated before a terminator', () => {
    const out = decodeAll([bytes([0xf0, 0x9f, 0x98], '\nz\n')]);
    expect(out.records).toEqual(['z']);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_UTF8', line: 1, offset: 0 }]);
  });

  it('rejects overlong encodings and encoded surrogates', () => {
    const out = decodeAll([bytes([0xc0, 0x80], '\n', [0xed, 0xa0, 0x80], '\nok')]);
    expect(out.records).toEqual(['ok']);
    expect(out.rejects.map((r) => r.line)).toEqual([1, 2]);
  });

  it('rejects invalid UTF-8 in the final unterminated record', () => {
    const out = decodeAll(['a\n', Buffer.from([0x62, 0xff])]);
    expect(out.records).toEqual(['a']);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_UTF8', line: 2, offset: 2, at: 1 }]);
  });

  it('accepts a record whose bytes decode only together with the CR before LF stripped', () => {
    expect(decodeAll([bytes([0xc3, 0xa9], '\r\n')]).records).toEqual(['é']);
  });
});

describe('FrameDecoder: maximum record size', () => {
  it('uses a 1 MiB limit by default', () => {
    expect(DEFAULT_MAX_RECORD_BYTES).toBe(1024 * 1024);
    const out = decodeAll([
      `${'a'.repeat(DEFAULT_MAX_RECORD_BYTES)}\n${'b'.repeat(DEFAULT_MAX_RECORD_BYTES + 1)}\n`,
    ]);
    expect(out.records.map((r) => r.length)).toEqual([DEFAULT_MAX_RECORD_BYTES]);
    expect(out.rejects.map((r) => r.code)).toEqual(['SLUICE_E_RECORD_TOO_LARGE']);
  });

  it('accepts a record of exactly maxRecordBytes', () => {
    expect(decodeAll(['abcd\n'], { maxRecordBytes: 4 }).records).toEqual(['abcd']);
  });

  it('rejects a record one byte over maxRecordBytes', () => {
    const out = decodeAll(['abcde\n'], { maxRecordBytes: 4 });
    expect(out.records).toEqual([]);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_RECORD_TOO_LARGE', stage: 'frame' }]);
  });

  it('counts bytes, not characters, against the limit', () => {
    const out = decodeAll(['éé\néa\n'], { maxRecordBytes: 3 });
    expect(out.records).toEqual(['éa']);
    expect(out.rejects).toHaveLength(1);
  });

  it('does not count the CR of a CRLF against the limit', () => {
    expect(decodeAll(['abcd\r\n'], { maxRecordBytes: 4 }).records).toEqual(['abcd']);
  });

  it('does not count a CRLF split across pushes against the limit', () => {
    expect(decodeAll(bytewise('abcd\r\nabcd\r\n'), { maxRecordBytes: 4 }).records).toEqual(['abcd', 'abcd']);
  });

  it('counts a lone CR inside a record against the limit', () => {
    expect(decodeAll(['ab\rcd\n'], { maxRecordBytes: 4 }).rejects).toHaveLength(1);
  });

  it('gives a too-large rejection the line and offset of its record', () => {
    const [r] = decodeAll(['a\nbb\nxxxxxxx\nc\n'], { maxRecordBytes: 4 }).rejects;
    expect(r).toMatchObject({ line: 3, offset: 5, at: 2 });
  });

  it('keeps the records after a too-large one', () => {
    const out = decodeAll(['xxxxxxx\nc\nd'], { maxRecordBytes: 4 });
    expect(out.records).toEqual(['c', 'd']);
    expect(out.lines).toEqual([2, 3]);
    expect(out.offsets).toEqual([8, 10]);
  });

  it('rejects a too-large final record that has no terminator', () => {
    const out = decodeAll(['ok\nabcdef'], { maxRecordBytes: 4 });
    expect(out.records).toEqual(['ok']);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2, offset: 3, at: 1 }]);
  });

  it('rejects a final record of maxRecordBytes + 1 that has no terminator', () => {
    expect(decodeAll(['abcde'], { maxRecordBytes: 4 }).rejects).toHaveLength(1);
  });

  it('keeps only the too-large record itself as its rejected text', () => {
    const [r] = decodeAll(['abcdef\nnext\n'], { maxRecordBytes: 4 }).rejects;
    expect(r?.record).toBe('abcdef');
  });

  it('keeps at most 1 KiB of a too-large record as its text', () => {
    const [r] = decodeAll([`${'y'.repeat(5000)}\n`], { maxRecordBytes: 10 }).rejects;
    expect(r?.record).toBe('y'.repeat(MAX_REJECTED_TEXT));
  });

  it('gives a too-large record the same rejection whether it arrives whole or in pieces', () => {
    const input = `ok\n${'é'.repeat(700)}\r\nz\n`;
    const whole = decodeAll([input], { maxRecordBytes: 100 });
    const pieces = decodeAll(bytewise(input), { maxRecordBytes: 100 });
    expect(pieces.rejects).toEqual(whole.rejects);
    expect(pieces.records).toEqual(['ok', 'z']);
  });

  it('names the limit in the too-large message', () => {
    const [r] = decodeAll(['abcdef\n'], { maxRecordBytes: 4 }).rejects;
    expect(r?.message).toMatch(/4 bytes/);
  });

  it('rejects a huge record fed in small pieces once, at its start', () => {
    const max = 100;
    const d = new FrameDecoder({ source: 's', maxRecordBytes: max });
    const rejects: Rejection[] = [];
    const records: string[] = [];
    const feed = (s: string) => {
      const b = d.push(Buffer.from(s));
      if (b) {
        rejects.push(...b.rejects);
        records.push(...b.records);
      }
    };
    feed('first\nsec');
    for (let i = 0; i < 50 * max; i += 7) feed('x'.repeat(7));
    feed('\nafter\n');
    const last = d.end();
    expect(last).toBeUndefined();
    expect(records).toEqual(['first', 'after']);
    expect(rejects).toMatchObject([{ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 2, offset: 6, at: 0 }]);
  });

  it('holds little more than maxRecordBytes while a huge record streams through', () => {
    const max = 64;
    const d = new FrameDecoder({ source: 's', maxRecordBytes: max });
    let most = 0;
    const held = () => (d as unknown as { pending: Uint8Array }).pending.length;
    for (let i = 0; i < 50 * max; i += 3) {
      d.push(Buffer.from('zzz'));
      most = Math.max(most, held());
    }
    expect(most).toBeLessThanOrEqual(max + 3);
    expect(d.end()?.rejects).toMatchObject([{ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 1, offset: 0 }]);
  });

  it('holds little more than maxRecordBytes for a huge quoted record', () => {
    const max = 64;
    const d = new FrameDecoder({ source: 's', framer: quoted, maxRecordBytes: max });
    let most = 0;
    const held = () => (d as unknown as { pending: Uint8Array }).pending.length;
    d.push(Buffer.from('"'));
    for (let i = 0; i < 50 * max; i++) {
      d.push(Buffer.from(i % 10 === 0 ? '\n' : 'q'));
      most = Math.max(most, held());
    }
    expect(most).toBeLessThanOrEqual(max + 2);
    const b = d.push(Buffer.from('"\nnext\n'));
    expect(b?.records).toEqual(['next']);
    expect(b?.lines).toEqual([1 + 5 * max + 1]);
    expect(b?.rejects).toMatchObject([{ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 1, offset: 0 }]);
  });

  it('rejects maxRecordBytes that is not a positive integer with a coded option error', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new FrameDecoder({ source: 's', maxRecordBytes: bad })).toThrow(
        expect.objectContaining({ code: 'SLUICE_E_OPTION' }),
      );
    }
  });
});

describe('FrameDecoder with the quoted framer', () => {
  it('does not end a record at an LF inside quotes', () => {
    expect(decodeAll(['a,"b\nc",d\ne\n'], { framer: quoted }).records).toEqual(['a,"b\nc",d', 'e']);
  });

  it('numbers the lines after a multi-line record', () => {
    const out = decodeAll(['"a\nb\nc"\nd\n"e\r\nf"\ng'], { framer: quoted });
    expect(out.records).toEqual(['"a\nb\nc"', 'd', '"e\r\nf"', 'g']);
    expect(out.lines).toEqual([1, 4, 5, 7]);
    expect(out.offsets).toEqual([0, 8, 10, 17]);
  });

  it('treats a doubled quote inside a quoted field as data', () => {
    expect(decodeAll(['"a""\nb"\nc\n'], { framer: quoted }).records).toEqual(['"a""\nb"', 'c']);
  });

  it('treats an empty quoted field as closed', () => {
    expect(decodeAll(['"",x\ny\n'], { framer: quoted }).records).toEqual(['"",x', 'y']);
  });

  it('treats a quote that is not at a field start as data', () => {
    expect(decodeAll(['ab"c\nd\n'], { framer: quoted }).records).toEqual(['ab"c', 'd']);
  });

  it('treats a quote after a closed quoted field and other data as data', () => {
    expect(decodeAll(['"a"b"\nc\n'], { framer: quoted }).records).toEqual(['"a"b"', 'c']);
  });

  it('opens a quote after the delimiter', () => {
    expect(decodeAll(['x,"y\nz"\nw\n'], { framer: quoted }).records).toEqual(['x,"y\nz"', 'w']);
  });

  it('opens a quote at the start of each record', () => {
    expect(decodeAll(['a\n"b\nc"\n'], { framer: quoted }).records).toEqual(['a', '"b\nc"']);
  });

  it('strips the CR of a CRLF that ends a quoted record', () => {
    expect(decodeAll(['"a"\r\nb\r\n'], { framer: quoted }).records).toEqual(['"a"', 'b']);
  });

  it('handles a quoted LF split across chunks', () => {
    const input = 'h1,h2\n"multi\nline","x""y\n"\nlast';
    const expected = ['h1,h2', '"multi\nline","x""y\n"', 'last'];
    expect(decodeAll(bytewise(input), { framer: quoted }).records).toEqual(expected);
    expect(
      decodeAll(['h1,h2\n"multi', '\nline","x"', '"y\n', '"\nlast'], { framer: quoted }).records,
    ).toEqual(expected);
  });

  it('rejects an unterminated quote at the end of the input', () => {
    const out = decodeAll(['ok\n"open\nstill'], { framer: quoted });
    expect(out.records).toEqual(['ok']);
    expect(out.rejects).toEqual([
      {
        code: 'SLUICE_E_UNTERMINATED_QUOTE',
        stage: 'frame',
        message: 'quoted field is not closed',
        source: 'test',
        line: 2,
        offset: 3,
        record: '"open\nstill',
        at: 1,
      },
    ]);
  });

  it('rejects an unterminated quote that ends in an LF', () => {
    const out = decodeAll(['"a\n'], { framer: quoted });
    expect(out.rejects.map((r) => r.code)).toEqual(['SLUICE_E_UNTERMINATED_QUOTE']);
  });

  it('accepts a final quoted record that is closed but not terminated', () => {
    expect(decodeAll(['"a\nb"'], { framer: quoted }).records).toEqual(['"a\nb"']);
  });

  it('rejects invalid UTF-8 inside a multi-line record with the record start position', () => {
    const out = decodeAll([bytes('a\n"b\n', [0xff], '"\nc\n')], { framer: quoted });
    expect(out.records).toEqual(['a', 'c']);
    expect(out.lines).toEqual([1, 4]);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_UTF8', line: 2, offset: 2, at: 1 }]);
  });

  it('treats a quote that follows a dropped over-long prefix as data, as it would be in one chunk', () => {
    const input = 'aaaaaaaa"b\nc\n';
    const whole = decodeAll([input], { framer: quoted, maxRecordBytes: 4 });
    expect(whole.records).toEqual(['c']);
    const split = decodeAll(['aaaaaaaa', '"b\nc\n'], { framer: quoted, maxRecordBytes: 4 });
    expect(split.records).toEqual(['c']);
    expect(split.rejects).toEqual(whole.rejects);
  });

  it('counts the lines of a too-large multi-line record', () => {
    const out = decodeAll(bytewise('"a\nb\nc\nd"\ne'), { framer: quoted, maxRecordBytes: 3 });
    expect(out.records).toEqual(['e']);
    expect(out.lines).toEqual([5]);
    expect(out.rejects).toMatchObject([{ code: 'SLUICE_E_RECORD_TOO_LARGE', line: 1, offset: 0 }]);
  });
});
