// Periodic jobs shared by instances on one store (store/jobs.ts, store/pg/jobs.ts): the same
// cases on SQLite (two connections to one file) and PostgreSQL (two pools), as two instances
// would claim them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { JobsRepository, type JobsStore } from '../../src/store/jobs.js';
import { pgDatabase } from '../../src/store/pg/db.js';
import { PgJobsRepository } from '../../src/store/pg/jobs.js';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';

const EVERY = 30_000;
const T0 = 1_700_000_000_000;

/** Two instances' views of one store, and the job's row as stored. */
interface Instances {
  a: JobsStore;
  b: JobsStore;
  row(name: string): Promise<{ owner: string; ranAt: number } | undefined>;
}

function contract(get: () => Instances): void {
  it('one instance wins each period, whichever asks first', async () => {
    const { a, b, row } = get();
    expect(await a.claim('prune', 'A', T0, EVERY)).toBe(true);
    expect(await b.claim('prune', 'B', T0 + 10, EVERY)).toBe(false);
    expect(await a.claim('prune', 'A', T0 + 20_000, EVERY)).toBe(false);
    // A timer that fires a little early still gets its period; then the other instance waits again.
    expect(await b.claim('prune', 'B', T0 + EVERY - 500, EVERY)).toBe(true);
    expect(await a.claim('prune', 'A', T0 + EVERY, EVERY)).toBe(false);
    expect(await row('prune')).toEqual({ owner: 'B', ranAt: T0 + EVERY - 500 });
    // Another job has its own row.
    expect(await a.claim('recover', 'A', T0 + 10, EVERY)).toBe(true);
  });

  it('a start-up run claims regardless and restarts the period', async () => {
    const { a, b } = get();
    expect(await a.claim('prune', 'A', T0, EVERY)).toBe(true);
    expect(await b.claim('prune', 'B', T0 + 5_000, EVERY, true)).toBe(true);
    expect(await a.claim('prune', 'A', T0 + EVERY, EVERY)).toBe(false); // B's run moved it on
    expect(await a.claim('prune', 'A', T0 + 5_000 + EVERY, EVERY)).toBe(true);
  });

  it('many claims of one period at once, from both instances: exactly one wins', async () => {
    const { a, b } = get();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim('recover', `I${i}`, T0, EVERY)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
}

describe('periodic jobs on SQLite', () => {
  let dir: string;
  let first: Store;
  let second: Store;
  let instances: Instances;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-jobs-'));
    first = openStore(join(dir, 'db.sqlite'));
    second = openStore(join(dir, 'db.sqlite'), null);
    instances = {
      a: new JobsRepository(first),
      b: new JobsRepository(second),
      row: async (name) => first.sqlite.prepare('SELECT owner, ran_at AS ranAt FROM job_runs WHERE name = ?').get(name) as { owner: string; ranAt: number } | undefined,
    };
  });
  afterEach(() => {
    first.close();
    second.close();
    rmSync(dir, { recursive: true, force: true });
  });
  contract(() => instances);
});

describePostgres('periodic jobs on PostgreSQL', () => {
  const database = useTestDatabase();
  let pools: pg.Pool[] = [];
  let instances: Instances;
  beforeAll(async () => {
    pools = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 10 }));
    await migratePostgres(pools[0]!);
    const [a, b] = pools.map((p) => new PgJobsRepository(pgDatabase(p)));
    instances = {
      a: a!,
      b: b!,
      row: async (name) => {
        const { rows } = await pools[0]!.query<{ owner: string; ranAt: string }>('SELECT owner, ran_at AS "ranAt" FROM job_runs WHERE name = $1', [name]);
        return rows[0] && { owner: rows[0].owner, ranAt: Number(rows[0].ranAt) };
      },
    };
  });
  afterAll(() => Promise.all(pools.map((p) => p.end())));
  beforeEach(async () => {
    await pools[0]!.query('TRUNCATE job_runs');
  });
  contract(() => instances);
});
