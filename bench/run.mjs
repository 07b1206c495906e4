#!/usr/bin/env node
// The benchmark: every job side by side in one run, interleaved round by round, then
// every output checked, then bench/RESULTS.md. A job whose output is wrong fails the
// run (exit 1): a fast wrong answer is not a result.
//
//   npm run bench [-- --rows N] [--rounds R] [--quick] [--only id,id,...] [--corpus DIR]
//
// It builds nothing: run `npm run build` first (it checks that dist/ is there).
// Blocks other scripts keep in RESULTS.md (`<!-- serve:begin -->` … `<!-- serve:end -->`,
// `<!-- memory:begin -->` …) are copied verbatim to the end of the new report.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CORPUS_DIR as DEFAULT_CORPUS, ensureCorpus } from './corpus.mjs';
import { keptBlocks } from './report-blocks.mjs';
import { GNU_TIME, sha256, timedRun } from './timed.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const OUT = join(BENCH, 'out');
const RESULTS = join(BENCH, 'RESULTS.md');
const DIST = join(ROOT, 'dist');
// The jobs run a copy of dist/ taken now: a rebuild during the run (other work on a shared
// machine) must not change the code under test between rounds.
const SNAPSHOT = join(OUT, 'dist');
const CLI = join(SNAPSHOT, 'src/cli/main.js');
const rel = (p) => relative(ROOT, p);
/** The newest modification time under a directory, in ms: when dist/ was last built. */
const newestMtime = (dir) =>
  Math.max(...readdirSync(dir, { recursive: true }).map((f) => statSync(join(dir, f)).mtimeMs));

// ---------------------------------------------------------------- flags
const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const quick = argv.includes('--quick');
const rows = Number(flag('--rows') ?? (quick ? 200_000 : 2_000_000));
const rounds = Number(flag('--rounds') ?? (quick ? 2 : 3));
const only = flag('--only')?.split(',');
// Another corpus directory: a quick run there leaves the 2M-row corpus in bench/corpus alone.
const CORPUS_DIR = flag('--corpus') ?? DEFAULT_CORPUS;
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(rounds) || rounds < 1) {
  console.error(
    'usage: npm run bench -- [--rows N] [--rounds R] [--quick] [--only id,id,...] [--corpus DIR]',
  );
  process.exit(64);
}
if (!existsSync(join(DIST, 'src/cli/main.js'))) {
  console.error('bench: dist/src/cli/main.js is missing; run `npm run build` first');
  process.exit(1);
}

// ---------------------------------------------------------------- tools
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const version = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.split('\n')[0].trim();
// GNU time gives the child's peak RSS (%M, KiB) and CPU seconds; without it we skip them.
const timeOk = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true']).status === 0;
const tools = {
  node: process.version,
  mlr: has('mlr') ? version('mlr', ['--version']) : undefined,
  jq: has('jq') ? version('jq', ['--version']) : undefined,
  time: timeOk ? 'GNU time' : undefined,
};

// ---------------------------------------------------------------- corpus and jobs
const manifest = ensureCorpus(rows, { dir: CORPUS_DIR });
const corpus = (f) => rel(join(CORPUS_DIR, f));
const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim();
const code = {
  commit: git('rev-parse', '--short', 'HEAD'),
  dirty: git('status', '--porcelain', '--untracked-files=all', '--', 'src', 'formats') !== '',
  built: newestMtime(DIST),
};
const sluice = (...args) => ['node', rel(CLI), ...args];
const TWO_AT_ONCE = 'two sluice csv at once';
const TWIN_OUT = join(OUT, 'two-sluice-csv-at-once.second.out');
const TWO_RUN = sluice('-f', 'csv', '-t', 'ndjson', '--threads', '0', corpus('users.csv'));
const RESHAPE = 'examples/transforms/reshape-segments.mjs';
// The same reshaping as a Miller `put` (empty pieces dropped, a leading - is a removal).
const MLR_RESHAPE =
  '$segments = apply(select(splitax($segments, ";"), func(s) { return s != "" }), ' +
  'func(s) { return substr1(s, 1, 1) == "-" ? {"id": substr1(s, 2, strlen(s)), "remove": true} : {"id": s, "remove": false} })';

