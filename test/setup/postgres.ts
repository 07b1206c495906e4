/**
 * vitest global setup: a throwaway PostgreSQL server for the tests that need one (the
 * PostgreSQL store runs the same semantics and property tests as SQLite). It is a real
 * server, started from the machine's PostgreSQL binaries in a temporary folder on a free
 * port, with fsync off (the data dies with the run), and stopped at the end.
 *
 * Without PostgreSQL installed those tests are skipped and this says so on stderr;
 * with `SLUICE_REQUIRE_POSTGRES=1` (as `.ci/run` sets) a missing or broken PostgreSQL
 * fails the run instead, so CI cannot skip them silently.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from './free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test PostgreSQL server, or '' when there is none. */
    postgresUrl: string;
  }
}

/** The newest installed PostgreSQL's bin folder (Debian's layout, then PATH). */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env.SLUICE_REQUIRE_POSTGRES === '1';
  const bin = binDir();
  if (!bin) {
    if (required)
      throw new Error('SLUICE_REQUIRE_POSTGRES=1 but no PostgreSQL is installed (initdb not found)');
    process.stderr.write('postgres: not installed; the PostgreSQL store tests are skipped\n');
    project.provide('postgresUrl', '');
    return async () => {};
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  const data = join(dir, 'data');
  // PostgreSQL refuses to run as root: run it as the postgres user then.
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    asRoot ? { cmd: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] } : { cmd, args };
  if (asRoot) {
    chmodSync(dir, 0o777);
  }
  let server: ChildProcess | undefined;
  const stop = async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      // The postmaster itself, by the pid it wrote: runuser, when it stands between, does
      // not pass SIGQUIT on. SIGQUIT is PostgreSQL's immediate shutdown.
      const pidFile = join(data, 'postmaster.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : Number.NaN;
      try {
        if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGQUIT');
        else server.kill('SIGKILL');
      } catch {
        server.kill('SIGKILL');
      }
      const timer = setTimeout(() => server?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const init = run(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'sluice',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    execFileSync(init.cmd, init.args, { stdio: 'pipe' });
    const port = await freePort();
    const start = run(join(bin, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ]);
    server = spawn(start.cmd, start.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr?.on('data', (d) => {
      log = (log + d).slice(-4000);
    });
    const url = `postgres://sluice@127.0.0.1:${port}/postgres`;
    const pg = (await import('pg')).default;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const c = new pg.Client({ connectionString: url });
      try {
        await c.connect();
        await c.query('SELECT 1');
        await c.end();
        break;
      } catch (e) {
        await c.end().catch(() => {});
        if (server.exitCode !== null || Date.now() > deadline) {
          throw new Error(`postgres did not start: ${(e as Error).message}\n${log}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    project.provide('postgresUrl', url);
    return stop;
  } catch (e) {
    await stop();
    if (required) throw e;
    process.stderr.write(
      `postgres: could not start (${(e as Error).message}); the PostgreSQL store tests are skipped\n`,
    );
    project.provide('postgresUrl', '');
    return async () => {};
  }
}
