import type { WebClient } from '@slack/web-api';

export interface SlackUser {
  id: string;
  teamId: string | undefined;
  name: string;
  isBot: boolean;
  deleted: boolean;
  /** A multi- or single-channel guest: sees only the tasks they created or are assigned. */
  isGuest: boolean;
  /** IANA time zone, e.g. "Europe/Paris"; "UTC" when Slack does not say. */
  tz: string;
  /** A workspace admin or owner (`is_admin` / `is_owner`): may change the workspace's settings. */
  isAdmin: boolean;
}

/** What a bounded lookup found: the user (undefined when Slack does not know them), or nothing in time. */
export type BoundedLookup = { found: true; user: SlackUser | undefined } | { found: false };

/**
 * `users.info`, cached: the same person clicks many times a day, and a Slack round trip per
 * click would cost more than the rest of the request. Entries expire so profile changes show up.
 * Concurrent lookups of one user share one call (a modal warms the cache while it opens, and its
 * submission may ask again before the first answer is back).
 */
export class UserDirectory {
  private readonly cache = new Map<string, { user: SlackUser; until: number }>();
  private readonly pending = new Map<string, Promise<SlackUser | undefined>>();

  constructor(
    private readonly client: WebClient,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user, or undefined when Slack does not know them (`user_not_found`). Other failures throw. */
  async get(userId: string): Promise<SlackUser | undefined> {
    const hit = this.peek(userId);
    if (hit) return hit;
    let lookup = this.pending.get(userId);
    if (!lookup) {
      lookup = this.fetch(userId).finally(() => this.pending.delete(userId));
      this.pending.set(userId, lookup);
    }
    return lookup;
  }

  /** The cached user, without asking Slack: for code that must not wait (before a modal's ack). */
  peek(userId: string): SlackUser | undefined {
    const hit = this.cache.get(userId);
    return hit && hit.until > this.now() ? hit.user : undefined;
  }

  /**
   * The user if the cache has them or Slack answers within `ms`; `{ found: false }` otherwise
   * (slow or failing Slack). The lookup goes on after the deadline and still fills the cache.
   */
  async getWithin(userId: string, ms: number): Promise<BoundedLookup> {
    const hit = this.peek(userId);
    if (hit) return { found: true, user: hit };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<BoundedLookup>((resolve) => {
      timer = setTimeout(() => resolve({ found: false }), ms);
    });
    const lookup = this.get(userId).then(
      (user): BoundedLookup => ({ found: true, user }),
      (): BoundedLookup => ({ found: false }),
    );
    try {
      return await Promise.race([lookup, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The user's time zone, falling back to UTC when Slack cannot be asked. */
  async timeZone(userId: string): Promise<string> {
    try {
      return (await this.get(userId))?.tz ?? 'UTC';
    } catch {
      return 'UTC';
    }
  }

  private async fetch(userId: string): Promise<SlackUser | undefined> {
    try {
      const res = await this.client.users.info({ user: userId });
      const u = res.user;
      if (!u?.id) return undefined;
      const user: SlackUser = {
        id: u.id,
        teamId: u.team_id,
        name: u.profile?.display_name || u.real_name || u.name || u.id,
        isBot: Boolean(u.is_bot) || u.id === 'USLACKBOT',
        deleted: Boolean(u.deleted),
        isGuest: Boolean(u.is_restricted) || Boolean(u.is_ultra_restricted),
        tz: u.tz || 'UTC',
        isAdmin: Boolean(u.is_admin) || Boolean(u.is_owner),
      };
      this.cache.set(userId, { user, until: this.now() + this.ttlMs });
      return user;
    } catch (err) {
      if ((err as { data?: { error?: string } }).data?.error === 'user_not_found') return undefined;
      throw err;
    }
  }
}
