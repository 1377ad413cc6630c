import { and, asc, count, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { Effect, Ended, SendOutcome } from '../outbox.js';
import type { OutboxStore } from '../outboxStore.js';
import type { OutboxRow } from '../schema.js';
import type { PgQueries } from './db.js';
import { outbox } from './schema.js';

/**
 * Writes effects in the caller's transaction, with ../outbox.ts `writeEffects`'s semantics: a new
 * key becomes a pending row; an existing key is left alone, unless the effect coalesces, in which
 * case the row is pending again with a new generation (and its payload replaced); an effect whose
 * `onlyIf` does not hold is not written. At most two statements, whatever the number of effects
 * (a change's round trips are what its locks are held for): the effects written once, then those
 * that coalesce, each a multi-row insert whose conditions are checked in the statement. A key
 * given twice in one call is one row of the statement (a multi-row upsert may not touch one row
 * twice): the first of those written once; the last of those that coalesce, its generation
 * bumped once per time it was given, as separate writes would.
 *
 * Rows are written in key order within each statement, and the kinds that coalesce are never
 * written once, so every change takes the rows' locks in one global order (two changes may owe
 * the same Homes in opposite orders: the second waits for the first instead of deadlocking).
 * `PgOutboxRepository.recordOutcomesAndClaim` locks the rows whose outcomes it records in key order too.
 */
export async function writeEffectsPg(tx: PgQueries, effects: readonly Effect[], now: number): Promise<void> {
  const once = new Map<string, { e: Effect; times: number }>();
  const coalesced = new Map<string, { e: Effect; times: number }>();
  for (const e of effects) {
    if (e.coalesce) coalesced.set(e.key, { e, times: (coalesced.get(e.key)?.times ?? 0) + 1 });
    else if (!once.has(e.key)) once.set(e.key, { e, times: 1 });
  }
  if (once.size > 0) await tx.execute(insertEffects([...once.values()], now, sql`DO NOTHING`));
  if (coalesced.size > 0) await tx.execute(insertEffects([...coalesced.values()], now, COALESCE));
}

/** Pending again with a new generation; the due time as ../outbox.ts `writeEffects` sets it. */
const COALESCE = sql`DO UPDATE SET
  payload = excluded.payload,
  generation = outbox.generation + excluded.generation + 1,
  next_attempt_at = CASE WHEN outbox.state = 'pending' THEN (CASE WHEN excluded.spacing_ms > 0 THEN outbox.next_attempt_at ELSE LEAST(outbox.next_attempt_at, excluded.next_attempt_at) END) ELSE GREATEST(excluded.next_attempt_at, outbox.updated_at + excluded.spacing_ms) END,
  spacing_ms = excluded.spacing_ms,
  attempts = CASE WHEN outbox.state = 'pending' THEN outbox.attempts ELSE 0 END,
  state = 'pending',
  updated_at = excluded.updated_at`;

/**
 * One INSERT of `effects` (distinct keys), in key order, each only if its `onlyIf` holds. A new
 * row's generation counts the writes after the first (`times` − 1).
 */
function insertEffects(effects: { e: Effect; times: number }[], now: number, onConflict: SQL): SQL {
  const rows = effects.map(({ e, times }) => {
    const c = e.onlyIf;
    const homeSince = c !== undefined && 'homeOpenedSince' in c ? c.homeOpenedSince : null;
    const taskId = c !== undefined && 'taskHasCards' in c ? c.taskHasCards : null;
    const feed = c !== undefined && 'auditFeedSet' in c;
    return sql`(${e.key}::text, ${e.teamId}::text, ${e.kind}::text, ${e.target}::text, ${JSON.stringify(e.payload ?? {})}::text, ${e.notBefore ?? now}::bigint, ${e.spacingMs ?? 0}::integer, ${homeSince}::bigint, ${taskId}::bigint, ${feed}::boolean, ${times - 1}::integer)`;
  });
  return sql`INSERT INTO outbox (key, team_id, kind, target, payload, next_attempt_at, spacing_ms, generation, created_at, updated_at)
    SELECT v.key, v.team_id, v.kind, v.target, v.payload, v.due, v.spacing, v.generation, ${now}::bigint, ${now}::bigint
    FROM (VALUES ${sql.join(rows, sql`, `)}) AS v(key, team_id, kind, target, payload, due, spacing, home_since, task_id, feed, generation)
    WHERE (v.home_since IS NULL OR EXISTS (SELECT 1 FROM home_state h WHERE h.team_id = v.team_id AND h.user_id = v.target AND h.updated_at >= v.home_since))
      AND (v.task_id IS NULL OR EXISTS (SELECT 1 FROM task_messages m WHERE m.task_id = v.task_id AND m.team_id = v.team_id))
      AND (NOT v.feed OR EXISTS (SELECT 1 FROM workspace_settings w WHERE w.team_id = v.team_id AND w.audit_webhook_url IS NOT NULL))
    ORDER BY v.key COLLATE "C"
    ON CONFLICT (key) ${onConflict}`;
}

/**
 * The outbox table on PostgreSQL: the same methods and results as SQLite's `OutboxRepository`
 * (../outbox.ts, which documents each method); test/store/outboxContract.test.ts runs one suite
 * on both. Several instances' senders share the table:
 * - a claim picks its due rows with `SELECT … FOR UPDATE SKIP LOCKED` (oldest due first) and
 *   leases them (owner, expiry) in the same transaction: a row another sender is claiming at that
 *   moment is skipped, not waited for, and never leased twice; a row whose lease ran out is due
 *   again, taken over and marked uncertain, as on SQLite;
 * - recording an outcome is one conditional UPDATE on the row's owner (and, for done, its generation), so the
 *   outcome of a sender whose lease was taken over no longer counts; PostgreSQL evaluates the
 *   condition again on the row a concurrent claim left.
 */
export class PgOutboxRepository implements OutboxStore {
  constructor(private readonly db: PgQueries) {}

  async add(effects: readonly Effect[], now: number): Promise<void> {
    if (effects.length === 0) return;
    await this.db.transaction((tx) => writeEffectsPg(tx, effects, now));
  }

  async claim(owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
    return this.db.transaction((tx) => claimIn(tx, owner, now, leaseMs, limit));
  }

  /**
   * One transaction: the ended attempts recorded, then the next rows leased. The rows to record
   * are locked first in key order, the order `writeEffectsPg` writes effects in: a change writing
   * two of them again meanwhile queues behind the round (or the round behind it) instead of each
   * holding the row the other needs. The claim that follows skips locked rows and never waits.
   */
  async recordOutcomesAndClaim(ended: readonly Ended[], owner: string, now: number, leaseMs: number, limit: number): Promise<{ rows: OutboxRow[]; dueAgain: number | undefined }> {
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
        const at = await recordOutcomeIn(tx, e.row, owner, e.outcome, now);
        if (at !== undefined && (dueAgain === undefined || at < dueAgain)) dueAgain = at;
      }
      return { rows: limit > 0 ? await claimIn(tx, owner, now, leaseMs, limit) : [], dueAgain };
    });
  }

  async recordOutcome(row: Pick<OutboxRow, 'id' | 'generation' | 'attempts'>, owner: string, outcome: SendOutcome, now: number): Promise<number | undefined> {
    return recordOutcomeIn(this.db, row, owner, outcome, now);
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

/** ../outbox.ts `recordOutcome`, in the caller's transaction (or on its own). */
async function recordOutcomeIn(tx: PgQueries, row: Pick<OutboxRow, 'id' | 'generation' | 'attempts'>, owner: string, outcome: SendOutcome, now: number): Promise<number | undefined> {
  const mine = and(eq(outbox.id, row.id), eq(outbox.leaseOwner, owner));
  const leaseReleased = { leaseOwner: null, leaseUntil: null, updatedAt: now };
  if (outcome.state === 'done') {
    const same = sql`${outbox.generation} = ${row.generation}`;
    const [updated] = await tx
      .update(outbox)
      .set({
        ...leaseReleased,
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
    return updated?.state === 'pending' ? updated.at : undefined;
  } else if (outcome.state === 'retry') {
    await tx
      .update(outbox)
      .set({ ...leaseReleased, attempts: row.attempts + 1, nextAttemptAt: outcome.at, lastError: storable(outcome.error), uncertain: outcome.uncertain })
      .where(mine);
    return outcome.at;
  } else if (outcome.state === 'later') {
    await tx.update(outbox).set({ ...leaseReleased, nextAttemptAt: outcome.at, lastError: null, uncertain: false }).where(mine);
    return outcome.at;
  } else {
    await tx
      .update(outbox)
      .set({ ...leaseReleased, state: 'failed', attempts: row.attempts + 1, lastError: storable(outcome.error) })
      .where(mine);
    return undefined;
  }
}

/**
 * PostgreSQL text cannot hold NUL, which an error message quoting what Slack or a person sent
 * might carry: dropped, so the outcome is recorded instead of failing the sender's whole round.
 */
const storable = (text: string): string => text.replaceAll('\0', '');
