/**
 * The command line: commander setup and dispatch. The default command converts
 * (`sluice -f csv -t ndjson [inputs...]`); `sluice formats` lists the formats;
 * `sluice check-format <module>` checks a format module against the format laws.
 * Usage errors, whoever finds them, print one line and exit 64.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { SluiceError } from '../core/errors.js';
import { outputError } from '../sinks/stream-sink.js';
import { addCheckFormatCommand } from './check-format-command.js';
import { describeFailure, EXIT_OK, isBrokenPipe, isDebug } from './exit.js';
import { addKeysCommand } from './keys-command.js';
import {
  collect,
  parseErrorPolicy,
  parseKeyValue,
  parsePositiveInt,
  parseSize,
  parseThreads,
} from './parse-args.js';
import type { ConvertFlags } from './run.js';
import { addServeCommand } from './serve-command.js';

const EXAMPLES = `
Inputs are read in order; "-" or none is stdin. Gzip input is detected by its magic bytes.

Examples:
  sluice -f csv -t ndjson < users.csv > users.ndjson
  sluice -f csv a.csv b.csv c.csv.gz > all.ndjson
  cat x.tsv | sluice -f tsv -t csv
  sluice -f csv --on-error dead-letter=rejects.ndjson --stats big.csv -o out.ndjson
  sluice -f csv -i delimiter=';' -i header=false -i columns=id,name data.csv
  sluice formats --json
  sluice check-format ./my-format.js --samples example.txt

Exit status: 0 success (also when the reader of stdout goes away), 64 usage,
65 bad data, 66 unreadable input, 70 internal error, 73 unwritable output,
74 sink failure, 130 interrupted.`;

/** The version in sluice's package.json, found by walking up from this file (dist/src/cli or src/cli). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'sluice' && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** Builds the commander program; each action stores its exit code through `setCode`. */
export function createProgram(setCode: (code: number) => void): Command {
  const program = new Command('sluice');
  program
    // Configured before the subcommands are added, which inherit it.
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // printed by runCli, in sluice's one-line form
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .description('Convert line-oriented data between formats, as fast as the disk hands it over.')
    .usage('[options] [inputs...]')
    .argument('[inputs...]', 'input files, read in order ("-" or none: stdin)')
    .option('-f, --from <format>', 'input format (default: from the first input file extension)')
    .option('-t, --to <format>', 'output format', 'ndjson')
    .option('-o, --output <path>', 'write to a file instead of stdout')
    .option(
      '-i, --input-option <key=value>',
      'input format option, repeatable (see sluice formats)',
      parseKeyValue,
    )
    .option('-O, --output-option <key=value>', 'output format option, repeatable', parseKeyValue)
    .option(
      '--concurrency <n>',
      'batches in flight through the transforms; with --threads 1 or more, chunks per converting thread, at least 2 (default: 4)',
      parsePositiveInt,
    )
    .option(
      '--threads <n>',
      'threads converting chunks of input in parallel, the main thread and n-1 workers (like GOMAXPROCS); auto: one per core (the main thread alone for files under 32 MiB in all); 1: the main thread alone, converting chunks; 0: the in-process pipeline of streams (default: 0)',
      parseThreads,
    )
    .option(
      '--isolate',
      'with --threads, convert in worker threads only (n workers): a transform that crashes fails the run instead of ending the process',
    )
    .option('--unordered', 'emit results as they finish instead of in input order')
    .addOption(
      new Option('--on-error <policy>', 'what to do with a bad record: fail, skip or dead-letter=<path>')
        .default('fail')
        .argParser(parseErrorPolicy),
    )
    .option(
      '--max-record-bytes <size>',
      'longest record accepted, e.g. 65536, 64k, 1m (default: 1m)',
      parseSize,
    )
    .option(
      '--transform <module>',
      "apply a module's default-export function to every record, repeatable",
      collect,
    )
    .option('--stats', 'print the run statistics as JSON on stderr at the end, with time per stage')
    .option(
      '--profile <file>',
      'write a CPU profile (.cpuprofile) of the main thread to <file>, and of each worker thread next to it',
    )
    .option('--progress', 'show progress on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'never show progress')
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], flags: ConvertFlags) => {
      // The engine and the formats load only when a command needs them: --help,
      // --version and usage errors stay instant and work even if a format is broken.
      const { convert } = await import('./run.js');
      setCode(await convert(inputs, flags));
    });

  program
    .command('formats')
    .description('list the formats with their media types, extensions and options')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const [{ defaultRegistry }, { formatsJson, formatsText }] = await Promise.all([
        import('../index.js'),
        import('./formats-command.js'),
      ]);
      const text = flags.json ? formatsJson(defaultRegistry) : formatsText(defaultRegistry);
      setCode(await writeStdout(text));
    });

  addServeCommand(program, setCode);
  addKeysCommand(program, setCode);
  addCheckFormatCommand(program, setCode);

  return program;
}

/** Parses `argv` (without node and script), runs the command, resolves with the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let code = EXIT_OK;
  const program = createProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    return report(e);
  }
}

function report(e: unknown): number {
  let err = e;
  if (e instanceof CommanderError) {
    // --help and --version end parsing through exitOverride with code 0.
    if (e.exitCode === 0) return EXIT_OK;
    const message = e.message.replace(/^error: /, '');
    err = new SluiceError('SLUICE_E_USAGE', `${message} (see sluice --help)`, { stage: 'config' });
  }
  const failure = describeFailure(err, isDebug());
  for (const line of failure.lines) process.stderr.write(`${line}\n`);
  return failure.code;
}

function writeStdout(text: string): Promise<number> {
  return new Promise((resolve) => {
    process.stdout.write(text, (e) => {
      if (!e || isBrokenPipe(e)) return resolve(EXIT_OK);
      resolve(report(outputError('cannot write to stdout', e)));
    });
  });
}