// expect: what the output must be. 'users' = users.ndjson byte for byte (the generator's
// ground truth, which the naive pipeline must match too); 'users-multiset' = the same
// lines in any order; 'segments' / 'quoted' = the generator's digest of the expected
// output; 'mlr' = the same records once parsed; 'input' = a copy of the input;
// 'reshaped' = the generator's digest of users.csv with segments as [{id, remove}];
// 'mlr-reshaped' = the same once Miller's numbers are written as strings.
const allJobs = [
  // Process start-up alone: every other job pays it once, which matters at small --rows.
  { id: 'node -e 0', argv: ['node', '-e', '0'], expect: 'empty' },
  ...['users.csv', 'users.ndjson', 'provider.segments', 'quoted.csv'].map((f) => ({
    id: `cat ${f}`,
    input: f,
    argv: ['cat', corpus(f)],
    expect: 'input',
  })),
  {
    id: 'naive csv',
    input: 'users.csv',
    argv: ['node', 'bench/naive.mjs', 'csv', corpus('users.csv')],
    expect: 'users',
  },
  // The same with one write per 1000 lines: how much of the gap is only output batching.
  {
    id: 'naive csv --batch 1000',
    input: 'users.csv',
    argv: ['node', 'bench/naive.mjs', 'csv', corpus('users.csv'), '--batch', '1000'],
    expect: 'users',
  },
  {
    id: 'sluice csv',
    input: 'users.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', corpus('users.csv')),
    expect: 'users',
  },
  {
    id: 'sluice csv --unordered',
    input: 'users.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', '--unordered', corpus('users.csv')),
    expect: 'users-multiset',
  },
  // --threads (issue 4): on a file, and on a pipe (stdin), where threads must never be slower.
  // --threads 1 is the main thread converting chunks alone (ADR 0017); --threads 2 the main
  // thread and one worker (ADR 0014); with --isolate, two workers.
  {
    id: 'sluice csv --threads 1',
    input: 'users.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', '--threads', '1', corpus('users.csv')),
    expect: 'users',
  },
  {
    id: 'sluice csv --threads 2',
    input: 'users.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', '--threads', '2', corpus('users.csv')),
    expect: 'users',
  },
  {
    id: 'sluice csv --threads 2 --isolate',
    input: 'users.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', '--threads', '2', '--isolate', corpus('users.csv')),
    expect: 'users',
  },
  {
    id: 'sluice csv --threads 2 --unordered',
    input: 'users.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', '--threads', '2', '--unordered', corpus('users.csv')),
    expect: 'users-multiset',
  },
  // What two lanes can gain on this machine at best: two whole `--threads 0` runs at once,
  // separate processes that share nothing but the cores (and what the host shares under
  // them). On two independent cores the pair takes as long as one run; `--threads 2` can
  // at most reach 2 × (one run) / (the pair). The second run's output is checked too.
  {
    id: TWO_AT_ONCE,
    input: 'users.csv',
    argv: [
      'sh',
      '-c',
      'twin=$1; shift; "$0" "$@" > "$twin" & p=$!; "$0" "$@"; s=$?; wait $p && exit $s',
      process.execPath,
      TWIN_OUT,
      ...TWO_RUN.slice(1),
    ],
    twin: TWIN_OUT,
    // As a shell line: the argv above runs the same through `sh -c`, with its exit status.
    shown: (out) => `${TWO_RUN.join(' ')} > ${rel(TWIN_OUT)} & ${TWO_RUN.join(' ')} > ${out}; wait`,
    expect: 'users',
  },
  // Tuning (docs/concurrency.md): V8's parallel GC helpers compete with two converting
  // threads for two cores; a process-wide flag, so it can only be given to node.
  ...[0, 2].map((n) => ({
    id: `sluice csv --threads ${n} (node --single-threaded-gc)`,
    input: 'users.csv',
    argv: [
      'node',
      '--single-threaded-gc',
      ...sluice('-f', 'csv', '-t', 'ndjson', '--threads', String(n), corpus('users.csv')).slice(1),
    ],
    expect: 'users',
  })),
  ...[0, 2].map((n) => ({
    id: `sluice csv stdin --threads ${n}`,
    input: 'users.csv',
    argv: [
      'sh',
      '-c',
      `cat ${corpus('users.csv')} | ${sluice('-f', 'csv', '-t', 'ndjson', '--threads', String(n), '-').join(' ')}`,
    ],
    expect: 'users',
  })),
  // Output into a pipe, as in `sluice … | next-program`: the reader (`cat`) is another
  // process on the same two cores, and the pipe holds 64 KiB.
  {
    id: 'sluice csv into a pipe',
    input: 'users.csv',
    argv: ['sh', '-c', `${sluice('-f', 'csv', '-t', 'ndjson', corpus('users.csv')).join(' ')} | cat`],
    expect: 'users',
  },
  {
    id: 'sluice csv reshape into a pipe',
    input: 'users.csv',
    argv: [
      'sh',
      '-c',
      `${sluice('-f', 'csv', '-t', 'ndjson', '--transform', RESHAPE, corpus('users.csv')).join(' ')} | cat`,
    ],
    // Its "vs naive" is against the naive reshaping; not a `base`, which would put it
    // among the reshaping's bars, which are for a file.
    naive: 'naive csv reshape',
    expect: 'reshaped',
  },
  tools.mlr && {
    id: 'mlr csv',
    input: 'users.csv',
    argv: ['mlr', '--icsv', '--ojsonl', 'cat', corpus('users.csv')],
    expect: 'mlr',
  },
  // csv -> ndjson with segments reshaped to [{id, remove}] (issue 4): the naive pipeline
  // calling the transform module, the hand-written loop, sluice with the module.
  {
    id: 'naive csv reshape',
    input: 'users.csv',
    argv: ['node', 'bench/naive.mjs', 'csv', corpus('users.csv'), '--reshape'],
    expect: 'reshaped',
    base: 'naive csv reshape',
  },
  {
    id: 'naive csv reshape --batch 1000',
    input: 'users.csv',
    argv: ['node', 'bench/naive.mjs', 'csv', corpus('users.csv'), '--reshape', '--batch', '1000'],
    expect: 'reshaped',
    base: 'naive csv reshape',
  },
  {
    id: 'handwritten reshape',
    input: 'users.csv',
    argv: ['node', 'bench/handwritten.mjs', corpus('users.csv')],
    expect: 'reshaped',
    base: 'naive csv reshape',
  },
  {
    id: 'sluice csv reshape',
    input: 'users.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', '--transform', RESHAPE, corpus('users.csv')),
    expect: 'reshaped',
    base: 'naive csv reshape',
  },
  {
    id: 'sluice csv reshape --threads 2',
    input: 'users.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', '--threads', '2', '--transform', RESHAPE, corpus('users.csv')),
    expect: 'reshaped',
    base: 'naive csv reshape',
  },
  tools.mlr && {
    id: 'mlr csv reshape',
    input: 'users.csv',
    argv: ['mlr', '--icsv', '--ojsonl', 'put', MLR_RESHAPE, corpus('users.csv')],
    expect: 'mlr-reshaped',
    base: 'naive csv reshape',
  },
  {
    id: 'naive ndjson',
    input: 'users.ndjson',
    argv: ['node', 'bench/naive.mjs', 'ndjson', corpus('users.ndjson')],
    expect: 'users',
  },
  // The same with one write per 1000 lines: how much of the gap is only output batching.
  {
    id: 'naive ndjson --batch 1000',
    input: 'users.ndjson',
    argv: ['node', 'bench/naive.mjs', 'ndjson', corpus('users.ndjson'), '--batch', '1000'],
    expect: 'users',
  },
  {
    id: 'sluice ndjson',
    input: 'users.ndjson',
    argv: sluice('-f', 'ndjson', '-t', 'ndjson', corpus('users.ndjson')),
    expect: 'users',
  },
  {
    id: 'sluice ndjson --threads 2',
    input: 'users.ndjson',
    argv: sluice('-f', 'ndjson', '-t', 'ndjson', '--threads', '2', corpus('users.ndjson')),
    expect: 'users',
  },
  tools.jq && {
    id: 'jq ndjson',
    input: 'users.ndjson',
    argv: ['jq', '-c', '.', corpus('users.ndjson')],
    expect: 'users',
  },
  {
    id: 'sluice segments',
    input: 'provider.segments',
    argv: sluice('-f', 'segments', '-t', 'ndjson', corpus('provider.segments')),
    expect: 'segments',
  },
  {
    id: 'sluice quoted csv',
    input: 'quoted.csv',
    argv: sluice('-f', 'csv', '-t', 'ndjson', corpus('quoted.csv')),
    expect: 'quoted',
  },
].filter(Boolean);
const jobs = only ? allJobs.filter((j) => only.some((o) => j.id.includes(o))) : allJobs;
if (jobs.length === 0) {
  console.error(`bench: no job matches --only ${only}; jobs: ${allJobs.map((j) => j.id).join(', ')}`);
  process.exit(64);
}
const skipped = [
  !tools.mlr && 'mlr (not installed)',
  !tools.jq && 'jq (not installed)',
  !tools.time && 'peak RSS (no GNU time)',
].filter(Boolean);
rmSync(SNAPSHOT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
cpSync(DIST, SNAPSHOT, { recursive: true });
for (const j of jobs) {
  j.out = join(OUT, `${j.id.replace(/[^a-z0-9.]+/gi, '-').replace(/^-|-$/g, '')}.out`);
  j.runs = [];
}

// ---------------------------------------------------------------- timing
/** Runs one job once: wall time around the spawned child, peak RSS and CPU from GNU time. */
function runOnce(job) {
  return timedRun(job.id, job.argv, {
    cwd: ROOT,
    out: job.out,
    err: `${job.out.slice(0, -4)}.stderr`,
    ...(tools.time ? { stats: join(OUT, 'time.txt') } : {}),
  });
}

/**
 * How busy the machine is with other work: the share of all cores in use over `ms`,
 * from /proc/stat, taken between jobs (the previous one has exited, this script only
 * waits). The 1-minute load average would mostly measure the previous job itself.
 * Undefined where /proc/stat is not there.
 */
async function busyShare(ms = 300) {
  const sample = () => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
      return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), idle: f[3] + f[4] };
    } catch {
      return undefined;
    }
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  if (!a || !b || b.total === a.total) return undefined;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

