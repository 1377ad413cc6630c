import type { WebClient } from '@slack/web-api';
import { and, eq, gte, sql } from 'drizzle-orm';
import type { Outbox } from '../../outbox/sender.js';
import { describeError } from '../../runtime.js';
import type { UserDirectory } from '../../slack/users.js';
import type { DashboardReadModel } from '../../store/dashboard.js';
import type { Store } from '../../store/db.js';
import type { HomeStateRepository } from '../../store/homeState.js';
import type { Effect } from '../../store/outbox.js';
import { homeState } from '../../store/schema.js';
import { todayIn } from '../tasks/dates.js';
import { guestFrom } from '../tasks/visibility.js';
import { buildHome } from './build.js';

/**
 * App Home publishes are outbox rows like every other effect, one per (team, user), coalesced:
 * any number of changes before the publish is sent make one publish of the newest state. A 429
 * on one user's publish delays that row alone.
 */
export const HOME_KIND = 'home';

/** One user's Home is published at most this often: a burst of changes is one publish more. */
export const HOME_SPACING_MS = 250;

/** Homes opened within this long are republished when something on them changes. */
export const HOME_RECENT_MS = 14 * 24 * 60 * 60_000;

/** The publish of one user's Home, now (they opened it, or clicked on it). */
export function homePublishEffect(teamId: string, userId: string): Effect {
  return { key: `home:${teamId}:${userId}`, teamId, kind: HOME_KIND, target: userId, coalesce: true, spacingMs: HOME_SPACING_MS };
}

/**
 * The publishes a change owes: the Homes of these users who opened theirs in the last
 * HOME_RECENT_MS (the others see the current state when they next open it, `app_home_opened`).
 * Read inside the change's transaction.
 */
export function homeEffects(store: Store, teamId: string, userIds: Iterable<string | null | undefined>, now: number): Effect[] {
  const ids = [...new Set([...userIds].filter((u): u is string => typeof u === 'string' && u !== ''))];
  if (ids.length === 0) return [];
  const opened = store.prepared('home.openedSince', (db) =>
    db
      .select({ userId: homeState.userId })
      .from(homeState)
      .where(and(eq(homeState.teamId, sql.placeholder('teamId')), eq(homeState.userId, sql.placeholder('userId')), gte(homeState.updatedAt, sql.placeholder('since'))))
      .prepare(),
  );
  const since = now - HOME_RECENT_MS;
  return ids.filter((userId) => opened.get({ teamId, userId, since }) !== undefined).map((userId) => homePublishEffect(teamId, userId));
}

export function registerHomeKind(outbox: Outbox, deps: { client: WebClient; dashboard: DashboardReadModel; homeState: HomeStateRepository; users: UserDirectory; now: () => number }): void {
  outbox.register(HOME_KIND, {
    async send({ row, client, logger }) {
      const userId = row.target;
      const prefs = await deps.homeState.get(row.teamId, userId);
      if (!prefs) return 'never opened';
      // Slack not answering: UTC, and only the user's own tasks (a guest's view is the safe one).
      const me = await deps.users.get(userId).then(
        (user) => ({ found: true as const, user }),
        (err: unknown) => {
          logger.warn(`home: could not look up ${userId} (team ${row.teamId}); showing only their own tasks: ${describeError(err)}`);
          return { found: false as const };
        },
      );
      const timeZone = (me.found ? me.user?.tz : undefined) ?? 'UTC';
      const guest = me.found ? guestFrom(me.user) : true;
      const now = deps.now();
      const view = await buildHome(deps.dashboard, { teamId: row.teamId, userId, guest, prefs, today: todayIn(timeZone, now), now });
      await client.views.publish({ user_id: userId, view });
      return 'published';
    },
  });
}
