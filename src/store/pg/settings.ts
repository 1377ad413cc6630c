import { and, eq } from 'drizzle-orm';
import { userSettingsOf, type SettingsStore, type UserSettings, type WorkspaceSettings } from '../settings.js';
import type { PgQueries } from './db.js';
import { userSettings, workspaceSettings } from './schema.js';

/** `SettingsRepository` on PostgreSQL (../settings.ts documents the methods): the same single upserts. */
export class PgSettingsRepository implements SettingsStore {
  constructor(private readonly db: PgQueries) {}

  async user(teamId: string, userId: string): Promise<UserSettings> {
    const [row] = await this.db
      .select({ remindersEnabled: userSettings.remindersEnabled, reminderHour: userSettings.reminderHour })
      .from(userSettings)
      .where(and(eq(userSettings.teamId, teamId), eq(userSettings.userId, userId)));
    return userSettingsOf(row);
  }

  async saveUser(teamId: string, userId: string, settings: UserSettings, now: number): Promise<void> {
    const values = { remindersEnabled: settings.remindersEnabled, reminderHour: settings.reminderHour, updatedAt: now };
    await this.db
      .insert(userSettings)
      .values({ teamId, userId, ...values })
      .onConflictDoUpdate({ target: [userSettings.teamId, userSettings.userId], set: values });
  }

  async workspace(teamId: string): Promise<WorkspaceSettings | undefined> {
    const [row] = await this.db
      .select({ auditWebhookUrl: workspaceSettings.auditWebhookUrl, updatedBy: workspaceSettings.updatedBy, updatedAt: workspaceSettings.updatedAt })
      .from(workspaceSettings)
      .where(eq(workspaceSettings.teamId, teamId));
    return row;
  }

  async saveWorkspace(teamId: string, settings: Pick<WorkspaceSettings, 'auditWebhookUrl'>, by: string, now: number): Promise<void> {
    const values = { auditWebhookUrl: settings.auditWebhookUrl, updatedBy: by, updatedAt: now };
    await this.db.insert(workspaceSettings).values({ teamId, ...values }).onConflictDoUpdate({ target: workspaceSettings.teamId, set: values });
  }
}
