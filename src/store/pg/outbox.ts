import { and, asc, count, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Effect, Ended, SendOutcome } from '../outbox.js';
import type { OutboxStore } from '../outboxStore.js';
import type { OutboxRow } from '../schema.js';
import type { PgDb, PgQueries } from './db.js';
import { homeState, outbox, taskMessages } from './schema.js';

/**
 * Writes effects in the caller's transaction, with ../outbox.ts `writeEffects`'s semantics: a new
 * key becomes a pending row; an existing key is left alone, unless the effect coalesces, in which
 * case the row is pending again with a new generation (and its payload replaced). One statement
 * per effect: a key written twice in one call is seen by the second write (a multi-row upsert may
 * not touch one row twice).
 *
 * Written in key order, not the order given (a stable sort: a key given twice keeps its order;
 * `PgOutboxRepository.settleAndClaim` locks the rows it settles in the same order).
 * Each write locks its key's row until commit, and SQLite's one writer never meets another, but
 * here two changes may owe the same effects in opposite orders (the Homes of a task's assignee
 * and creator): in one order for all, the second waits for the first instead of deadlocking.
 * So row ids within one change follow the keys; the sender goes by due time, not id.
 */
export async function writeEffectsPg(tx: PgQueries, effects: readonly Effect[], now: number): Promise<void> {
  const inKeyOrder = [...effects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const e of inKeyOrder) {
    if (!(await holds(tx, e))) continue;
    const row = {
      key: e.key,
      teamId: e.teamId,
      kind: e.kind,
      target: e.target,
      payload: JSON.stringify(e.payload ?? {}),
      nextAttemptAt: e.notBefore ?? now,
      spacingMs: e.spacingMs ?? 0,
      createdAt: now,
      updatedAt: now,
    };
    if (!e.coalesce) {
      await tx.insert(outbox).values(row).onConflictDoNothing({ target: outbox.key });
      continue;
    }
    await tx
      .insert(outbox)
      .values(row)
      .onConflictDoUpdate({
        target: outbox.key,
        set: {
          payload: sql`excluded.payload`,
          generation: sql`${outbox.generation} + 1`,
          // As on SQLite: pending already keeps the earlier due time (a spaced one keeps its own);
          // sent or given up is due again, no sooner than `spacing_ms` after the last send.
          nextAttemptAt: sql`CASE WHEN ${outbox.state} = 'pending' THEN (CASE WHEN excluded.spacing_ms > 0 THEN ${outbox.nextAttemptAt} ELSE LEAST(${outbox.nextAttemptAt}, excluded.next_attempt_at) END) ELSE GREATEST(excluded.next_attempt_at, ${outbox.updatedAt} + excluded.spacing_ms) END`,
          spacingMs: sql`excluded.spacing_ms`,
          attempts: sql`CASE WHEN ${outbox.state} = 'pending' THEN ${outbox.attempts} ELSE 0 END`,
          state: 'pending',
          updatedAt: sql`excluded.updated_at`,
        },
      });
  }
}

/** Whether the effect's `onlyIf` holds in `tx` (../outbox.ts `EffectCondition`). */
async function holds(tx: PgQueries, e: Effect): Promise<boolean> {
  const c = e.onlyIf;
  if (c === undefined) return true;
  if ('homeOpenedSince' in c) {
    const rows = await tx
      .select({ userId: homeState.userId })
      .from(homeState)
      .where(and(eq(homeState.teamId, e.teamId), eq(homeState.userId, e.target), gte(homeState.updatedAt, c.homeOpenedSince)));
    return rows.length > 0;
  }
  const rows = await tx
    .select({ ts: taskMessages.ts })
    .from(taskMessages)
    .where(and(eq(taskMessages.taskId, c.taskHasCards), eq(taskMessages.teamId, e.teamId)))
    .limit(1);
  return rows.length > 0;
}