// Reading every input once first puts it in the page cache, so no job pays for the disk.
for (const f of Object.keys(manifest.files))
  spawnSync('cat', [join(CORPUS_DIR, f)], { stdio: ['ignore', 'ignore', 'inherit'] });

// Other scripts' sections of RESULTS.md (serve, memory): kept verbatim in every report written.
const kept = keptBlocks(existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '');

const started = new Date();
for (let r = 0; r < rounds; r++) {
  // Rotate the order every round so no job always runs right after the same neighbour.
  const order = jobs.map((_, i) => jobs[(i + r) % jobs.length]);
  for (const job of order) {
    const busy = await busyShare();
    let run;
    try {
      run = await runOnce(job);
    } catch (e) {
      // Replace the last report, so an old success is never left standing beside this failure.
      const when = new Date().toISOString();
      writeFileSync(
        RESULTS,
        `# sluice benchmark results\n\n> **FAILED** (${when}): ${e.message.trim().replaceAll('\n', '\n> ')}\n` +
          kept,
      );
      console.error(`bench: FAILED: ${e.message}`);
      process.exit(1);
    }
    // Other work on the machine inflates wall times: record how busy it was at each start.
    run.busy = busy;
    job.runs.push(run);
    console.error(
      `round ${r + 1}/${rounds}  ${job.id.padEnd(24)} ${run.wall.toFixed(2)} s${run.rssMiB ? `  ${run.rssMiB.toFixed(0)} MiB` : ''}`,
    );
  }
}

