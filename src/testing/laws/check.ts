/**
 * Turns a law's predicate into a {@link LawCheck}: runs it with fast-check under the
 * law's seed, times every case, tells the worker runner which case is running, and
 * turns fast-check's report into a counterexample a person can read.
 */
import fc from 'fast-check';
import { LawViolation } from '../records.js';
import { showError, truncate } from '../show.js';
import type { CheckOutcome, LawCheck, LawContext } from './types.js';

interface CheckSpec<V> {
  label: string;
  arbitrary: fc.Arbitrary<V>;
  /** Throws (a {@link LawViolation}, or whatever the format throws) when the case breaks the law. */
  predicate: (value: V) => void | Promise<void>;
  /** The case, for a person: the input, the cut, the tokens. May run the format (to show what it wrote). */
  show: (value: V) => string;
  /**
   * The case in a few words without running any format code, for naming a case that
   * never returns (the worker runner describes every case before it runs). @default show
   */
  brief?: (value: V) => string;
}

/**
 * `Date` with the clock stopped at `time`: `Date.now()` and `new Date()` give it;
 * every other use of `Date` is the real one.
 */
function stoppedDate(real: DateConstructor, time: number): DateConstructor {
  class FixedDate extends real {
    // biome-ignore lint/suspicious/noExplicitAny: forwards Date's overloaded constructor arguments.
    constructor(...args: any[]) {
      if (args.length === 0) super(time);
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      else super(...(args as [any]));
    }
    static override now(): number {
      return time;
    }
  }
  return FixedDate as DateConstructor;
}

/** Cases running with the clock stopped (an async case that timed out may still be running). */
let stopped = 0;
let realDate: DateConstructor = globalThis.Date;

/** Runs `fn` with the clock stopped at `ctx.fixedTime`, if set; the `Date` of before is back afterwards. */
function atFixedTime<R>(ctx: LawContext, fn: () => R): R {
  if (ctx.fixedTime === undefined) return fn();
  if (stopped++ === 0) realDate = globalThis.Date;
  globalThis.Date = stoppedDate(realDate, ctx.fixedTime);
  const restore = (): void => {
    if (--stopped === 0) globalThis.Date = realDate;
  };
  let r: R;
  try {
    r = fn();
  } catch (e) {
    restore();
    throw e;
  }
  // An async case keeps the clock stopped until it settles, not just until it first awaits.
  if (r instanceof Promise) return r.finally(restore) as R;
  restore();
  return r;
}

/** A synchronous check: the predicate must not return a promise. */
export function syncCheck<V>(ctx: LawContext, spec: CheckSpec<V>): LawCheck {
  const property = fc.property(spec.arbitrary, (v) => {
    ctx.onCase?.(() => (spec.brief ?? spec.show)(v));
    const started = performance.now();
    atFixedTime(ctx, () => spec.predicate(v));
    overTime(ctx, started);
  });
  return {
    label: spec.label,
    run: async (params) => outcome(fc.check(property, params), spec.show),
  };
}

/** An asynchronous check (the pipeline law): fast-check's own `timeout` also bounds each case. */
export function asyncCheck<V>(ctx: LawContext, spec: CheckSpec<V>): LawCheck {
  const property = fc.asyncProperty(spec.arbitrary, async (v) => {
    ctx.onCase?.(() => (spec.brief ?? spec.show)(v));
    const started = performance.now();
    await atFixedTime(ctx, () => spec.predicate(v));
    overTime(ctx, started);
  });
  return {
    label: spec.label,
    run: async (params) =>
      outcome(await fc.check(property, { ...params, timeout: ctx.caseTimeoutMs }), spec.show),
  };
}

/**
 * A case that returned but took too long. It cannot stop a case that never returns
 * (nothing can, in the same thread); it does catch one that is merely very slow, such
 * as a regular expression that backtracks exponentially.
 */
function overTime(ctx: LawContext, started: number): void {
  const ms = performance.now() - started;
  if (ms > ctx.caseTimeoutMs) {
    throw new LawViolation(
      `the case took ${Math.round(ms)} ms, over the limit of ${ctx.caseTimeoutMs} ms per case (is something in the format super-linear?)`,
    );
  }
}

function outcome<V>(details: fc.RunDetails<[V]>, show: (v: V) => string): CheckOutcome {
  if (!details.failed) return { ok: true, runs: details.numRuns };
  const value = details.counterexample?.[0];
  return {
    ok: false,
    runs: details.numRuns,
    shrinks: details.numShrinks,
    seed: details.seed,
    path: details.counterexamplePath ?? undefined,
    counterexample: details.counterexample === null ? '(none)' : truncate(show(value as V)),
    reason: truncate(reasonOf(details.errorInstance)),
  };
}

/** A violation says why itself; anything else thrown is the format (or the engine) failing outright. */
export function reasonOf(e: unknown): string {
  if (e instanceof LawViolation) return e.message;
  const where = e instanceof Error ? firstFrame(e) : undefined;
  return `it threw ${showError(e)}${where ? ` (${where})` : ''}`;
}

/** The first stack frame outside sluice's testing kit and fast-check: where the format threw. */
function firstFrame(e: Error): string | undefined {
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  const own = frames.find((l) => !/[/\\]src[/\\]testing[/\\]|[/\\]fast-check[/\\]|node:internal/.test(l));
  return own?.trim();
}