/**
 * The outbox table on PostgreSQL: the same methods and results as SQLite's `OutboxRepository`
 * (../outbox.ts, which documents each method); test/store/outboxContract.test.ts runs one suite
 * on both. Several instances' senders share the table:
 * - a claim picks its due rows with `SELECT … FOR UPDATE SKIP LOCKED` (oldest due first) and
 *   leases them (owner, expiry) in the same transaction: a row another sender is claiming at that
 *   moment is skipped, not waited for, and never leased twice; a row whose lease ran out is due
 *   again, taken over and marked uncertain, as on SQLite;
 * - a settle is one conditional UPDATE on the row's owner (and, for done, its generation), so the
 *   outcome of a sender whose lease was taken over no longer counts; PostgreSQL evaluates the
 *   condition again on the row a concurrent claim left.
 */
export class PgOutboxRepository implements OutboxStore {
  constructor(private readonly db: PgDb) {}

  async add(effects: readonly Effect[], now: number): Promise<void> {
    if (effects.length === 0) return;
    await this.db.transaction((tx) => writeEffectsPg(tx, effects, now));
  }

  async claim(owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
    return this.db.transaction((tx) => claimIn(tx, owner, now, leaseMs, limit));
  }

  /**
   * One transaction: the ended attempts recorded, then the next rows leased. The rows to settle
   * are locked first in key order, the order `writeEffectsPg` writes effects in: a change writing
   * two of them again meanwhile queues behind the round (or the round behind it) instead of each
   * holding the row the other needs. The claim that follows skips locked rows and never waits.
   */
  async settleAndClaim(ended: readonly Ended[], owner: string, now: number, leaseMs: number, limit: number): Promise<{ rows: OutboxRow[]; dueAgain: number | undefined }> {
    return this.db.transaction(async (tx) => {
      if (ended.length > 1) {
        await tx
          .select({ id: outbox.id })
          .from(outbox)
          .where(
            inArray(
              outbox.id,
              ended.map((e) => e.row.id),
            ),
          )
          // Bytewise, as writeEffectsPg compares its (ASCII) keys.
          .orderBy(sql`${outbox.key} COLLATE "C"`)
          .for('update');
      }
      let dueAgain: number | undefined;
      for (const e of ended) {
        const at = await settleIn(tx, e.row, owner, e.outcome, now);
        if (at !== undefined && (dueAgain === undefined || at < dueAgain)) dueAgain = at;
      }
      return { rows: limit > 0 ? await claimIn(tx, owner, now, leaseMs, limit) : [], dueAgain };
    });
  }

  async settle(row: Pick<OutboxRow, 'id' | 'generation' | 'attempts'>, owner: string, outcome: SendOutcome, now: number): Promise<number | undefined> {
    return settleIn(this.db, row, owner, outcome, now);
  }

  async anyDue(now: number): Promise<boolean> {
    const rows = await this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(sql`${outbox.state} = 'pending' AND ${outbox.nextAttemptAt} <= ${now} AND (${outbox.leaseUntil} IS NULL OR ${outbox.leaseUntil} < ${now})`)
      .limit(1);
    return rows.length > 0;
  }

  async nextDue(): Promise<number | undefined> {
    const [row] = await this.db
      .select({ at: outbox.nextAttemptAt })
      .from(outbox)
      .where(sql`${outbox.state} = 'pending' AND ${outbox.leaseUntil} IS NULL`)
      .orderBy(asc(outbox.nextAttemptAt))
      .limit(1);
    const [lease] = await this.db
      .select({ at: outbox.leaseUntil })
      .from(outbox)
      .where(sql`${outbox.state} = 'pending' AND ${outbox.leaseUntil} IS NOT NULL`)
      .orderBy(asc(outbox.leaseUntil))
      .limit(1);
    const times = [row?.at, lease?.at].filter((t): t is number => typeof t === 'number');
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /**
   * Rows a change is writing again at this moment are skipped, not waited for (they are about to
   * be pending): a prune holding some rows while waiting on one a change holds, which in turn
   * waits on one of those, would deadlock that change.
   */
  async prune(before: number): Promise<number> {
    const r = await this.db.delete(outbox).where(
      inArray(
        outbox.id,
        this.db
          .select({ id: outbox.id })
          .from(outbox)
          .where(and(sql`${outbox.state} <> 'pending'`, lte(outbox.updatedAt, before)))
          .for('update', { skipLocked: true }),
      ),
    );
    return r.rowCount ?? 0;
  }

  async hasPending(teamId: string, kind: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(sql`${outbox.state} = 'pending'`, eq(outbox.teamId, teamId), eq(outbox.kind, kind)))
      .limit(1);
    return rows.length > 0;
  }

