import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/server/config.js';
import { SERVER_ERROR_CODES } from '../../src/server/errors.js';

const doc = readFileSync(new URL('../../docs/reference/server.md', import.meta.url), 'utf8');

function bytes(n: number): string {
  for (const [unit, size] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

describe('docs/reference/server.md', () => {
  it.each(Object.entries(SERVER_ERROR_CODES))('documents %s with its HTTP status', (code, entry) => {
    expect(doc).toContain(`| \`${code}\` | ${entry.message} | ${entry.status} |`);
  });

  const settings: [string, number][] = [
    ...Object.entries(DEFAULTS.limits).map(([k, v]) => [`limits.${k}`, v] as [string, number]),
    ...Object.entries(DEFAULTS.groupCommit).map(([k, v]) => [`groupCommit.${k}`, v] as [string, number]),
    ...Object.entries(DEFAULTS.idempotency).map(([k, v]) => [`idempotency.${k}`, v] as [string, number]),
    ...Object.entries(DEFAULTS.fanout).map(([k, v]) => [`fanout.${k}`, v] as [string, number]),
    ...Object.entries(DEFAULTS.authorizer).map(([k, v]) => [`authorizer.${k}`, v] as [string, number]),
  ];
  const named: [string, string | number][] = Object.entries(DEFAULTS.nats).map(([k, v]) => [
    `fanout.nats.${k}`,
    v,
  ]);
  it.each(named)('gives the default of %s', (key, value) => {
    expect(doc).toContain(`| \`${key}\` | \`${value}\` |`);
  });
  it.each(settings)('gives the default of %s', (key, value) => {
    const shown = /Bytes$/.test(key) ? bytes(value) : String(value);
    expect(doc).toContain(`| \`${key}\` | \`${shown}\` |`);
  });
});
