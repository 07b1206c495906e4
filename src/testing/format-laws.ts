/**
 * The kit's entry points: `formatLaws` (the laws for one format, each runnable on its
 * own, which is what the vitest helper and the worker runner build on) and
 * `checkFormat` (run them all, in process, and get one result per law).
 */
import type { Format } from '../core/contracts.js';
import { SluiceError } from '../core/errors.js';
import { resolveOptions } from '../core/options.js';
import { validateFormat } from '../core/registry.js';
import { isArbitrary } from './format-module.js';
import { reasonOf } from './laws/check.js';
import { isLawId, LAWS } from './laws/index.js';
import type {
  CheckOutcome,
  FormatLawOptions,
  LawCheck,
  LawContext,
  LawDefinition,
  LawId,
  LawResult,
} from './laws/types.js';

/** One law, bound to a format and its inputs. */
export interface FormatLaw {
  readonly id: LawId;
  /** `framing invariance` */
  readonly title: string;
  /** What a format that passes it guarantees, as a sentence. */
  readonly statement: string;
  /** Why the law does not apply (no serializer, no arbitrary), or undefined when it does. */
  readonly skip: string | undefined;
  /** Checks the law with fast-check; resolves with the result (never rejects for a broken format). */
  run(): Promise<LawResult>;
}

/** Hooks for runners (the worker runner names the case that hung with them). */
export interface LawHooks {
  onCase?: (law: LawId, describe: () => string) => void;
}

export const DEFAULT_RUNS = 100;
export const DEFAULT_CASE_TIMEOUT_MS = 5000;

function optionError(message: string): SluiceError {
  return new SluiceError('SLUICE_E_OPTION', message, { stage: 'config' });
}

/** A fresh seed, reported with every result so a failure can be replayed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/** The settings of a run (runs, seed, time limit, fixed time), checked, with their defaults. */
export function runSettings(options: FormatLawOptions<unknown>): {
  runs: number;
  seed: number;
  caseTimeoutMs: number;
  fixedTime: number | undefined;
} {
  const runs = options.runs ?? DEFAULT_RUNS;
  if (!Number.isSafeInteger(runs) || runs < 1)
    throw optionError(`runs: expected an integer >= 1, got ${runs}`);
  const seed = options.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed) || seed < -0x80000000 || seed > 0x7fffffff) {
    throw optionError(`seed: expected a 32-bit integer, got ${seed}`);
  }
  const caseTimeoutMs = options.caseTimeoutMs ?? DEFAULT_CASE_TIMEOUT_MS;
  if (!Number.isFinite(caseTimeoutMs) || caseTimeoutMs <= 0) {
    throw optionError(`caseTimeoutMs: expected a number of ms > 0, got ${caseTimeoutMs}`);
  }
  const fixedTime = options.fixedTime;
  if (fixedTime !== undefined && !Number.isSafeInteger(fixedTime)) {
    throw optionError(`fixedTime: expected ms since the epoch, got ${fixedTime}`);
  }
  if (options.laws !== undefined) selected(options.laws);
  return { runs, seed, caseTimeoutMs, fixedTime };
}

/** Checks and fills in the options; errors are coded `SLUICE_E_OPTION` naming the option. */
export function lawContext<T>(
  // biome-ignore lint/suspicious/noExplicitAny: the kit checks formats of any options type.
  format: Format<T, any>,
  options: FormatLawOptions<T> = {},
): LawContext<T> {
  validateFormat(format);
  const { runs, seed, caseTimeoutMs, fixedTime } = runSettings(options);
  const { arbitrary } = options;
  if (arbitrary !== undefined && !isArbitrary(arbitrary)) {
    throw optionError(
      'arbitrary: expected a fast-check Arbitrary of valid tokens (fc.record(…), fc.string(), …)',
    );
  }
  const rawOptions = options.options ?? {};
  return {
    format,
    options: resolveOptions(format.options, rawOptions, `${format.name}.`),
    rawOptions,
    arbitrary,
    samples: (options.samples ?? []).map((s) =>
      typeof s === 'string' ? new Uint8Array(Buffer.from(s, 'utf8')) : s,
    ),
    runs,
    seed,
    caseTimeoutMs,
    fixedTime,
  };
}

