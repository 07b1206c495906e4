/**
 * `--profile`: a V8 CPU profile of the calling thread (the main thread, or a worker),
 * written as a `.cpuprofile` (JSON) that Chrome DevTools and speedscope open.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export interface CpuProfiler {
  /** Stops profiling and writes the profile to `path`. */
  stop(path: string): Promise<void>;
}

/** Starts sampling this thread (every `intervalUs` microseconds). */
export async function startCpuProfile(intervalUs = 500): Promise<CpuProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  let stopped = false;
  return {
    async stop(path) {
      if (stopped) return;
      stopped = true;
      try {
        const { profile } = await session.post('Profiler.stop');
        await writeFile(path, JSON.stringify(profile));
      } finally {
        session.disconnect();
      }
    },
  };
}

/** `run.cpuprofile` → `run.worker-2.cpuprofile`; any other name gets `.worker-2.cpuprofile` appended. */
export function workerProfilePath(path: string, index: number): string {
  const base = path.endsWith('.cpuprofile') ? path.slice(0, -'.cpuprofile'.length) : path;
  return `${base}.worker-${index}.cpuprofile`;
}
