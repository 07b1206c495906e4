#!/usr/bin/env node
// Peak memory against input size (issue 4): the csv → ndjson jobs on a 2,000,000-row and
// an 8,000,000-row corpus, peak RSS of each (GNU time), every output checked. The bar:
// the two peaks within 10% of each other (memory independent of input size) and, on one
// thread, under 200 MB.
//
//   npm run build && node bench/memory.mjs [--rows 2000000,8000000] [--rounds R (2)] [--only id,...] [--long K] [--keep]
//
// --long K adds a third reading, reported beside the bar and not part of it: the large corpus
// given K times as inputs (K × its rows, no new file), so a peak that only moves late in a
// long run shows. The output is checked as K copies of the large run's.
//
// The 8M corpus (~600 MB of CSV, ~2.4 GB with the other files) is generated once into
// bench/corpus/rows-8000000/; the 2M one is bench/corpus/ when that holds 2M rows (as after
// `npm run bench`), else bench/corpus/rows-2000000/. Outputs go to bench/out/memory/ and
// are deleted once checked (--keep keeps them). The report replaces the section between
// `<!-- memory:begin -->` and `<!-- memory:end -->` in bench/RESULTS.md, which run.mjs keeps.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPUS_DIR, current, ensureCorpus } from './corpus.mjs';
import { replaceBlock } from './report-blocks.mjs';
import { GNU_TIME, sha256, timedRun } from './timed.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const OUT = join(BENCH, 'out', 'memory');
const RESULTS = join(BENCH, 'RESULTS.md');
const DIST = join(ROOT, 'dist');
const SNAPSHOT = join(OUT, 'dist');
const RESHAPE = 'examples/transforms/reshape-segments.mjs';
const rel = (p) => relative(ROOT, p);

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const sizes = (flag('--rows') ?? '2000000,8000000').split(',').map(Number);
// Peak RSS varies from run to run with V8's heap sizing (its young generation grows to 8 or
// 16 MiB): the highest of two rounds is the peak reported.
const rounds = Number(flag('--rounds') ?? 2);
const only = flag('--only')?.split(',');
const keep = argv.includes('--keep');
const long = Number(flag('--long') ?? 0);
if (sizes.length !== 2 || !sizes.every((n) => Number.isInteger(n) && n > 0) || sizes[0] >= sizes[1]) {
  console.error(
    'usage: node bench/memory.mjs [--rows SMALL,LARGE] [--rounds R] [--only id,...] [--long K] [--keep]',
  );
  process.exit(64);
}
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('bench/memory: --rounds must be an integer >= 1');
  process.exit(64);
}
if (!Number.isInteger(long) || long < 0 || long === 1) {
  console.error('bench/memory: --long must be an integer >= 2 (or 0 for none)');
  process.exit(64);
}
if (!existsSync(join(DIST, 'src/cli/main.js'))) {
  console.error('bench/memory: dist/src/cli/main.js is missing; run `npm run build` first');
  process.exit(1);
}
if (spawnSync(GNU_TIME, ['-f', '%M', 'true']).status !== 0) {
  console.error('bench/memory: needs GNU time at /usr/bin/time (apt-get install time) for peak RSS');
  process.exit(1);
}

// ---------------------------------------------------------------- corpora and jobs
const corpora = sizes.map((rows) => {
  const dir = current(rows, CORPUS_DIR) ? CORPUS_DIR : join(CORPUS_DIR, `rows-${rows}`);
  return { rows, dir, manifest: ensureCorpus(rows, { dir }), copies: 1 };
});
if (long > 0) corpora.push({ ...corpora[1], rows: corpora[1].rows * long, copies: long });
const sluice = (...args) => ['node', rel(join(SNAPSHOT, 'src/cli/main.js')), ...args];
const allJobs = [
  { id: 'sluice csv', threads: 0, args: ['-f', 'csv', '-t', 'ndjson'], expect: 'usersNdjson' },
  // The main thread converting chunks alone (ADR 0017): its peak steps up earlier in a run.
  {
    id: 'sluice csv --threads 1',
    threads: 1,
    args: ['-f', 'csv', '-t', 'ndjson', '--threads', '1'],
    expect: 'usersNdjson',
  },
  {
    id: 'sluice csv reshape',
    threads: 0,
    args: ['-f', 'csv', '-t', 'ndjson', '--transform', RESHAPE],
    expect: 'reshapedNdjson',
  },
  {
    id: 'sluice csv reshape --threads 2',
    threads: 2,
    args: ['-f', 'csv', '-t', 'ndjson', '--threads', '2', '--transform', RESHAPE],
    expect: 'reshapedNdjson',
  },
];
const jobs = only ? allJobs.filter((j) => only.some((o) => j.id.includes(o))) : allJobs;
if (jobs.length === 0) {
  console.error(`bench/memory: no job matches --only ${only}; jobs: ${allJobs.map((j) => j.id).join(', ')}`);
  process.exit(64);
}
rmSync(SNAPSHOT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
cpSync(DIST, SNAPSHOT, { recursive: true });

/** One run: stdout to a file, peak RSS and CPU from GNU time, then the output checked. */
async function runOnce(job, corpus) {
  const name = `${job.id.replace(/[^a-z0-9.]+/gi, '-')}-${corpus.rows}`;
  const out = join(OUT, `${name}.out`);
  const input = rel(join(corpus.dir, 'users.csv'));
  const argv = sluice(...job.args, ...Array(corpus.copies).fill(input));
  // Untimed: read the input once into the page cache.
  spawnSync('cat', [join(corpus.dir, 'users.csv')], { stdio: 'ignore' });
  const run = await timedRun(`${job.id} (${corpus.rows} rows)`, argv, {
    cwd: ROOT,
    out,
    err: join(OUT, `${name}.stderr`),
    stats: join(OUT, 'time.txt'),
  });
  const expected = corpus.manifest.expected[job.expect].sha256;
  const ok = (await copiesOf(out, corpus.copies)) === expected;
  if (!keep) rmSync(out, { force: true });
  return { ...run, ok, command: `${argv.join(' ')} > ${rel(out)}` };
}

/**
 * The SHA-256 of `out` when it is `copies` equal copies of one output (each input's header
 * is its own, so K inputs give K copies of one input's output), else undefined.
 */
async function copiesOf(out, copies) {
  if (copies === 1) return sha256(out);
  const size = statSync(out).size;
  if (size % copies !== 0) return undefined;
  const part = size / copies;
  let first;
  for (let i = 0; i < copies; i++) {
    const h = await sha256(out, { start: i * part, end: (i + 1) * part - 1 });
    if (first !== undefined && h !== first) return undefined;
    first = h;
  }
  return first;
}

// ---------------------------------------------------------------- run
const started = new Date();
let failures = 0;
for (const job of jobs) {
  job.runs = corpora.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, corpus] of corpora.entries()) {
      let run;
      try {
        run = await runOnce(job, corpus);
      } catch (e) {
        console.error(`bench/memory: FAILED: ${e.message}`);
        process.exit(1);
      }
      if (!run.ok) failures++;
      job.runs[i].push(run);
      job.command ??= [];
      job.command[i] = run.command;
      console.error(
        `${job.id.padEnd(32)} ${String(corpus.rows).padStart(9)} rows  ${run.rssMiB.toFixed(0).padStart(4)} MiB  ${run.cpu.toFixed(2)} CPU s  ${run.wall.toFixed(2)} s  ${run.ok ? 'ok' : 'WRONG OUTPUT'}`,
      );
    }
  }
}

