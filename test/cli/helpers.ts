/**
 * Drives the real, built `sluice` executable (`node dist/src/cli/main.js`) as a user
 * would: arguments, stdin, the working directory; collects stdout, stderr and the
 * exit code. The suite checks the build exists instead of testing a stale or missing
 * one silently.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

/**
 * For `beforeAll`: fails the file with one clear message when the CLI is not built, or
 * was built before the last change to the sources it is built from.
 */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} does not exist: run npm run build first (the CLI tests spawn the built CLI)`);
  }
  const built = statSync(CLI).mtimeMs;
  const newer = [join(ROOT, 'src'), join(ROOT, 'formats')].flatMap((d) => sourcesNewerThan(d, built));
  if (newer.length > 0) {
    throw new Error(`the build is older than ${newer.slice(0, 3).join(', ')}: run npm run build first`);
  }
}

/** Sources the build compiles (tests excluded, as in tsconfig.build.json) changed after `time`. */
function sourcesNewerThan(dir: string, time: number): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((rel) => {
      if (!rel.endsWith('.ts') || rel.endsWith('.test.ts') || /(^|\/)(test|fixtures)\//.test(rel))
        return false;
      return statSync(join(dir, rel)).mtimeMs > time;
    })
    .map((rel) => relative(ROOT, join(dir, rel)));
}

export interface RunOptions {
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  input?: string | Buffer;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Flags for node itself, before the CLI's path (`--parallel-scavenge`). */
  nodeArgs?: readonly string[];
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment the CLI runs in: the tests' own, without debug switches that change stderr. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('SLUICE_DEBUG' in extra)) delete env.SLUICE_DEBUG;
  return env;
}

/** Starts the CLI with every stdio piped; the caller drives it. */
export function start(args: readonly string[], options: Omit<RunOptions, 'input'> = {}): ChildProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? cliEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // The CLI may exit before reading stdin (a usage error); that is not the test's failure.
  child.stdin?.on('error', () => {});
  return child;
}

/**
 * Resolves with the first line the child writes on stdout. The child's stdout stays
 * flowing afterwards (what follows is dropped), so a child writing more never blocks on it.
 */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        child.stdout?.off('data', onData);
        resolvePromise(text.slice(0, nl));
      }
    };
    child.stdout?.on('data', onData);
    child.on('close', () => reject(new Error(`exited before writing a line; got ${JSON.stringify(text)}`)));
  });
}

/** Runs the CLI to the end. */
export function sluice(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const child = start(args, options);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  child.stdin?.end(options.input ?? '');
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Waits for the child to exit, collecting stderr. */
export function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const err: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolvePromise({ code, signal, stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** A fresh temporary directory and its cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A temporary folder for one test file, made before its tests and removed after them.
 * `file()` names a fresh file in it (`<prefix>-<n><ext>`); `dir()` is the folder.
 */
export function tempFilesWith(prefix: string, ext: string): { file: () => string; dir: () => string } {
  let dir = '';
  let cleanup: (() => Promise<void>) | undefined;
  let n = 0;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(() => cleanup?.());
  return { file: () => join(dir, `${prefix}-${++n}${ext}`), dir: () => dir };
}

/** O_NONBLOCK in the octal `flags:` of /proc/<pid>/fdinfo/<fd> (Linux, every architecture Node runs on). */
const O_NONBLOCK = 0o4000;

/** Whether descriptor `fd` of process `pid` (or this one) is in non-blocking mode (Linux only). */
export function nonBlocking(pid: number | 'self', fd: number): boolean {
  const path = `/proc/${pid}/fdinfo/${fd}`;
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(path, 'utf8'))?.[1];
  if (flags === undefined) throw new Error(`no flags in ${path}`);
  return (Number.parseInt(flags, 8) & O_NONBLOCK) !== 0;
}

/** NDJSON text to values. */
export function parseNdjson(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

/** The `--stats` line on stderr: the one line that is a JSON object. */
export function statsFrom(stderr: string): {
  records: { in: number; emitted: number; rejected: number; skipped: number };
  items: { tokenized: number; filtered: number; rejected: number; written: number };
  rejectedByCode: Record<string, number>;
  inputs: number;
  bytes: number;
} {
  const line = stderr.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`no stats JSON on stderr:\n${stderr}`);
  return JSON.parse(line);
}

/** Stack frames look like `    at fn (file:line:col)`; the CLI must never print them unless debugging. */
export const STACK_FRAME = /^\s+at .+/m;
