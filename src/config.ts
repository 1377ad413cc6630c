import { z } from 'zod';

/** Typed runtime configuration. Built once from the environment by `loadConfig`. */
export interface Config {
  /**
   * No Slack credentials at all: run the local sandbox (the Slack emulator and a page that plays
   * the Slack client); main fills in the token, secret and API URL the emulator hands out.
   */
  sandbox?: boolean;
  /** Interface the sandbox listens on (loopback unless `SANDBOX_HOST` says otherwise). */
  sandboxHost?: string;
  botToken: string;
  signingSecret: string | undefined;
  /** Set → Socket Mode; unset → HTTP mode. */
  appToken: string | undefined;
  slackApiUrl: string | undefined;
  port: number;
  databaseUrl: string;
  /** PostgreSQL only: connections in the pool (`DATABASE_POOL_SIZE`, default 10). */
  databasePoolSize?: number;
  /** PostgreSQL only: a statement running longer is cancelled (`DATABASE_STATEMENT_TIMEOUT_MS`, default 10,000; 0 = none). */
  databaseStatementTimeoutMs?: number;
  /**
   * How long the outbox sender owns a row it claimed (`OUTBOX_LEASE_MS`; unset: 30,000, see
   * outbox/sender.ts DEFAULT_OUTBOX_OPTIONS). A row whose sender died is sent by another process
   * once this runs out; it must stay well above the longest send (a Web API call times out after
   * 10 s), or a slow send is taken over while still under way and may reach Slack twice.
   */
  outboxLeaseMs?: number;
  /**
   * The audit feed's incoming webhook (`AUDIT_WEBHOOK_URL`) for every workspace whose admin set
   * none in the Home settings; unset: no feed unless an admin sets one (features/audit/feed.ts).
   */
  auditWebhookUrl?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Tasklane cannot start: the configuration is incomplete or invalid.\n${problems
        .map((p) => `  - ${p}`)
        .join('\n')}\nSet these in the environment or in a .env file (see .env.example).`,
    );
    this.name = 'ConfigError';
  }
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** `postgres://` or `postgresql://`: a PostgreSQL connection string, not a SQLite file path. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url.trim());
}

const POSTGRES_URL = 'DATABASE_URL is not a PostgreSQL URL Tasklane can read: write it like postgres://tasklane:secret@db.example.com:5432/tasklane';

/** A `postgres://` URL must parse and name a host; anything else is a SQLite path. */
function readableDatabaseUrl(url: string): boolean {
  if (!isPostgresUrl(url)) return true;
  try {
    return new URL(url.trim()).hostname !== '';
  } catch {
    return false;
  }
}
const POOL_SIZE = 'DATABASE_POOL_SIZE must be a whole number of connections between 1 and 200, like 10';
const OUTBOX_LEASE = 'OUTBOX_LEASE_MS must be a whole number of milliseconds between 1000 and 3600000, like 30000';
const STATEMENT_TIMEOUT = 'DATABASE_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds between 0 (no limit) and 3600000, like 10000';