  async byKey(key: string): Promise<OutboxRow | undefined> {
    const [row] = await this.db.select().from(outbox).where(eq(outbox.key, key));
    return row;
  }

  async all(): Promise<OutboxRow[]> {
    return this.db.select().from(outbox).orderBy(asc(outbox.id));
  }

  async counts(): Promise<Record<'pending' | 'done' | 'failed', number>> {
    const rows = await this.db.select({ state: outbox.state, n: count() }).from(outbox).groupBy(outbox.state);
    const out = { pending: 0, done: 0, failed: 0 };
    for (const r of rows) out[r.state] = r.n;
    return out;
  }
}

/**
 * Leases up to `limit` due rows no live sender holds (inside the caller's transaction): the rows
 * are locked as they are picked, and rows another transaction has locked are skipped, so two
 * claiming instances split the due rows between them. Returned in id order, as SQLite's
 * `UPDATE … WHERE id IN (…) RETURNING` gives them.
 */
async function claimIn(tx: PgQueries, owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
  if (!(limit > 0)) return [];
  const due = await tx
    .select({ id: outbox.id })
    .from(outbox)
    .where(sql`${outbox.state} = 'pending' AND ${outbox.nextAttemptAt} <= ${now} AND (${outbox.leaseUntil} IS NULL OR ${outbox.leaseUntil} < ${now})`)
    .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  if (due.length === 0) return [];
  const rows = await tx
    .update(outbox)
    .set({
      leaseOwner: owner,
      leaseUntil: now + leaseMs,
      // A lease that ran out: its sender died mid-send, so whether Slack got it is unknown.
      uncertain: sql`CASE WHEN ${outbox.leaseUntil} IS NOT NULL THEN true ELSE ${outbox.uncertain} END`,
    })
    .where(
      inArray(
        outbox.id,
        due.map((r) => r.id),
      ),
    )
    .returning();
  return rows.sort((a, b) => a.id - b.id);
}

/** ../outbox.ts `settle`, in the caller's transaction (or on its own). */
async function settleIn(tx: PgQueries, row: Pick<OutboxRow, 'id' | 'generation' | 'attempts'>, owner: string, outcome: SendOutcome, now: number): Promise<number | undefined> {
  const mine = and(eq(outbox.id, row.id), eq(outbox.leaseOwner, owner));
  const release = { leaseOwner: null, leaseUntil: null, updatedAt: now };
  if (outcome.state === 'done') {
    const same = sql`${outbox.generation} = ${row.generation}`;
    const [after] = await tx
      .update(outbox)
      .set({
        ...release,
        state: sql`CASE WHEN ${same} THEN 'done' ELSE 'pending' END`,
        attempts: sql`CASE WHEN ${same} THEN ${outbox.attempts} + 1 ELSE 0 END`,
        // Written again meanwhile: the newest state goes out next, `spacing_ms` after this send.
        nextAttemptAt: sql`CASE WHEN ${same} THEN ${outbox.nextAttemptAt} ELSE ${now}::bigint + ${outbox.spacingMs} END`,
        uncertain: false,
        lastError: null,
        result: outcome.result === undefined ? null : storable(outcome.result),
      })
      .where(mine)
      .returning({ state: outbox.state, at: outbox.nextAttemptAt });
    return after?.state === 'pending' ? after.at : undefined;
  } else if (outcome.state === 'retry') {
    await tx
      .update(outbox)
      .set({ ...release, attempts: row.attempts + 1, nextAttemptAt: outcome.at, lastError: storable(outcome.error), uncertain: outcome.uncertain })
      .where(mine);
    return outcome.at;
  } else {
    await tx
      .update(outbox)
      .set({ ...release, state: 'failed', attempts: row.attempts + 1, lastError: storable(outcome.error) })
      .where(mine);
    return undefined;
  }
}

/**
 * PostgreSQL text cannot hold NUL, which an error message quoting what Slack or a person sent
 * might carry: dropped, so the settle is recorded instead of failing the sender's whole round.
 */
const storable = (text: string): string => text.replaceAll('\0', '');
