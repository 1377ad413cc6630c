import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { findPostgresBin, startThrowawayServer } from './postgresServer.js';

/**
 * The PostgreSQL server the suite's PostgreSQL tests use (test/support/postgres.ts gives each
 * test file its own database on it): `TASKLANE_TEST_DATABASE_URL` when set (.ci/run starts one),
 * otherwise a throwaway server started here from Debian's `postgresql` binaries and stopped in
 * teardown. Without either, those tests are skipped, or fail under CI.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { url: string } | { url: null; missing: string };
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.TASKLANE_TEST_DATABASE_URL;
  if (given) {
    await checkReachable(given);
    project.provide('postgres', { url: given });
    return undefined;
  }
  const bin = findPostgresBin();
  if (bin === null) {
    const missing =
      'no PostgreSQL server: set TASKLANE_TEST_DATABASE_URL, or install Debian\'s postgresql ' +
      '(initdb on PATH or under /usr/lib/postgresql/*/bin)';
    console.warn(`PostgreSQL tests ${process.env.CI !== undefined ? 'will fail' : 'skipped'}: ${missing}`);
    project.provide('postgres', { url: null, missing });
    return undefined;
  }
  const server = await startThrowawayServer(bin);
  project.provide('postgres', { url: server.url });
  return server.stop;
}

async function checkReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`TASKLANE_TEST_DATABASE_URL does not answer: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
}