// ---------------------------------------------------------------- checks
async function* lines(path) {
  yield* createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
}
/** The first line where two files differ, for the failure message. */
async function firstDifference(a, b) {
  const ia = lines(a);
  const ib = lines(b);
  for (let n = 1; ; n++) {
    const [x, y] = await Promise.all([ia.next(), ib.next()]);
    if (x.done && y.done) return 'the files differ only in line endings or a final newline';
    if (x.value !== y.value)
      return `line ${n}: got ${JSON.stringify(x.value)?.slice(0, 200)}, expected ${JSON.stringify(y.value)?.slice(0, 200)}`;
  }
}
/** An order-independent digest of a file's lines: count and the sum of per-line hashes. */
async function multiset(path) {
  let count = 0;
  let sum = 0n;
  for await (const line of lines(path)) {
    count++;
    sum = (sum + createHash('sha1').update(line).digest().readBigUInt64LE(0)) & 0xffffffffffffffffn;
  }
  return `${count}:${sum}`;
}
/** Miller types numbers and spaces its JSON, so compare the records as strings, in order. */
async function sameRecordsAsUsers(path) {
  const got = lines(path);
  let n = 0;
  for await (const line of lines(join(CORPUS_DIR, 'users.ndjson'))) {
    n++;
    const g = await got.next();
    if (g.done) return `only ${n - 1} records, expected ${rows}`;
    const a = JSON.parse(g.value);
    const b = JSON.parse(line);
    for (const k of Object.keys(b)) {
      if (String(a[k]) !== b[k])
        return `record ${n}: ${k} is ${JSON.stringify(a[k])}, expected ${JSON.stringify(b[k])}`;
    }
  }
  return (await got.next()).done ? undefined : `more than ${rows} records`;
}

