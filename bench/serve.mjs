#!/usr/bin/env node
// The `sluice serve` load benchmark, on loopback, side by side in one run:
//
//   1. a bare node:http server that only parses the same bodies (the HTTP ceiling);
//   2. sluice serve, end to end: bearer-key authentication, authorization, validation into
//      SegmentEvents, the SQLite store (group commit, WAL) and SSE fan-out, with a
//      subscriber connected and activation probes running;
//   3. after each sluice run, a bare better-sqlite3 loop running the store's own upsert
//      over as many events as that run accepted, in transactions of 1,000 (the store
//      ceiling, measured right after the run it is compared with).
//
// Load: wrk (or autocannon) in a process of its own (bench/serve-load.mjs), POSTing 100-record
// NDJSON bodies over keep-alive connections for a fixed time. Activation latency: while
// the load runs, this process POSTs a one-record probe every few ms and times it from
// just before the request to the moment its event arrives on the SSE stream.
//
// Checks: no non-2xx answers or errors under load; sluice's accepted-events counter
// equals 2xx answers × records per body (plus probes); the SSE subscriber receives every
// accepted event; every probe arrives. A failed check fails the run (exit 1).
//
//   node bench/serve.mjs [--seconds 15] [--connections 8,16,32] [--records 100] [--rounds 3] [--quick]
//                        [--config-extra '<yaml appended to the server config>']
//                        [--generator wrk|autocannon]   (default: wrk when installed)
//                        [--profile <dir>]   (CPU profiles of each sluice serve run's threads)
//                        [--node-args '<flags>']   (node flags for sluice serve, space-separated, for tuning)
//                        [--store postgres://user@host/db]   (sluice on PostgreSQL instead of
//                         SQLite; reported in its own section; each run in a fresh schema)
//                        [--nats nats://host:port]   (the fan-out through NATS JetStream;
//                         reported in its own section; each run on a fresh stream)
//
// Results go into bench/RESULTS.md between the serve markers (the rest is run.mjs's).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceBlock } from './report-blocks.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const RESULTS = join(BENCH, 'RESULTS.md');

// ---------------------------------------------------------------- flags
const argv = process.argv.slice(2);
/** The value after `name` on the command line, or undefined. */
const option = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const flag = (name, dflt) => {
  const v = option(name);
  return v === undefined ? dflt : Number(v);
};
const quick = argv.includes('--quick');
const seconds = flag('--seconds', quick ? 5 : 15);
// sluice runs once per connection count: closed-loop load queues at most connections ×
// records events ahead of a probe, so latency grows with it (Little's law) while the
// rate stops growing once the store is saturated.
const connectionList = (option('--connections') ?? '8,16,32').split(',').map(Number);
const recordsPerBody = flag('--records', 100);
// Each sluice run and the bare loop run this many times; the report shows the median
// round (by events/s) and lists every round: on a shared 2-core VM one run is noise.
const rounds = flag('--rounds', quick ? 1 : 3);
// Extra server settings, appended to the generated config (YAML), for tuning experiments.
const extraConfig = option('--config-extra') ?? '';
// The store sluice serve runs on: SQLite by default, or a PostgreSQL server's URL.
const pgStore = option('--store');
if (pgStore !== undefined && !/^postgres(ql)?:\/\//.test(pgStore)) {
  console.error('serve bench: --store takes a postgres:// URL (SQLite is the default)');
  process.exit(64);
}
// The load generator: wrk when installed, else autocannon (bench/serve-load.mjs says why).
const generator = option('--generator');
if (generator !== undefined && !['wrk', 'autocannon'].includes(generator)) {
  console.error('serve bench: --generator takes wrk or autocannon');
  process.exit(64);
}
// Node flags for the sluice serve process (tuning experiments: `--no-parallel-scavenge`).
const nodeArgs = (option('--node-args') ?? '').split(' ').filter((a) => a !== '');
// The fan-out through NATS JetStream (fanout.nats) instead of in-process.
const natsUrl = option('--nats');
if (natsUrl !== undefined && !/^nats:\/\//.test(natsUrl)) {
  console.error('serve bench: --nats takes a nats:// URL');
  process.exit(64);
}
const block = ['serve', pgStore && 'postgres', natsUrl && 'nats'].filter(Boolean).join('-');
let natsRuns = 0;

