/**
 * How a run ends: the one line printed for a failure, the exit code, broken-pipe
 * detection, and leaving the process once stdout and stderr are flushed.
 *
 * Exit codes come from the error table (`ERROR_CODES`): 64 usage, 65 data, 66 input,
 * 70 internal, 73 output, 74 sink, 130 interrupted. A reader that goes away
 * (`sluice … | head -1`) is success, as for every Unix filter.
 */
// Only the error table: loading it must not load the formats (`--help` stays instant).
import { isSluiceError } from '../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_INTERNAL = 70;
export const EXIT_INTERRUPTED = 130;

/** True when `e`, or anything in its `cause` chain, is an EPIPE (the reader closed the pipe). */
export function isBrokenPipe(e: unknown): boolean {
  const seen = new Set<unknown>();
  for (let cur = e; cur !== null && typeof cur === 'object' && !seen.has(cur); cur = (cur as Error).cause) {
    seen.add(cur);
    if ((cur as NodeJS.ErrnoException).code === 'EPIPE') return true;
  }
  return false;
}

export interface Failure {
  code: number;
  /** The lines to print on stderr, without trailing newlines. */
  lines: string[];
}

/**
 * What to print for an error and which code to exit with. A coded error is one line,
 * `sluice: <source>:<line>: <message> [<CODE>]`; anything else is a bug in sluice or
 * in a user module and says so. Stacks (with causes) only under `SLUICE_DEBUG=1`.
 */
export function describeFailure(e: unknown, debug: boolean): Failure {
  const lines: string[] = [];
  let code: number;
  if (isSluiceError(e)) {
    lines.push(`sluice: ${e.describe()}`);
    code = e.exitCode;
  } else {
    lines.push(`sluice: internal error: ${e instanceof Error ? e.message : String(e)}`);
    code = EXIT_INTERNAL;
  }
  if (debug) lines.push(...stackLines(e));
  return { code, lines };
}

function stackLines(e: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  for (
    let cur = e, first = true;
    cur !== undefined && !seen.has(cur);
    cur = (cur as Error)?.cause, first = false
  ) {
    seen.add(cur);
    const text = cur instanceof Error ? (cur.stack ?? `${cur.name}: ${cur.message}`) : String(cur);
    out.push(first ? text : `caused by: ${text}`);
  }
  return out;
}

export function isDebug(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.SLUICE_DEBUG;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

let stdoutBroken = false;
const brokenListeners = new Set<() => void>();

/**
 * Installed once, first thing: a closed stdout (EPIPE) must never crash the process
 * with an unhandled 'error' event, whoever is writing at the time; the run in
 * progress is told so it can stop reading. A closed stderr is ignored for the same
 * reason (there is nowhere left to complain).
 */
export function guardStdio(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (isBrokenPipe(e)) {
      stdoutBroken = true;
      for (const fn of brokenListeners) fn();
    }
    // Other stdout errors reach whoever wrote (the pipeline's stdout sink reports them).
  });
  process.stderr.on('error', () => {});
}

export function isStdoutBroken(): boolean {
  return stdoutBroken;
}

/** Calls `fn` when stdout turns out to be a closed pipe; returns the unsubscribe function. */
export function onStdoutBroken(fn: () => void): () => void {
  brokenListeners.add(fn);
  return () => brokenListeners.delete(fn);
}

/** Resolves once everything written to `stream` so far has been handed to the OS (or the stream is gone). */
export function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) return resolve();
    stream.write('', () => resolve());
  });
}

/**
 * Leaves the process with `code` once stdout (unless it is broken, or the run was
 * interrupted) and stderr are flushed. Exiting explicitly matters: a user transform
 * may hold a timer or a socket, and an unread stdin would keep the loop alive after a
 * failure.
 */
export async function exitProcess(code: number): Promise<never> {
  if (code !== EXIT_INTERRUPTED && !stdoutBroken) await flushed(process.stdout);
  await flushed(process.stderr);
  process.exit(code);
}
