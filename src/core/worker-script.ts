/**
 * Where a worker thread's script is. Worker threads run built JavaScript: next to the
 * module that starts them once built, or from `dist/` when that module runs from source
 * (the tests, under vitest), since a worker cannot load TypeScript.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SluiceError } from './errors.js';

/**
 * @param caller the starting module's `import.meta.url`
 * @param script the script's path in `src/`, from the repository root, ending in `.js`
 *   (for example `src/parallel/threads/worker.js`)
 * @throws SluiceError `SLUICE_E_INTERNAL` when running from source and the build is missing
 */
export function workerScript(caller: string, script: string): URL {
  const name = script.slice(script.lastIndexOf('/') + 1);
  if (!caller.endsWith('.ts')) return new URL(`./${name}`, caller);
  // The caller is `<root>/src/.../module.ts`: climb to the root, then into dist/.
  const depth = script.split('/').length - 1;
  const built = new URL(`${'../'.repeat(depth)}dist/${script}`, caller);
  if (!existsSync(fileURLToPath(built))) {
    throw new SluiceError(
      'SLUICE_E_INTERNAL',
      `the worker script ${fileURLToPath(built)} is missing: run npm run build (worker threads run built code)`,
    );
  }
  return built;
}
