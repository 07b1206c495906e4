#!/usr/bin/env node
// The load generator of `bench/serve.mjs`, in a process of its own so its CPU is not the
// measuring process's: autocannon POSTs the prepared bodies in turn (each request takes
// the next one, so the store sees fresh keys, not the same 100 rows again) and prints
// autocannon's result as one JSON line on stdout.
//
//   node bench/serve-load.mjs <url> <bodies.json> <seconds> <connections> [header:value ...]
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, bodiesFile, seconds, connections, ...headerArgs] = process.argv.slice(2);
if (!url || !bodiesFile || !seconds || !connections) {
  console.error('usage: serve-load.mjs <url> <bodies.json> <seconds> <connections> [header:value ...]');
  process.exit(64);
}
const bodies = JSON.parse(readFileSync(bodiesFile, 'utf8'));
const headers = { 'content-type': 'application/x-ndjson' };
for (const h of headerArgs) {
  const i = h.indexOf(':');
  headers[h.slice(0, i).toLowerCase()] = h.slice(i + 1);
}
let next = 0;
const result = await autocannon({
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
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duration: result.duration,
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  })}\n`,
);
