/**
 * `sluice check-format <module>`: runs the laws of sluice/testing on a format module in
 * a worker thread (so a tokenizer that hangs fails a law instead of hanging the
 * command) and prints one line per law as it finishes. Exit status: 0 when no law
 * fails, 65 when one does (bad data, in the error table's terms: the format is wrong),
 * 64 when the module cannot be loaded or the flags are wrong, 66 for an unreadable
 * samples file.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SluiceError } from '../core/errors.js';
import { describeIoError } from '../core/sources.js';
// Types only: the kit (and fast-check) is imported when the command runs, so that
// `sluice --help` and conversions never load it.
import type { ModuleInfo, ModuleReport } from '../testing/isolated.js';
import type { LawId, LawResult } from '../testing/laws/types.js';
import { describeFailure, EXIT_OK, isDebug } from './exit.js';
import { parseKeyValue, parsePositiveInt, parseSeed, parseTime } from './parse-args.js';

/** A law failed: the format breaks a promise about data, like a bad record (EX_DATAERR). */
export const EXIT_LAW_FAILED = 65;

/**
 * The law ids, for the help text only: importing the laws would load fast-check. A test
 * checks this list against the laws.
 */
export const LAW_NAMES = 'robustness, framing, purity, round-trip, no-record-dropped, parallel';

const HELP = `
The module's default export is the Format; its named exports \`samples\` (example
inputs) and \`arbitrary\` (a fast-check Arbitrary of valid tokens) feed the laws. Without
an \`arbitrary\` export, a sibling arbitrary.js is used if there is one. Laws that need
what is missing are skipped, saying why. The laws run in a worker thread, so a
tokenizer that never returns fails a law instead of hanging the command.

Give the module first: --samples and --law take every argument after them.

A format that stamps the time of reading (a record without a timestamp takes the
current time) reads the same record differently from one millisecond to the next,
which the purity, framing and parallel laws report; --fixed-time stops the clock
while each case runs.

TypeScript modules must be compiled first (tsc), unless Node strips types itself
(Node >= 22.18 or 23.6; 22.6+ with node --experimental-strip-types).

Examples:
  sluice check-format examples/formats/logfmt/index.js
  sluice check-format dist/my-format.js --samples a.log b.log --runs 500
  sluice check-format my-format.mjs --seed 1234 --law round-trip

Exit status: 0 every law passed or was skipped, 65 a law failed, 64 the module cannot
be loaded or bad usage, 66 a samples file cannot be read.`;

export function addCheckFormatCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command('check-format')
    .description('check a format module against the format laws of sluice/testing; exit 65 if a law fails')
    .usage('<module> [options]')
    .argument('<module>', 'a .js or .mjs module whose default export is a Format')
    .option('--samples <file...>', "more example inputs, read as bytes (besides the module's samples export)")
    .option('--runs <n>', 'cases per law (default: 100)', parsePositiveInt)
    .option('--seed <n>', 'fast-check seed, to replay a failure (default: random, printed)', parseSeed)
    .option(
      '--timeout <ms>',
      'time limit per case; a case still running after it is a hang (default: 5000)',
      parsePositiveInt,
    )
    .option(
      '--fixed-time <time>',
      'stop the clock at this instant (ms since 1970 or RFC 3339) while a case runs, for formats that stamp the time of reading',
      parseTime,
    )
    // Long only: the root command's -i would take it (commander reads root options anywhere).
    .option('--option <key=value>', 'format option, repeatable (see sluice formats)', parseKeyValue)
    .option('--law <id...>', `only these laws: ${LAW_NAMES}`)
    .option('--json', 'machine-readable output: one JSON document')
    .addHelpText('after', HELP)
    .action(async (module: string, flags: CheckFormatFlags) => {
      setCode(await checkFormatCommand(module, flags));
    });
}

/** The check-format flags, as commander parses them. */
export interface CheckFormatFlags {
  samples?: string[];
  runs?: number;
  seed?: number;
  timeout?: number;
  option?: Record<string, string>;
  law?: string[];
  fixedTime?: number;
  json?: boolean;
}

