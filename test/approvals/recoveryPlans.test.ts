// The approval recovery jobs run every 30 s across every workspace: their queries must search an
// index, never scan the approvals table (which only grows).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApprovalsRepository } from '../../src/store/approvals.js';
import { openStore } from '../../src/store/db.js';

const dir = mkdtempSync(join(tmpdir(), 'tasklane-plans-'));
const store = openStore(join(dir, 'plans.db'));
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('approval recovery queries (EXPLAIN QUERY PLAN)', () => {
  it('pending approvals with unsent cards and steps left waiting are found through indexes', async () => {
    const repo = new ApprovalsRepository(store);
    for (let i = 0; i < 50; i++) {
      await repo.create({ teamId: `T${i % 3}`, title: `a${i}`, details: '', requesterId: 'UREQ', approverIds: ['UAPP'], origin: i % 2 ? 'workflow' : 'shortcut', functionExecutionId: i % 2 ? `Fx${i}` : undefined, actorId: 'UREQ' });
    }
    const seen: string[] = [];
    const prepare = store.sqlite.prepare.bind(store.sqlite);
    store.sqlite.prepare = ((source: string) => {
      seen.push(source);
      return prepare(source);
    }) as typeof store.sqlite.prepare;
    try {
      expect((await repo.pendingWithUnsentCards(0, Date.now() + 1000)).length).toBe(50);
      await repo.stepsToComplete();
    } finally {
      store.sqlite.prepare = prepare;
    }
    const plans = seen.map((sql) => (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array((sql.match(/\?/g) ?? []).length).fill(0)) as { detail: string }[]).map((r) => r.detail).join(' | '));
    expect(plans.length).toBeGreaterThanOrEqual(2);
    expect(plans[0]).toMatch(/SEARCH approvals USING INDEX approvals_status_created_idx/);
    for (const p of plans) expect(p).not.toMatch(/SCAN approvals/);
  });
});
