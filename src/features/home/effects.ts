import type { WebClient } from '@slack/web-api';
import type { Outbox } from '../../outbox/sender.js';
import { describeError } from '../../runtime.js';
import type { UserDirectory } from '../../slack/users.js';
import type { DashboardStore } from '../../store/dashboardStore.js';
import type { HomeStatePrefsStore } from '../../store/homeStateStore.js';
import type { Effect } from '../../store/outbox.js';
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
 * The publishes a change owes: the Homes of these users, written only for those who opened theirs
 * in the last HOME_RECENT_MS (checked in the change's transaction); the others see the current
 * state when they next open it (`app_home_opened`).
 */
export function homeEffects(teamId: string, userIds: Iterable<string | null | undefined>, now: number): Effect[] {
  const ids = [...new Set([...userIds].filter((u): u is string => typeof u === 'string' && u !== ''))];
  return ids.map((userId) => ({ ...homePublishEffect(teamId, userId), onlyIf: { homeOpenedSince: now - HOME_RECENT_MS } }));
}

export function registerHomeKind(outbox: Outbox, deps: { client: WebClient; dashboard: DashboardStore; homeState: Pick<HomeStatePrefsStore, 'get'>; users: UserDirectory; now: () => number }): void {
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
