/**
 * Loads user modules named on the command line (`--transform <module>`): a path,
 * resolved against the working directory and imported by its absolute file URL (so
 * Windows drive letters and odd characters work), whose default export is used.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError, type TransformFn } from '../index.js';

/** Imports `path` and returns its default export; failures are SLUICE_E_MODULE naming the file. */
export async function loadDefaultExport(path: string, what: string, cwd = process.cwd()): Promise<unknown> {
  const file = resolve(cwd, path);
  const cannot = (reason: string, cause?: unknown): SluiceError =>
    new SluiceError('SLUICE_E_MODULE', `cannot load ${what} ${path}: ${reason}`, {
      stage: 'config',
      ...(cause === undefined ? {} : { cause }),
    });
  // Checked first so that "no such file" is not confused with a missing import inside the module.
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw cannot(e.code === 'ENOENT' ? 'no such file' : e.message, e);
  });
  if (!st.isFile()) throw cannot('not a file');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw cannot(e instanceof Error ? e.message : String(e), e);
  }
  if (!('default' in mod)) {
    throw new SluiceError('SLUICE_E_MODULE', `${what} ${path} has no default export`, { stage: 'config' });
  }
  return mod.default;
}

/** A `--transform` module: its default export must be a function `(item, { signal }) => item(s) | undefined`. */
export async function loadTransform(path: string, cwd?: string): Promise<TransformFn> {
  const fn = await loadDefaultExport(path, 'transform', cwd);
  if (typeof fn !== 'function') {
    throw new SluiceError(
      'SLUICE_E_MODULE',
      `transform ${path}: the default export must be a function (item, { signal }) => item, got ${fn === null ? 'null' : typeof fn}`,
      { stage: 'config' },
    );
  }
  return fn as TransformFn;
}