/** One statement on the --store PostgreSQL, on a connection of its own. */
async function pgQuery(sql) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: pgStore });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}
// Where sluice serve writes a .cpuprofile per thread (node --cpu-prof), for finding the cost.
const profileDir = option('--profile');
const probeEveryMs = 10;
for (const [k, v] of Object.entries({
  seconds,
  recordsPerBody,
  rounds,
  connections: Math.min(...connectionList),
})) {
  if (!Number.isInteger(v) || v < 1 || connectionList.some((c) => !Number.isInteger(c))) {
    console.error(`serve bench: ${k} must be a positive integer`);
    process.exit(64);
  }
}
const connections = Math.max(...connectionList);
if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) {
  console.error('serve bench: dist/ is missing; run `npm run build` first');
  process.exit(1);
}

const work = mkdtempSync(join(os.tmpdir(), 'sluice-serve-bench-'));
// Run a snapshot of dist/, so a rebuild during the run does not change the code under test.
const dist = join(work, 'dist');
cpSync(join(ROOT, 'dist'), dist, { recursive: true });
const log = (...a) => console.error('serve bench:', ...a);
const checks = [];
const check = (what, ok, detail) => {
  checks.push({ what, ok, detail });
  if (!ok) log(`CHECK FAILED: ${what} (${detail})`);
};

// ---------------------------------------------------------------- data
// Seeded, so every run sends the same bodies: 200k users, 500 segments, 20% removals.
let seed = 0x5eed;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const bodyCount = 5000;
const bodies = [];
for (let b = 0; b < bodyCount; b++) {
  let body = '';
  for (let r = 0; r < recordsPerBody; r++) {
    const uid = `u${Math.floor(rand() * 200_000).toString(36)}`;
    const seg = `s${Math.floor(rand() * 500)}`;
    body +=
      rand() < 0.2 ? `{"uid":"${uid}","seg":"${seg}","op":"remove"}\n` : `{"uid":"${uid}","seg":"${seg}"}\n`;
  }
  bodies.push(body);
}
const bodiesFile = join(work, 'bodies.json');
writeFileSync(bodiesFile, JSON.stringify(bodies));

// ---------------------------------------------------------------- processes
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Spawns node with `args`; resolves with the first stdout (or stderr) line matching `ready`. */
function start(args, ready, { stream = 'stdout' } = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let errText = '';
  child.stderr.on('data', (d) => {
    errText += d;
    if (errText.length > 1e5) errText = errText.slice(-5e4);
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    child[stream].on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        const m = ready(line);
        if (m) resolve({ child, value: m, stderr: () => errText });
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
    child.on('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited ${code}: ${errText.slice(-2000)}`)),
    );
  });
}

/** Runs a node script to completion; resolves with its stdout parsed as JSON. */
function runJson(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => {
      children.delete(child);
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(`${args.join(' ')} exited ${code}`));
    });
  });
}

const load = (url, headers, conns) =>
  runJson([
    join(BENCH, 'serve-load.mjs'),
    url,
    bodiesFile,
    String(seconds),
    String(conns),
    ...headers,
    ...(generator ? ['--generator', generator] : []),
  ]);

const stopped = (child) =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else {
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    }
  });

// ---------------------------------------------------------------- 1. bare node:http
log(`bare node:http, ${seconds} s, ${connections} connections, ${recordsPerBody}-record bodies`);
const bare = await start([join(BENCH, 'serve-refs.mjs'), 'http'], (l) =>
  l.startsWith('{') ? JSON.parse(l).url : undefined,
);
const bareRun = await load(`${bare.value}/`, [], connections);
await stopped(bare.child);
check(
  'bare node:http: every request answered 2xx',
  bareRun.non2xx === 0 && bareRun.errors === 0,
  JSON.stringify(bareRun),
);

// ---------------------------------------------------------------- 2. sluice serve
const key = (name) => {
  const k = `${name}_${randomBytes(16).toString('hex')}`;
  return { key: k, hash: `sha256:${createHash('sha256').update(k, 'utf8').digest('hex')}` };
};
const provider = key('provider');
const bidder = key('bidder');

