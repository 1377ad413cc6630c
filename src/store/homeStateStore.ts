import type { Store } from './db.js';
import type { HomePrefs, HomeStateRepository } from './homeState.js';
import { writeEffects, type Effect } from './outbox.js';

export type { HomePrefs } from './homeState.js';

/**
 * What each user last chose on their App Home, whichever engine holds it: SQLite's
 * `HomeStateRepository` (./homeState.ts, which documents each method; behind
 * `sqliteHomeStateStore`) and PostgreSQL's `PgHomeStateRepository` (./pg/homeState.ts).
 * `touch` and `save` are each one transaction, which also writes `effects` (the Home's publish).
 * test/store/homeStateContract.test.ts runs one suite on both.
 */
export interface HomeStatePrefsStore {
  get(teamId: string, userId: string): Promise<HomePrefs | undefined>;
  /** Records that the user opened the Home at `now` (keeping earlier choices). */
  touch(teamId: string, userId: string, now: number, effects?: readonly Effect[]): Promise<void>;
  /** Stores the user's choices (they are looking at their Home: it counts as opened at `now`). */
  save(teamId: string, userId: string, prefs: HomePrefs, now: number, effects?: readonly Effect[]): Promise<void>;
}

/** SQLite's repository behind the async interface: `touch` and `save` are `touchIn`/`saveIn` in a write of their own. */
export function sqliteHomeStateStore(repo: HomeStateRepository, store: Pick<Store, 'write' | 'prepared'>): HomeStatePrefsStore {
  return {
    get: (teamId, userId) => repo.get(teamId, userId),
    touch: async (teamId, userId, now, effects = []) =>
      store.write(() => {
        repo.touchIn(teamId, userId, now);
        writeEffects(store, effects, now);
      }),
    save: async (teamId, userId, prefs, now, effects = []) =>
      store.write(() => {
        repo.saveIn(teamId, userId, prefs, now);
        writeEffects(store, effects, now);
      }),
  };
}
