/**
 * Loads a format module as DESIGN.md describes it: the default export is the Format;
 * named exports `samples` (example inputs) and `arbitrary` (a fast-check Arbitrary of
 * valid tokens) feed the laws. A module without an `arbitrary` export may keep it in a
 * sibling `arbitrary.js`, as the built-in formats do (ADR 0005: running a format must
 * not load fast-check).
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type fc from 'fast-check';
import { SluiceError } from '../core/errors.js';
import { type AnyFormat, validateFormat } from '../core/registry.js';
import { describeIoError } from '../core/sources.js';

export interface FormatModule {
  /** Absolute path of the module. */
  path: string;
  format: AnyFormat;
  samples: (string | Uint8Array)[];
  arbitrary: fc.Arbitrary<unknown> | undefined;
  /** Where the arbitrary came from: `export`, the sibling file's name, or undefined when there is none. */
  arbitrarySource: string | undefined;
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

/** True when this Node can import TypeScript files (type stripping: Node 22.6+ with the flag, 23.6+ and 22.18+ without). */
export function nodeStripsTypes(): boolean {
  const ts = (process.features as unknown as Record<string, unknown>).typescript;
  return typeof ts === 'string' && ts !== '';
}

function cannot(path: string, reason: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_E_MODULE', `cannot load format module ${path}: ${reason}`, {
    stage: 'config',
    ...(cause === undefined ? {} : { cause }),
  });
}

async function importFile(file: string, shown: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT.has(extname(file)) && !nodeStripsTypes()) {
    throw cannot(
      shown,
      `Node ${process.version} cannot import TypeScript: compile the module to JavaScript first (tsc) and check the .js file, or run on Node >= 22.18 or 23.6 (or 22.6+ with node --experimental-strip-types), which strip types`,
    );
  }
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw cannot(shown, e instanceof Error ? e.message : String(e), e);
  }
}

/** Duck-typed, so that an Arbitrary from another copy of fast-check is accepted too. */
export function isArbitrary(v: unknown): v is fc.Arbitrary<unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { generate?: unknown }).generate === 'function' &&
    typeof (v as { shrink?: unknown }).shrink === 'function'
  );
}

function checkSamples(v: unknown, shown: string): (string | Uint8Array)[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' || s instanceof Uint8Array)) {
    throw cannot(shown, 'the `samples` export must be an array of strings or Uint8Arrays');
  }
  return v as (string | Uint8Array)[];
}

/** The sibling files that may hold the arbitrary, in the order they are tried. */
function siblingCandidates(file: string): string[] {
  const exts = ['.js', '.mjs', ...(nodeStripsTypes() ? ['.ts', '.mts'] : [])];
  return exts.map((ext) => join(dirname(file), `arbitrary${ext}`)).filter((f) => f !== file);
}

/**
 * Imports `path` (resolved against `cwd`) and returns its format, samples and
 * arbitrary. Every failure is a `SLUICE_E_MODULE` naming the file and what is wrong.
 */
export async function loadFormatModule(path: string, cwd = process.cwd()): Promise<FormatModule> {
  const file = resolve(cwd, path);
  // Checked first so that "no such file" is not confused with a missing import inside the module.
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw cannot(path, describeIoError(e), e);
  });
  if (!st.isFile()) throw cannot(path, 'not a file');
  const mod = await importFile(file, path);
  if (!('default' in mod)) throw cannot(path, 'it has no default export (the Format)');
  const format = mod.default;
  try {
    validateFormat(format);
  } catch (e) {
    throw cannot(path, e instanceof Error ? e.message : String(e), e);
  }
  const samples = checkSamples(mod.samples, path);

  if (mod.arbitrary !== undefined) {
    if (!isArbitrary(mod.arbitrary))
      throw cannot(path, 'the `arbitrary` export is not a fast-check Arbitrary');
    return { path: file, format, samples, arbitrary: mod.arbitrary, arbitrarySource: 'export' };
  }
  for (const sibling of siblingCandidates(file)) {
    if (!existsSync(sibling)) continue;
    const shown = relative(cwd, sibling) || basename(sibling);
    const sib = await importFile(sibling, shown);
    if (!isArbitrary(sib.arbitrary)) {
      throw cannot(shown, 'it exports no `arbitrary` (a fast-check Arbitrary of valid tokens)');
    }
    return { path: file, format, samples, arbitrary: sib.arbitrary, arbitrarySource: basename(sibling) };
  }
  return { path: file, format, samples, arbitrary: undefined, arbitrarySource: undefined };
}