const schema = z
  .object({
    SLACK_BOT_TOKEN: z.preprocess(
      blankToUndefined,
      z
        .string({ error: 'SLACK_BOT_TOKEN is missing: the bot token from "OAuth & Permissions", like xoxb-1234-5678-abcd' })
        .regex(/^xoxb-[A-Za-z0-9-]+$/, 'SLACK_BOT_TOKEN must be a bot token that starts with "xoxb-"'),
    ),
    SLACK_SIGNING_SECRET: z.preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^[0-9a-f]{16,}$/i, 'SLACK_SIGNING_SECRET must be the hex "Signing Secret" from "Basic Information"')
        .optional(),
    ),
    SLACK_APP_TOKEN: z.preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^xapp-[A-Za-z0-9-]+$/, 'SLACK_APP_TOKEN must be an app-level token that starts with "xapp-" (connections:write)')
        .optional(),
    ),
    SLACK_API_URL: z.preprocess(
      blankToUndefined,
      z
        .url({ protocol: /^https?$/, error: 'SLACK_API_URL must be an http(s) URL like https://slack.com/api/' })
        .transform((u) => (u.endsWith('/') ? u : `${u}/`))
        .optional(),
    ),
    AUDIT_WEBHOOK_URL: z.preprocess(
      blankToUndefined,
      z.url({ protocol: /^https?$/, error: 'AUDIT_WEBHOOK_URL must be a Slack incoming webhook URL like https://hooks.slack.com/services/T000/B000/XXXX' }).optional(),
    ),
    PORT: z.preprocess(
      blankToUndefined,
      z.coerce
        .number({ error: 'PORT must be a whole number between 0 and 65535, like 3000' })
        .int('PORT must be a whole number between 0 and 65535, like 3000')
        .min(0, 'PORT must be a whole number between 0 and 65535, like 3000')
        .max(65535, 'PORT must be a whole number between 0 and 65535, like 3000')
        .default(3000),
    ),
    DATABASE_URL: z.preprocess(blankToUndefined, z.string().default('./data/tasklane.db').refine(readableDatabaseUrl, POSTGRES_URL)),
    DATABASE_POOL_SIZE: z.preprocess(
      blankToUndefined,
      z.coerce
        .number({ error: POOL_SIZE })
        .int(POOL_SIZE)
        .min(1, POOL_SIZE)
        .max(200, POOL_SIZE)
        .default(10),
    ),
    DATABASE_STATEMENT_TIMEOUT_MS: z.preprocess(
      blankToUndefined,
      z.coerce
        .number({ error: STATEMENT_TIMEOUT })
        .int(STATEMENT_TIMEOUT)
        .min(0, STATEMENT_TIMEOUT)
        .max(3_600_000, STATEMENT_TIMEOUT)
        .default(10_000),
    ),
    OUTBOX_LEASE_MS: z.preprocess(
      blankToUndefined,
      z.coerce
        .number({ error: OUTBOX_LEASE })
        .int(OUTBOX_LEASE)
        .min(1_000, OUTBOX_LEASE)
        .max(3_600_000, OUTBOX_LEASE)
        .optional(),
    ),
    LOG_LEVEL: z.preprocess(
      (v) => (typeof v === 'string' ? blankToUndefined(v.toLowerCase()) : v),
      z.enum(['debug', 'info', 'warn', 'error'], { error: 'LOG_LEVEL must be one of debug, info, warn, error' }).default('info'),
    ),
  });

/** The variables that connect Tasklane to a real Slack workspace; with none set, the sandbox runs. */
const SLACK_CREDENTIALS = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'] as const;

/**
 * Validates the environment; throws one ConfigError naming every missing or invalid variable.
 * With no Slack credential set at all, the result is the sandbox's configuration.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  if (SLACK_CREDENTIALS.every((name) => !env[name]?.trim())) return sandboxConfig(env);
  const parsed = schema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => i.message);
  // Checked apart from the schema so it is reported together with every other problem.
  if (!env.SLACK_APP_TOKEN?.trim() && !env.SLACK_SIGNING_SECRET?.trim()) {
    problems.push(
      'SLACK_SIGNING_SECRET is missing: HTTP mode needs the "Signing Secret" from "Basic Information" (or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError([...new Set(problems)]);
  const e = parsed.data;
  return {
    sandbox: false,
    sandboxHost: '127.0.0.1',
    botToken: e.SLACK_BOT_TOKEN,
    signingSecret: e.SLACK_SIGNING_SECRET,
    appToken: e.SLACK_APP_TOKEN,
    slackApiUrl: e.SLACK_API_URL,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    ...(e.OUTBOX_LEASE_MS !== undefined ? { outboxLeaseMs: e.OUTBOX_LEASE_MS } : {}),
    ...(e.AUDIT_WEBHOOK_URL !== undefined ? { auditWebhookUrl: e.AUDIT_WEBHOOK_URL } : {}),
    logLevel: e.LOG_LEVEL,
  };
}

const sandboxSchema = schema.pick({ PORT: true, LOG_LEVEL: true, DATABASE_POOL_SIZE: true, DATABASE_STATEMENT_TIMEOUT_MS: true, OUTBOX_LEASE_MS: true, AUDIT_WEBHOOK_URL: true }).extend({
  DATABASE_URL: z.preprocess(blankToUndefined, z.string().default('./data/sandbox.db').refine(readableDatabaseUrl, POSTGRES_URL)),
  SANDBOX_HOST: z.preprocess(blankToUndefined, z.string().default('127.0.0.1')),
});

function sandboxConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = sandboxSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message));
  const e = parsed.data;
  // Its own store, so demo data never mixes with a real workspace's.
  return { sandbox: true, sandboxHost: e.SANDBOX_HOST, botToken: '', signingSecret: undefined, appToken: undefined, slackApiUrl: undefined, port: e.PORT, databaseUrl: e.DATABASE_URL, databasePoolSize: e.DATABASE_POOL_SIZE, databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS, ...(e.OUTBOX_LEASE_MS !== undefined ? { outboxLeaseMs: e.OUTBOX_LEASE_MS } : {}), ...(e.AUDIT_WEBHOOK_URL !== undefined ? { auditWebhookUrl: e.AUDIT_WEBHOOK_URL } : {}), logLevel: e.LOG_LEVEL };
}
