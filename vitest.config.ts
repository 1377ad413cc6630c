import { defineConfig } from 'vitest/config';
import { findPostgresBin } from './test/support/postgresServer.js';

/**
 * HTTP suites that run a second time with the app on PostgreSQL (`TASKLANE_TEST_ENGINE`: the
 * harness gives each app a database of its own on the suite's server). They read what the store
 * holds through the repositories; the suites left out read the SQLite file itself (its outbox
 * rows, WAL, audit SQL), and what they check is covered on PostgreSQL by the store contract
 * suites (test/store/*Contract.test.ts) and the two-instance tests.
 */
const ON_BOTH_ENGINES = [
  'test/tasks/command.test.ts',
  'test/tasks/cards.test.ts',
  'test/tasks/steps.test.ts',
  'test/tasks/reminders.test.ts',
  'test/tasks/recurring.test.ts',
  'test/modals/*.test.ts',
  'test/approvals/decide.test.ts',
  'test/approvals/schedule.test.ts',
  'test/security/slackErrorsShown.test.ts',
  'test/security/hostileInput.test.ts',
  'test/security/visibility.test.ts',
  'test/security/payloadTypes.test.ts',
  'test/foundation/http.test.ts',
  'test/audit/feed.test.ts',
];

/** Whether the suite will have a PostgreSQL server (see test/support/postgres.globalSetup.ts). */
const postgres = process.env.TASKLANE_TEST_DATABASE_URL !== undefined || findPostgresBin() !== null || process.env.CI !== undefined;

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Each file starts its own app + fake Slack on loopback ports; two cores.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // The PostgreSQL server for the PostgreSQL tests (TASKLANE_TEST_DATABASE_URL, or a throwaway one).
    globalSetup: ['test/support/postgres.globalSetup.ts'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      ...(postgres ? [{ extends: true as const, test: { name: 'postgresql', include: ON_BOTH_ENGINES, env: { TASKLANE_TEST_ENGINE: 'postgresql' } } }] : []),
    ],
  },
});
