import { and, asc, eq, gte, isNotNull, lte, sql } from 'drizzle-orm';
import type { Store } from './db.js';
import { homeState, outbox, taskMessages, workspaceSettings, type OutboxRow } from './schema.js';

/**
 * One effect of a change, as the code that makes the change describes it. Written with
 * `writeEffects` inside the change's own transaction, sent later by the outbox sender.
 */
export interface Effect {
  /** Names the effect for good: a second write of the same key is a no-op (or coalesces). */
  key: string;
  teamId: string;
  /** Which handler sends it (src/outbox/kinds). */
  kind: string;
  /** A channel or user id, or a workflow execution id. */
  target: string;
  payload?: Record<string, unknown>;
  /**
   * Writing it again before it was sent means "send the newest state once more": the row's
   * generation is bumped (a send that started before that does not count as done).
   */
  coalesce?: boolean;
  /** With `coalesce`: sent at most once per this many ms, however many times it is written. */
  spacingMs?: number;
  /** Not before this time (ms); default now. */
  notBefore?: number;
  /** Written only when this holds in the change's transaction (else it is dropped). */
  onlyIf?: EffectCondition;
}

/**
 * What an effect may depend on in the store at the moment it is written, checked by the writer in
 * the change's transaction on either engine (so the code deciding on effects never reads the store):
 * - `homeOpenedSince`: the target user opened their App Home at or after this time (ms);
 * - `taskHasCards`: this task of the effect's workspace has at least one card in Slack;
 * - `auditFeedSet`: the effect's workspace has saved an audit webhook URL.
 */
export type EffectCondition = { homeOpenedSince: number } | { taskHasCards: number } | { auditFeedSet: true };

/**
 * Writes effects in the caller's transaction (call it inside `store.write`): a new key becomes a
 * pending row; an existing key is left alone, unless the effect coalesces, in which case the row
 * is pending again with a new generation (and its payload replaced).
 */
export function writeEffects(store: Pick<Store, 'prepared'>, effects: readonly Effect[], now: number): void {
  if (effects.length === 0) return;
  const values = {
    key: sql.placeholder('key'),
    teamId: sql.placeholder('teamId'),
    kind: sql.placeholder('kind'),
    target: sql.placeholder('target'),
    payload: sql.placeholder('payload'),
    nextAttemptAt: sql.placeholder('due'),
    spacingMs: sql.placeholder('spacing'),
    createdAt: sql.placeholder('now'),
    updatedAt: sql.placeholder('now'),
  };
  const insert = store.prepared('outbox.insert', (db) => db.insert(outbox).values(values).onConflictDoNothing({ target: outbox.key }).prepare());
  const coalesce = store.prepared('outbox.coalesce', (db) =>
    db
      .insert(outbox)
      .values(values)
      .onConflictDoUpdate({
        target: outbox.key,
        set: {
          payload: sql`excluded.payload`,
          generation: sql`${outbox.generation} + 1`,
          // Pending already: keep the earlier due time (and the retry count); sent or given up: due
          // again, but no sooner than `spacing_ms` after the last send.
          // (A spaced effect already pending keeps its time: it was set to respect the spacing, or a back-off.)
          nextAttemptAt: sql`CASE WHEN ${outbox.state} = 'pending' THEN (CASE WHEN excluded.spacing_ms > 0 THEN ${outbox.nextAttemptAt} ELSE min(${outbox.nextAttemptAt}, excluded.next_attempt_at) END) ELSE max(excluded.next_attempt_at, ${outbox.updatedAt} + excluded.spacing_ms) END`,
          spacingMs: sql`excluded.spacing_ms`,
          attempts: sql`CASE WHEN ${outbox.state} = 'pending' THEN ${outbox.attempts} ELSE 0 END`,
          state: 'pending',
          updatedAt: sql`excluded.updated_at`,
        },
      })
      .prepare(),
  );
  const homeOpened = store.prepared('outbox.onlyIf.homeOpened', (db) =>
    db
      .select({ userId: homeState.userId })
      .from(homeState)
      .where(and(eq(homeState.teamId, sql.placeholder('teamId')), eq(homeState.userId, sql.placeholder('userId')), gte(homeState.updatedAt, sql.placeholder('since'))))
      .prepare(),
  );
  const hasCards = store.prepared('outbox.onlyIf.hasCards', (db) =>
    db
      .select({ ts: taskMessages.ts })
      .from(taskMessages)
      .where(and(eq(taskMessages.taskId, sql.placeholder('taskId')), eq(taskMessages.teamId, sql.placeholder('teamId'))))
      .limit(1)
      .prepare(),
  );
  const feedSet = store.prepared('outbox.onlyIf.auditFeedSet', (db) =>
    db
      .select({ teamId: workspaceSettings.teamId })
      .from(workspaceSettings)
      .where(and(eq(workspaceSettings.teamId, sql.placeholder('teamId')), isNotNull(workspaceSettings.auditWebhookUrl)))
      .prepare(),
  );
  const holds = (e: Effect): boolean => {
    const c = e.onlyIf;
    if (c === undefined) return true;
    if ('homeOpenedSince' in c) return homeOpened.get({ teamId: e.teamId, userId: e.target, since: c.homeOpenedSince }) !== undefined;
    if ('auditFeedSet' in c) return feedSet.get({ teamId: e.teamId }) !== undefined;
    return hasCards.get({ taskId: c.taskHasCards, teamId: e.teamId }) !== undefined;
  };
  for (const e of effects) {
    if (!holds(e)) continue;
    const params = { key: e.key, teamId: e.teamId, kind: e.kind, target: e.target, payload: JSON.stringify(e.payload ?? {}), due: e.notBefore ?? now, spacing: e.spacingMs ?? 0, now };
    (e.coalesce ? coalesce : insert).run(params);
  }
}