/** One sluice serve run with a fresh store, `conns` load connections, a subscriber and probes. */
async function sluiceRun(conns) {
  // A fresh store for every run, as the SQLite runs get a fresh file.
  if (pgStore) await pgQuery('DROP SCHEMA IF EXISTS sluice CASCADE');
  const dir = mkdtempSync(join(work, `serve-${conns}-`));
  const configFile = join(dir, 'sluice.yaml');
  writeFileSync(
    configFile,
    `listen: 127.0.0.1:0
store: ${pgStore ?? 'sqlite:./audience.db'}
regions: [us, eu]
principals:
  - id: provider
    keys: [${provider.hash}]
    namespaces: [bench]
  - id: bidder
    keys: [${bidder.hash}]
    subscribe: [us]
${natsUrl ? `fanout:\n  nats: { url: "${natsUrl}", stream: SLUICE_BENCH_${process.pid}_${++natsRuns}, subjectPrefix: bench${process.pid}x${natsRuns}.events }\n` : ''}${extraConfig}
`,
  );
  log(
    `sluice serve, ${seconds} s, ${conns} connections, SSE subscriber and a probe every ${probeEveryMs} ms`,
  );
  const sluice = await start(
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...nodeArgs,
      join(dist, 'src/cli/main.js'),
      'serve',
      '--config',
      configFile,
    ],
    (l) => (l.includes('"listening"') ? JSON.parse(l).url : undefined),
    { stream: 'stderr' },
  );
  const base = sluice.value;

  // The subscriber: counts every event, and notes when each probe's event arrives.
  const probeSent = new Map();
  const latency = [];
  let sseEvents = 0;
  const sse = await new Promise((resolve, reject) => {
    const req = request(
      `${base}/v1/regions/us/events`,
      { headers: { authorization: `Bearer ${bidder.key}` } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`SSE: ${res.statusCode}`));
        res.setEncoding('utf8');
        let pending = '';
        res.on('data', (chunk) => {
          const now = performance.now();
          pending += chunk;
          const cut = pending.lastIndexOf('\n\n');
          if (cut < 0) return;
          const text = pending.slice(0, cut);
          pending = pending.slice(cut + 2);
          for (let i = text.indexOf('event: segment'); i >= 0; i = text.indexOf('event: segment', i + 14)) {
            sseEvents++;
          }
          for (let i = text.indexOf('"seg":"probe-'); i >= 0; i = text.indexOf('"seg":"probe-', i + 13)) {
            const n = Number.parseInt(text.slice(i + 13, text.indexOf('"', i + 13)), 10);
            const t0 = probeSent.get(n);
            if (t0 !== undefined) {
              latency.push(now - t0);
              probeSent.delete(n);
            }
          }
        });
        resolve(req);
      },
    );
    req.on('error', reject);
    req.end();
  });

  // Probes: one-record POSTs on their own connection, while the load runs.
  let probes = 0;
  let probeFailures = 0;
  const probeTimer = setInterval(() => {
    const n = ++probes;
    probeSent.set(n, performance.now());
    fetch(`${base}/v1/namespaces/bench/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${provider.key}`,
        'content-type': 'application/x-ndjson',
        'x-sluice-region': 'us',
      },
      body: `{"uid":"probe","seg":"probe-${n}"}\n`,
    })
      .then(async (r) => {
        const j = await r.json();
        if (r.status !== 200 || j.accepted !== 1) probeFailures++;
      })
      .catch(() => probeFailures++);
  }, probeEveryMs);

  const run = await load(
    `${base}/v1/namespaces/bench/events`,
    [`authorization:Bearer ${provider.key}`, 'x-sluice-region:us'],
    conns,
  );
  clearInterval(probeTimer);
  // Let the last probes and events arrive.
  const settle = Date.now();
  while ((probeSent.size > 0 || sseEvents < run.ok * recordsPerBody + probes) && Date.now() - settle < 5000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const metricsText = await (await fetch(`${base}/metrics`)).text();
  const metric = (name) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText);
    return m ? Number(m[1]) : Number.NaN;
  };
  const accepted = metric('sluice_events_accepted_total');
  const commits = metric('sluice_store_commit_events_count');
  const commitEvents = metric('sluice_store_commit_events_sum');
  // A histogram's p99, as the upper bound of the bucket that holds it.
  const p99 = (name) => {
    const buckets = [
      ...metricsText.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm')),
    ].map((m) => ({ le: Number(m[1]), n: Number(m[2]) }));
    const total = buckets.at(-1)?.n ?? 0;
    return buckets.find((b) => b.n >= 0.99 * total)?.le ?? Number.NaN;
  };
  const commitP99 = p99('sluice_store_commit_duration_seconds');
  const publishP99 = p99('sluice_fanout_lag_seconds');
  const commitSeconds = metric('sluice_store_commit_duration_seconds_sum');
  sse.destroy();
  const exitCode = await stopped(sluice.child);
  const tag = `sluice serve, ${conns} connections`;
  check(`${tag}: every request answered 2xx`, run.non2xx === 0 && run.errors === 0, JSON.stringify(run));
  // Requests still in flight when the load generator stops are applied but not counted as answered.
  const answered = run.ok * recordsPerBody + probes - probeFailures;
  check(
    `${tag}: events accepted = 2xx answers × records per body + probes (+ the requests in flight at the end)`,
    accepted >= answered && accepted <= answered + conns * recordsPerBody,
    `${accepted} accepted, ${answered} answered`,
  );
  check(
    `${tag}: the SSE subscriber received every accepted event`,
    sseEvents === accepted,
    `${sseEvents} of ${accepted}`,
  );
  check(
    `${tag}: every probe accepted and delivered`,
    probeFailures === 0 && probeSent.size === 0,
    `${probeFailures} failed, ${probeSent.size} not delivered`,
  );
  check(`${tag}: exit 0 on SIGTERM`, exitCode === 0, `exit ${exitCode}`);
  return { conns, run, accepted, latency, commits, commitEvents, commitP99, commitSeconds, publishP99 };
}

