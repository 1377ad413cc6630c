import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Store } from './db.js';
import { processedDeliveries } from './schema.js';

/** How long a handled delivery may wait to be recorded as done with others (see `finish`). */
const FINISH_BATCH_MS = 25;

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
  /** Deliveries handled, not yet recorded as done (see `finish`). */
  private finishing: string[] = [];
  /** Resolves when the current batch's timer has fired (it records what a claim did not). */
  private finished: Promise<void> | undefined;

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
    // Deliveries finished meanwhile are recorded in the same transaction: one commit per event.
    if (this.finishing.length === 0) return this.claimIn(teamId, key, body, staleMs, maxAttempts);
    return this.store.write(() => {
      this.recordFinished();
      return this.claimIn(teamId, key, body, staleMs, maxAttempts);
    });
  }

  private claimIn(teamId: string, key: string, body: string, staleMs: number, maxAttempts: number): Claim {
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

  /**
   * The delivery was handled: its body is dropped. Recorded with the next claim, or at the latest
   * `FINISH_BATCH_MS` later (resolves then): a crash in between only means the event is handled
   * once more, which its listener's idempotent effects allow.
   */
  finish(key: string): Promise<void> {
    this.finishing.push(key);
    this.finished ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        this.finished = undefined;
        try {
          if (this.finishing.length > 0) this.store.write(() => this.recordFinished());
        } catch {
          // The store is closing: the deliveries stay "handling" and are handled again after a restart.
          this.finishing = [];
        }
        resolve();
      }, FINISH_BATCH_MS);
    });
    return this.finished;
  }

  /** Marks the deliveries `finish` collected done (inside a write transaction). */
  private recordFinished(): void {
    const keys = this.finishing;
    this.finishing = [];
    const done = this.store.prepared('deliveries.finish', (db) =>
      db.update(processedDeliveries).set({ state: 'done', body: null }).where(eq(processedDeliveries.key, sql.placeholder('key'))).prepare(),
    );
    for (const key of keys) done.run({ key });
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
