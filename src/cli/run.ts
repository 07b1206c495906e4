/**
 * The convert command (`sluice -f csv -t ndjson a.csv > a.ndjson`): turns parsed
 * flags into one `pipeline()` call and presents it — progress, `--stats`, the error
 * line, the exit code. Every decision about data belongs to the library.
 */
import { stat } from 'node:fs/promises';
import { resolveThreads, startsWorkers } from '../core/pipeline.js';
import { redactUrl } from '../core/redact-url.js';
import { describeIoError } from '../core/sources.js';
import {
  type AnyFormat,
  createStats,
  defaultRegistry,
  type ErrorPolicy,
  type FormatRegistry,
  isSluiceError,
  openPostgresStore,
  type PipelineOptions,
  parseStoreTarget,
  pipeline,
  type SegmentEvent,
  type Sink,
  SluiceError,
  type StoreTarget,
  sqliteSink,
  storeSink,
  type TransformFn,
  validateSegmentEvent,
} from '../index.js';
import { importTransform, transformModule } from '../parallel/threads/modules.js';
import {
  describeFailure,
  EXIT_INTERRUPTED,
  EXIT_OK,
  isBrokenPipe,
  isDebug,
  isStdoutBroken,
  onStdoutBroken,
} from './exit.js';
import { quietGcHelpers } from './gc-helpers.js';
import { ProgressLine } from './progress.js';

/** The convert command's flags, as commander parses them. */
export interface ConvertFlags {
  from?: string;
  to: string;
  output?: string;
  inputOption?: Record<string, string>;
  outputOption?: Record<string, string>;
  concurrency?: number;
  threads?: number | 'auto';
  isolate?: boolean;
  profile?: string;
  unordered?: boolean;
  onError: ErrorPolicy;
  maxRecordBytes?: number;
  transform?: string[];
  stats?: boolean;
  /** Undefined: on when stderr is a terminal. */
  progress?: boolean;
}

