/**
 * What a law is, what it is given, and what it reports. A law is one promise a format
 * makes to the engine, checked with fast-check; each law module exports one
 * {@link LawDefinition}.
 */
import type fc from 'fast-check';
import type { Format } from '../../core/contracts.js';

export type LawId = 'robustness' | 'framing' | 'purity' | 'round-trip' | 'no-record-dropped' | 'parallel';

/** What the laws are run with. Everything is optional; laws that need what is missing are skipped. */
export interface FormatLawOptions<T = unknown> {
  /** Valid tokens of the format: enables the round-trip and no-record-dropped laws, and feeds the others. */
  arbitrary?: fc.Arbitrary<T> | undefined;
  /** Example inputs (text or bytes), read with `options`. */
  samples?: readonly (string | Uint8Array)[] | undefined;
  /** Format options, raw as on the command line (`{ delimiter: ';' }`); validated by the format's schema. */
  options?: Record<string, unknown> | undefined;
  /** Cases per law. @default 100 */
  runs?: number | undefined;
  /** fast-check seed; the same seed replays the same cases. @default a random one, reported */
  seed?: number | undefined;
  /**
   * Longest a single case may take, in ms. In-process this is measured after the case
   * (a case that never returns cannot be stopped in the same thread: use
   * `checkFormatModule` or `sluice check-format`, which run the laws in a worker).
   * @default 5000
   */
  caseTimeoutMs?: number | undefined;
  /** Only these laws, in this order. @default every law */
  laws?: readonly LawId[] | undefined;
  /**
   * For formats that stamp the time of reading (a record without a timestamp takes
   * `Date.now()`): while a case runs, `Date.now()` and `new Date()` return this instant
   * (ms since the epoch), so that two readings of the same record agree. The global
   * `Date` is replaced for the duration of each case only; an asynchronous case (the
   * pipeline law) keeps it replaced across its awaits.
   * @default the real clock
   */
  fixedTime?: number | undefined;
}

/** The same options, resolved. */
export interface LawContext<T = unknown> {
  // biome-ignore lint/suspicious/noExplicitAny: a law works on any format's options.
  format: Format<T, any>;
  /** The format's options, validated and with defaults. */
  options: object;
  /** The raw options, for the engine entry points that validate them again. */
  rawOptions: Record<string, unknown>;
  arbitrary: fc.Arbitrary<T> | undefined;
  samples: readonly Uint8Array[];
  runs: number;
  seed: number;
  caseTimeoutMs: number;
  fixedTime: number | undefined;
  /**
   * Told about every case before it runs (including while shrinking), with a way to
   * describe it: the worker runner uses it to name the case that hung.
   */
  onCase?: ((describe: () => string) => void) | undefined;
}

/** One fast-check property of a law, ready to run with the law's seed and run count. */
export interface LawCheck {
  /** What this part of the law checks, for messages when a law has several. */
  label: string;
  run(params: { seed: number; numRuns: number; timeout?: number }): Promise<CheckOutcome>;
}

export type CheckOutcome =
  | { ok: true; runs: number }
  | {
      ok: false;
      runs: number;
      shrinks: number;
      seed: number;
      path: string | undefined;
      /** The shrunk counterexample, described for a person. */
      counterexample: string;
      /** Why it breaks the law (the violation's message). */
      reason: string;
    };

export interface LawDefinition {
  id: LawId;
  /** Short name: `framing invariance`. */
  title: string;
  /** The promise, as a sentence: what a passing format guarantees. */
  statement: string;
  /** Why the law does not apply to this format with these inputs, or undefined when it does. */
  skip(ctx: LawContext): string | undefined;
  /** A remark on how the law applies to this format (a part left out, say), shown with its result. */
  note?(ctx: LawContext): string | undefined;
  checks(ctx: LawContext): LawCheck[];
}

interface ResultBase {
  law: LawId;
  title: string;
}

export type LawResult =
  | (ResultBase & { status: 'passed'; runs: number; seed: number; ms: number; note?: string })
  | (ResultBase & {
      status: 'failed';
      /** Cases run up to and including the first failure. */
      runs: number;
      seed: number;
      /** fast-check's path to the shrunk counterexample (replay with seed and path). */
      path: string | undefined;
      shrinks: number;
      counterexample: string;
      reason: string;
      ms: number;
      /** Set when the case never returned (worker runner only): the counterexample is the unshrunk case that hung. */
      hang?: boolean;
    })
  | (ResultBase & { status: 'skipped'; reason: string });
