/**
 * Formats by name, media type and file extension. The default registry holds the
 * built-ins; an application may make its own or register more.
 */
import type { Format } from './contracts.js';
import { SluiceError } from './errors.js';

// biome-ignore lint/suspicious/noExplicitAny: a registry holds formats of every token type.
export type AnyFormat = Format<any, any>;

export class FormatRegistry {
  private readonly byName = new Map<string, AnyFormat>();

  constructor(formats: Iterable<AnyFormat> = []) {
    for (const f of formats) this.register(f);
  }

  /** Adds a format; a name already taken is an error unless `replace` is set. */
  register(format: AnyFormat, { replace = false } = {}): this {
    validateFormat(format);
    if (this.byName.has(format.name) && !replace) {
      throw new SluiceError('SLUICE_E_OPTION', `format ${format.name} is already registered`, {
        stage: 'config',
      });
    }
    this.byName.set(format.name, format);
    return this;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The format named `name`; an unknown name is a coded error listing the known ones. */
  get(name: string): AnyFormat {
    const f = this.byName.get(name);
    if (!f) {
      throw new SluiceError(
        'SLUICE_E_UNKNOWN_FORMAT',
        `unknown format ${JSON.stringify(name)} (known: ${[...this.byName.keys()].join(', ')})`,
        { stage: 'config' },
      );
    }
    return f;
  }

  /** The format for a media type such as `text/csv; charset=utf-8`, if any. */
  forMediaType(mediaType: string): AnyFormat | undefined {
    const bare = mediaType.split(';')[0]!.trim().toLowerCase();
    for (const f of this.byName.values()) if (f.mediaTypes.includes(bare)) return f;
    return undefined;
  }

  /** The format for a file name such as `users.csv.gz`, if any (a compression suffix is ignored). */
  forPath(path: string): AnyFormat | undefined {
    const name = path.toLowerCase().replace(/\.(gz|gzip)$/, '');
    const dot = name.lastIndexOf('.');
    if (dot < 0) return undefined;
    const ext = name.slice(dot + 1);
    for (const f of this.byName.values()) if (f.extensions.includes(ext)) return f;
    return undefined;
  }

  list(): AnyFormat[] {
    return [...this.byName.values()];
  }
}

/** Checks the shape of a format object, so a broken user module fails at load with a clear message. */
export function validateFormat(f: unknown): asserts f is AnyFormat {
  const bad = (what: string): never => {
    throw new SluiceError('SLUICE_E_MODULE', `not a sluice format: ${what}`, { stage: 'config' });
  };
  if (typeof f !== 'object' || f === null) bad(`expected an object, got ${f === null ? 'null' : typeof f}`);
  const o = f as Record<string, unknown>;
  if (typeof o.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(o.name))
    bad('name must be a lower-case identifier');
  if (typeof o.tokenizer !== 'function') bad(`${String(o.name)}: tokenizer must be a function`);
  for (const key of ['mediaTypes', 'extensions'] as const) {
    if (!Array.isArray(o[key])) bad(`${String(o.name)}: ${key} must be an array`);
  }
  if (o.serializer !== undefined && typeof o.serializer !== 'function')
    bad(`${String(o.name)}: serializer must be a function`);
  if (o.framer !== undefined && typeof o.framer !== 'function')
    bad(`${String(o.name)}: framer must be a function`);
  if (o.canonical !== undefined && typeof o.canonical !== 'function')
    bad(`${String(o.name)}: canonical must be a function`);
}
