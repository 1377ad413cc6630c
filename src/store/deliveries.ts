import { and, like, lt, sql } from 'drizzle-orm';
import type { Store } from './db.js';
import { processedDeliveries } from './schema.js';

/** Remembers which Slack deliveries were handled, so Slack's retries have no second effect. */
export class DeliveriesRepository {
  constructor(private readonly store: Store) {}

  /** Records `key`; returns false when it had been recorded before (a retry or duplicate). */
  async claim(teamId: string, key: string): Promise<boolean> {
    const result = this.store
      .prepared('deliveries.claim', (db) =>
        db.insert(processedDeliveries).values({ key: sql.placeholder('key'), teamId: sql.placeholder('teamId') }).onConflictDoNothing().prepare(),
      )
      .run({ key, teamId });
    return result.changes === 1;
  }

  /**
   * Forgets redelivery guards for events (`event:` keys) older than `maxAgeMs`: Slack stops
   * retrying within minutes. Other keys (e.g. "the requester was told") are kept for good.
   */
  async pruneEvents(maxAgeMs: number): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    return this.store.db
      .delete(processedDeliveries)
      .where(and(lt(processedDeliveries.receivedAt, cutoff), like(processedDeliveries.key, 'event:%')))
      .run().changes;
  }

  async count(): Promise<number> {
    const row = this.store.db.select({ n: sql<number>`count(*)` }).from(processedDeliveries).get();
    return row?.n ?? 0;
  }
}
