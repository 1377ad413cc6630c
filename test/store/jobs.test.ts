// Periodic jobs shared by instances on one store (store/jobs.ts): two connections to one SQLite
// file, as two instances would have, claim the same job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { JobsRepository } from '../../src/store/jobs.js';

let dir: string;
let a: Store;
let b: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-jobs-'));
  a = openStore(join(dir, 'db.sqlite'));
  b = openStore(join(dir, 'db.sqlite'), null);
});
afterEach(() => {
  a.close();
  b.close();
  rmSync(dir, { recursive: true, force: true });
});

const EVERY = 30_000;
const T0 = 1_700_000_000_000;

it('one instance wins each period, whichever asks first', async () => {
  const ja = new JobsRepository(a);
  const jb = new JobsRepository(b);
  expect(await ja.claim('prune', 'A', T0, EVERY)).toBe(true);
  expect(await jb.claim('prune', 'B', T0 + 10, EVERY)).toBe(false);
  expect(await ja.claim('prune', 'A', T0 + 20_000, EVERY)).toBe(false);
  // A timer that fires a little early still gets its period; then the other instance waits again.
  expect(await jb.claim('prune', 'B', T0 + EVERY - 500, EVERY)).toBe(true);
  expect(await ja.claim('prune', 'A', T0 + EVERY, EVERY)).toBe(false);
  expect(a.sqlite.prepare("SELECT owner, ran_at AS ranAt FROM job_runs WHERE name = 'prune'").get()).toEqual({ owner: 'B', ranAt: T0 + EVERY - 500 });
  // Another job has its own row.
  expect(await ja.claim('recover', 'A', T0 + 10, EVERY)).toBe(true);
});

it('a start-up run claims regardless and restarts the period', async () => {
  const ja = new JobsRepository(a);
  const jb = new JobsRepository(b);
  expect(await ja.claim('prune', 'A', T0, EVERY)).toBe(true);
  expect(await jb.claim('prune', 'B', T0 + 5_000, EVERY, true)).toBe(true);
  expect(await ja.claim('prune', 'A', T0 + EVERY, EVERY)).toBe(false); // B's run moved it on
  expect(await ja.claim('prune', 'A', T0 + 5_000 + EVERY, EVERY)).toBe(true);
});

it('many claims of one period at once: exactly one wins', async () => {
  const repos = [new JobsRepository(a), new JobsRepository(b)];
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => repos[i % 2]!.claim('recover', `I${i}`, T0, EVERY)));
  expect(results.filter(Boolean)).toHaveLength(1);
});
