#!/usr/bin/env node
// The other reference: the loop someone writes by hand for one job when speed is all
// that matters (issue 4), so "as fast as sluice can be" has a number to stand by.
//
//   node bench/handwritten.mjs users.csv > out.ndjson
//
// Single thread, no streams: 64 KiB `fs.readSync` reads into one buffer, records cut
// with `Buffer#indexOf` on the bytes, each record decoded once, split on commas (right
// for CSV without quotes, which is what users.csv is), `segments` reshaped into
// `[{"id":…,"remove":…}]` with the rules of examples/transforms/reshape-segments.mjs,
// JSON built as a string without JSON.stringify (keys quoted once; a field is escaped by
// hand only when the record holds a character JSON must escape), and output encoded into
// one reused buffer and written with `fs.writeSync` in batches of at least 64 KiB.
//
// The CSV header names the keys; the column named `segments` is reshaped. A CR before
// the LF is dropped and blank lines are skipped, as sluice does. Its output is byte for
// byte sluice's `-f csv -t ndjson --transform examples/transforms/reshape-segments.mjs`.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  console.error('usage: node bench/handwritten.mjs <file.csv>');
  process.exit(64);
}

const READ = 64 * 1024;
const FLUSH = 64 * 1024;

/** A JSON string literal without JSON.stringify: escapes `"`, `\` and control characters. */
function jsonString(s) {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && (c < 0xd800 || c > 0xdfff)) continue;
    // A surrogate pair is fine as it is; only a lone surrogate is escaped (as JSON.stringify does).
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      const p = s.charCodeAt(i - 1);
      if (i > 0 && p >= 0xd800 && p <= 0xdbff) continue;
    }
    out += s.slice(from, i);
    from = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0d:
        out += '\\r';
        break;
      default:
        out += `\\u${c.toString(16).padStart(4, '0')}`;
    }
  }
  return `${out}${s.slice(from)}"`;
}
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

let out = '';
// One output buffer, reused: a fresh Buffer per flush costs page faults (and sys time).
let outBuf = Buffer.allocUnsafe(4 * FLUSH);
function flush() {
  // At most 3 bytes per UTF-16 unit.
  if (out.length * 3 > outBuf.length) outBuf = Buffer.allocUnsafe(out.length * 3);
  const n = outBuf.write(out, 0, 'utf8');
  let done = 0;
  while (done < n) {
    try {
      done += writeSync(1, outBuf, done, n - done);
    } catch (e) {
      // A non-blocking stdout (a pipe set so by someone else) can be full for a moment.
      if (e.code !== 'EAGAIN') throw e;
    }
  }
  out = '';
}

// ---- the record loop
let prefixes; // per column: `{"user_id":` / `,"timestamp":`
let segCol = -1; // the column reshaped, by header name
let cols = 0;

function header(line) {
  const names = line.split(',');
  cols = names.length;
  segCol = names.indexOf('segments');
  prefixes = names.map((n, i) => `${i === 0 ? '{' : ','}${jsonString(n)}:`);
}

/** `a;-b` → `[{"id":"a","remove":false},{"id":"b","remove":true}]`; empty pieces skipped. */
function segments(line, from, to, esc) {
  let s = '[';
  let first = true;
  while (from <= to) {
    let semi = line.indexOf(';', from);
    if (semi < 0 || semi > to) semi = to;
    if (semi > from) {
      const remove = line.charCodeAt(from) === 45; /* - */
      const id = line.slice(remove ? from + 1 : from, semi);
      s += `${first ? '{"id":' : ',{"id":'}${esc ? jsonString(id) : `"${id}"`}${remove ? ',"remove":true}' : ',"remove":false}'}`;
      first = false;
    }
    from = semi + 1;
  }
  return `${s}]`;
}

function row(line) {
  const esc = NEEDS_ESCAPE.test(line);
  let rec = '';
  let from = 0;
  for (let c = 0; c < cols; c++) {
    // Missing trailing fields are empty strings; extra fields are ignored.
    let comma = c === cols - 1 ? line.length : line.indexOf(',', from);
    if (comma < 0) comma = line.length;
    const end = Math.max(from, comma);
    if (c === segCol) rec += prefixes[c] + segments(line, from, end, esc);
    else {
      const v = line.slice(from, end);
      rec += prefixes[c] + (esc ? jsonString(v) : `"${v}"`);
    }
    from = Math.min(comma + 1, line.length);
  }
  out += `${rec}}\n`;
  if (out.length >= FLUSH) flush();
}

const fd = openSync(file, 'r');
let buf = Buffer.allocUnsafe(2 * READ);
let start = 0; // the first byte of the current record
let end = 0; // the end of the bytes read
let first = true;
for (;;) {
  // Keep the partial record at the front, then read the next 64 KiB after it.
  if (start > 0) {
    buf.copy(buf, 0, start, end);
    end -= start;
    start = 0;
  }
  if (buf.length - end < READ) {
    const bigger = Buffer.allocUnsafe(buf.length * 2);
    buf.copy(bigger, 0, 0, end);
    buf = bigger;
  }
  const n = readSync(fd, buf, end, READ, null);
  if (n === 0) break;
  end += n;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0 || nl >= end) break;
    const stop = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
    if (stop > start) {
      const line = buf.toString('utf8', start, stop);
      if (first) {
        // A byte order mark before the header is not part of it.
        header(line.charCodeAt(0) === 0xfeff ? line.slice(1) : line);
        first = false;
      } else row(line);
    }
    start = nl + 1;
  }
}
// The last record, without a final LF.
if (end > start) {
  const stop = buf[end - 1] === 13 ? end - 1 : end;
  const line = buf.toString('utf8', start, stop);
  if (line !== '') {
    if (first) header(line);
    else row(line);
  }
}
closeSync(fd);
flush();