const usersNdjson = join(CORPUS_DIR, 'users.ndjson');
const ex = manifest.expected;
let usersMultiset;
async function check(job) {
  job.sha = await sha256(job.out);
  if (job.twin && (await sha256(job.twin)) !== job.sha)
    return 'the second run wrote other bytes than the first';
  switch (job.expect) {
    case 'empty':
      return statSync(job.out).size === 0 ? undefined : 'expected no output';
    case 'input':
      return job.sha === manifest.files[job.input].sha256 ? undefined : 'the copy differs from the input';
    case 'users':
      return job.sha === ex.usersNdjson.sha256 ? undefined : await firstDifference(job.out, usersNdjson);
    case 'users-multiset':
      usersMultiset ??= await multiset(usersNdjson);
      return (await multiset(job.out)) === usersMultiset
        ? undefined
        : 'not the same lines as users.ndjson (in any order)';
    case 'segments':
    case 'quoted': {
      const want = job.expect === 'segments' ? ex.segmentsNdjson : ex.quotedNdjson;
      if (job.sha === want.sha256) return undefined;
      let n = 0;
      for await (const _ of lines(job.out)) n++;
      return `sha256 ${job.sha.slice(0, 12)}, expected ${want.sha256.slice(0, 12)} (${n} lines, expected ${want.lines})`;
    }
    case 'mlr':
      return sameRecordsAsUsers(job.out);
    case 'reshaped':
    case 'mlr-reshaped': {
      const want = ex.reshapedNdjson;
      const got = job.expect === 'reshaped' ? { sha: job.sha } : await numbersAsStrings(job.out);
      if (got.sha === want.sha256) return undefined;
      let n = 0;
      for await (const _ of lines(job.out)) n++;
      return `${job.expect === 'reshaped' ? '' : 'with numbers as strings, '}sha256 ${got.sha.slice(0, 12)}, expected ${want.sha256.slice(0, 12)} (${n} lines, expected ${want.lines})`;
    }
  }
}
/**
 * Miller types `timestamp` as a number and spaces its JSON: each record parsed, every
 * number written back as the string it came from, as JSON.stringify writes it, hashed.
 */
async function numbersAsStrings(path) {
  const h = createHash('sha256');
  const strings = (v) =>
    typeof v === 'number'
      ? String(v)
      : Array.isArray(v)
        ? v.map(strings)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strings(x)]))
          : v;
  let buf = '';
  for await (const line of lines(path)) {
    buf += `${JSON.stringify(strings(JSON.parse(line)))}\n`;
    if (buf.length > 1 << 16) {
      h.update(buf);
      buf = '';
    }
  }
  h.update(buf);
  return { sha: h.digest('hex') };
}
let failures = 0;
for (const job of jobs) {
  job.problem = await check(job);
  if (job.problem) failures++;
  console.error(`check  ${job.id.padEnd(24)} ${job.problem ? `FAILED: ${job.problem}` : 'ok'}`);
}

// ---------------------------------------------------------------- report
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
for (const j of jobs) {
  j.median = median(j.runs.map((r) => r.wall));
  j.min = Math.min(...j.runs.map((r) => r.wall));
  j.max = Math.max(...j.runs.map((r) => r.wall));
  if (tools.time) {
    j.cpu = median(j.runs.map((r) => r.cpu));
    j.rss = Math.max(...j.runs.map((r) => r.rssMiB));
  }
}
const byId = new Map(jobs.map((j) => [j.id, j]));
const naiveFor = { 'users.csv': 'naive csv', 'users.ndjson': 'naive ndjson' };
/** The naive job a job is compared with: its own `base` (the reshape jobs), or the one for its input. */
const naiveOf = (j) => byId.get(j.naive ?? j.base ?? naiveFor[j.input]);
const ratio = (j, base) => (base ? `${(j.median / base.median).toFixed(2)}×` : '—');
const mb = (bytes) => (bytes / 1e6).toFixed(1);

/**
 * Issue 4's bars for csv → ndjson with the reshaping: sluice at most 0.37× the naive
 * pipeline's wall time and at most 1.15× the hand-written loop's. CPU ratios beside them,
 * as wall times on a busy machine are noisy.
 */
