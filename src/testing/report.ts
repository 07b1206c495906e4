/**
 * Law results as text: one line per law for `sluice check-format`, and the message a
 * failing law throws in a test runner. Both give the seed, so a failure can be
 * replayed, and the shrunk counterexample, so it can be understood.
 */
import type { LawResult } from './laws/types.js';

/** `✓ round trip (100 runs)`, `✗ framing invariance: counterexample … seed …`, `- round trip: skipped (no serializer)` */
export function lawLine(r: LawResult): string {
  switch (r.status) {
    case 'passed':
      return `✓ ${r.title} (${r.runs} runs${r.note ? `; ${r.note}` : ''})`;
    case 'skipped':
      return `- ${r.title}: skipped (${r.reason})`;
    case 'failed':
      return `✗ ${r.title}: counterexample ${r.counterexample} seed ${r.seed}`;
  }
}

/**
 * The lines under a failed law's line: why, and how to replay. `replay` says how to
 * pass the seed back (`--seed 42` for the CLI). @default `seed <seed>`
 */
export function failureDetails(r: LawResult & { status: 'failed' }, replay = `seed ${r.seed}`): string[] {
  const lines = [`why: ${r.reason}`];
  if (r.hang) {
    lines.push(
      'the case above never returned; it was not shrunk (a case that hangs cannot be re-run safely)',
    );
  } else {
    lines.push(
      `found after ${r.runs} ${r.runs === 1 ? 'run' : 'runs'}, shrunk in ${r.shrinks} ${r.shrinks === 1 ? 'step' : 'steps'}; replay with ${replay}${r.path ? ` (fast-check path ${JSON.stringify(r.path)})` : ''}`,
    );
  }
  return lines;
}

/** The message of the error a failing law throws in a test: the law, why, the counterexample, the seed. */
export function failureMessage(r: LawResult & { status: 'failed' }): string {
  return [
    `${r.title} fails: ${r.reason}`,
    `counterexample: ${r.counterexample}`,
    ...failureDetails(r).slice(1),
  ].join('\n');
}

/** `5 passed, 1 failed, 0 skipped` */
export function summaryLine(results: readonly LawResult[]): string {
  const n = (s: LawResult['status']): number => results.filter((r) => r.status === s).length;
  return `${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`;
}
