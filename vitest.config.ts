import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    // Two files at a time even on two cores: the tests mostly wait on child processes and the database.
    maxWorkers: 2,
    // Integration tests start real processes and a real Postgres; a busy CI machine is slow.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // First the build (process-level tests run the compiled packages), then the database.
    globalSetup: ['tests/helpers/build.ts', 'tests/helpers/global-setup.ts'],
  },
});