// ---------------------------------------------------------------- report
const LIMIT_BYTES = 200e6;
const mib = (x) => x.toFixed(0);
const rowsText = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const [small, large] = sizes;
const longRows = long > 0 ? large * long : undefined;
const lines = jobs.map((j) => {
  // The peak of each size over the rounds, and the ratio of the peaks.
  const peak = j.runs.map((runs) => Math.max(...runs.map((r) => r.rssMiB)));
  const ratio = peak[1] / peak[0];
  const under = Math.max(peak[0], peak[1]) * 2 ** 20 < LIMIT_BYTES;
  const wrong = j.runs.flat().some((r) => !r.ok);
  const bars = [
    ratio <= 1.1
      ? `${rowsText(large)}/${rowsText(small)} within 10%`
      : `**${rowsText(large)}/${rowsText(small)} over 10%**`,
    j.threads > 1 ? '(200 MB bar is for one thread)' : under ? 'under 200 MB' : '**over 200 MB**',
  ];
  const cpu = j.runs.map((runs) => runs.reduce((a, r) => a + r.cpu, 0) / runs.length);
  const longCells = longRows ? ` ${mib(peak[2])} | ${(peak[2] / peak[1]).toFixed(3)} |` : '';
  return `| ${j.id} | ${mib(peak[0])} | ${mib(peak[1])} | ${ratio.toFixed(3)} |${longCells} ${cpu.map((c) => c.toFixed(1)).join(' / ')} | ${wrong ? '**FAILED**' : 'ok'} | ${bars.join(', ')} |`;
});
const longHead = longRows
  ? ` peak RSS ${rowsText(longRows)} MiB | ${rowsText(longRows)}/${rowsText(large)} |`
  : '';
const longRule = longRows ? ' ---: | ---: |' : '';
const cpuHead = [small, large, ...(longRows ? [longRows] : [])].map(rowsText).join(' / ');
const longText = longRows
  ? ` The ${rowsText(longRows)} column is the ${rowsText(large)} file given ${long} times as inputs (\`--long ${long}\`): not part of the bar, it shows whether a peak still moves late in a long run.`
  : '';
const report = `<!-- memory:begin -->
## Peak memory against input size

Made by \`node bench/memory.mjs${long ? ` --long ${long}` : ''}\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)} at the end, ${rounds} round${rounds === 1 ? '' : 's'}.
Each job converts \`users.csv\` of ${small.toLocaleString('en-US')} and of ${large.toLocaleString('en-US')} rows (same generator, same seed) to a file; peak RSS is GNU time's maximum resident set size of the whole process (worker threads included), the highest over the rounds. Bar: the ${rowsText(large)} peak within 10% of the ${rowsText(small)} one, and under 200 MB (10^6 bytes) on one thread.${longText}

| job | peak RSS ${rowsText(small)} MiB | peak RSS ${rowsText(large)} MiB | ${rowsText(large)}/${rowsText(small)} |${longHead} CPU s ${cpuHead} | output | bars |
| --- | ---: | ---: | ---: |${longRule} ---: | --- | --- |
${lines.join('\n')}

\`\`\`sh
${jobs.flatMap((j) => j.command).join('\n')}
\`\`\`
<!-- memory:end -->`;
writeFileSync(
  RESULTS,
  replaceBlock(
    existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# sluice benchmark results\n',
    'memory',
    report,
  ),
);
process.stdout.write(`${report}\n`);
if (failures) {
  console.error(`bench/memory: FAILED: ${failures} run(s) produced wrong output`);
  process.exit(1);
}
