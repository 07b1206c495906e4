import { describe, expect, test } from 'vitest';
import { redactUrl } from '../../src/core/redact-url.js';

describe('redactUrl', () => {
  test('replaces the password of a URL, and keeps the rest', () => {
    expect(redactUrl('postgres://sluice:s3cret@db.internal:5432/audience')).toBe(
      'postgres://sluice:***@db.internal:5432/audience',
    );
    expect(redactUrl('nats://user:pw@127.0.0.1:4222')).toBe('nats://user:***@127.0.0.1:4222');
    expect(redactUrl('postgres://sluice@db/audience')).toBe('postgres://sluice@db/audience');
  });

  test('shows a string that does not parse as its scheme only, never a password', () => {
    expect(redactUrl('postgres://sluice:s3cret@[bad/audience')).toBe('postgres://…');
    expect(redactUrl('nats://u:s3cret@[bad')).toBe('nats://…');
    expect(redactUrl('no scheme here')).toBe('…');
  });
});
