import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../src/server/auth.js';
import { DEFAULTS, loadConfig, parseConfig, parseListenAddress } from '../../src/server/config.js';

const H1 = hashKey('key-one');
const H2 = hashKey('key-two');

const GOOD = `
listen: 127.0.0.1:8080
store: sqlite:./audience.db
regions: [us, eu, apac]
principals:
  - id: acme-data
    keys: [${H1}]
    namespaces: [acme, client-a]
  - id: bidder-eu
    keys: [${H2}]
    subscribe: [eu]
`;

function problems(text: string): string {
  try {
    parseConfig(text, '/etc/sluice.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('server config', () => {
  it('reads the example from the issue and fills in the defaults', () => {
    const c = parseConfig(GOOD, '/srv/sluice/sluice.yaml');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.store).toEqual({ kind: 'sqlite', path: '/srv/sluice/audience.db' });
    expect(c.regions).toEqual(['us', 'eu', 'apac']);
    expect(c.principals[0]).toEqual({
      id: 'acme-data',
      keys: [H1],
      namespaces: ['acme', 'client-a'],
      subscribe: [],
      admin: false,
    });
    expect(c.limits).toEqual(DEFAULTS.limits);
    expect(c.groupCommit).toEqual(DEFAULTS.groupCommit);
    expect(c.authorizer).toBeUndefined();
  });

  it('resolves a relative store path against the config file folder, and keeps :memory:', () => {
    expect(parseConfig(GOOD.replace('./audience.db', 'data/a.db'), '/x/y/s.yaml').store).toEqual({
      kind: 'sqlite',
      path: '/x/y/data/a.db',
    });
    expect(parseConfig(GOOD.replace('sqlite:./audience.db', '"sqlite::memory:"'), '/x/s.yaml').store).toEqual(
      { kind: 'sqlite', path: ':memory:' },
    );
  });

  it('takes a PostgreSQL URL as the store, and never echoes its password', () => {
    const url = 'postgres://sluice:s3cret@db.internal:5432/audience';
    const c = parseConfig(GOOD.replace('sqlite:./audience.db', url));
    expect(c.store).toEqual({ kind: 'postgres', url });
    expect(c.groupCommit.maxInFlight).toBe(2);
    const bad = problems(GOOD.replace('sqlite:./audience.db', 'postgres://sluice:s3cret@[bad/audience'));
    expect(bad).toContain('store: expected a valid postgres:// URL');
    expect(bad).not.toContain('s3cret');
    expect(
      problems(`${GOOD.replace('sqlite:./audience.db', url)}\nstoreOptions: { cacheMiB: 8 }\n`),
    ).toContain('storeOptions: expected nothing with a postgres:// store (these settings tune SQLite)');
  });

  it('takes fanout.nats as a URL or a mapping, with defaults for the stream and its subjects', () => {
    expect(parseConfig(`${GOOD}\nfanout: { nats: "nats://127.0.0.1:4222" }\n`).fanout.nats).toEqual({
      url: 'nats://127.0.0.1:4222',
      ...DEFAULTS.nats,
    });
    const c = parseConfig(
      `${GOOD}\nfanout:\n  nats: { url: "nats://a:4222,nats://b:4222", stream: AUD, subjectPrefix: aud.ev, maxAgeSeconds: 60 }\n`,
    );
    expect(c.fanout.nats).toEqual({
      url: 'nats://a:4222,nats://b:4222',
      stream: 'AUD',
      subjectPrefix: 'aud.ev',
      maxAgeSeconds: 60,
    });
    expect(parseConfig(GOOD).fanout.nats).toBeUndefined();
  });

  it('refuses a fanout.nats that NATS would not take, never echoing a password', () => {
    const bad = problems(
      `${GOOD.replace('regions: [us, eu, apac]', 'regions: [us, eu, eu.west]')}\nfanout:\n  nats: { url: "http://u:s3cret@x", stream: "a.b", subjectPrefix: "ev.*", maxAgeSeconds: 0 }\n`,
    );
    expect(bad).toContain('fanout.nats.url: expected nats://host:port (several separated by commas)');
    expect(bad).not.toContain('s3cret');
    expect(bad).toContain('fanout.nats.stream: expected a stream name without dots');
    expect(bad).toContain('fanout.nats.subjectPrefix: expected subject tokens separated by dots');
    expect(bad).toContain('fanout.nats.maxAgeSeconds: expected an integer from 1');
    expect(bad).toContain('regions[2]: "eu.west" cannot be a NATS subject token');
    // Without NATS, a region may have a dot.
    expect(
      parseConfig(GOOD.replace('regions: [us, eu, apac]', 'regions: [us, eu, eu.west]')).regions,
    ).toEqual(['us', 'eu', 'eu.west']);
  });

  it('names the path of a key that is not a sha256 hash, with what was expected', () => {
    const msg = problems(GOOD.replace(`keys: [${H2}]`, 'keys: [abc]'));
    expect(msg).toContain('config /etc/sluice.yaml is not valid');
    expect(msg).toContain('principals[1].keys[0]: expected "sha256:<64 hex>"');
    expect(msg).toContain('got "abc"');
  });

  it('reports every problem at once, each on its own line', () => {
    const msg = problems(`
store: mysql://x
regions: []
principals:
  - id: a
    keys: []
    admin: "yes"
limits:
  maxBodyBytes: lots
  rateLimit: { requestsPerSecond: -1 }
`);
    const lines = msg
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
    expect(lines).toEqual(
      expect.arrayContaining([
        'store: expected "sqlite:<path>", "sqlite::memory:" or "postgres://<host>/<database>", got "mysql://x"',
        'regions: expected a non-empty list, got an empty list',
        'principals[0].keys: expected a non-empty list, got an empty list',
        'principals[0].admin: expected true or false, got "yes"',
        'limits.maxBodyBytes: expected a size such as 1048576, 512k, 64m or 1g, got "lots"',
        'limits.rateLimit.requestsPerSecond: expected a number >= 0.001, got number -1',
      ]),
    );
  });

  it('refuses unknown settings, naming the known ones', () => {
    expect(problems(`${GOOD}\nlimit: {}\n`)).toMatch(/limit: unknown setting \(known: listen, store,/);
    expect(problems(GOOD.replace('subscribe: [eu]', 'subscribe: [eu]\n    namespace: [x]'))).toContain(
      'principals[1].namespace: unknown setting',
    );
  });

  it('refuses a subscription to a region that is not configured', () => {
    expect(problems(GOOD.replace('subscribe: [eu]', 'subscribe: [mars]'))).toContain(
      'principals[1].subscribe[0]: expected one of the regions (us, eu, apac), got "mars"',
    );
  });

  it('refuses duplicate principal ids, and a key hash shared by two principals', () => {
    const msg = problems(GOOD.replace('bidder-eu', 'acme-data').replace(`[${H2}]`, `[${H1}]`));
    expect(msg).toContain('principals[1]: duplicate principal id "acme-data"');
    expect(problems(GOOD.replace(`[${H2}]`, `[${H1}]`))).toContain(
      'principals[1].keys[0]: this key hash is also a key of principal acme-data',
    );
  });

  it('takes the store durability (normal by default) and its thread (on by default)', () => {
    expect(parseConfig(GOOD).storeOptions).toEqual({ synchronous: 'normal', thread: true });
    expect(parseConfig(`${GOOD}\nstoreOptions: { synchronous: full, thread: false }\n`).storeOptions).toEqual(
      {
        synchronous: 'full',
        thread: false,
      },
    );
    expect(
      parseConfig(`${GOOD}\nstoreOptions: { cacheMiB: 256, walAutocheckpoint: 2000 }\n`).storeOptions,
    ).toEqual({ synchronous: 'normal', thread: true, cacheMiB: 256, walAutocheckpoint: 2000 });
    expect(problems(`${GOOD}\nstoreOptions: { walAutocheckpoint: -1 }\n`)).toContain(
      'storeOptions.walAutocheckpoint: expected an integer from 0',
    );
    expect(parseConfig(`${GOOD}\nstoreOptions: { checkpoint: inline }\n`).storeOptions).toEqual({
      synchronous: 'normal',
      thread: true,
      checkpoint: 'inline',
    });
    const bad = problems(
      `${GOOD}\nstoreOptions: { synchronous: off, thread: yes please, checkpoint: never }\n`,
    );
    expect(bad).toContain('storeOptions.synchronous: expected normal or full, got "off"');
    expect(bad).toMatch(/storeOptions\.thread: expected .*, got "yes please"/);
    expect(bad).toContain('storeOptions.checkpoint: expected background or inline, got "never"');
  });

  it('keeps two group commits in flight with the store in its thread, one without (unless set)', () => {
    expect(parseConfig(GOOD).groupCommit.maxInFlight).toBe(2);
    expect(parseConfig(`${GOOD}\nstoreOptions: { thread: false }\n`).groupCommit.maxInFlight).toBe(1);
    const set = `${GOOD}\nstoreOptions: { thread: false }\ngroupCommit: { maxInFlight: 3 }\n`;
    expect(parseConfig(set).groupCommit.maxInFlight).toBe(3);
  });

  it('takes a rate limit by requests, by events, or both, each with its burst', () => {
    const limits = (rl: string) => parseConfig(`${GOOD}\nlimits: { rateLimit: ${rl} }\n`).limits.rateLimit;
    expect(limits('{ requestsPerSecond: 5 }')).toEqual({ requestsPerSecond: 5, burst: 5 });
    expect(limits('{ eventsPerSecond: 1000, eventBurst: 5000 }')).toEqual({
      eventsPerSecond: 1000,
      eventBurst: 5000,
    });
    expect(limits('{ requestsPerSecond: 0.5, eventsPerSecond: 2.5 }')).toEqual({
      requestsPerSecond: 0.5,
      burst: 1,
      eventsPerSecond: 2.5,
      eventBurst: 3,
    });
    expect(problems(`${GOOD}\nlimits: { rateLimit: {} }\n`)).toContain(
      'limits.rateLimit: expected requestsPerSecond, eventsPerSecond or both',
    );
    expect(problems(`${GOOD}\nlimits: { rateLimit: { eventBurst: 5, requestsPerSecond: 1 } }\n`)).toContain(
      'limits.rateLimit.eventBurst: expected to be given with eventsPerSecond',
    );
  });

  it('reads sizes with binary suffixes', () => {
    const c = parseConfig(`${GOOD}\nlimits: { maxBodyBytes: 8m, maxRecordBytes: 64k }\n`);
    expect(c.limits.maxBodyBytes).toBe(8 * 1024 * 1024);
    expect(c.limits.maxRecordBytes).toBe(64 * 1024);
  });

  it('gives the line and column of a YAML syntax error', () => {
    const msg = problems('listen: [1, 2\nstore: x\n');
    expect(msg).toContain('is not valid YAML');
    expect(msg).toMatch(/\/etc\/sluice\.yaml:\d+:\d+: /);
  });

  it('refuses a duplicate key in the YAML rather than keeping the last', () => {
    expect(problems(`${GOOD}\nregions: [x]\n`)).toContain('is not valid YAML');
  });

  it('checks the authorizer service settings and fills in its defaults', () => {
    const c = parseConfig(`${GOOD}\nauthorizer: { url: "http://127.0.0.1:9/authz" }\n`);
    expect(c.authorizer).toEqual({ url: 'http://127.0.0.1:9/authz', ...DEFAULTS.authorizer });
    expect(problems(`${GOOD}\nauthorizer: { url: "ftp://x", timeoutMs: 0 }\n`)).toMatch(
      /authorizer\.url: expected an http\(s\) URL[\s\S]*authorizer\.timeoutMs: expected an integer from 1 to 60000, got number 0/,
    );
  });

  it('refuses a header timeout longer than the request timeout', () => {
    expect(problems(`${GOOD}\nlimits: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 }\n`)).toContain(
      'limits.headersTimeoutMs: must not exceed limits.requestTimeoutMs',
    );
  });

  it('reads listen addresses: host:port, [ipv6]:port, a bare port', () => {
    expect(parseListenAddress('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListenAddress('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(() => parseListenAddress('localhost:99999')).toThrow(/--listen: expected host:port/);
  });

  it('loads a file, and names it when it cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-config-'));
    try {
      await writeFile(join(dir, 's.yaml'), GOOD);
      expect((await loadConfig(join(dir, 's.yaml'))).store).toEqual({
        kind: 'sqlite',
        path: join(dir, 'audience.db'),
      });
      await expect(loadConfig(join(dir, 'missing.yaml'))).rejects.toThrow(
        /cannot read config .*missing\.yaml/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
