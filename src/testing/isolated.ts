/**
 * Runs the laws on a format module in a worker thread, with a watchdog: a case that
 * does not return within the time limit (a tokenizer in an infinite loop) fails its
 * law as a hang, the worker is terminated, and the remaining laws go on in a fresh
 * worker with the same seed. This is what `sluice check-format` uses; it is the only
 * way to keep "never a hang" a checkable promise, since nothing can interrupt
 * synchronous code in the thread that runs it.
 */
import { Worker } from 'node:worker_threads';
import { type ErrorCode, SluiceError } from '../core/errors.js';
import { runSettings } from './format-laws.js';
import { LAW_IDS } from './laws/index.js';
import type { LawId, LawResult } from './laws/types.js';

/** What the worker is started with. */
export interface WorkerInput {
  path: string;
  cwd: string;
  samples: Uint8Array[];
  options: Record<string, unknown>;
  runs: number;
  seed: number;
  caseTimeoutMs: number;
  laws: LawId[];
  fixedTime: number | undefined;
}

/** What the worker tells its parent, in this order: loaded, then start/case.../result per law, then done. */
export type WorkerMessage =
  | {
      type: 'loaded';
      format: string;
      arbitrary: string | undefined;
      samples: number;
      laws: { id: LawId; title: string }[];
    }
  | { type: 'start'; law: LawId }
  | { type: 'case'; law: LawId; text: string }
  | { type: 'result'; result: LawResult }
  | { type: 'done' }
  | { type: 'error'; code: ErrorCode | undefined; message: string };

export interface CheckFormatModuleOptions {
  /** Inputs in addition to the module's `samples`. */
  samples?: readonly (string | Uint8Array)[];
  /** Format options, raw (`{ delimiter: ';' }`). */
  options?: Record<string, unknown>;
  /** @default 100 */
  runs?: number;
  /** @default a random seed, reported */
  seed?: number;
  /** A case that has not returned after this long is a hang. @default 5000 */
  caseTimeoutMs?: number;
  laws?: readonly LawId[];
  /** Stop the clock at this instant while each case runs (see `FormatLawOptions.fixedTime`). */
  fixedTime?: number;
  /** Resolved against this. @default process.cwd() */
  cwd?: string;
  /** Called once the module is loaded, before any law runs. */
  onLoad?: (info: ModuleInfo) => void;
  /** Called as each law finishes, in order. */
  onResult?: (result: LawResult) => void;
}

export interface ModuleInfo {
  module: string;
  format: string;
  /** `export`, the sibling file it came from, or undefined. */
  arbitrary: string | undefined;
  samples: number;
  seed: number;
  runs: number;
}

export interface ModuleReport extends ModuleInfo {
  results: LawResult[];
}

/** How long loading the module (and fast-check) may take before the worker is given up on. */
const LOAD_TIMEOUT_MS = 60_000;
/** Slack on top of the case limit (at most the limit again): the in-worker guard reports slow cases that do return first. */
const WATCHDOG_GRACE_MS = 1000;

/**
 * Loads the format module at `path` in a worker thread and runs every law that applies
 * (see `checkFormat`), each case under a time limit. Resolves with the results; rejects
 * only when the module cannot be loaded or the options are wrong (a coded SluiceError).
 */
