import { and, eq, sql } from 'drizzle-orm';
import { DEFAULT_HOME_FILTER, isHomeFilter, type HomePrefs } from '../homeState.js';
import type { HomeStatePrefsStore } from '../homeStateStore.js';
import type { Effect } from '../outbox.js';
import { writeEffectsPg } from './outbox.js';
import type { PgDb, PgQueries } from './db.js';
import { homeState } from './schema.js';

/**
 * The `home_state` table on PostgreSQL: the same methods and results as SQLite's
 * `HomeStateRepository` (../homeState.ts, which documents each method). `touchIn` and `saveIn`
 * take the transaction that also writes the Home's publish (`writeEffectsPg`); `touch` and
 * `save` are each a transaction of their own. Both are single upserts: concurrent ones for one
 * user queue on the row, the last to commit wins, as on SQLite.
 */
export class PgHomeStateRepository implements HomeStatePrefsStore {
  constructor(private readonly db: PgDb) {}

  async get(teamId: string, userId: string): Promise<HomePrefs | undefined> {
    const [row] = await this.db
      .select({ filter: homeState.filter, page: homeState.page })
      .from(homeState)
      .where(and(eq(homeState.teamId, teamId), eq(homeState.userId, userId)));
    return row ? { filter: isHomeFilter(row.filter) ? row.filter : DEFAULT_HOME_FILTER, page: Math.max(0, row.page) } : undefined;
  }

  async touch(teamId: string, userId: string, now: number, effects: readonly Effect[] = []): Promise<void> {
    if (effects.length === 0) return this.touchIn(this.db, teamId, userId, now);
    await this.db.transaction(async (tx) => {
      await this.touchIn(tx, teamId, userId, now);
      await writeEffectsPg(tx, effects, now);
    });
  }

  async save(teamId: string, userId: string, prefs: HomePrefs, now: number, effects: readonly Effect[] = []): Promise<void> {
    if (effects.length === 0) return this.saveIn(this.db, teamId, userId, prefs, now);
    await this.db.transaction(async (tx) => {
      await this.saveIn(tx, teamId, userId, prefs, now);
      await writeEffectsPg(tx, effects, now);
    });
  }

  /** Records that the user opened the Home at `now` (keeping earlier choices), in `tx`. */
  async touchIn(tx: PgQueries, teamId: string, userId: string, now: number): Promise<void> {
    await tx
      .insert(homeState)
      .values({ teamId, userId, updatedAt: now })
      .onConflictDoUpdate({ target: [homeState.teamId, homeState.userId], set: { updatedAt: sql`excluded.updated_at` } });
  }

  /** Stores the user's choices (it counts as opened at `now`), in `tx`. */
  async saveIn(tx: PgQueries, teamId: string, userId: string, prefs: HomePrefs, now: number): Promise<void> {
    const values = { filter: prefs.filter, page: Math.max(0, Math.floor(prefs.page)) };
    await tx
      .insert(homeState)
      .values({ teamId, userId, ...values, updatedAt: now })
      .onConflictDoUpdate({ target: [homeState.teamId, homeState.userId], set: { ...values, updatedAt: now } });
  }
}