/** How a send attempt ended, for `OutboxRepository.recordOutcome`. */
export type SendOutcome =
  | { state: 'done'; result?: string }
  | { state: 'retry'; at: number; error: string; uncertain: boolean }
  /** Not due yet after all (a scheduled action that found its real time): no attempt counted. */
  | { state: 'later'; at: number }
  | { state: 'failed'; error: string };

/** An attempt that ended: the row as claimed and how it went. */
export interface Ended {
  row: Pick<OutboxRow, 'id' | 'generation' | 'attempts'>;
  outcome: SendOutcome;
}

/**
 * The outbox table's queries. Rows are claimed with a lease (owner + expiry) in one conditional
 * UPDATE, so several senders (threads, processes, instances sharing a database) never send the
 * same row at once; a sender that dies leaves a lease that simply expires.
 */
export class OutboxRepository {
  constructor(private readonly store: Store) {}

  /** Writes effects in a transaction of their own (when no change goes with them). */
  add(effects: readonly Effect[], now: number): void {
    if (effects.length === 0) return;
    this.store.write(() => writeEffects(this.store, effects, now));
  }

  /**
   * Leases up to `limit` due rows to `owner` until `now + leaseMs`, oldest due first. A row whose
   * previous lease ran out (its sender died mid-send) comes back `uncertain`.
   */
  claim(owner: string, now: number, leaseMs: number, limit: number): OutboxRow[] {
    return this.store.write(() => this.claimIn(owner, now, leaseMs, limit));
  }

  /**
   * Records how the attempts in `ended` went and leases up to `limit` more due rows, in one
   * write transaction: a busy sender takes the write lock once per round, not once per row.
   * Returns the rows leased and the earliest time a recorded row is due again (a retry, or a
   * coalesced row written again meanwhile).
   */
  recordOutcomesAndClaim(ended: readonly Ended[], owner: string, now: number, leaseMs: number, limit: number): { rows: OutboxRow[]; dueAgain: number | undefined } {
    return this.store.write(() => {
      let dueAgain: number | undefined;
      for (const e of ended) {
        const at = this.recordOutcome(e.row, owner, e.outcome, now);
        if (at !== undefined && (dueAgain === undefined || at < dueAgain)) dueAgain = at;
      }
      return { rows: limit > 0 ? this.claimIn(owner, now, leaseMs, limit) : [], dueAgain };
    });
  }