export async function checkFormatModule(
  path: string,
  options: CheckFormatModuleOptions = {},
): Promise<ModuleReport> {
  // Checked here, before a worker is started; the seed is drawn here so that every worker shares it.
  const { runs, seed, caseTimeoutMs, fixedTime } = runSettings(options);
  const input: WorkerInput = {
    path,
    cwd: options.cwd ?? process.cwd(),
    samples: (options.samples ?? []).map((s) =>
      typeof s === 'string' ? new Uint8Array(Buffer.from(s, 'utf8')) : s,
    ),
    options: options.options ?? {},
    runs,
    seed,
    caseTimeoutMs,
    laws: [...(options.laws ?? LAW_IDS)],
    fixedTime,
  };
  const results: LawResult[] = [];
  let info: ModuleInfo | undefined;
  let titles = new Map<LawId, string>();
  let remaining = input.laws;
  while (remaining.length > 0) {
    const round = await runWorker({ ...input, laws: remaining }, caseTimeoutMs, {
      loaded: (m) => {
        if (info) return;
        titles = new Map(m.laws.map((l) => [l.id, l.title]));
        info = { module: path, format: m.format, arbitrary: m.arbitrary, samples: m.samples, seed, runs };
        options.onLoad?.(info);
      },
      result: (r) => {
        results.push(r);
        options.onResult?.(r);
      },
    });
    if (round.kind === 'done') break;
    // The worker hung or died on a law: that law fails, the rest run in a fresh worker.
    const r: LawResult = {
      law: round.law,
      title: titles.get(round.law) ?? round.law,
      status: 'failed',
      runs: round.cases,
      seed,
      path: undefined,
      shrinks: 0,
      counterexample: round.lastCase ?? '(none: no case had started)',
      reason: round.reason,
      ms: round.ms,
      hang: round.kind === 'hang',
    };
    results.push(r);
    options.onResult?.(r);
    remaining = remaining.slice(remaining.indexOf(round.law) + 1);
  }
  if (!info)
    throw new SluiceError('SLUICE_E_INTERNAL', `the law worker for ${path} stopped before loading it`);
  return { ...info, results };
}

type Round =
  | { kind: 'done' }
  | {
      kind: 'hang' | 'died';
      law: LawId;
      lastCase: string | undefined;
      cases: number;
      reason: string;
      ms: number;
    };

interface RoundHandlers {
  loaded(m: Extract<WorkerMessage, { type: 'loaded' }>): void;
  result(r: LawResult): void;
}

/** One worker's life: resolves when it is done, hung or dead; rejects when the module cannot be loaded. */
function runWorker(input: WorkerInput, caseTimeoutMs: number, on: RoundHandlers): Promise<Round> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: input,
      // A format that allocates without bound fails its law instead of taking the process down.
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
    let loaded = false;
    let current: LawId | undefined;
    let lastCase: string | undefined;
    let cases = 0;
    let lawStarted = performance.now();
    let lastBeat = performance.now();
    let settled = false;
    const finish = (outcome: Round | Error): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      // Terminated in every case: the module may hold timers or sockets open.
      void worker.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolvePromise(outcome);
    };
    const stopped = (kind: 'hang' | 'died', reason: string): void => {
      if (!loaded) {
        finish(
          new SluiceError('SLUICE_E_MODULE', `cannot load format module ${input.path}: ${reason}`, {
            stage: 'config',
          }),
        );
        return;
      }
      if (current === undefined) {
        finish(new SluiceError('SLUICE_E_INTERNAL', `the law worker stopped between laws: ${reason}`));
        return;
      }
      finish({ kind, law: current, lastCase, cases, reason, ms: Math.round(performance.now() - lawStarted) });
    };
    const watchdog = setInterval(
      () => {
        const limit = loaded ? caseTimeoutMs + Math.min(WATCHDOG_GRACE_MS, caseTimeoutMs) : LOAD_TIMEOUT_MS;
        if (performance.now() - lastBeat > limit) {
          stopped(
            'hang',
            loaded
              ? `no answer within ${caseTimeoutMs} ms (the worker was stopped after ${limit} ms): the case never returned (an infinite loop in the tokenizer or the framer?)`
              : `it did not finish loading within ${limit} ms`,
          );
        }
      },
      Math.min(250, caseTimeoutMs),
    );
    worker.on('message', (m: WorkerMessage) => {
      lastBeat = performance.now();
      switch (m.type) {
        case 'loaded':
          loaded = true;
          on.loaded(m);
          break;
        case 'start':
          current = m.law;
          lastCase = undefined;
          cases = 0;
          lawStarted = performance.now();
          break;
        case 'case':
          lastCase = m.text;
          cases++;
          break;
        case 'result':
          current = undefined;
          on.result(m.result);
          break;
        case 'done':
          finish({ kind: 'done' });
          break;
        case 'error':
          finish(new SluiceError(m.code ?? 'SLUICE_E_MODULE', m.message, { stage: 'config' }));
          break;
      }
    });
    worker.on('error', (e) => {
      const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      stopped('died', oom ? 'the worker ran out of memory' : `the worker died: ${e.message}`);
    });
    worker.on('exit', (code) => {
      stopped('died', `the worker exited with code ${code} (did the format call process.exit?)`);
    });
  });
}
