import { and, eq, sql } from 'drizzle-orm';
import type { Store } from './db.js';
import { homeState, type HomeFilter } from './schema.js';

export const HOME_FILTERS: readonly HomeFilter[] = ['assigned', 'created', 'all_open', 'recently_done'];
export const DEFAULT_HOME_FILTER: HomeFilter = 'assigned';

/** What a user last chose on their App Home. */
export interface HomePrefs {
  filter: HomeFilter;
  /** Zero-based page of the task list. */
  page: number;
}

export const isHomeFilter = (value: unknown): value is HomeFilter =>
  typeof value === 'string' && (HOME_FILTERS as readonly string[]).includes(value);

/**
 * The `home_state` table: one row per (team, user) who has opened the App Home. Its presence
 * also tells the publisher that the user has a Home worth republishing (see publisher.ts).
 */
export class HomeStateRepository {
  constructor(private readonly store: Store) {}

  /** The user's choices, or undefined when they never opened the Home. */
  async get(teamId: string, userId: string): Promise<HomePrefs | undefined> {
    const row = this.store
      .prepared('homeState.get', (db) =>
        db
          .select({ filter: homeState.filter, page: homeState.page })
          .from(homeState)
          .where(and(eq(homeState.teamId, sql.placeholder('teamId')), eq(homeState.userId, sql.placeholder('userId'))))
          .prepare(),
      )
      .get({ teamId, userId });
    return row ? { filter: isHomeFilter(row.filter) ? row.filter : DEFAULT_HOME_FILTER, page: Math.max(0, row.page) } : undefined;
  }

  /**
   * Records that the user opened the Home at `now` (keeping earlier choices). Synchronous: call
   * it inside the `store.write` that also writes the Home's publish.
   */
  touchIn(teamId: string, userId: string, now: number): void {
    this.store
      .prepared('homeState.touch', (db) =>
        db
          .insert(homeState)
          .values({ teamId: sql.placeholder('teamId'), userId: sql.placeholder('userId'), updatedAt: sql.placeholder('now') })
          .onConflictDoUpdate({ target: [homeState.teamId, homeState.userId], set: { updatedAt: sql`excluded.updated_at` } })
          .prepare(),
      )
      .run({ teamId, userId, now });
  }

  /** Stores the user's choices (they are looking at their Home: it counts as opened at `now`). Synchronous, like `touchIn`. */
  saveIn(teamId: string, userId: string, prefs: HomePrefs, now: number): void {
    const values = { filter: prefs.filter, page: Math.max(0, Math.floor(prefs.page)) };
    this.store.db
      .insert(homeState)
      .values({ teamId, userId, ...values, updatedAt: now })
      .onConflictDoUpdate({ target: [homeState.teamId, homeState.userId], set: { ...values, updatedAt: now } })
      .run();
  }
}