  private claimIn(owner: string, now: number, leaseMs: number, limit: number): OutboxRow[] {
    return this.store
      .prepared('outbox.claim', (db) =>
        db
          .update(outbox)
          .set({
            leaseOwner: sql`${sql.placeholder('owner')}`,
            leaseUntil: sql`${sql.placeholder('until')}`,
            // A lease that ran out: its sender died mid-send, so whether Slack got it is unknown.
            uncertain: sql`CASE WHEN ${outbox.leaseUntil} IS NOT NULL THEN 1 ELSE ${outbox.uncertain} END`,
          })
          .where(
            sql`${outbox.id} IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ${sql.placeholder('now')} AND (lease_until IS NULL OR lease_until < ${sql.placeholder('now')}) ORDER BY next_attempt_at LIMIT ${sql.placeholder('limit')})`,
          )
          .returning()
          .prepare(),
      )
      .all({ owner, until: now + leaseMs, now, limit }) as OutboxRow[];
  }

  /**
   * Ends `owner`'s attempt at row `id`, claimed at `generation`. Done while the row was written
   * again (a newer generation) leaves it pending, due `spacing_ms` later: the newest state still
   * has to go out. Returns when the row is due again, if it is still pending.
   */
  recordOutcome(row: Pick<OutboxRow, 'id' | 'generation' | 'attempts'>, owner: string, outcome: SendOutcome, now: number): number | undefined {
    const mine = and(eq(outbox.id, sql.placeholder('id')), eq(outbox.leaseOwner, sql.placeholder('owner')));
    const leaseReleased = { leaseOwner: null, leaseUntil: null, updatedAt: sql`${sql.placeholder('now')}` };
    const base = { id: row.id, owner, now };
    if (outcome.state === 'done') {
      const updated = this.store
        .prepared('outbox.recordDone', (db) =>
          db
            .update(outbox)
            .set({
              ...leaseReleased,
              state: sql`CASE WHEN ${outbox.generation} = ${sql.placeholder('generation')} THEN 'done' ELSE 'pending' END`,
              attempts: sql`CASE WHEN ${outbox.generation} = ${sql.placeholder('generation')} THEN ${outbox.attempts} + 1 ELSE 0 END`,
              // Written again meanwhile: the newest state goes out next, `spacing_ms` after this send.
              nextAttemptAt: sql`CASE WHEN ${outbox.generation} = ${sql.placeholder('generation')} THEN ${outbox.nextAttemptAt} ELSE ${sql.placeholder('now')} + ${outbox.spacingMs} END`,
              uncertain: false,
              lastError: null,
              result: sql`${sql.placeholder('result')}`,
            })
            .where(mine)
            .returning({ state: outbox.state, at: outbox.nextAttemptAt })
            .prepare(),
        )
        .get({ ...base, generation: row.generation, result: outcome.result ?? null }) as { state: string; at: number } | undefined;
      return updated?.state === 'pending' ? updated.at : undefined;
    } else if (outcome.state === 'retry' || outcome.state === 'later') {
      const retry = outcome.state === 'retry';
      this.store
        .prepared('outbox.recordRetry', (db) =>
          db
            .update(outbox)
            .set({
              ...leaseReleased,
              attempts: sql`${sql.placeholder('attempts')}`,
              nextAttemptAt: sql`${sql.placeholder('at')}`,
              lastError: sql`${sql.placeholder('error')}`,
              uncertain: sql`${sql.placeholder('uncertain')}`,
            })
            .where(mine)
            .prepare(),
        )
        .run({ ...base, attempts: retry ? row.attempts + 1 : row.attempts, at: outcome.at, error: retry ? outcome.error : null, uncertain: retry && outcome.uncertain ? 1 : 0 });
      return outcome.at;
    } else {
      this.store
        .prepared('outbox.recordFailed', (db) =>
          db
            .update(outbox)
            .set({ ...leaseReleased, state: 'failed', attempts: sql`${sql.placeholder('attempts')}`, lastError: sql`${sql.placeholder('error')}` })
            .where(mine)
            .prepare(),
        )
        .run({ ...base, attempts: row.attempts + 1, error: outcome.error });
      return undefined;
    }
  }