function selected(laws: readonly LawId[] | undefined): LawDefinition[] {
  if (laws === undefined) return [...LAWS];
  return laws.map((id) => {
    if (!isLawId(id)) {
      throw optionError(
        `laws: unknown law ${JSON.stringify(id)} (known: ${LAWS.map((l) => l.id).join(', ')})`,
      );
    }
    return LAWS.find((l) => l.id === id)!;
  });
}

/**
 * The laws for `format`, each with its skip reason and a `run()`. All share one seed
 * (given, or drawn once here), so `{ seed }` replays every law's cases.
 *
 * @example
 * ```ts
 * for (const law of formatLaws(myFormat, { arbitrary, samples })) {
 *   const result = await law.run();
 *   if (result.status === 'failed') console.error(law.title, result.counterexample, result.seed);
 * }
 * ```
 */
export function formatLaws<T>(
  // biome-ignore lint/suspicious/noExplicitAny: the kit checks formats of any options type.
  format: Format<T, any>,
  options: FormatLawOptions<T> = {},
  hooks: LawHooks = {},
): FormatLaw[] {
  const base = lawContext(format, options);
  return selected(options.laws).map((def) => {
    const ctx: LawContext<T> = {
      ...base,
      onCase: hooks.onCase ? (describe) => hooks.onCase!(def.id, describe) : undefined,
    };
    const skip = def.skip(ctx as LawContext);
    return {
      id: def.id,
      title: def.title,
      statement: def.statement,
      skip,
      run: () => runLaw(def, ctx as LawContext, skip),
    };
  });
}

async function runLaw(def: LawDefinition, ctx: LawContext, skip: string | undefined): Promise<LawResult> {
  const head = { law: def.id, title: def.title };
  if (skip !== undefined) return { ...head, status: 'skipped', reason: skip };
  const started = performance.now();
  let checks: LawCheck[];
  try {
    checks = def.checks(ctx);
  } catch (e) {
    // Building the law's generators failed: an `arbitrary` that is not a fast-check Arbitrary, say.
    return {
      ...head,
      status: 'failed',
      runs: 0,
      seed: ctx.seed,
      path: undefined,
      shrinks: 0,
      counterexample: '(none: the law could not start)',
      reason: `the law could not start: ${reasonOf(e)}`,
      ms: Math.round(performance.now() - started),
    };
  }
  let runs = 0;
  for (const check of checks) {
    let o: CheckOutcome;
    try {
      o = await check.run({ seed: ctx.seed, numRuns: ctx.runs });
    } catch (e) {
      // fast-check itself failed, not a case: an arbitrary that throws while generating, say.
      o = {
        ok: false,
        runs: 0,
        shrinks: 0,
        seed: ctx.seed,
        path: undefined,
        counterexample: '(none: no case could be generated)',
        reason: `the law could not run: ${reasonOf(e)}`,
      };
    }
    runs += o.runs;
    if (!o.ok) {
      return {
        ...head,
        status: 'failed',
        runs,
        seed: o.seed,
        path: o.path,
        shrinks: o.shrinks,
        counterexample: o.counterexample,
        reason: checks.length > 1 ? `${check.label}: ${o.reason}` : o.reason,
        ms: Math.round(performance.now() - started),
      };
    }
  }
  const note = def.note?.(ctx);
  return {
    ...head,
    status: 'passed',
    runs,
    seed: ctx.seed,
    ms: Math.round(performance.now() - started),
    ...(note === undefined ? {} : { note }),
  };
}

/**
 * Runs every law that applies, in process, one after the other; resolves with one
 * result per law (passed, failed with a shrunk counterexample and the seed, or skipped
 * with the reason). It never rejects because a format is broken, only for bad options.
 *
 * A tokenizer that loops forever cannot be interrupted in the thread it runs in: use
 * `checkFormatModule` (or `sluice check-format`) to run the laws in a worker with a
 * time limit per case.
 *
 * @example
 * ```ts
 * const results = await checkFormat(logfmt, { arbitrary, samples });
 * const failed = results.filter((r) => r.status === 'failed');
 * ```
 */
export async function checkFormat<T>(
  // biome-ignore lint/suspicious/noExplicitAny: the kit checks formats of any options type.
  format: Format<T, any>,
  options: FormatLawOptions<T> = {},
): Promise<LawResult[]> {
  const results: LawResult[] = [];
  for (const law of formatLaws(format, options)) results.push(await law.run());
  return results;
}