function reshapeBars() {
  const naive = byId.get('naive csv reshape');
  const hand = byId.get('handwritten reshape');
  const rows = jobs.filter((j) => j.base === 'naive csv reshape');
  if (rows.length === 0) return [];
  const x = (a, b, key) => (a?.[key] !== undefined && b?.[key] !== undefined ? a[key] / b[key] : undefined);
  const f = (v) => (v === undefined ? '—' : `${v.toFixed(2)}×`);
  return [
    '## Bars: csv → ndjson with segments reshaped (issue 4)',
    '',
    'sluice with `--transform examples/transforms/reshape-segments.mjs` must take at most **0.37×** the wall time',
    'of the naive pipeline doing the same reshaping (`naive csv reshape`) and at most **1.15×** that of the',
    'hand-written single-thread loop (`handwritten reshape`, `bench/handwritten.mjs`). Medians; CPU is user + sys.',
    '',
    '| job | median s | CPU s | vs naive (wall) | vs handwritten (wall) | vs naive (CPU) | vs handwritten (CPU) | bars |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((j) => {
      const wn = x(j, naive, 'median');
      const wh = x(j, hand, 'median');
      const bars =
        !j.id.startsWith('sluice') || wn === undefined || wh === undefined
          ? ''
          : wn <= 0.37 && wh <= 1.15
            ? 'met'
            : `**not met** (${[wn > 0.37 && 'vs naive', wh > 1.15 && 'vs handwritten'].filter(Boolean).join(', ')})`;
      const cells = [
        j.id,
        j.median.toFixed(2),
        j.cpu === undefined ? '—' : j.cpu.toFixed(2),
        f(wn),
        f(wh),
        f(x(j, naive, 'cpu')),
        f(x(j, hand, 'cpu')),
        j.problem ? '**output FAILED**' : bars,
      ];
      return `| ${cells.join(' | ')} |`;
    }),
    '',
  ];
}

/**
 * Issue 4's speed-up bars, and the ratios shown beside them for comparison (no `need`):
 * how many times faster `job` runs than `ref` (`times` runs of `ref` per round, for the
 * ceiling, whose reference is two runs one after the other). Both tables below read them.
 */
const SPEEDUPS = [
  { what: 'csv → ndjson vs `mlr --icsv --ojsonl cat`', ref: 'mlr csv', job: 'sluice csv', need: 1 },
  { what: 'ndjson → ndjson vs `jq -c .`', ref: 'jq ndjson', job: 'sluice ndjson', need: 5 },
  {
    what: 'file: `--threads 2` vs `--threads 0`',
    ref: 'sluice csv',
    job: 'sluice csv --threads 2',
    need: 1.4,
  },
  {
    what: 'stdin: `--threads 2` vs `--threads 0`',
    ref: 'sluice csv stdin --threads 0',
    job: 'sluice csv stdin --threads 2',
    need: 1,
  },
  // What the second lane adds to the same engine on one thread (ADR 0017).
  {
    what: 'file: `--threads 2` vs `--threads 1`',
    ref: 'sluice csv --threads 1',
    job: 'sluice csv --threads 2',
  },
  { what: 'file: `--threads 1` vs `--threads 0`', ref: 'sluice csv', job: 'sluice csv --threads 1' },
  // The most two lanes can gain on this machine (see the job), next to which the 1.4× reads.
  {
    what: 'file: two `--threads 0` runs at once vs one after the other (the ceiling for two lanes)',
    ref: 'sluice csv',
    job: TWO_AT_ONCE,
    times: 2,
  },
  // The bars are for the defaults: the same under a tuning flag.
  {
    what: 'file, both under `node --single-threaded-gc`',
    ref: 'sluice csv --threads 0 (node --single-threaded-gc)',
    job: 'sluice csv --threads 2 (node --single-threaded-gc)',
  },
];

/** Issue 4's bars for other jobs than the reshaping, as `SPEEDUPS` lists them. Medians. */
function otherBars() {
  const m = (id) => byId.get(id)?.median;
  const rows = SPEEDUPS.filter(({ ref, job }) => m(ref) !== undefined && m(job) !== undefined);
  if (rows.length === 0) return [];
  return [
    '## Bars: speed-ups (issue 4)',
    '',
    '| bar | reference, median s | sluice, median s | speed-up | needed | |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(({ what, ref, job, need, times = 1 }) => {
      const r = (times * m(ref)) / m(job);
      if (need === undefined) {
        return `| ${what} | ${(times * m(ref)).toFixed(2)} | ${m(job).toFixed(2)} | ${r.toFixed(2)}× | — | for comparison |`;
      }
      return `| ${what} | ${m(ref).toFixed(2)} | ${m(job).toFixed(2)} | ${r.toFixed(2)}× | ${need === 1 ? 'faster' : `${need}×`} | ${(need === 1 ? r > 1 : r >= need) ? 'met' : '**not met**'} |`;
    }),
    '',
  ];
}

/**
 * The bars read two more ways from the same rounds, because this host moves one run by up
 * to 60% from minute to minute (the per-round table): the median of the per-round ratios
 * (the jobs of one round run within a few minutes of each other, in one phase of the
 * host) and the ratio of each job's best round. The verdicts above stay on the medians,
 * as issue 4 words its bars.
 */
