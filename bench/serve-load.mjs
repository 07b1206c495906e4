#!/usr/bin/env node
// The load generator of `bench/serve.mjs`, in a process of its own so its CPU is not the
// measuring process's. It POSTs the prepared bodies in turn (each request takes the next
// one, so the store sees fresh keys, not the same 100 rows again) and prints the result
// as one JSON line on stdout: {generator, requests, ok, non2xx, errors, timeouts,
// duration (s), latency: {p50, p99, max} (ms)}.
//
// wrk when it is installed (`apt-get install wrk`), else autocannon. On a 2-core machine
// the load generator shares the cores with the server it loads: autocannon (JavaScript)
// used ~26% of a core to drive 8 connections, wrk (C, one thread) far less, which leaves
// the server what a separate load machine would. `--generator autocannon` forces it.
//
//   node bench/serve-load.mjs <url> <bodies.json> <seconds> <connections> [header:value ...]
//                             [--generator wrk|autocannon]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const gi = args.indexOf('--generator');
const forced = gi < 0 ? undefined : args.splice(gi, 2)[1];
const [url, bodiesFile, seconds, connections, ...headerArgs] = args;
if (!url || !bodiesFile || !seconds || !connections || (forced && !['wrk', 'autocannon'].includes(forced))) {
  console.error(
    'usage: serve-load.mjs <url> <bodies.json> <seconds> <connections> [header:value ...] [--generator wrk|autocannon]',
  );
  process.exit(64);
}
const bodies = JSON.parse(readFileSync(bodiesFile, 'utf8'));
const headers = { 'content-type': 'application/x-ndjson' };
for (const h of headerArgs) {
  const i = h.indexOf(':');
  headers[h.slice(0, i).toLowerCase()] = h.slice(i + 1);
}

const wrkVersion = () => {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (r.error) return undefined;
  return /wrk\s+(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'wrk';
};
const version = forced === 'autocannon' ? undefined : wrkVersion();
if (forced === 'wrk' && version === undefined) {
  console.error('serve-load: wrk is not installed (apt-get install wrk)');
  process.exit(1);
}
const result = version === undefined ? await withAutocannon() : withWrk(version);
process.stdout.write(`${JSON.stringify(result)}\n`);

async function withAutocannon() {
  const { default: autocannon } = await import('autocannon');
  let next = 0;
  const r = await autocannon({
    url,
    method: 'POST',
    connections: Number(connections),
    duration: Number(seconds),
    headers,
    requests: [
      {
        setupRequest(req) {
          req.body = bodies[next];
          next = (next + 1) % bodies.length;
          return req;
        },
      },
    ],
  });
  return {
    generator: 'autocannon 9',
    requests: r.requests.total,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    duration: r.duration,
    latency: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
  };
}

/** A Lua long string that no body can close early: `[==[…]==]` with enough `=`. */
function luaString(s) {
  let eq = '';
  while (s.includes(`]${eq}]`)) eq += '=';
  // A newline right after the opening bracket is dropped by Lua: give it one to drop.
  return `[${eq}[\n${s}]${eq}]`;
}

function withWrk(v) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wrk-'));
  try {
    const script = join(dir, 'load.lua');
    const headerLua = Object.entries(headers)
      .map(([k, val]) => `[ ${luaString(k)} ] = ${luaString(val)}`)
      .join(', ');
    // Every request is formatted once, up front; `request` only hands the next one out.
    writeFileSync(
      script,
      `local bodies = { ${bodies.map(luaString).join(',\n')} }
local headers = { ${headerLua} }
local prepared = {}
local next = 0
init = function()
  for i, body in ipairs(bodies) do prepared[i] = wrk.format("POST", nil, headers, body) end
end
request = function()
  next = next % #prepared + 1
  return prepared[next]
end
done = function(summary, latency)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"status":%d,"socket":%d,"timeouts":%d,"us":%d,"p50":%d,"p99":%d,"max":%d}\\n',
    summary.requests, e.status, e.connect + e.read + e.write, e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`,
    );
    // One wrk thread: it drives a few connections with a fraction of a core.
    const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"requests"'));
    if (r.status !== 0 || line === undefined) {
      throw new Error(`wrk failed (${r.status}): ${r.stderr}${r.stdout}`.slice(0, 2000));
    }
    const w = JSON.parse(line);
    const ms = (us) => Math.round(us / 1000);
    return {
      generator: `wrk ${v}`,
      requests: w.requests,
      // wrk counts a status of 400 and above as an error; the rest answered 2xx here.
      ok: w.requests - w.status,
      non2xx: w.status,
      errors: w.socket,
      timeouts: w.timeouts,
      duration: w.us / 1e6,
      latency: { p50: ms(w.p50), p99: ms(w.p99), max: ms(w.max) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
