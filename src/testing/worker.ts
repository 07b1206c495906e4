/**
 * The worker side of `checkFormatModule`: loads the format module, runs the laws it is
 * told to, and reports every case before it runs, so that the parent can name the case
 * if this thread never answers again (an infinite loop cannot be interrupted from
 * inside the thread running it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSluiceError } from '../core/errors.js';
import { formatLaws } from './format-laws.js';
import { loadFormatModule } from './format-module.js';
import type { WorkerInput, WorkerMessage } from './isolated.js';
import { truncate } from './show.js';

const input = workerData as WorkerInput;
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

try {
  const mod = await loadFormatModule(input.path, input.cwd);
  const laws = formatLaws(
    mod.format,
    {
      arbitrary: mod.arbitrary,
      samples: [...mod.samples, ...input.samples],
      options: input.options,
      runs: input.runs,
      seed: input.seed,
      caseTimeoutMs: input.caseTimeoutMs,
      laws: input.laws,
      fixedTime: input.fixedTime,
    },
    { onCase: (law, describe) => post({ type: 'case', law, text: truncate(describe()) }) },
  );
  post({
    type: 'loaded',
    format: mod.format.name,
    arbitrary: mod.arbitrarySource,
    samples: mod.samples.length + input.samples.length,
    laws: laws.map((l) => ({ id: l.id, title: l.title })),
  });
  for (const law of laws) {
    post({ type: 'start', law: law.id });
    post({ type: 'result', result: await law.run() });
  }
  post({ type: 'done' });
} catch (e) {
  post({
    type: 'error',
    code: isSluiceError(e) ? e.code : undefined,
    message: e instanceof Error ? e.message : String(e),
  });
}
