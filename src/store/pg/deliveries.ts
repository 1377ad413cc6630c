import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Claim, Unfinished } from '../deliveries.js';
import type { DeliveriesStore } from '../deliveriesStore.js';
import type { PgDb, PgQueries } from './db.js';
import { processedDeliveries } from './schema.js';

/** How long a handled delivery may wait to be recorded as done with others (as on SQLite). */
const FINISH_BATCH_MS = 25;

/**
 * Slack deliveries taken and finished, on PostgreSQL: the same methods and results as SQLite's
 * `DeliveriesRepository` (../deliveries.ts, which documents each method);
 * test/store/deliveriesContract.test.ts runs one suite on both. Several instances may receive
 * the same delivery (Slack's retry reaching another instance): the key is the table's primary
 * key, so of two concurrent first claims one inserts and the other, waiting on the key until the
 * first commits, inserts nothing and is a duplicate; a stale claim is resumed by a conditional
 * UPDATE, which PostgreSQL evaluates again on the row a concurrent resume left, so one wins.
 * Done-marks are batched per instance, as on SQLite, and written with the next claim (just
 * before it) or by a timer; a claim and a batch of done-marks are each statements of their own,
 * so none holds one delivery's row while waiting for another's.
 */
export class PgDeliveriesRepository implements DeliveriesStore {
  private finishing: string[] = [];
  private finished: Promise<void> | undefined;

  constructor(
    private readonly db: PgDb,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(teamId: string, key: string, body: string, staleMs = 30_000, maxAttempts = 3): Promise<Claim> {
    // Deliveries finished meanwhile are recorded first, in a statement of their own, not in one
    // transaction with the claim as on SQLite: holding their rows while the claim waits on another
    // instance's (which may be waiting on ours, a delivery each finished and the other receives
    // again) would deadlock. Fewer round trips than a transaction, too.
    const keys = this.takeFinishing();
    if (keys.length > 0) await recordFinished(this.db, keys);
    return this.claimIn(teamId, key, body, staleMs, maxAttempts);
  }

  private async claimIn(teamId: string, key: string, body: string, staleMs: number, maxAttempts: number): Promise<Claim> {
    const at = this.now();
    const inserted = await this.db.insert(processedDeliveries).values({ key, teamId, state: 'handling', claimedAt: at, receivedAt: at, body }).onConflictDoNothing();
    if (inserted.rowCount === 1) return 'fresh';
    const resumed = await this.db
      .update(processedDeliveries)
      .set({ claimedAt: at, attempts: sql`${processedDeliveries.attempts} + 1` })
      .where(
        and(
          eq(processedDeliveries.key, key),
          eq(processedDeliveries.state, 'handling'),
          lt(processedDeliveries.claimedAt, at - staleMs),
          lt(processedDeliveries.attempts, maxAttempts),
        ),
      );
    return resumed.rowCount === 1 ? 'resume' : 'duplicate';
  }

  finish(key: string): Promise<void> {
    this.finishing.push(key);
    this.finished ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        this.finished = undefined;
        const keys = this.takeFinishing();
        // The store is closing (or unreachable): the deliveries stay "handling" and are handled again later.
        const write = recordFinished(this.db, keys).catch(() => undefined);
        void write.then(() => resolve());
      }, FINISH_BATCH_MS);
    });
    return this.finished;
  }

  private takeFinishing(): string[] {
    const keys = this.finishing;
    this.finishing = [];
    return keys;
  }

  async unfinished(before: number, maxAttempts = 3, limit = 100): Promise<Unfinished[]> {
    return this.db.transaction(async (tx) => {
      await tx
        .update(processedDeliveries)
        .set({ state: 'failed', body: null })
        .where(and(eq(processedDeliveries.state, 'handling'), lt(processedDeliveries.claimedAt, before), sql`${processedDeliveries.attempts} >= ${maxAttempts}`));
      const rows = await tx
        .select({ key: processedDeliveries.key, body: processedDeliveries.body })
        .from(processedDeliveries)
        .where(and(eq(processedDeliveries.state, 'handling'), lt(processedDeliveries.claimedAt, before)))
        .orderBy(asc(processedDeliveries.claimedAt))
        .limit(limit);
      return rows.filter((r): r is Unfinished => r.body !== null);
    });
  }

  async pruneEvents(maxAgeMs: number): Promise<number> {
    const cutoff = this.now() - maxAgeMs;
    const r = await this.db
      .delete(processedDeliveries)
      // ILIKE: SQLite's LIKE ignores ASCII case, and SQLite is the reference.
      .where(and(lt(processedDeliveries.receivedAt, cutoff), sql`${processedDeliveries.key} ILIKE 'event:%'`, inArray(processedDeliveries.state, ['done', 'failed'])));
    return r.rowCount ?? 0;
  }
}

/** Marks handled deliveries done (in key order, so two instances' batches never lock crosswise). */
async function recordFinished(tx: PgQueries, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx
    .update(processedDeliveries)
    .set({ state: 'done', body: null })
    .where(inArray(processedDeliveries.key, [...keys].sort()));
}
