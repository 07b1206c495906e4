#!/usr/bin/env node
import { readFileSync } from 'node:fs';
// The two references `bench/serve.mjs` measures sluice serve against, each as bare as it
// can be while doing the same job:
//
//   node bench/serve-refs.mjs http
//     A bare node:http server that reads each body, splits it into lines and JSON.parses
//     every line, then answers {"accepted": n}: the HTTP and parsing ceiling, no auth, no
//     validation, no store. Prints {"url": ...} on stdout once listening.
//
//   node bench/serve-refs.mjs upsert <bodies.json> <db-file> <dist-dir> [events]
//     A bare better-sqlite3 loop: the store's own last-writer-wins upsert (the SQL that
//     `apply` runs, imported from dist) over the same events (the bodies once, or in
//     turn until there are `events`), in transactions of 1,000,
//     on a file database with the store's pragmas (WAL, synchronous=NORMAL, its cache and
//     WAL threshold). Prints
//     {"events", "seconds", "perSecond"}: the store ceiling.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'http') {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let n = 0;
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        if (end > start) {
          JSON.parse(text.slice(start, end));
          n++;
        }
        start = end + 1;
      }
      const body = JSON.stringify({ accepted: n });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'upsert') {
  const [bodiesFile, dbFile, dist, count] = args;
  const { SQL, STORE_DEFAULTS } = await import(
    pathToFileURL(join(dist, 'src/audience/store/sqlite.js')).href
  );
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`cache_size = ${-STORE_DEFAULTS.cacheMiB * 1024}`);
  // SQLite's own checkpoints, inside the commit that crosses the store's WAL threshold:
  // what a bare loop does.
  db.pragma(`wal_autocheckpoint = ${STORE_DEFAULTS.walAutocheckpoint}`);
  db.exec(SQL.schema);
  const upsert = db.prepare(SQL.upsertSegment);
  // The same events the server receives: each body's lines, with ts the time of applying;
  // with a count, the bodies in turn until there are that many, as the load sends them.
  const bodies = JSON.parse(readFileSync(bodiesFile, 'utf8'));
  const want = count === undefined ? undefined : Number(count);
  const events = [];
  for (let b = 0; want === undefined ? b < bodies.length : events.length < want; b++) {
    for (const line of bodies[b % bodies.length].split('\n')) if (line) events.push(JSON.parse(line));
  }
  if (want !== undefined) events.length = want;
  const tx = db.transaction((slice, ts) => {
    for (const e of slice) upsert.run('bench', e.uid, e.seg, e.op ?? 'add', ts, null);
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += 1000) tx(events.slice(i, i + 1000), Date.now());
  // The close is timed: it copies what the last checkpoint left in the WAL back into the
  // database. Untimed, the loop would skip the copying of up to one WAL threshold of its
  // events, which the server's checkpointer does while it is timed.
  db.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    `${JSON.stringify({ events: events.length, seconds, perSecond: events.length / seconds })}\n`,
  );
} else {
  console.error('usage: serve-refs.mjs http | upsert <bodies.json> <db-file> <dist-dir> [events]');
  process.exit(64);
}
