// Settings' contract, run on both engines: SQLite (a file store opened as in production) and
// PostgreSQL (a database of this file's own, migrated as at start-up).
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pgDatabase } from '../../src/store/pg/db.js';
import { PgSettingsRepository } from '../../src/store/pg/settings.js';
import { DEFAULT_USER_SETTINGS, SettingsRepository, type SettingsStore } from '../../src/store/settings.js';
import { describePostgres, useMigratedPool } from '../support/postgres.js';
import { useSqliteFileStore } from '../support/sqliteStore.js';

function contract(current: () => { repo: SettingsStore; setHour(hour: number): Promise<void> }): void {
  const repo = () => current().repo;

  it('a person who never saved has the defaults; a save is theirs alone, in their workspace alone', async () => {
    expect(await repo().user('T1', 'U1')).toEqual(DEFAULT_USER_SETTINGS);
    await repo().saveUser('T1', 'U1', { remindersEnabled: false, reminderHour: 7 }, 1_000);
    expect(await repo().user('T1', 'U1')).toEqual({ remindersEnabled: false, reminderHour: 7 });
    expect(await repo().user('T1', 'U2')).toEqual(DEFAULT_USER_SETTINGS);
    expect(await repo().user('T2', 'U1')).toEqual(DEFAULT_USER_SETTINGS);
    await repo().saveUser('T1', 'U1', { remindersEnabled: true, reminderHour: 18 }, 2_000);
    expect(await repo().user('T1', 'U1')).toEqual({ remindersEnabled: true, reminderHour: 18 });
  });

  it('reads an hour outside 0–23 as the default hour', async () => {
    await repo().saveUser('T1', 'U1', { remindersEnabled: true, reminderHour: 9 }, 1_000);
    await current().setHour(31);
    expect(await repo().user('T1', 'U1')).toEqual({ remindersEnabled: true, reminderHour: 9 });
  });

  it('workspace settings: none until saved, then the last save with who saved it', async () => {
    expect(await repo().workspace('T1')).toBeUndefined();
    await repo().saveWorkspace('T1', { auditWebhookUrl: 'https://hooks.slack.com/services/T1/B1/x' }, 'UADMIN', 1_000);
    expect(await repo().workspace('T1')).toEqual({ auditWebhookUrl: 'https://hooks.slack.com/services/T1/B1/x', updatedBy: 'UADMIN', updatedAt: 1_000 });
    await repo().saveWorkspace('T1', { auditWebhookUrl: null }, 'UOTHER', 2_000);
    expect(await repo().workspace('T1')).toEqual({ auditWebhookUrl: null, updatedBy: 'UOTHER', updatedAt: 2_000 });
    expect(await repo().workspace('T2')).toBeUndefined();
  });
}

describe('settings on SQLite', () => {
  const sqlite = useSqliteFileStore();
  let engine: { repo: SettingsStore; setHour(hour: number): Promise<void> };
  beforeEach(() => {
    engine = {
      repo: new SettingsRepository(sqlite.store),
      setHour: async (hour) => void sqlite.store.sqlite.prepare('UPDATE user_settings SET reminder_hour = ?').run(hour),
    };
  });
  contract(() => engine);
});

describePostgres('settings on PostgreSQL', () => {
  const database = useMigratedPool(4);
  let engine: { repo: SettingsStore; setHour(hour: number): Promise<void> };
  beforeAll(() => {
    engine = {
      repo: new PgSettingsRepository(pgDatabase(database.pool)),
      setHour: async (hour) => void (await database.pool.query('UPDATE user_settings SET reminder_hour = $1', [hour])),
    };
  });
  contract(() => engine);
});
