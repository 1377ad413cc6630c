import type { Logger, types } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { describeError } from '../../runtime.js';
import type { Background } from '../../runtime.js';
import type { HomeRefresher } from '../../services.js';
import type { UserDirectory } from '../../slack/users.js';
import { RECENTLY_DONE_MS, type DashboardReadModel } from '../../store/dashboard.js';
import type { HomePrefs, HomeStateRepository } from '../../store/homeState.js';
import { todayIn } from '../tasks/dates.js';
import { HOME_APPROVALS_SHOWN, HOME_PAGE_SIZE, homeView } from './views.js';

/** Reads the store and renders one user's Home: the whole cost of a publish except the Slack call. */
export async function buildHome(
  dashboard: DashboardReadModel,
  q: { teamId: string; userId: string; prefs: HomePrefs; today: string; now: number },
): Promise<types.HomeView> {
  const data = await dashboard.load({
    teamId: q.teamId,
    userId: q.userId,
    filter: q.prefs.filter,
    page: q.prefs.page,
    pageSize: HOME_PAGE_SIZE,
    approvalsLimit: HOME_APPROVALS_SHOWN,
    today: q.today,
    doneSince: q.now - RECENTLY_DONE_MS,
  });
  return homeView({ userId: q.userId, today: q.today, dashboard: data });
}

export interface HomePublisherDeps {
  client: WebClient;
  dashboard: DashboardReadModel;
  homeState: HomeStateRepository;
  users: UserDirectory;
  background: Background;
  logger: Logger;
  now: () => number;
  /** Quiet time after the last change before publishing (a burst becomes one publish). */
  debounceMs?: number;
  /** A steady stream of changes still publishes at least this often. */
  maxWaitMs?: number;
}

interface Pending {
  teamId: string;
  userId: string;
  /** Set while a publish is scheduled (debounce running). */
  timer?: NodeJS.Timeout;
  /** When the first change of the scheduled burst arrived. */
  firstAt: number;
  /** A views.publish is running for this user. */
  publishing: boolean;
  /** Changes arrived while publishing: publish once more afterwards, after this delay. */
  dirtyDelayMs?: number;
  /** Resolves the background job that keeps InFlight (shutdown, tests) waiting for this user. */
  release?: () => void;
}

/**
 * Keeps App Homes current (SPEC S7), cheaply:
 *
 * - `changed(team, users)` (any feature, after a committed change) coalesces per (team, user):
 *   a publish waits `debounceMs` of quiet, but never more than `maxWaitMs` after the first change
 *   of a burst; at most one publish per user is in flight, and changes that arrive during it
 *   cause exactly one more. A burst of 100 changes in a second is 1–3 publishes.
 * - `publishNow(team, user)` (the user opened the Home or clicked on it) skips the wait.
 * - Only users who have opened the Home (a `home_state` row) are republished on change: Slack
 *   would accept a publish for anyone, but a Home nobody has looked at is drawn fresh by
 *   `app_home_opened` on the first visit anyway, so those calls would be wasted (Tier 4 budget).
 *
 * Every scheduled publish is a tracked background job from the moment it is scheduled, so
 * shutdown and `t.settle()` wait for the debounce timer and the publish behind it.
 * The store is the truth: each publish reads it afresh, so a coalesced publish is never stale.
 */
export class HomePublisher implements HomeRefresher {
  private readonly pending = new Map<string, Pending>();
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;

  constructor(private readonly deps: HomePublisherDeps) {
    this.debounceMs = deps.debounceMs ?? 200;
    this.maxWaitMs = deps.maxWaitMs ?? 1_000;
  }

  changed(teamId: string, userIds: Iterable<string | null | undefined>): void {
    const seen = new Set<string>();
    for (const userId of userIds) {
      if (!userId || seen.has(userId)) continue;
      seen.add(userId);
      this.schedule(teamId, userId, this.debounceMs);
    }
  }

  /** Publishes as soon as possible (after any publish already running for the user). */
  publishNow(teamId: string, userId: string): void {
    this.schedule(teamId, userId, 0);
  }

  private schedule(teamId: string, userId: string, delayMs: number): void {
    const key = `${teamId}:${userId}`;
    let p = this.pending.get(key);
    if (!p) {
      p = { teamId, userId, firstAt: this.deps.now(), publishing: false };
      this.pending.set(key, p);
    }
    if (p.publishing) {
      p.dirtyDelayMs = Math.min(p.dirtyDelayMs ?? delayMs, delayMs);
      return;
    }
    const now = this.deps.now();
    if (p.timer) {
      clearTimeout(p.timer);
    } else {
      p.firstAt = now;
      this.track(p);
    }
    const delay = Math.max(0, Math.min(delayMs, p.firstAt + this.maxWaitMs - now));
    const entry = p;
    entry.timer = setTimeout(() => void this.fire(key, entry), delay);
  }

  /** A background job that ends when this user's scheduled publish (and any follow-up) is done. */
  private track(p: Pending): void {
    this.deps.background.run(`home publish for ${p.userId} (team ${p.teamId})`, () => new Promise<void>((resolve) => (p.release = resolve)));
  }

  private async fire(key: string, p: Pending): Promise<void> {
    p.timer = undefined;
    p.publishing = true;
    try {
      await this.publish(p.teamId, p.userId);
    } catch (err) {
      this.deps.logger.warn(`home: could not publish the Home of ${p.userId} (team ${p.teamId}): ${describeError(err)}`);
    } finally {
      p.publishing = false;
      const release = p.release;
      p.release = undefined;
      const again = p.dirtyDelayMs;
      if (again !== undefined) {
        p.dirtyDelayMs = undefined;
        // Registers the follow-up job before releasing this one, so InFlight never looks idle in between.
        this.schedule(p.teamId, p.userId, again);
      } else {
        this.pending.delete(key);
      }
      release?.();
    }
  }

  private async publish(teamId: string, userId: string): Promise<void> {
    const { deps } = this;
    const prefs = await deps.homeState.get(teamId, userId);
    if (!prefs) {
      deps.logger.debug(`home: ${userId} (team ${teamId}) never opened the Home; not publishing`);
      return;
    }
    const timeZone = await deps.users.timeZone(userId);
    const now = deps.now();
    const view = await buildHome(deps.dashboard, { teamId, userId, prefs, today: todayIn(timeZone, now), now });
    await deps.client.views.publish({ user_id: userId, view });
  }
}
