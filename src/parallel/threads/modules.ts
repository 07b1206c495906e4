/**
 * Transforms given as modules (a path or a file URL whose default export is the
 * function): the only kind that can run in a worker thread, since functions cannot
 * cross threads. Loaded the same way, with the same messages, on the main thread
 * (`threads: 0`) and in each worker.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TransformFn } from '../../core/contracts.js';
import { SluiceError } from '../../core/errors.js';
import { describeIoError } from '../../core/sources.js';

/** A transform module: `spec` as given (for messages), `url` the file URL it is imported from. */
export interface TransformModule {
  spec: string;
  url: string;
}

/** Resolves a module path (against `cwd`) or a file URL. */
export function transformModule(spec: string | URL, cwd = process.cwd()): TransformModule {
  if (spec instanceof URL) return { spec: spec.href, url: spec.href };
  if (/^file:/i.test(spec)) return { spec, url: new URL(spec).href };
  return { spec, url: pathToFileURL(resolve(cwd, spec)).href };
}

/** Imports a transform module; every failure is `SLUICE_E_MODULE` naming it. */
export async function importTransform(m: TransformModule): Promise<TransformFn> {
  const cannot = (reason: string, cause?: unknown): SluiceError =>
    new SluiceError('SLUICE_E_MODULE', `cannot load transform ${m.spec}: ${reason}`, {
      stage: 'config',
      ...(cause === undefined ? {} : { cause }),
    });
  // Checked first so that "no such file" is not confused with a missing import inside the module.
  const st = await stat(fileURLToPath(m.url)).catch((e: NodeJS.ErrnoException) => {
    throw cannot(describeIoError(e), e);
  });
  if (!st.isFile()) throw cannot('not a file');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(m.url)) as Record<string, unknown>;
  } catch (e) {
    throw cannot(e instanceof Error ? e.message : String(e), e);
  }
  if (!('default' in mod)) {
    throw new SluiceError('SLUICE_E_MODULE', `transform ${m.spec} has no default export`, {
      stage: 'config',
    });
  }
  const fn = mod.default;
  if (typeof fn !== 'function') {
    throw new SluiceError(
      'SLUICE_E_MODULE',
      `transform ${m.spec}: the default export must be a function (item, { signal }) => item, got ${fn === null ? 'null' : typeof fn}`,
      { stage: 'config' },
    );
  }
  return fn as TransformFn;
}
