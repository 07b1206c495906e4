#!/usr/bin/env node
// The reference: the pipeline a user writes by hand before reaching for sluice
// (ADR 0002's "naive" pipeline), so sluice's numbers have something honest to stand by.
//
//   node bench/naive.mjs csv    users.csv    > out.ndjson
//   node bench/naive.mjs ndjson users.ndjson > out.ndjson
//   node bench/naive.mjs csv users.csv --batch 1000   # the same, one write per 1000 lines
//   node bench/naive.mjs csv users.csv --reshape      # segments as [{id, remove}] (see below)
//
// CSV is split on commas after the header: correct only for CSV without quotes, which
// is what users.csv is (and what such hand-written code usually assumes).
//
// --batch exists because, as written, the pipeline's cost is mostly one synchronous
// write(2) per line (stdout to a file is synchronous in Node). With that one fix it
// shows how much of sluice's lead is batching output rather than anything else.
//
// --reshape applies examples/transforms/reshape-segments.mjs to each CSV row before
// JSON.stringify: the same function sluice is given with --transform, called the way a
// user's through2 step would call it.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import split2 from 'split2';
import through2 from 'through2';

const [format, file, ...flags] = process.argv.slice(2);
const b = flags.indexOf('--batch');
const batch = b < 0 ? 1 : Number(flags[b + 1]);
const reshape = flags.includes('--reshape');
const known = flags.every((f, i) => f === '--reshape' || f === '--batch' || flags[i - 1] === '--batch');
if (
  !['csv', 'ndjson'].includes(format) ||
  !file ||
  !known ||
  !(Number.isInteger(batch) && batch >= 1) ||
  (reshape && format !== 'csv')
) {
  console.error(
    'usage: node bench/naive.mjs csv|ndjson <file> [--batch <lines per write>] [--reshape (csv only)]',
  );
  process.exit(64);
}
const reshapeSegments = reshape
  ? (await import('../examples/transforms/reshape-segments.mjs')).default
  : undefined;

let keys; // the CSV header row
const toJson = {
  csv(line) {
    const fields = line.split(',');
    if (keys === undefined) {
      keys = fields;
      return undefined;
    }
    const row = {};
    for (let i = 0; i < keys.length; i++) row[keys[i]] = fields[i];
    return JSON.stringify(reshapeSegments ? reshapeSegments(row) : row);
  },
  ndjson: (line) => JSON.stringify(JSON.parse(line)),
}[format];

let pending = '';
let lines = 0;
await pipeline(
  createReadStream(file),
  split2(),
  through2.obj(
    (line, _enc, cb) => {
      const out = line === '' ? undefined : toJson(line);
      if (out === undefined) return cb();
      if (batch === 1) return cb(null, `${out}\n`);
      pending += `${out}\n`;
      if (++lines < batch) return cb();
      const chunk = pending;
      pending = '';
      lines = 0;
      cb(null, chunk);
    },
    (cb) => cb(null, pending || undefined),
  ),
  process.stdout,
);
