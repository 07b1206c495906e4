/**
 * A conversion worker (`--threads`): loads the run's formats and transform modules,
 * then converts the chunks it is sent with the lane's converter (`converter.ts`),
 * handing back UTF-8 bytes by transfer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TransformFn } from '../../core/contracts.js';
import type { AnyFormat } from '../../core/registry.js';
import { converterHost } from './converter.js';
import { importTransform } from './modules.js';
import type { CpuProfiler } from './profile.js';
import { type FromWorker, type LaneInit, type ToWorker, toWire } from './protocol.js';

const init = workerData as LaneInit;
const port = parentPort!;
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

async function main(): Promise<void> {
  let profiler: CpuProfiler | undefined;
  try {
    if (init.profile !== undefined) profiler = await (await import('./profile.js')).startCpuProfile();
    const [from, to] = await Promise.all([builtinFormat(init.from), builtinFormat(init.to)]);
    const transforms: TransformFn[] = [];
    for (const m of init.transforms) transforms.push(await importTransform(m));
    const handle = converterHost(init, from, to, transforms, post);
    port.on('message', (msg: ToWorker) => {
      if (msg.type !== 'finish') {
        handle(msg);
        return;
      }
      // After the timers already due (an error a transform throws from one still counts).
      setTimeout(() => {
        const path = init.profile;
        const done = profiler && path !== undefined ? profiler.stop(path) : Promise.resolve();
        done.then(
          () => post({ type: 'finished' }),
          (e) => post({ type: 'finished', error: toWire(e) }),
        );
      }, 0);
    });
    post({ type: 'ready' });
  } catch (e) {
    post({ type: 'init-error', error: toWire(e) });
  }
}

/**
 * A built-in format by name. Each lives in `formats/<name>/index.js`; importing only the
 * ones the run uses, not all of them through the registry, makes a worker start faster
 * (every worker loads its own copy of every module it imports).
 */
async function builtinFormat(name: string): Promise<AnyFormat> {
  if (/^[a-z][a-z0-9-]*$/.test(name)) {
    try {
      const mod = (await import(`../../../formats/${name}/index.js`)) as { default?: AnyFormat };
      if (mod.default?.name === name) return mod.default;
    } catch {
      // Not laid out that way: the registry knows.
    }
  }
  return (await import('../../core/builtins.js')).defaultRegistry.get(name);
}

void main();
