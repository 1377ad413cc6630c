import { statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TEAM, startTestApp, type TestApp } from '../support/harness.js';

describe('WAL checkpoints off the request path', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.dispose();
  });

  it('copies committed writes into the database file from the maintenance thread, long before the 8,000-page in-commit checkpoint', async () => {
    t = await startTestApp();
    t.fake.addUser({ id: 'UALICE', teamId: TEAM });
    // The in-commit checkpoint stays a safety net, far above SQLite's default of 1,000 pages.
    expect(t.store.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(8000);
    await new Promise((r) => setTimeout(r, 300)); // the migrations' own pages are checkpointed first
    const before = statSync(t.dbPath).mtimeMs;
    for (let i = 0; i < 5; i++) expect((await t.slack.command({ teamId: TEAM, userId: 'UALICE', text: `add Checkpoint ${i}` })).response.status).toBe(200);
    await t.settle();
    // The database file itself changes only when a checkpoint copies the WAL into it.
    await expect.poll(() => statSync(t.dbPath).mtimeMs, { timeout: 2_000, interval: 50 }).toBeGreaterThan(before);
    const rows = t.store.sqlite.prepare("SELECT count(*) AS n FROM tasks WHERE title LIKE 'Checkpoint %'").get() as { n: number };
    expect(rows.n).toBe(5);
  });
});
