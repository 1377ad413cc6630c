import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Store } from './db.js';
import { processedDeliveries } from './schema.js';

/** What to do with a delivery, given what the store remembers of it. */
export type Claim = 'fresh' | 'resume' | 'duplicate';

/** A delivery whose handling was cut short, to be handled again from its body. */
export interface Unfinished {
  key: string;
  body: string;
}

/**
 * Remembers which Slack deliveries were taken, so Slack's retries have no second effect, and
 * which were finished, so one a crash cut short is handled again: events are handled at least
 * once, and their listeners' effects are idempotent (outbox keys, conditional updates).
 */
export class DeliveriesRepository {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes delivery `key` for handling, keeping its `body` until `finish`: `fresh` the first time,
   * `resume` when an earlier attempt was cut short (taken more than `staleMs` ago and never
   * finished; at most `maxAttempts` in all), else `duplicate`.
   */
  claim(teamId: string, key: string, body: string, staleMs = 30_000, maxAttempts = 3): Claim {
    // Each statement is atomic on its own (autocommit): no transaction around them, one commit
    // per delivery, on the path of every event.
    {
      const at = this.now();
      const inserted = this.store
        .prepared('deliveries.claim', (db) =>
          db
            .insert(processedDeliveries)
            .values({ key: sql.placeholder('key'), teamId: sql.placeholder('teamId'), state: 'handling', claimedAt: sql.placeholder('at'), receivedAt: sql.placeholder('at'), body: sql.placeholder('body') })
            .onConflictDoNothing()
            .prepare(),
        )
        .run({ key, teamId, at, body });
      if (inserted.changes === 1) return 'fresh';
      const resumed = this.store
        .prepared('deliveries.resume', (db) =>
          db
            .update(processedDeliveries)
            .set({ claimedAt: sql`${sql.placeholder('at')}`, attempts: sql`${processedDeliveries.attempts} + 1` })
            .where(
              and(
                eq(processedDeliveries.key, sql.placeholder('key')),
                eq(processedDeliveries.state, 'handling'),
                lt(processedDeliveries.claimedAt, sql.placeholder('staleBefore')),
                lt(processedDeliveries.attempts, sql.placeholder('maxAttempts')),
              ),
            )
            .prepare(),
        )
        .run({ key, at, staleBefore: at - staleMs, maxAttempts });
      return resumed.changes === 1 ? 'resume' : 'duplicate';
    }
  }

  /** The delivery was handled: its body is dropped. */
  finish(key: string): void {
    this.store
      .prepared('deliveries.finish', (db) =>
        db.update(processedDeliveries).set({ state: 'done', body: null }).where(eq(processedDeliveries.key, sql.placeholder('key'))).prepare(),
      )
      .run({ key });
  }

  /** Deliveries taken before `before` and never finished, oldest first; those out of attempts are marked failed. */
  unfinished(before: number, maxAttempts = 3, limit = 100): Unfinished[] {
    return this.store.write((tx) => {
      tx.update(processedDeliveries)
        .set({ state: 'failed', body: null })
        .where(and(eq(processedDeliveries.state, 'handling'), lt(processedDeliveries.claimedAt, before), sql`${processedDeliveries.attempts} >= ${maxAttempts}`))
        .run();
      return tx
        .select({ key: processedDeliveries.key, body: processedDeliveries.body })
        .from(processedDeliveries)
        .where(and(eq(processedDeliveries.state, 'handling'), lt(processedDeliveries.claimedAt, before)))
        .orderBy(asc(processedDeliveries.claimedAt))
        .limit(limit)
        .all()
        .filter((r): r is Unfinished => r.body !== null);
    });
  }

  /**
   * Forgets finished event deliveries (`event:` keys) older than `maxAgeMs`: Slack stops
   * retrying within minutes.
   */
  async pruneEvents(maxAgeMs: number): Promise<number> {
    const cutoff = this.now() - maxAgeMs;
    return this.store.db
      .delete(processedDeliveries)
      .where(and(lt(processedDeliveries.receivedAt, cutoff), sql`${processedDeliveries.key} LIKE 'event:%'`, inArray(processedDeliveries.state, ['done', 'failed'])))
      .run().changes;
  }
}
