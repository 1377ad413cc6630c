import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Each file starts its own app + fake Slack on loopback ports; two cores.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // The PostgreSQL server for the PostgreSQL tests (TASKLANE_TEST_DATABASE_URL, or a throwaway one).
    globalSetup: ['test/support/postgres.globalSetup.ts'],
  },
});
