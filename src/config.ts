import { z } from 'zod';

/** Typed runtime configuration (SPEC S2). Built once from the environment by `loadConfig`. */
export interface Config {
  botToken: string;
  signingSecret: string | undefined;
  /** Set → Socket Mode; unset → HTTP mode. */
  appToken: string | undefined;
  slackApiUrl: string | undefined;
  port: number;
  databaseUrl: string;
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
    PORT: z.preprocess(
      blankToUndefined,
      z.coerce
        .number({ error: 'PORT must be a whole number between 0 and 65535, like 3000' })
        .int('PORT must be a whole number between 0 and 65535, like 3000')
        .min(0, 'PORT must be a whole number between 0 and 65535, like 3000')
        .max(65535, 'PORT must be a whole number between 0 and 65535, like 3000')
        .default(3000),
    ),
    DATABASE_URL: z.preprocess(blankToUndefined, z.string().default('./data/tasklane.db')),
    LOG_LEVEL: z.preprocess(
      (v) => (typeof v === 'string' ? blankToUndefined(v.toLowerCase()) : v),
      z.enum(['debug', 'info', 'warn', 'error'], { error: 'LOG_LEVEL must be one of debug, info, warn, error' }).default('info'),
    ),
  });

/** Validates the environment; throws one ConfigError naming every missing or invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
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
    botToken: e.SLACK_BOT_TOKEN,
    signingSecret: e.SLACK_SIGNING_SECRET,
    appToken: e.SLACK_APP_TOKEN,
    slackApiUrl: e.SLACK_API_URL,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
  };
}
