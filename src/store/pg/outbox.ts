import { sql } from 'drizzle-orm';
import type { Effect } from '../outbox.js';
import type { PgQueries } from './db.js';
import { outbox } from './schema.js';

/**
 * Writes effects in the caller's transaction, with ../outbox.ts `writeEffects`'s semantics: a new
 * key becomes a pending row; an existing key is left alone, unless the effect coalesces, in which
 * case the row is pending again with a new generation (and its payload replaced). One statement
 * per effect: a key written twice in one call is seen by the second write (a multi-row upsert may
 * not touch one row twice).
 *
 * Written in key order, not the order given (a stable sort: a key given twice keeps its order).
 * Each write locks its key's row until commit, and SQLite's one writer never meets another, but
 * here two changes may owe the same effects in opposite orders (the Homes of a task's assignee
 * and creator): in one order for all, the second waits for the first instead of deadlocking.
 * So row ids within one change follow the keys; the sender goes by due time, not id.
 */
export async function writeEffectsPg(tx: PgQueries, effects: readonly Effect[], now: number): Promise<void> {
  const inKeyOrder = [...effects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const e of inKeyOrder) {
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
