/**
 * The built CLI, spawned: `sluice serve` under load gets SIGTERM; every event of every
 * request it answered 200 must be in the SQLite file afterwards.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/audience/store/index.js';
import { hashKey, newKey } from '../../src/server/auth.js';
import { requireBuiltCli, start, tempDir } from '../cli/helpers.js';

const T0 = 1714564800000;

/** Resolves with the URL from the server's first log line, and collects the rest of stderr. */
function listening(child: ChildProcess): { url: Promise<string>; stderr: () => string } {
  let text = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      text += d;
      const m = /"msg":"listening","url":"([^"]+)"/.exec(text);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`server exited before listening:\n${text}`)));
  });
  return { url, stderr: () => text };
}

describe('sluice serve: graceful shutdown on SIGTERM', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    requireBuiltCli();
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(() => cleanup?.());

  it('loses no event of a request answered 200, publishes them all, and exits 0', async () => {
    const key = newKey();
    const bidderKey = newKey();
    const config = join(dir, 'sluice.yaml');
    await writeFile(
      config,
      [
        'store: sqlite:./audience.db',
        'regions: [eu]',
        'principals:',
        '  - id: provider',
        `    keys: [${hashKey(key)}]`,
        '    namespaces: [acme]',
        '  - id: bidder',
        `    keys: [${hashKey(bidderKey)}]`,
        '    subscribe: [eu]',
      ].join('\n'),
    );
    const child = start(['serve', '--config', config, '--listen', '127.0.0.1:0'], { cwd: dir });
    const log = listening(child);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = await log.url;
    const agent = new Agent({ connections: 16 });
    const headers = {
      authorization: `Bearer ${key}`,
      'content-type': 'application/x-ndjson',
      'x-sluice-region': 'eu',
    };
    // A subscriber: every event answered 200 must also reach it before its stream ends.
    const published = new Set<string>();
    const sse = await request(`${url}/v1/regions/eu/events`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${bidderKey}` },
    });
    let sseText = '';
    sse.body.setEncoding('utf8');
    sse.body.on('data', (d: string) => {
      sseText += d;
      for (let i = sseText.indexOf('\n\n'); i >= 0; i = sseText.indexOf('\n\n')) {
        const data = /^data: (.*)$/m.exec(sseText.slice(0, i));
        if (data) published.add(JSON.parse(data[1]!).uid);
        sseText = sseText.slice(i + 2);
      }
    });
    const sseEnded = new Promise<void>((r) => {
      sse.body.on('end', () => r());
      sse.body.on('error', () => r());
    });
    const acknowledged: string[] = [];
    let answered200 = 0;
    let signalled = false;

    // A request whose body is still arriving when the signal comes.
    const slowUids = Array.from({ length: 20 }, (_, i) => `slow-${i}`);
    const slow = request(`${url}/v1/namespaces/acme/events`, {
      dispatcher: agent,
      method: 'POST',
      headers,
      body: Readable.from(
        (async function* () {
          for (const uid of slowUids) {
            yield `${JSON.stringify({ uid, seg: 's', ts: T0 })}\n`;
            await new Promise((r) => setTimeout(r, 25));
          }
        })(),
      ),
    });

    // Eight clients posting 50 events a request, until the server stops taking them.
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let j = 0; j < 400; j++) {
        const uids = Array.from({ length: 50 }, (_, k) => `c${c}-r${j}-e${k}`);
        const body = uids.map((uid) => `${JSON.stringify({ uid, seg: 's', ts: T0 })}\n`).join('');
        try {
          const r = await request(`${url}/v1/namespaces/acme/events`, {
            dispatcher: agent,
            method: 'POST',
            headers,
            body,
          });
          const text = await r.body.text();
          if (r.statusCode === 200) {
            expect(JSON.parse(text)).toMatchObject({ accepted: 50, rejected: 0 });
            acknowledged.push(...uids);
            answered200++;
          } else if (signalled) {
            expect(r.statusCode).toBe(503);
            return;
          } else throw new Error(`unexpected ${r.statusCode} ${text}`);
        } catch (e) {
          // After the signal, a refused or closed connection is the expected end.
          if (signalled) return;
          throw e;
        }
      }
    });

    // Signal once the slow request is surely inside the server (its first event was
    // published) and the clients have had answers.
    for (let i = 0; i < 500 && !(published.has('slow-0') && answered200 >= 8); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(published.has('slow-0')).toBe(true);
    signalled = true;
    child.kill('SIGTERM');
    const slowReply = await slow;
    const slowBody = await slowReply.body.text();
    await Promise.all(clients);
    const code = await exited;
    await sseEnded;
    await agent.close();

    expect(code, log.stderr()).toBe(0);
    expect(log.stderr()).toContain('"msg":"stopped"');
    expect(slowReply.statusCode).toBe(200);
    expect(JSON.parse(slowBody)).toMatchObject({ accepted: 20 });
    acknowledged.push(...slowUids);
    expect(answered200).toBeGreaterThan(0);

    const store = await openSqliteStore(join(dir, 'audience.db'));
    try {
      const rows = new Set((await store.snapshot()).map((r) => r.uid));
      const missing = acknowledged.filter((uid) => !rows.has(uid));
      expect(missing).toEqual([]);
      const unpublished = acknowledged.filter((uid) => !published.has(uid));
      expect(unpublished).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
