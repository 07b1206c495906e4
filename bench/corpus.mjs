#!/usr/bin/env node
// Deterministic benchmark corpus: the same bytes on every run and every machine, so
// numbers from different runs are about the code, never about the data.
//
//   node bench/corpus.mjs [--rows N] [--force]
//
// Writes into bench/corpus/ (git-ignored):
//   users.csv          user_id,segments,timestamp; segments = 1-8 ';'-separated ids, 20% '-'
//   users.ndjson       the same rows as JSON objects of three strings (= the expected
//                      output of csv -> ndjson, byte for byte)
//   provider.segments  the same rows in the compact provider format: uid TAB items TAB ts
//   quoted.csv         user_id,note,timestamp with quoted commas, "" and embedded newlines
//                      (and, hashed only: users.csv with segments reshaped to [{id, remove}],
//                      the expected output of examples/transforms/reshape-segments.mjs)
//   manifest.json      written last: row count, file sizes and the SHA-256 of the output
//                      each converting job must produce (the check in run.mjs uses them)
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
// Bump when the generator's output changes, so old corpora are regenerated.
const GENERATOR_VERSION = 2;
const SEED = 0x5eed1;
const FILES = ['users.csv', 'users.ndjson', 'provider.segments', 'quoted.csv'];

// mulberry32: tiny, fast, and good enough for test data; Math.random cannot be seeded.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex8 = (r) =>
  Math.floor(r() * 4294967296)
    .toString(16)
    .padStart(8, '0');
const TTLS = [3600, 86400, 604800];
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

/** One row's data, drawn in a fixed order from the PRNG. */
function nextRow(r) {
  const uid = `u${hex8(r)}${hex8(r)}`;
  const n = 1 + Math.floor(r() * 8);
  const items = [];
  for (let i = 0; i < n; i++) {
    const seg = `seg${String(Math.floor(r() * 1e6)).padStart(6, '0')}`;
    const remove = r() < 0.2;
    // Only additions may carry a ttl in the provider format (a removal cannot expire).
    const ttl = !remove && r() < 0.3 ? TTLS[Math.floor(r() * TTLS.length)] : undefined;
    items.push({ seg, remove, ttl });
  }
  const ts = 1_700_000_000 + Math.floor(r() * 2_592_000);
  // The note for quoted.csv: plain, a comma, doubled quotes, or an embedded newline.
  const w = () => WORDS[Math.floor(r() * WORDS.length)];
  const kind = r();
  const note =
    kind < 0.3
      ? `${w()} ${w()}`
      : kind < 0.6
        ? `${w()}, ${w()}`
        : kind < 0.85
          ? `said "${w()}", twice`
          : `${w()}\n"${w()}", ${w()}`;
  return { uid, items, ts, note };
}

const csvField = (v) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/** One output file: buffered writes (one syscall per ~1 MB) and a running hash. */
class Out {
  constructor(path) {
    this.path = path;
    this.tmp = `${path}.tmp`;
    this.fd = openSync(this.tmp, 'w');
    this.buf = '';
    this.size = 0;
    this.hash = createHash('sha256');
  }
  write(s) {
    this.buf += s;
    if (this.buf.length > 1 << 20) this.flush();
  }
  flush() {
    const b = Buffer.from(this.buf);
    writeSync(this.fd, b);
    this.hash.update(b);
    this.size += b.length;
    this.buf = '';
  }
  close() {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
    return { size: this.size, sha256: this.hash.digest('hex') };
  }
}

/** Expected outputs are hashed, not written: the check needs only their digests. */
class Expected {
  constructor() {
    this.hash = createHash('sha256');
    this.buf = '';
    this.lines = 0;
  }
  line(s) {
    this.buf += `${s}\n`;
    this.lines++;
    if (this.buf.length > 1 << 20) this.flush();
  }
  flush() {
    this.hash.update(this.buf);
    this.buf = '';
  }
  done() {
    this.flush();
    return { lines: this.lines, sha256: this.hash.digest('hex') };
  }
}