export interface ConvertContext {
  registry?: FormatRegistry;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

/** Runs one conversion; resolves with the exit code (never rejects). */
export async function convert(
  positional: readonly string[],
  flags: ConvertFlags,
  ctx: ConvertContext = {},
): Promise<number> {
  const registry = ctx.registry ?? defaultRegistry;
  const stderr = ctx.stderr ?? process.stderr;
  const inputs = positional.length > 0 ? [...positional] : ['-'];
  // `-o sqlite:<path>`: the events go to an audience store instead of a byte output.
  const storeOutput = flags.output?.startsWith('sqlite:') ? flags.output : undefined;
  const output =
    storeOutput !== undefined || flags.output === undefined || flags.output === '-'
      ? undefined
      : flags.output;
  const toStdout = storeOutput === undefined && output === undefined;
  const stats = createStats();

  // SIGINT aborts the run (sinks are closed, the dead letter flushed); a second one exits at once.
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(EXIT_INTERRUPTED);
    interrupted = true;
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  // A reader that went away needs no more data: stop reading the inputs too.
  const unsubscribe = onStdoutBroken(() => {
    if (toStdout) controller.abort();
  });

  const showProgress = flags.progress ?? stderr.isTTY === true;
  let progress: ProgressLine | undefined;

  let code = EXIT_OK;
  let failureLines: string[] = [];
  let storeSink: Sink<SegmentEvent> | undefined;
  let gcNote: string | undefined;
  try {
    const from = inferFrom(flags.from, inputs, registry);
    const store = storeOutput === undefined ? undefined : parseStoreTarget(storeOutput);
    await checkInputs(inputs, output ?? (store?.kind === 'sqlite' ? store.path : undefined));
    if (showProgress) progress = new ProgressLine({ stream: stderr, tty: stderr.isTTY === true });
    const threads = resolveThreads(flags.threads ?? 0);
    const workers = startsWorkers(threads, flags.isolate === true);
    if (workers && store !== undefined) {
      throw new SluiceError(
        'SLUICE_E_USAGE',
        'worker threads do not apply to -o sqlite:<path> or postgres://…; use --threads 0 or 1',
        {
          stage: 'config',
        },
      );
    }
    // With worker threads, each worker loads the transform modules itself.
    const transforms: (TransformFn | string)[] = [];
    for (const path of flags.transform ?? []) {
      transforms.push(workers ? path : await importTransform(transformModule(path)));
    }
    if (store !== undefined) storeSink = await openStoreSink(store, flags);
    gcNote = quietGcHelpers({ lanes: threads, workers });
    const options: PipelineOptions = {
      inputs,
      from,
      fromOptions: flags.inputOption ?? {},
      ordered: !flags.unordered,
      onError: flags.onError,
      // The last transform rejects, record by record under the error policy, what is not a valid event.
      ...(storeSink
        ? { sinks: [storeSink], transforms: [...transforms, validateSegmentEvent] }
        : { to: flags.to, toOptions: flags.outputOption ?? {}, transforms }),
      registry,
      stats,
      signal: controller.signal,
      ...(output !== undefined ? { output } : {}),
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      // As given (`auto` too): the library decides what `auto` means for these inputs.
      ...(threads > 0 ? { threads: flags.threads } : {}),
      ...(flags.isolate ? { isolate: true } : {}),
      ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
      ...(flags.stats ? { timings: true } : {}),
      ...(flags.maxRecordBytes !== undefined ? { maxRecordBytes: flags.maxRecordBytes } : {}),
      ...(progress ? { onProgress: (s) => progress?.update(s) } : {}),
    };
    await pipeline(options);
  } catch (e) {
    // Only the output's EPIPE is success: one from inside a transform is that record's failure.
    const outputGone =
      isStdoutBroken() || (isSluiceError(e) && e.code === 'SLUICE_E_OUTPUT' && isBrokenPipe(e));
    if (toStdout && outputGone) code = EXIT_OK;
    else if (interrupted) code = EXIT_INTERRUPTED;
    else ({ code, lines: failureLines } = describeFailure(e, isDebug(ctx.env)));
  } finally {
    // The pipeline closes its sinks; this covers a failure before it took this one over.
    await storeSink?.close().catch(() => {});
    process.off('SIGINT', onSigint);
    unsubscribe();
  }
  if (gcNote !== undefined && stats.threads) stats.threads.gc = gcNote;
  progress?.finish(stats);
  if (flags.stats) stderr.write(`${JSON.stringify(stats)}\n`);
  for (const line of failureLines) stderr.write(`${line}\n`);
  return code;
}

/**
 * `-o sqlite:<path>` or `-o postgres://…` opens (creating if needed) the audience store
 * before any input is read. The items must be SegmentEvents (`-f segments`, or records
 * shaped like one); there is no output format, so `-t` (other than its default) and `-O`
 * are usage errors.
 */
async function openStoreSink(store: StoreTarget, flags: ConvertFlags): Promise<Sink<SegmentEvent>> {
  const misused =
    flags.to !== 'ndjson'
      ? `-t ${flags.to}`
      : Object.keys(flags.outputOption ?? {}).length > 0
        ? '-O'
        : undefined;
  if (misused !== undefined) {
    throw new SluiceError(
      'SLUICE_E_USAGE',
      `${misused} does not apply to -o sqlite:<path> or postgres://… (events are stored, not serialized)`,
      { stage: 'config' },
    );
  }
  if (store.kind === 'sqlite') return sqliteSink(store.path);
  return storeSink(await openPostgresStore(store.url), { name: redactUrl(store.url) });
}

/** `-f`, or the format of the first input's extension (`users.csv.gz` is csv); otherwise a usage error. */
export function inferFrom(
  from: string | undefined,
  inputs: readonly string[],
  registry: FormatRegistry,
): string {
  if (from !== undefined) {
    registry.get(from); // an unknown name fails here, listing the known ones
    return from;
  }
  const first = inputs[0];
  const found: AnyFormat | undefined =
    first !== undefined && first !== '-' ? registry.forPath(first) : undefined;
  if (found) return found.name;
  const known = registry
    .list()
    .map((f) => f.name)
    .join(', ');
  const why =
    first === undefined || first === '-' ? 'reading stdin' : `no format has the extension of ${first}`;
  throw new SluiceError(
    'SLUICE_E_USAGE',
    `cannot tell the input format (${why}): give -f <format> (known: ${known})`,
    {
      stage: 'config',
    },
  );
}

/**
 * Fails before anything is opened for writing when an input cannot be read, so a typo
 * does not truncate `-o out` first, or when the output is one of the inputs.
 */
async function checkInputs(inputs: readonly string[], output: string | undefined): Promise<void> {
  const outStat = output === undefined ? undefined : await stat(output).catch(() => undefined);
  for (const path of inputs) {
    if (path === '-') continue;
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(path);
    } catch (e) {
      throw new SluiceError('SLUICE_E_INPUT', `cannot read ${path}: ${describeIoError(e as Error)}`, {
        stage: 'input',
        cause: e,
      });
    }
    if (st.isDirectory()) {
      throw new SluiceError('SLUICE_E_INPUT', `cannot read ${path}: is a directory`, { stage: 'input' });
    }
    // Only an existing regular file can be both (a missing output is no input; /dev/null may be both).
    if (outStat?.isFile() && st.isFile() && outStat.ino === st.ino && outStat.dev === st.dev) {
      throw new SluiceError(
        'SLUICE_E_USAGE',
        `the output ${output} is also an input; write to another file`,
        { stage: 'config' },
      );
    }
  }
}
