import type { Logger, types } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { describeError } from '../../runtime.js';
import type { Background } from '../../runtime.js';
import type { UserDirectory } from '../../slack/users.js';
import { RECENTLY_DONE_MS, type DashboardReadModel } from '../../store/dashboard.js';
import type { HomePrefs, HomeStateRepository } from '../../store/homeState.js';
import { todayIn } from '../tasks/dates.js';
import { guestFrom } from '../tasks/visibility.js';
import type { HomePublishing } from './thread.js';
import { HOME_APPROVALS_SHOWN, HOME_PAGE_SIZE, homeView } from './views.js';

/** Reads the store and renders one user's Home: the whole cost of a publish except the Slack call. */
export async function buildHome(
  dashboard: DashboardReadModel,
  q: { teamId: string; userId: string; guest: boolean; prefs: HomePrefs; today: string; now: number },
): Promise<types.HomeView> {
  const data = await dashboard.load({
    teamId: q.teamId,
    userId: q.userId,
    guest: q.guest,
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
  /** At most one publish per user per this interval; changes in between are coalesced. */
  minIntervalMs?: number;
}

interface Pending {
  teamId: string;
  userId: string;
  /** Set while a publish is scheduled. */
  timer?: NodeJS.Timeout;
  /** A views.publish is running for this user. */
  publishing: boolean;
  /** Changes arrived while publishing: publish once more afterwards (`urgent`: without waiting). */
  dirty?: { urgent: boolean };
  /** Resolves the background job that keeps InFlight (shutdown, tests) waiting for this user. */
  release?: () => void;
}

/**
 * Keeps App Homes current, fast and cheaply:
 *
 * - `changed(team, users)` (any feature, after a committed change) publishes at once when that
 *   user's Home was not published in the last `minIntervalMs` (leading edge: a single change
 *   shows up as fast as Slack answers). Changes that arrive while a publish is scheduled or
 *   running are coalesced into one more publish, no sooner than `minIntervalMs` after the last:
 *   a burst of 100 changes in a second is a handful of publishes, never 100.
 * - `publishNow(team, user)` (the user opened the Home or clicked on it) skips the interval.
 * - Only users who have opened the Home (a `home_state` row) are republished on change: Slack
 *   would accept a publish for anyone, but a Home nobody has looked at is drawn fresh by
 *   `app_home_opened` on the first visit anyway, so those calls would be wasted (Tier 4 budget).
 *
 * Every scheduled publish is a tracked background job from the moment it is scheduled, so
 * shutdown and `t.settle()` wait for it. The store is the truth: each publish reads it afresh,
 * so a coalesced publish is never stale.
 */
export class HomePublisher implements HomePublishing {
  private readonly pending = new Map<string, Pending>();
  /** When each user's Home was last published (pruned as it grows). */
  private readonly lastPublished = new Map<string, number>();
  private readonly minIntervalMs: number;

  constructor(private readonly deps: HomePublisherDeps) {
    this.minIntervalMs = deps.minIntervalMs ?? 250;
  }

  changed(teamId: string, userIds: Iterable<string | null | undefined>): void {
    const seen = new Set<string>();
    for (const userId of userIds) {
      if (!userId || seen.has(userId)) continue;
      seen.add(userId);
      this.schedule(teamId, userId, false);
    }
  }

  /** Publishes as soon as possible (after any publish already running for the user). */
  publishNow(teamId: string, userId: string): void {
    this.schedule(teamId, userId, true);
  }

  /** Nothing to release: scheduled publishes are background jobs, which shutdown waits for. */
  async close(): Promise<void> {}

  private schedule(teamId: string, userId: string, urgent: boolean): void {
    const key = `${teamId}:${userId}`;
    let p = this.pending.get(key);
    if (!p) {
      p = { teamId, userId, publishing: false };
      this.pending.set(key, p);
    }
    if (p.publishing) {
      p.dirty = { urgent: urgent || (p.dirty?.urgent ?? false) };
      return;
    }
    if (p.timer && !urgent) return; // the scheduled publish will read the latest state
    if (p.timer) clearTimeout(p.timer);
    else this.track(p);
    const sinceLast = this.deps.now() - (this.lastPublished.get(key) ?? Number.NEGATIVE_INFINITY);
    const delay = urgent ? 0 : Math.max(0, this.minIntervalMs - sinceLast);
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
    // Only a publish that reached Slack (or tried to) spaces the next one out: a user who never
    // opened the Home costs one store read per change, not a 250 ms wait that holds up shutdown.
    let published = true;
    try {
      published = await this.publish(p.teamId, p.userId);
    } catch (err) {
      this.deps.logger.warn(`home: could not publish the Home of ${p.userId} (team ${p.teamId}): ${describeError(err)}`);
    } finally {
      if (published) this.remember(key);
      p.publishing = false;
      const release = p.release;
      p.release = undefined;
      const again = p.dirty;
      p.dirty = undefined;
      if (again) {
        // Registers the follow-up job before releasing this one, so InFlight never looks idle in between.
        this.schedule(p.teamId, p.userId, again.urgent);
      } else {
        this.pending.delete(key);
      }
      release?.();
    }
  }

  private remember(key: string): void {
    const now = this.deps.now();
    this.lastPublished.set(key, now);
    if (this.lastPublished.size > 10_000) {
      for (const [k, at] of this.lastPublished) if (now - at > this.minIntervalMs) this.lastPublished.delete(k);
    }
  }

  /** Publishes the user's Home; false when there was none to publish (never opened). */
  private async publish(teamId: string, userId: string): Promise<boolean> {
    const { deps } = this;
    const prefs = await deps.homeState.get(teamId, userId);
    if (!prefs) {
      deps.logger.debug(`home: ${userId} (team ${teamId}) never opened the Home; not publishing`);
      return false;
    }
    // Slack not answering: UTC, and only the user's own tasks (a guest's view is the safe one).
    const me = await deps.users.get(userId).then(
      (user) => ({ found: true as const, user }),
      (err: unknown) => {
        deps.logger.warn(`home: could not look up ${userId} (team ${teamId}); showing only their own tasks: ${describeError(err)}`);
        return { found: false as const };
      },
    );
    const timeZone = (me.found ? me.user?.tz : undefined) ?? 'UTC';
    const guest = me.found ? guestFrom(me.user) : true;
    const now = deps.now();
    const view = await buildHome(deps.dashboard, { teamId, userId, guest, prefs, today: todayIn(timeZone, now), now });
    await deps.client.views.publish({ user_id: userId, view });
    return true;
  }
}
