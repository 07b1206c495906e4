/**
 * vitest global setup: a throwaway NATS server with JetStream for the fan-out tests
 * (`fanout.nats`). A real `nats-server` (Debian's package, or one on PATH) on a free
 * loopback port, its JetStream store in a temporary folder, stopped at the end.
 *
 * Without nats-server those tests are skipped and this says so on stderr; with
 * `SLUICE_REQUIRE_NATS=1` (as `.ci/run` sets) a missing or broken one fails the run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from './free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `nats://127.0.0.1:<port>` of the test NATS server, or '' when there is none. */
    natsUrl: string;
  }
}

/** The nats-server binary, or undefined when none is installed. */
export function natsServer(): string | undefined {
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server']) if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Resolves once something accepts connections on the port. */
async function accepting(port: number, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (server.exitCode !== null || Date.now() > deadline) {
      throw new Error(`nats-server did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A running nats-server with JetStream, and how to stop it (its folder removed). */
export interface RunningNats {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts nats-server `bin` with JetStream on a free loopback port (or `port`). */
export async function startNats(bin: string, port?: number): Promise<RunningNats> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  port ??= await freePort();
  const server = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  server.stderr?.on('data', (d) => {
    log = (log + d).slice(-4000);
  });
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await accepting(port, server, () => log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `nats://127.0.0.1:${port}`, port, stop };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env.SLUICE_REQUIRE_NATS === '1';
  const bin = natsServer();
  if (!bin) {
    if (required) throw new Error('SLUICE_REQUIRE_NATS=1 but nats-server is not installed');
    process.stderr.write('nats: nats-server not installed; the NATS fan-out tests are skipped\n');
    project.provide('natsUrl', '');
    return async () => {};
  }
  let nats: RunningNats;
  try {
    nats = await startNats(bin);
  } catch (e) {
    if (required) throw e;
    process.stderr.write(`nats: ${(e as Error).message}; the NATS fan-out tests are skipped\n`);
    project.provide('natsUrl', '');
    return async () => {};
  }
  project.provide('natsUrl', nats.url);
  return nats.stop;
}
