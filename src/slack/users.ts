import type { WebClient } from '@slack/web-api';

export interface SlackUser {
  id: string;
  teamId: string | undefined;
  name: string;
  isBot: boolean;
  deleted: boolean;
  /** IANA time zone, e.g. "Europe/Paris"; "UTC" when Slack does not say. */
  tz: string;
}

/**
 * `users.info`, cached: the same person clicks many times a day, and a Slack round trip per
 * click would cost more than the rest of the request. Entries expire so profile changes show up.
 */
export class UserDirectory {
  private readonly cache = new Map<string, { user: SlackUser; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user, or undefined when Slack does not know them (`user_not_found`). Other failures throw. */
  async get(userId: string): Promise<SlackUser | undefined> {
    const hit = this.cache.get(userId);
    if (hit && hit.until > this.now()) return hit.user;
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
        tz: u.tz || 'UTC',
      };
      this.cache.set(userId, { user, until: this.now() + this.ttlMs });
      return user;
    } catch (err) {
      if ((err as { data?: { error?: string } }).data?.error === 'user_not_found') return undefined;
      throw err;
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
}