function roundReadings() {
  // [what, needed, numerator job, denominator job, runs of the numerator per round]. Each
  // ratio reads as the tables above do: time over time for the reshaping, speed-up for the rest.
  const rows = [
    [
      'reshaping, `--threads 2` vs the hand-written loop',
      '≤ 1.15×',
      'sluice csv reshape --threads 2',
      'handwritten reshape',
    ],
    ['reshaping, `--threads 0` vs the hand-written loop', '—', 'sluice csv reshape', 'handwritten reshape'],
    ...SPEEDUPS.map(({ what, ref, job, need, times }) => [
      `${what} (speed-up)`,
      need === undefined ? '—' : need === 1 ? '> 1×' : `≥ ${need}×`,
      ref,
      job,
      times,
    ]),
  ].filter(([, , a, b]) => byId.get(a)?.runs.length && byId.get(b)?.runs.length);
  if (rows.length === 0) return [];
  const f = (v) => `${v.toFixed(2)}×`;
  const perRound = (a, b, times) =>
    a.runs.slice(0, b.runs.length).map((r, i) => (times * r.wall) / b.runs[i].wall);
  return [
    '## Bars read round by round (issue 4)',
    '',
    'The same ratios from the same rounds: of the medians (as above), the median of the ratios of each round, and',
    "each job's best round against the other's. A bar the host decides reads differently in these three.",
    '',
    '| ratio | needed | of the medians | median round | best against best | per round |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(([what, need, a, b, times = 1]) => {
      const ja = byId.get(a);
      const jb = byId.get(b);
      const rs = perRound(ja, jb, times);
      return `| ${what} | ${need} | ${f((times * ja.median) / jb.median)} | ${f(median(rs))} | ${f((times * ja.min) / jb.min)} | ${rs.map((r) => r.toFixed(2)).join(', ')} |`;
    }),
    '',
  ];
}