/** The middle one of `runs` by `key` (the lower middle for an even count). */
const median = (runs, key) => [...runs].sort((a, b) => key(a) - key(b))[Math.floor((runs.length - 1) / 2)];
const rate = (run) => (run.ok * recordsPerBody) / run.duration;

// Each sluice run is paired with a bare loop over as many events as it accepted, run
// right after it: the two see the same phase of a noisy host (on this VM a process runs
// at half speed now and then, for seconds), and stores of the same size (an upsert costs
// more in a larger one). The pair's ratio is what a round reports.
let bareRuns = 0;
const bareLoop = async (events) => {
  const n = Math.max(events, recordsPerBody);
  log(`bare better-sqlite3 upsert loop, ${n} events in transactions of 1,000`);
  const db = join(work, `bare-${bareRuns++}.db`);
  try {
    return await runJson([join(BENCH, 'serve-refs.mjs'), 'upsert', bodiesFile, db, dist, String(n)]);
  } finally {
    // Nine stores of ~100 MB each would otherwise sit in the work folder until the end.
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
  }
};
const sluiceRuns = [];
const allSluiceRounds = [];
for (const c of connectionList) {
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    const run = await sluiceRun(c);
    const bare = await bareLoop(run.accepted);
    runs.push({ ...run, bare, ratio: (100 * rate(run.run)) / bare.perSecond });
  }
  allSluiceRounds.push(...runs);
  sluiceRuns.push({ ...median(runs, (x) => x.ratio), rounds: runs });
}
const upsertRounds = allSluiceRounds.map((r) => r.bare);
const upsert = median(upsertRounds, (x) => x.perSecond);

// ---------------------------------------------------------------- report
const pgVersion = pgStore ? (await pgQuery('SHOW server_version')).rows[0].server_version : '';
const bareRate = rate(bareRun);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const f0 = (n) => Math.round(n).toLocaleString('en-US');
const f1 = (n) => n.toFixed(1);
const load1 = os.loadavg()[0];
const failed = checks.filter((c) => !c.ok);
// The bars are read at the fewest connections measured: closed-loop latency only grows with more.
const barRun = sluiceRuns[connectionList.indexOf(Math.min(...connectionList))];
const bar = {
  conns: barRun.conns,
  ratio: barRun.ratio,
  p99: pct(barRun.latency, 99),
};
const checkCounts = new Map();
for (const c of checks) {
  const k = c.what.replace(/, \d+ connections:/, ':');
  const n = checkCounts.get(k) ?? { ok: 0, failed: 0 };
  n[c.ok ? 'ok' : 'failed']++;
  checkCounts.set(k, n);
}
const checkSummary = [...checkCounts]
  .map(([what, n]) => `${n.failed > 0 ? `**FAILED ${n.failed}×**` : `ok ${n.ok}×`}: ${what}`)
  .join('; ');
const sluiceRows = sluiceRuns
  .map(
    (r) =>
      `| **sluice serve, end to end, ${r.conns} connections** | **${f0(rate(r.run))}** | **${f0(r.ratio)}%** | ${r.run.latency.p50} ms | ${r.run.latency.p99} ms | ${f1(pct(r.latency, 50))} ms | **${f1(pct(r.latency, 99))} ms** | ${f0(r.commitEvents / r.commits)} | ${f1((1000 * r.commitSeconds) / r.commits)} ms | ≤ ${r.commitP99 * 1000} ms | ≤ ${r.publishP99 * 1000} ms |`,
  )
  .join('\n');
