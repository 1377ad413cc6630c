import type { Effect, Ended, OutboxRepository, SendOutcome } from './outbox.js';
import type { OutboxRow } from './schema.js';

export type { Effect, Ended, SendOutcome } from './outbox.js';

/**
 * The outbox table, whichever engine holds it: SQLite's `OutboxRepository` (./outbox.ts, which
 * documents each method; synchronous, behind `sqliteOutboxStore`) and PostgreSQL's
 * `PgOutboxRepository` (./pg/outbox.ts). Every method is one whole transaction. Effects that go
 * with a change are written in the change's transaction (`writeEffects`, `writeEffectsPg`), not
 * here. test/store/outboxContract.test.ts runs one suite on both.
 */
export interface OutboxStore {
  add(effects: readonly Effect[], now: number): Promise<void>;
  claim(owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]>;
  recordOutcomesAndClaim(ended: readonly Ended[], owner: string, now: number, leaseMs: number, limit: number): Promise<{ rows: OutboxRow[]; dueAgain: number | undefined }>;
  recordOutcome(row: Pick<OutboxRow, 'id' | 'generation' | 'attempts'>, owner: string, outcome: SendOutcome, now: number): Promise<number | undefined>;
  anyDue(now: number): Promise<boolean>;
  nextDue(): Promise<number | undefined>;
  prune(before: number): Promise<number>;
  hasPending(teamId: string, kind: string): Promise<boolean>;
  byKey(key: string): Promise<OutboxRow | undefined>;
  all(): Promise<OutboxRow[]>;
  counts(): Promise<Record<'pending' | 'done' | 'failed', number>>;
}

/**
 * SQLite's repository behind the async interface. The repository itself stays synchronous: the
 * sender's hot path (in its worker thread) calls it directly.
 */
export function sqliteOutboxStore(repo: OutboxRepository): OutboxStore {
  return {
    add: async (effects, now) => repo.add(effects, now),
    claim: async (owner, now, leaseMs, limit) => repo.claim(owner, now, leaseMs, limit),
    recordOutcomesAndClaim: async (ended, owner, now, leaseMs, limit) => repo.recordOutcomesAndClaim(ended, owner, now, leaseMs, limit),
    recordOutcome: async (row, owner, outcome, now) => repo.recordOutcome(row, owner, outcome, now),
    anyDue: async (now) => repo.anyDue(now),
    nextDue: async () => repo.nextDue(),
    prune: async (before) => repo.prune(before),
    hasPending: async (teamId, kind) => repo.hasPending(teamId, kind),
    byKey: async (key) => repo.byKey(key),
    all: async () => repo.all(),
    counts: async () => repo.counts(),
  };
}
