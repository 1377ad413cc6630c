import type { Store } from './db.js';
import type { HomePrefs, HomeStateRepository } from './homeState.js';

export type { HomePrefs } from './homeState.js';

/**
 * What each user last chose on their App Home, whichever engine holds it: SQLite's
 * `HomeStateRepository` (./homeState.ts, which documents each method; behind
 * `sqliteHomeStateStore`) and PostgreSQL's `PgHomeStateRepository` (./pg/homeState.ts).
 * `touch` and `save` are each one transaction of their own; the listeners write them with the
 * Home's publish, in one transaction, through each engine's `touchIn` / `saveIn`.
 * test/store/homeStateContract.test.ts runs one suite on both.
 */
export interface HomeStatePrefsStore {
  get(teamId: string, userId: string): Promise<HomePrefs | undefined>;
  touch(teamId: string, userId: string, now: number): Promise<void>;
  save(teamId: string, userId: string, prefs: HomePrefs, now: number): Promise<void>;
}

/** SQLite's repository behind the async interface: `touch` and `save` are `touchIn`/`saveIn` in a write of their own. */
export function sqliteHomeStateStore(repo: HomeStateRepository, store: Pick<Store, 'write'>): HomeStatePrefsStore {
  return {
    get: (teamId, userId) => repo.get(teamId, userId),
    touch: async (teamId, userId, now) => store.write(() => repo.touchIn(teamId, userId, now)),
    save: async (teamId, userId, prefs, now) => store.write(() => repo.saveIn(teamId, userId, prefs, now)),
  };
}