  /** Whether a row is due that no live sender holds (a read: no write lock when there is none). */
  anyDue(now: number): boolean {
    return (
      this.store
        .prepared('outbox.anyDue', (db) =>
          db
            .select({ id: outbox.id })
            .from(outbox)
            .where(sql`${outbox.state} = 'pending' AND ${outbox.nextAttemptAt} <= ${sql.placeholder('now')} AND (${outbox.leaseUntil} IS NULL OR ${outbox.leaseUntil} < ${sql.placeholder('now')})`)
            .limit(1)
            .prepare(),
        )
        .get({ now }) !== undefined
    );
  }

  /**
   * When the sender should next look (ms), if ever: the first due row no sender holds, or the
   * first lease to run out (a sender that died). Two index walks, however many rows wait.
   */
  nextDue(): number | undefined {
    const row = this.store
      .prepared('outbox.nextDue', (db) =>
        db
          .select({ at: outbox.nextAttemptAt })
          .from(outbox)
          .where(sql`${outbox.state} = 'pending' AND ${outbox.leaseUntil} IS NULL`)
          .orderBy(asc(outbox.nextAttemptAt))
          .limit(1)
          .prepare(),
      )
      .get() as { at: number } | undefined;
    const lease = this.store
      .prepared('outbox.nextLeaseEnd', (db) =>
        db
          .select({ at: outbox.leaseUntil })
          .from(outbox)
          .where(sql`${outbox.state} = 'pending' AND ${outbox.leaseUntil} IS NOT NULL`)
          .orderBy(asc(outbox.leaseUntil))
          .limit(1)
          .prepare(),
      )
      .get() as { at: number } | undefined;
    const times = [row?.at, lease?.at].filter((t): t is number => typeof t === 'number');
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** Forgets rows sent or given up before `before` (their keys no longer guard anything Slack could redeliver). */
  prune(before: number): number {
    return this.store.write((tx) =>
      tx.delete(outbox).where(and(sql`${outbox.state} <> 'pending'`, lte(outbox.updatedAt, before))).run().changes,
    );
  }

  /** Whether any effect of `kind` for this workspace is still to be sent (or being sent). */
  hasPending(teamId: string, kind: string): boolean {
    return (
      this.store
        .prepared('outbox.hasPending', (db) =>
          db
            .select({ id: outbox.id })
            .from(outbox)
            .where(and(sql`${outbox.state} = 'pending'`, eq(outbox.teamId, sql.placeholder('teamId')), eq(outbox.kind, sql.placeholder('kind'))))
            .limit(1)
            .prepare(),
        )
        .get({ teamId, kind }) !== undefined
    );
  }

  byKey(key: string): OutboxRow | undefined {
    return this.store.db.select().from(outbox).where(eq(outbox.key, key)).get();
  }

  /** Every row, oldest first (tests, diagnostics). */
  all(): OutboxRow[] {
    return this.store.db.select().from(outbox).orderBy(asc(outbox.id)).all();
  }

  /** Rows by state, for /healthz-style reporting and tests. */
  counts(): Record<'pending' | 'done' | 'failed', number> {
    const rows = this.store.db.select({ state: outbox.state, n: sql<number>`count(*)` }).from(outbox).groupBy(outbox.state).all();
    const out = { pending: 0, done: 0, failed: 0 };
    for (const r of rows) out[r.state] = r.n;
    return out;
  }
}