const report = `<!-- ${block}:begin -->
## sluice serve: load benchmark${pgStore ? ', on PostgreSQL' : ''}${natsUrl ? ', fan-out through NATS JetStream' : ''}

${failed.length > 0 ? `**FAILED: ${failed.map((c) => c.what).join('; ')}**\n\n` : ''}Made by \`node bench/serve.mjs${argv.length ? ` ${argv.join(' ')}` : ''}\` on ${new Date().toISOString()}: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${load1.toFixed(2)} at the end.
Loopback; ${bareRun.generator} in its own process, keep-alive connections for ${seconds} s per run, POSTing ${recordsPerBody}-record NDJSON bodies (${bodyCount} distinct bodies in turn; 1-8 events per user as providers send them, users drawn from 200k, segments from 500, 20% removals; \`ts\` is the time of receipt, so every upsert writes).
sluice serve runs end to end: bearer key, static authorization, validation into SegmentEvents, ${pgStore ? `PostgreSQL store (a local PostgreSQL ${pgVersion}, its configuration as given: the defaults commit with an fsync each, where SQLite's synchronous=NORMAL does not; group commits two in flight; the bare loop is still SQLite's)` : 'SQLite store (file, WAL, synchronous=NORMAL, its own thread, its checkpointer thread, group commits two in flight)'}, SSE fan-out to one subscriber${natsUrl ? " through NATS JetStream (a local nats-server on the same 2 cores; each commit's events published as one message, read back by the server's consumer)" : ''}. Activation latency: a one-record probe POST every ${probeEveryMs} ms during the load, timed from just before the request to its event arriving on the SSE stream.${nodeArgs.length > 0 ? ` sluice serve's node ran with \`${nodeArgs.join(' ')}\`.` : ''}

| run | events/s | vs bare upsert loop | request p50 | request p99 | activation p50 | activation p99 | events per commit | commit mean | commit p99 | arrival to publish p99 |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| bare node:http, parse only, ${connections} connections | ${f0(bareRate)} | ${f0((100 * bareRate) / upsert.perSecond)}% | ${bareRun.latency.p50} ms | ${bareRun.latency.p99} ms | | | | | | |
| bare better-sqlite3 upsert loop, 1,000 per transaction | ${f0(upsert.perSecond)} | 100% | | | | | 1,000 | | | |
${sluiceRows}

- ${rounds} round${rounds === 1 ? '' : 's'} of each. Each round of sluice is followed by the bare upsert loop over as many events as that round accepted (the same store size, the same phase of the host; the store's WAL threshold with SQLite's own checkpoints; timed to its close, which copies the rest of its WAL back), and reports its rate against that loop's; the table shows the median round by that ratio. Every round:${sluiceRuns
  .map(
    (r) =>
      ` ${r.conns} connections: ${r.rounds.map((x) => `${f0(rate(x.run))}/s against ${f0(x.bare.perSecond)}/s (${f0(x.ratio)}%), activation p99 ${f1(pct(x.latency, 99))} ms`).join('; ')}.`,
  )
  .join('')}
- The bare loop row is the median of its ${upsertRounds.length} runs (${f0(Math.min(...upsertRounds.map((x) => x.events)))} to ${f0(Math.max(...upsertRounds.map((x) => x.events)))} events each), with SQLite's own checkpoints at the store's WAL threshold.

## ${pgStore || natsUrl ? 'Against the bars (set for the default configuration; for comparison only)' : 'Bars (issue 5)'}, at ${bar.conns} connections (the median round)

| bar | needed | measured | |
| --- | ---: | ---: | --- |
| events/s accepted, end to end, vs the bare upsert loop | ≥ 70% | ${f0(bar.ratio)}% | ${bar.ratio >= 70 ? 'met' : '**not met**'} |
| activation latency p99 at that load | < 50 ms | ${f1(bar.p99)} ms | ${bar.p99 < 50 ? 'met' : '**not met**'} |

Checks (each run of each round): ${checkSummary}.
<!-- ${block}:end -->`;
const previous = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# bench results\n';
writeFileSync(RESULTS, replaceBlock(previous, block, report));
process.stdout.write(`${report}\n`);
process.exit(failed.length > 0 ? 1 : 0);
