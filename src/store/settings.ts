import { and, eq } from 'drizzle-orm';
import type { Store } from './db.js';
import { userSettings, workspaceSettings } from './schema.js';

/** A person's reminder settings (App Home → Settings). */
export interface UserSettings {
  /** Due-date reminders and overdue nudges are sent. */
  remindersEnabled: boolean;
  /** The local hour (0–23, in the person's Slack time zone) they go out. */
  reminderHour: number;
}

/** Everyone's settings until they change them. */
export const DEFAULT_USER_SETTINGS: UserSettings = { remindersEnabled: true, reminderHour: 9 };

/** A workspace's settings, changed by a workspace admin. */
export interface WorkspaceSettings {
  /** The audit feed's incoming webhook for this workspace; null: AUDIT_WEBHOOK_URL, if set. */
  auditWebhookUrl: string | null;
  updatedBy: string;
  updatedAt: number;
}

/**
 * Per-person and per-workspace settings, whichever engine holds them: `SettingsRepository`
 * (SQLite, here) and `PgSettingsRepository` (./pg/settings.ts). Each save is one upsert.
 * test/store/settingsContract.test.ts runs one suite on both.
 */
export interface SettingsStore {
  /** The person's settings (the defaults when they never changed them). */
  user(teamId: string, userId: string): Promise<UserSettings>;
  saveUser(teamId: string, userId: string, settings: UserSettings, now: number): Promise<void>;
  /** The workspace's settings, or undefined when no admin ever saved them. */
  workspace(teamId: string): Promise<WorkspaceSettings | undefined>;
  saveWorkspace(teamId: string, settings: Pick<WorkspaceSettings, 'auditWebhookUrl'>, by: string, now: number): Promise<void>;
}

/** A stored hour outside 0–23 (written by hand) reads as the default. */
export function userSettingsOf(row: { remindersEnabled: boolean; reminderHour: number } | undefined): UserSettings {
  if (!row) return { ...DEFAULT_USER_SETTINGS };
  const hour = Number.isInteger(row.reminderHour) && row.reminderHour >= 0 && row.reminderHour <= 23 ? row.reminderHour : DEFAULT_USER_SETTINGS.reminderHour;
  return { remindersEnabled: row.remindersEnabled, reminderHour: hour };
}

export class SettingsRepository implements SettingsStore {
  constructor(private readonly store: Store) {}

  async user(teamId: string, userId: string): Promise<UserSettings> {
    const row = this.store.db
      .select({ remindersEnabled: userSettings.remindersEnabled, reminderHour: userSettings.reminderHour })
      .from(userSettings)
      .where(and(eq(userSettings.teamId, teamId), eq(userSettings.userId, userId)))
      .get();
    return userSettingsOf(row);
  }

  async saveUser(teamId: string, userId: string, settings: UserSettings, now: number): Promise<void> {
    const values = { remindersEnabled: settings.remindersEnabled, reminderHour: settings.reminderHour, updatedAt: now };
    this.store.write((tx) =>
      tx
        .insert(userSettings)
        .values({ teamId, userId, ...values })
        .onConflictDoUpdate({ target: [userSettings.teamId, userSettings.userId], set: values })
        .run(),
    );
  }

  async workspace(teamId: string): Promise<WorkspaceSettings | undefined> {
    return this.store.db
      .select({ auditWebhookUrl: workspaceSettings.auditWebhookUrl, updatedBy: workspaceSettings.updatedBy, updatedAt: workspaceSettings.updatedAt })
      .from(workspaceSettings)
      .where(eq(workspaceSettings.teamId, teamId))
      .get();
  }

  async saveWorkspace(teamId: string, settings: Pick<WorkspaceSettings, 'auditWebhookUrl'>, by: string, now: number): Promise<void> {
    const values = { auditWebhookUrl: settings.auditWebhookUrl, updatedBy: by, updatedAt: now };
    this.store.write((tx) =>
      tx.insert(workspaceSettings).values({ teamId, ...values }).onConflictDoUpdate({ target: workspaceSettings.teamId, set: values }).run(),
    );
  }
}
