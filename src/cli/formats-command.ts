/**
 * `sluice formats [--json]`: what the registry knows, with each format's media types,
 * extensions and options (type, default, allowed values, description), so a user can
 * write `-i`/`-O` options without reading the source.
 */
import type { AnyFormat, FormatRegistry, OptionSpec } from '../index.js';

export interface FormatInfo {
  name: string;
  description: string;
  mediaTypes: string[];
  extensions: string[];
  /** Usable with `-t` (has a serializer). */
  output: boolean;
  options: Record<string, OptionSpec>;
}

export function describeFormat(f: AnyFormat): FormatInfo {
  const options: Record<string, OptionSpec> = {};
  for (const [key, spec] of Object.entries((f.options ?? {}) as Record<string, OptionSpec>)) {
    options[key] = { ...spec };
  }
  return {
    name: f.name,
    description: f.description ?? '',
    mediaTypes: [...f.mediaTypes],
    extensions: [...f.extensions],
    output: typeof f.serializer === 'function',
    options,
  };
}

/** Machine output: a JSON array of {@link FormatInfo}, one trailing newline. */
export function formatsJson(registry: FormatRegistry): string {
  return `${JSON.stringify(registry.list().map(describeFormat), null, 2)}\n`;
}

/** Human output: one block per format, options in aligned columns. */
export function formatsText(registry: FormatRegistry): string {
  const blocks = registry.list().map((f) => {
    const info = describeFormat(f);
    const lines = [`${info.name}${info.description ? ` - ${info.description}` : ''}`];
    lines.push(`  media types: ${info.mediaTypes.join(', ') || '(none)'}`);
    lines.push(`  extensions:  ${info.extensions.map((e) => `.${e}`).join(', ') || '(none)'}`);
    lines.push(`  use:         ${info.output ? 'input and output (-f, -t)' : 'input only (-f)'}`);
    const entries = Object.entries(info.options);
    if (entries.length === 0) {
      lines.push('  options:     (none)');
    } else {
      lines.push('  options:');
      const rows = entries.map(
        ([key, spec]) => [key, typeLabel(spec), defaultLabel(spec), spec.description] as const,
      );
      const w0 = Math.max(...rows.map((r) => r[0].length));
      const w1 = Math.max(...rows.map((r) => r[1].length));
      const w2 = Math.max(...rows.map((r) => r[2].length));
      for (const [key, type, def, desc] of rows) {
        lines.push(`    ${key.padEnd(w0)}  ${type.padEnd(w1)}  ${def.padEnd(w2)}  ${desc}`.trimEnd());
      }
    }
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}\n\nFormat options are given as -i key=value (input) and -O key=value (output).\n`;
}

function typeLabel(spec: OptionSpec): string {
  let t: string = spec.type;
  if (spec.enum) t = spec.enum.join('|');
  if (spec.min !== undefined) t += ` >= ${spec.min}`;
  return t;
}

function defaultLabel(spec: OptionSpec): string {
  return spec.default === undefined ? '(no default)' : `default ${JSON.stringify(spec.default)}`;
}
