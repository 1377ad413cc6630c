import type { Claim, DeliveriesRepository, Unfinished } from './deliveries.js';

export type { Claim, Unfinished } from './deliveries.js';

/**
 * Slack deliveries taken and finished, whichever engine holds them: SQLite's
 * `DeliveriesRepository` (./deliveries.ts, which documents each method; behind
 * `sqliteDeliveriesStore`) and PostgreSQL's `PgDeliveriesRepository` (./pg/deliveries.ts).
 * test/store/deliveriesContract.test.ts runs one suite on both.
 */
export interface DeliveriesStore {
  claim(teamId: string, key: string, body: string, staleMs?: number, maxAttempts?: number): Promise<Claim>;
  /** Resolves when the done-mark is recorded (batched with others, see ./deliveries.ts). */
  finish(key: string): Promise<void>;
  unfinished(before: number, maxAttempts?: number, limit?: number): Promise<Unfinished[]>;
  pruneEvents(maxAgeMs: number): Promise<number>;
}

/** SQLite's repository behind the async interface (the repository stays synchronous where it is). */
export function sqliteDeliveriesStore(repo: DeliveriesRepository): DeliveriesStore {
  return {
    claim: async (teamId, key, body, staleMs, maxAttempts) => repo.claim(teamId, key, body, staleMs, maxAttempts),
    finish: (key) => repo.finish(key),
    unfinished: async (before, maxAttempts, limit) => repo.unfinished(before, maxAttempts, limit),
    pruneEvents: (maxAgeMs) => repo.pruneEvents(maxAgeMs),
  };
}