export function generate(rows, dir = CORPUS_DIR) {
  mkdirSync(dir, { recursive: true });
  const r = mulberry32(SEED);
  const csv = new Out(join(dir, 'users.csv'));
  const nd = new Out(join(dir, 'users.ndjson'));
  const seg = new Out(join(dir, 'provider.segments'));
  const quoted = new Out(join(dir, 'quoted.csv'));
  const segEvents = new Expected();
  const quotedRows = new Expected();
  const reshaped = new Expected();
  csv.write('user_id,segments,timestamp\n');
  quoted.write('user_id,note,timestamp\n');
  for (let i = 0; i < rows; i++) {
    const { uid, items, ts, note } = nextRow(r);
    const segments = items.map((it) => (it.remove ? '-' : '') + it.seg).join(';');
    csv.write(`${uid},${segments},${ts}\n`);
    nd.write(`${JSON.stringify({ user_id: uid, segments, timestamp: String(ts) })}\n`);
    // users.csv through examples/transforms/reshape-segments.mjs, from the row's data.
    reshaped.line(
      JSON.stringify({
        user_id: uid,
        segments: items.map((it) => ({ id: it.seg, remove: it.remove })),
        timestamp: String(ts),
      }),
    );
    const provItems = items.map(
      (it) => (it.remove ? '-' : '') + it.seg + (it.ttl === undefined ? '' : `:${it.ttl}`),
    );
    seg.write(`${uid}\t${provItems.join(',')}\t${ts}\n`);
    for (const it of items) {
      // A SegmentEvent as sluice's segments tokenizer documents it (seconds -> ms).
      const ev = { ns: 'default', uid, seg: it.seg, op: it.remove ? 'remove' : 'add', ts: ts * 1000 };
      if (it.ttl !== undefined) ev.ttl = it.ttl;
      segEvents.line(JSON.stringify(ev));
    }
    quoted.write(`${uid},${csvField(note)},${ts}\n`);
    quotedRows.line(JSON.stringify({ user_id: uid, note, timestamp: String(ts) }));
  }
  const files = {
    'users.csv': csv.close(),
    'users.ndjson': nd.close(),
    'provider.segments': seg.close(),
    'quoted.csv': quoted.close(),
  };
  const manifest = {
    generatorVersion: GENERATOR_VERSION,
    seed: SEED,
    rows,
    files,
    // What each conversion must produce. csv -> ndjson must produce users.ndjson itself.
    expected: {
      usersNdjson: { lines: rows, sha256: files['users.ndjson'].sha256 },
      segmentsNdjson: segEvents.done(),
      quotedNdjson: quotedRows.done(),
      reshapedNdjson: reshaped.done(),
    },
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The manifest of a complete corpus of `rows` rows, or undefined if it must be (re)made. */
export function current(rows, dir = CORPUS_DIR) {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return undefined;
  const m = JSON.parse(readFileSync(path, 'utf8'));
  if (m.generatorVersion !== GENERATOR_VERSION || m.seed !== SEED || m.rows !== rows) return undefined;
  for (const f of FILES) {
    const p = join(dir, f);
    if (!existsSync(p) || statSync(p).size !== m.files[f]?.size) return undefined;
  }
  return m;
}

/** Generates the corpus unless a complete one of this size is already there. */
export function ensureCorpus(rows, { force = false, dir = CORPUS_DIR, log = console.error } = {}) {
  const have = force ? undefined : current(rows, dir);
  if (have) {
    log(`corpus: ${rows} rows already in ${dir}`);
    return have;
  }
  log(`corpus: generating ${rows} rows into ${dir} ...`);
  const t = process.hrtime.bigint();
  const m = generate(rows, dir);
  log(`corpus: done in ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s`);
  return m;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--rows');
  const rows = i >= 0 ? Number(args[i + 1]) : 2_000_000;
  if (!Number.isInteger(rows) || rows < 1) {
    console.error('usage: node bench/corpus.mjs [--rows N] [--force]');
    process.exit(64);
  }
  const m = ensureCorpus(rows, { force: args.includes('--force') });
  for (const [f, { size }] of Object.entries(m.files))
    console.error(`  ${f.padEnd(18)} ${(size / 1e6).toFixed(1)} MB`);
}
