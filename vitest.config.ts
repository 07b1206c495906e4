import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'formats/**/*.test.ts', 'src/**/*.test.ts'],
    // Property tests and spawned CLIs are CPU-bound; two workers match the 2-core CI machine.
    maxWorkers: 2,
    // Throwaway PostgreSQL and NATS servers for the tests of the PostgreSQL store and the NATS fan-out (skipped without them).
    globalSetup: ['test/setup/postgres.ts', 'test/setup/nats.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
