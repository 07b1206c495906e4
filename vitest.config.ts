import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'formats/**/*.test.ts', 'src/**/*.test.ts'],
    // Property tests and spawned CLIs are CPU-bound; two workers match the 2-core CI machine.
    maxWorkers: 2,
    // A throwaway PostgreSQL server for the PostgreSQL store's tests (skipped without one).
    globalSetup: ['test/setup/postgres.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
