import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';

const doc = readFileSync(new URL('../../docs/reference/errors.md', import.meta.url), 'utf8');

describe('docs/reference/errors.md', () => {
  it.each(Object.entries(ERROR_CODES))('documents %s with its exit code and HTTP status', (code, entry) => {
    expect(doc).toContain(`| \`${code}\` | ${entry.message} | ${entry.exit} | ${entry.status} |`);
  });
});