const cpu = os.cpus();
const busy = jobs.flatMap((j) => j.runs.map((r) => r.busy)).filter((b) => b !== undefined);
const pct = (x) => `${Math.round(100 * x)}%`;
const rebuilt = newestMtime(DIST) > code.built;
const utc = (ms) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const expectText = {
  empty: 'no output',
  input: 'byte-identical to the input',
  users: 'byte-identical to users.ndjson (so to every other job checked this way)',
  'users-multiset': 'the same lines as users.ndjson, in any order',
  segments: `the generator's ${ex.segmentsNdjson.lines} expected events, byte for byte`,
  quoted: `the generator's ${ex.quotedNdjson.lines} expected rows, byte for byte`,
  mlr: 'the same records in the same order as users.ndjson, values compared as strings',
  reshaped: `the generator's ${ex.reshapedNdjson.lines} reshaped rows, byte for byte`,
  'mlr-reshaped': `the generator's ${ex.reshapedNdjson.lines} reshaped rows, byte for byte once Miller's numbers are written as strings and its JSON without spaces`,
};
const md = [];
md.push(
  '# sluice benchmark results',
  '',
  failures ? `> **FAILED: ${failures} job(s) produced wrong output. These numbers are not a result.**\n` : '',
  `Generated by \`npm run bench\` (\`bench/run.mjs\`) on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${rows.toLocaleString('en-US')} rows, ${rounds} round${rounds === 1 ? '' : 's'}.`,
  '',
  '## Scope',
  '',
  '- **Measured:** the wall time of one whole process, from spawn to exit (so Node start-up, the `node -e 0`',
  '  row, is included), converting a file that is already in the page cache (every input is read once before the',
  '  first round) and writing to a file in `bench/out/` through stdout (`sync` runs, untimed, before each job).',
  '  Jobs are interleaved round by round, the order rotated every round. Peak RSS and CPU time (user + sys,',
  '  above wall time when a program uses both cores) come from GNU `time`. MB/s is input bytes (10^6) over',
  `  the median wall time (\`${TWO_AT_ONCE}\` converts its input twice: its MB/s counts both, its CPU is both runs'`,
  "  and its peak RSS the larger run's, as GNU `time` reports them for the `sh` that waits for both).",
  "- **Checked:** after the last round, every output against the generator's ground truth (see Checks).",
  '- **Not measured:** cold reads from disk, pipes as input or output (but in the `stdin` and `into a pipe`',
  '  jobs), gzip, user transforms other than the reshaping (`examples/transforms/reshape-segments.mjs`),',
  '  `--on-error` paths, `--concurrency`',
  '  other than its default, `--threads` other than 0 except in the jobs that name it, peak memory',
  "  against input size (that is `bench/memory.mjs`'s section), other machines.",
  `  ${rounds} rounds per job is few: see the min–max spread before reading a difference.`,
  skipped.length ? `- **Skipped on this machine:** ${skipped.join(', ')}.` : '',
  '',
  '## Machine',
  '',
  `- CPU: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores (\`os.cpus()\`)`,
  `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  `- OS: ${os.type()} ${os.release()} (${os.platform()}/${os.arch()})`,
  busy.length === 0
    ? `- Other work: not measured (no /proc/stat); 1-minute load average at the end ${os.loadavg()[0].toFixed(1)}`
    : `- Other work: the machine's CPU in use in the 0.3 s before each job (the previous one had exited): median ${pct(median(busy))}, max ${pct(Math.max(...busy))} of all cores` +
        (median(busy) > 0.1 ? ' (**other work was running; wall times are inflated and noisier**)' : ''),
  `- Code: commit ${code.commit ?? 'unknown'}${code.dirty ? ' plus uncommitted changes in src/ or formats/' : ''}; ` +
    `\`dist/\` last built ${utc(code.built)}, copied to \`${rel(SNAPSHOT)}\` at the start and run from there` +
    (rebuilt ? ' (dist/ was rebuilt during the run; the copy was not)' : ''),
  `- Node ${tools.node}${tools.mlr ? `; ${tools.mlr}` : ''}${tools.jq ? `; ${tools.jq}` : ''}`,
  '',
  '## Corpus',
  '',
  `\`node bench/corpus.mjs --rows ${rows}\` (seeded, the same bytes every run):`,
  '',
  ...Object.entries(manifest.files).map(([f, { size }]) => `- \`${f}\`: ${mb(size)} MB`),
  '',
  '## Commands',
  '',
  'Run from the repository root; stdout goes to `bench/out/<job>.out`. `sluice` is `node bench/out/dist/src/cli/main.js`,',
  'a copy of `dist/` taken at the start of the run.',
  '',
  '```sh',
  ...jobs.map((j) => j.shown?.(rel(j.out)) ?? `${j.argv.join(' ')} > ${rel(j.out)}`),
  '```',
  '',
  '## Results',
  '',
  `Median of ${rounds} rounds. "vs naive": wall time over the naive split2 + through2 pipeline on the same input`,
  'doing the same work (for the reshape jobs, `naive csv reshape`; below 1× is faster). "vs cat": wall time',
  'over `cat` of the same input.',
  '',
  '| job | input | median s | min–max s | MB/s | CPU s | peak RSS MiB | vs naive | vs cat | output |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...jobs.map((j) => {
    const cells = [
      j.id,
      j.input ?? '—',
      j.median.toFixed(2),
      `${j.min.toFixed(2)}–${j.max.toFixed(2)}`,
      j.input ? (((j.twin ? 2 : 1) * manifest.files[j.input].size) / 1e6 / j.median).toFixed(0) : '—',
      j.cpu === undefined ? '—' : j.cpu.toFixed(2),
      j.rss === undefined ? '—' : j.rss.toFixed(0),
      // Two runs' time over one run's would read as a slow-down: its ratio is in the speed-ups.
      j.twin ? '—' : ratio(j, naiveOf(j)),
      j.twin ? '—' : ratio(j, byId.get(`cat ${j.input}`)),
      j.problem ? '**FAILED**' : 'ok',
    ];
    return `| ${cells.join(' | ')} |`;
  }),
  '',
  ...reshapeBars(),
  ...otherBars(),
  ...roundReadings(),
  '## Checks',
  '',
  ...jobs.map(
    (j) =>
      `- ${j.id}: expected ${expectText[j.expect]}: ${j.problem ? `**FAILED: ${j.problem}**` : 'ok'} (sha256 \`${j.sha.slice(0, 16)}\`)`,
  ),
  '',
  '## Wall time per round (s)',
  '',
  `| job | ${Array.from({ length: rounds }, (_, i) => `round ${i + 1}`).join(' | ')} |`,
  `| --- |${' ---: |'.repeat(rounds)}`,
  ...jobs.map((j) => `| ${j.id} | ${j.runs.map((r) => r.wall.toFixed(2)).join(' | ')} |`),
  '',
  '## What this shows',
  '',
  '<!-- Written by a person after reading the numbers above; a re-run leaves this placeholder. -->',
  '_(not yet written for this run)_',
  '',
);
writeFileSync(RESULTS, md.join('\n').replace(/\n{3,}/g, '\n\n') + kept);
console.error(`bench: wrote ${rel(RESULTS)}`);
if (failures) {
  console.error(`bench: FAILED: ${failures} job(s) produced wrong output`);
  process.exit(1);
}
