import 'dotenv/config';
import { createServer } from 'node:net';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { describeError } from './runtime.js';
import { openStores } from './store/engine.js';

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

  // Loaded only when used: a real deployment carries none of the sandbox in memory.
  const sandbox = config.sandbox
    ? (await import('./sandbox/server.js')).createSandbox(await sandboxPort(config.port, config.sandboxHost ?? '127.0.0.1'), config.sandboxHost)
    : undefined;
  if (sandbox) config = { ...config, port: sandbox.port, botToken: sandbox.slack.botToken, signingSecret: sandbox.slack.signingSecret, slackApiUrl: sandbox.slack.apiUrl };
  let onStoreError = (message: string) => console.error(message);
  const store = await openStores(config, (message) => onStoreError(message));
  const tasklane = createApp({ config, store, routes: sandbox?.routes, host: sandbox ? config.sandboxHost : undefined });
  const log = tasklane.services.logger;
  onStoreError = (message) => log.warn(message);

  if (!sandbox) await checkToken(tasklane.services.client, log);

  const { port } = await tasklane.start();
  if (sandbox) log.info(`Tasklane sandbox: open ${sandbox.pageUrl}`);
  else {
    log.info(
      config.appToken
        ? `Tasklane is running in Socket Mode (health on :${config.port}/healthz), on ${store.engine === 'postgresql' ? 'PostgreSQL' : 'SQLite'}`
        : `Tasklane is listening on :${port} (POST /slack/events, GET /healthz), on ${store.engine === 'postgresql' ? 'PostgreSQL' : 'SQLite'}`,
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: finishing in-flight requests`);
    await tasklane.stop(10_000);
    await store.close();
    log.info('Tasklane stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The sandbox must know its port before it starts (the emulator's URLs carry it): PORT=0 picks a free one. */
async function sandboxPort(port: number, host: string): Promise<number> {
  if (port !== 0) return port;
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, host, () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
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