export interface CheckFormatContext {
  stdout?: { write(s: string): unknown };
  stderr?: { write(s: string): unknown };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

async function readSamples(paths: readonly string[]): Promise<Uint8Array[]> {
  return Promise.all(
    paths.map(async (p) => {
      try {
        return new Uint8Array(await readFile(p));
      } catch (e) {
        throw new SluiceError('SLUICE_E_INPUT', `cannot read samples ${p}: ${describeIoError(e as Error)}`, {
          stage: 'input',
          cause: e,
        });
      }
    }),
  );
}

function checkLaws(names: readonly string[] | undefined, known: readonly LawId[]): LawId[] | undefined {
  if (names === undefined) return undefined;
  for (const n of names) {
    if (!(known as readonly string[]).includes(n)) {
      throw new SluiceError(
        'SLUICE_E_USAGE',
        `unknown law ${JSON.stringify(n)} (laws: ${known.join(', ')})`,
        {
          stage: 'config',
        },
      );
    }
  }
  return names as LawId[];
}

function headerLine(info: ModuleInfo): string {
  const arbitrary =
    info.arbitrary === undefined
      ? 'no arbitrary'
      : info.arbitrary === 'export'
        ? 'arbitrary exported by the module'
        : `arbitrary from ${info.arbitrary}`;
  const samples = `${info.samples} ${info.samples === 1 ? 'sample' : 'samples'}`;
  return `sluice check-format: ${info.format} (${info.module}): ${arbitrary}, ${samples}, seed ${info.seed}, ${info.runs} runs per law`;
}

/** Machine output: everything the text says, as one JSON document. */
export function reportJson(report: ModuleReport): string {
  const ok = report.results.every((r) => r.status !== 'failed');
  return `${JSON.stringify({ ...report, ok }, null, 2)}\n`;
}

/** Runs the command; resolves with the exit code (never rejects). */
export async function checkFormatCommand(
  modulePath: string,
  flags: CheckFormatFlags,
  ctx: CheckFormatContext = {},
): Promise<number> {
  const stdout = ctx.stdout ?? process.stdout;
  const stderr = ctx.stderr ?? process.stderr;
  const text = !flags.json;
  try {
    const [{ checkFormatModule }, { LAW_IDS }, { failureDetails, lawLine, summaryLine }] = await Promise.all([
      import('../testing/isolated.js'),
      import('../testing/laws/index.js'),
      import('../testing/report.js'),
    ]);
    const resultLines = (r: LawResult): string[] => {
      const lines = [lawLine(r)];
      if (r.status === 'failed')
        for (const l of failureDetails(r, `--seed ${r.seed}`)) lines.push(`    ${l}`);
      return lines;
    };
    const laws = checkLaws(flags.law, LAW_IDS);
    const samples = await readSamples(flags.samples ?? []);
    const report = await checkFormatModule(modulePath, {
      samples,
      options: flags.option ?? {},
      ...(flags.runs !== undefined ? { runs: flags.runs } : {}),
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      ...(flags.timeout !== undefined ? { caseTimeoutMs: flags.timeout } : {}),
      ...(laws !== undefined ? { laws } : {}),
      ...(flags.fixedTime !== undefined ? { fixedTime: flags.fixedTime } : {}),
      ...(ctx.cwd !== undefined ? { cwd: ctx.cwd } : {}),
      onLoad: (info) => {
        if (text) stdout.write(`${headerLine(info)}\n`);
      },
      onResult: (r) => {
        if (text) stdout.write(`${resultLines(r).join('\n')}\n`);
      },
    });
    stdout.write(text ? `${summaryLine(report.results)}\n` : reportJson(report));
    return report.results.some((r) => r.status === 'failed') ? EXIT_LAW_FAILED : EXIT_OK;
  } catch (e) {
    const failure = describeFailure(e, isDebug(ctx.env));
    for (const line of failure.lines) stderr.write(`${line}\n`);
    return failure.code;
  }
}
