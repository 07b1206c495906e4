/**
 * V8 collects the young generation in parallel: each scavenge hands part of the work to
 * helper threads of the process's platform pool. That pays when cores are idle. When
 * the run's conversion lanes (the main thread and its workers) already take every core,
 * the helpers only queue for the same cores, and the lane that started the scavenge
 * waits for them. Measured on 2 cores, `--threads 2`, CSV → NDJSON with a reshaping
 * transform (150 MB, interleaved, medians): 2.15 s with parallel scavenges, 2.01 s
 * without; the helper threads' CPU went from 0.45 to 0.30 s. `--threads 0` and the
 * plain conversion did not move (docs/decisions/0015-serial-scavenges-when-lanes-fill-the-cores.md).
 *
 * The setting is process-wide, so only the executable makes it: the library never
 * changes V8's flags under an application that embeds it. `parallel_scavenge` is read
 * at every scavenge, so changing it after start-up is safe, unlike the marking flags
 * (`--single-threaded-gc` set at run time aborts V8 in its next marking).
 *
 * V8 reports a flag it does not know on stdout, where it would land in the data; so
 * the flag is set only on the V8 versions it was checked on (Node 20, 22 and 24), and a
 * newer V8 runs with its defaults until it is checked too.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/** What decides: the lanes of the run, the cores, and what the user gave node. */
export interface GcHelpersContext {
  /** Threads that will convert (`--threads`, `auto` resolved): the main thread and its workers. */
  lanes: number;
  /** Whether the run starts worker threads at all. */
  workers: boolean;
  cores?: number;
  /** `process.versions.v8`. */
  v8?: string;
  /** `process.execArgv` and `NODE_OPTIONS`: a GC flag given there is the user's choice. */
  execArgv?: readonly string[];
  nodeOptions?: string | undefined;
}

/** V8 flags that say how the user wants the collector's threads: any of them leaves the choice to them. */
const USER_GC_FLAG = /--(no-)?(parallel[-_]scavenge|single[-_]threaded[-_]gc|single[-_]threaded)\b/;

/**
 * Whether `--no-parallel-scavenge` was checked at run time on this V8 (`process.versions.v8`):
 * majors 11 to 13, Node 20, 22 and 24.
 */
export function checkedOnV8(v8: string = process.versions.v8): boolean {
  const major = Number.parseInt(v8, 10);
  return major >= 11 && major <= 13;
}

/** Whether this run should scavenge on the lane's own thread (see the module comment). */
export function wantsSerialScavenges(c: GcHelpersContext): boolean {
  if (!c.workers) return false;
  if (!checkedOnV8(c.v8)) return false;
  if (c.lanes < (c.cores ?? availableParallelism())) return false;
  const given = [...(c.execArgv ?? process.execArgv), c.nodeOptions ?? process.env.NODE_OPTIONS ?? ''];
  return !given.some((a) => USER_GC_FLAG.test(a));
}

/**
 * Turns parallel scavenges off for the rest of the process when {@link wantsSerialScavenges}
 * says so; returns what it did, for `--stats`, or undefined.
 */
export function quietGcHelpers(c: GcHelpersContext): string | undefined {
  if (!wantsSerialScavenges(c)) return undefined;
  setFlagsFromString('--no-parallel-scavenge');
  return 'serial scavenges: the conversion lanes take every core (--no-parallel-scavenge)';
}
