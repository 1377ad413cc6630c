import 'dotenv/config';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { describeError } from './runtime.js';
import { openStore } from './store/db.js';

/** Process entry: config → store (migrated) → app → listen; SIGTERM/SIGINT drain and exit 0. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }

  const store = openStore(config.databaseUrl);
  const tasklane = createApp({ config, store });
  const log = tasklane.services.logger;

  await checkToken(tasklane.services.client, log);

  const { port } = await tasklane.start();
  log.info(
    config.appToken
      ? `Tasklane is running in Socket Mode (health on :${config.port}/healthz)`
      : `Tasklane is listening on :${port} (POST /slack/events, GET /healthz)`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: finishing in-flight requests`);
    await tasklane.stop(10_000);
    store.close();
    log.info('Tasklane stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** A revoked or mistyped token is a configuration error: say so before listening. */
async function checkToken(client: import('@slack/web-api').WebClient, log: { warn(m: string): void }): Promise<void> {
  try {
    await client.auth.test();
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code === 'invalid_auth' || code === 'not_authed' || code === 'account_inactive' || code === 'token_revoked') {
      console.error(`Tasklane cannot start: Slack refused SLACK_BOT_TOKEN (${code}). Copy the "Bot User OAuth Token" (xoxb-…) from "OAuth & Permissions".`);
      process.exit(2);
    }
    // Slack unreachable right now: start anyway, calls will retry when requests come in.
    log.warn(`could not verify the bot token with Slack yet: ${describeError(err)}`);
  }
}

main().catch((err: unknown) => {
  console.error(`Tasklane failed to start: ${describeError(err)}`);
  process.exit(1);
});
