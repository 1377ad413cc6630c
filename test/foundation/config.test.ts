// The environment as configuration (config.ts): the database settings.
import { describe, expect, it } from 'vitest';
import { ConfigError, isPostgresUrl, loadConfig } from '../../src/config.js';

const SLACK = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: '0123456789abcdef0123456789abcdef' };
const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('database configuration', () => {
  it('defaults: a SQLite file, a pool of 10 and a 10 s statement timeout (PostgreSQL only)', () => {
    expect(loadConfig(SLACK)).toMatchObject({ databaseUrl: './data/tasklane.db', databasePoolSize: 10, databaseStatementTimeoutMs: 10_000 });
  });

  it('reads the pool size and statement timeout', () => {
    expect(loadConfig({ ...SLACK, DATABASE_POOL_SIZE: '25', DATABASE_STATEMENT_TIMEOUT_MS: '0' })).toMatchObject({ databasePoolSize: 25, databaseStatementTimeoutMs: 0 });
  });

  it('names what is wrong with each, with an example', () => {
    expect(problems({ ...SLACK, DATABASE_POOL_SIZE: '0', DATABASE_STATEMENT_TIMEOUT_MS: 'soon' })).toEqual([
      'DATABASE_POOL_SIZE must be a whole number of connections between 1 and 200, like 10',
      'DATABASE_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds between 0 (no limit) and 3600000, like 10000',
    ]);
    expect(problems({ ...SLACK, DATABASE_POOL_SIZE: '2.5' })).toEqual(['DATABASE_POOL_SIZE must be a whole number of connections between 1 and 200, like 10']);
  });

  it('AUDIT_WEBHOOK_URL: optional; set, it must be an http(s) URL', () => {
    expect(loadConfig(SLACK).auditWebhookUrl).toBeUndefined();
    expect(loadConfig({ ...SLACK, AUDIT_WEBHOOK_URL: ' ' }).auditWebhookUrl).toBeUndefined();
    expect(loadConfig({ ...SLACK, AUDIT_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/x' })).toMatchObject({ auditWebhookUrl: 'https://hooks.slack.com/services/T1/B1/x' });
    expect(loadConfig({ AUDIT_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/x' })).toMatchObject({ sandbox: true, auditWebhookUrl: 'https://hooks.slack.com/services/T1/B1/x' });
    for (const bad of ['hooks.slack.com/services/x', 'ftp://hooks.slack.com/x']) {
      expect(problems({ ...SLACK, AUDIT_WEBHOOK_URL: bad })).toEqual(['AUDIT_WEBHOOK_URL must be a Slack incoming webhook URL like https://hooks.slack.com/services/T000/B000/XXXX']);
    }
  });

  it('OUTBOX_LEASE_MS: unset leaves the sender its default; set, a whole number of ms between 1 s and 1 h', () => {
    expect(loadConfig(SLACK).outboxLeaseMs).toBeUndefined();
    expect(loadConfig({ ...SLACK, OUTBOX_LEASE_MS: ' ' }).outboxLeaseMs).toBeUndefined();
    expect(loadConfig({ ...SLACK, OUTBOX_LEASE_MS: '2000' })).toMatchObject({ outboxLeaseMs: 2000 });
    expect(loadConfig({ OUTBOX_LEASE_MS: '5000' })).toMatchObject({ sandbox: true, outboxLeaseMs: 5000 });
    for (const bad of ['999', '3600001', '1.5', 'soon', '-1']) {
      expect(problems({ ...SLACK, OUTBOX_LEASE_MS: bad })).toEqual(['OUTBOX_LEASE_MS must be a whole number of milliseconds between 1000 and 3600000, like 30000']);
    }
  });

  it('a PostgreSQL URL selects PostgreSQL (in the sandbox too); one that cannot be read is refused with an example', () => {
    for (const url of ['postgres://u:p@db/tasklane', 'POSTGRESQL://db/tasklane', ' postgresql://db/x']) {
      expect(isPostgresUrl(url)).toBe(true);
      expect(loadConfig({ ...SLACK, DATABASE_URL: url }).databaseUrl).toBe(url);
      expect(loadConfig({ DATABASE_URL: url })).toMatchObject({ sandbox: true, databaseUrl: url, databasePoolSize: 10, databaseStatementTimeoutMs: 10_000 });
    }
    for (const url of ['postgres://', 'postgres://:5432/x', 'postgres://db:port/x']) {
      expect(problems({ ...SLACK, DATABASE_URL: url })).toEqual(['DATABASE_URL is not a PostgreSQL URL Tasklane can read: write it like postgres://tasklane:secret@db.example.com:5432/tasklane']);
    }
    for (const path of ['./data/tasklane.db', ':memory:', 'file:x.db', '/var/lib/postgres/tasklane.db']) expect(isPostgresUrl(path)).toBe(false);
  });
});
