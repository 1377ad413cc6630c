// The search index's background merging (store/searchIndex.ts) and the maintenance thread that
// runs it with the WAL checkpoint (store/maintenance.ts), on a real SQLite file migrated as in
// production.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DashboardReadModel } from '../../src/store/dashboard.js';
import { openStore, type Store } from '../../src/store/db.js';
import { startMaintenance } from '../../src/store/maintenance.js';
import { mergeSearchIndex } from '../../src/store/searchIndex.js';
import { TasksRepository } from '../../src/store/tasks.js';

const T = 'T0MERGE01';
const ANN = 'UANN';
const silent = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'error', setName() {} } as never;

let dir: string;
let store: Store;
let repo: TasksRepository;
let clock = 1_700_000_000_000;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-merge-'));
  store = openStore(join(dir, 'db.sqlite'));
  repo = new TasksRepository(store);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One task per transaction, as requests write them: each adds a segment to the index. */
async function addTasks(n: number, word = 'alpha', long = false): Promise<void> {
  for (let i = 0; i < n; i++) {
    const title = long ? `${word} task ${i} ${(i * 7919).toString(36)} ${'qwertyuiopasdfghjklzxcvbnm'.slice(i % 20)} ${(i * 104729).toString(36)} review` : `${word} task ${i}`;
    await repo.create({ teamId: T, title, assigneeId: ANN, creatorId: ANN, origin: 'command' }, (clock += 1000));
  }
}

const search = async (q: string) =>
  (await new DashboardReadModel(store).searchTasks({ teamId: T, userId: ANN, guest: false }, q, 500)).map((t) => t.number).sort((a, b) => a - b);

/** How many segments the search index has now (each merge step lowers it; each insert adds one). */
const searchIndexSegments = (s: Store) => s.sqlite.prepare('SELECT count(DISTINCT segid) AS n FROM tasks_fts_idx').pluck().get() as number;

const config = (key: string) => store.sqlite.prepare('SELECT v FROM tasks_fts_config WHERE k = ?').pluck().get(key);

describe('search index merging', () => {
  it('an insert does not merge (automerge off, crisis only at 32 segments on a level)', async () => {
    expect(config('automerge')).toBe(0);
    expect(config('crisismerge')).toBe(32);
    await addTasks(20);
    expect(searchIndexSegments(store)).toBeGreaterThanOrEqual(20);
  });

  it('merges in steps until nothing is left, and every task is still found', async () => {
    await addTasks(30);
    const before = searchIndexSegments(store);
    const steps = mergeSearchIndex(store, 5_000);
    expect(steps).toBeGreaterThan(1);
    const after = searchIndexSegments(store);
    expect(after).toBeLessThan(before / 3);
    // Nothing left: the next call finds no work (one step that changed nothing).
    expect(mergeSearchIndex(store, 5_000)).toBe(1);
    expect(searchIndexSegments(store)).toBe(after);
    expect(await search('alpha')).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(await search('task 17')).toEqual([18]);
  });

  it('stops at its time budget (one small step) and carries on in the next call', async () => {
    await addTasks(600, 'delta', true);
    const before = searchIndexSegments(store);
    expect(mergeSearchIndex(store, 0)).toBe(1);
    const afterOne = searchIndexSegments(store);
    expect(afterOne).toBeLessThanOrEqual(before);
    expect(mergeSearchIndex(store, 5_000)).toBeGreaterThanOrEqual(2); // work was left
    expect(searchIndexSegments(store)).toBeLessThan(afterOne);
    expect(await search('delta')).toHaveLength(500); // the read model's page
    expect(await search('task 599')).toEqual([600]);
  });
});

describe('the maintenance thread', () => {
  it('merges the index and checkpoints the WAL while the app writes, then stops', async () => {
    const file = join(dir, 'db.sqlite');
    const maintenance = startMaintenance(store, silent, 20);
    try {
      await addTasks(60, 'beta');
      await vi.waitFor(() => expect(searchIndexSegments(store)).toBeLessThan(16), { timeout: 10_000, interval: 20 });
      // Checkpointed: the database file holds every page (this connection checkpoints only past
      // 8,000 WAL pages, so only the thread can have copied them there).
      const bytes = () => (store.sqlite.pragma('page_count', { simple: true }) as number) * (store.sqlite.pragma('page_size', { simple: true }) as number);
      await vi.waitFor(() => expect(statSync(file).size).toBe(bytes()), { timeout: 10_000, interval: 20 });
      expect(await search('beta')).toHaveLength(60);
    } finally {
      await maintenance.stop();
    }
    // Its connection is closed and the lock let go: this connection writes at once.
    await addTasks(1, 'gamma');
    expect(await search('gamma')).toEqual([61]);
  });
});
