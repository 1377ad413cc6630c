import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, SocketModeReceiver, type AnyMiddlewareArgs, type CustomRoute, type Logger, type Middleware } from '@slack/bolt';
import { ConsoleLogger } from '@slack/logger';
import { WebClient } from '@slack/web-api';
import type { Config } from './config.js';
import { registerApprovals } from './features/approvals/register.js';
import { registerHome } from './features/home/register.js';
import { registerTasks } from './features/tasks/register.js';
import { TaskService } from './features/tasks/service.js';
import { registerEffectKinds } from './outbox/register.js';
import { Outbox, type EffectSender, type OutboxOptions } from './outbox/sender.js';
import { OutboxThread } from './outbox/thread.js';
import { Background, InFlight, describeError } from './runtime.js';
import type { Services } from './services.js';
import { ListenerRegistry } from './slack/registry.js';
import { RedactingLogger } from './slack/redactingLogger.js';
import { teamIdOf } from './slack/values.js';
import { guardRequests } from './slack/requestGuard.js';
import { DEFAULT_HTTP_LIMITS, limitConnections, serverOptions, type HttpLimits } from './slack/httpLimits.js';
import { UserDirectory } from './slack/users.js';
import { toLogLevel, webClientOptions } from './slack/webApi.js';
import { startMaintenance, type Maintenance } from './store/maintenance.js';
import type { Store } from './store/db.js';
import { sqliteStores, type Stores } from './store/engine.js';

/** Where Slack sends events, commands and interactions (manifest.json's request URLs). */
const EVENTS_PATH = '/slack/events';

export interface CreateAppOptions {
  config: Config;
  /** The store: its repositories on either engine, or an open SQLite store (its repositories are made here). */
  store: Stores | Store;
  logger?: Logger;
  now?: () => number;
  /** How often recovery jobs (`services.onStart`) run again while the app runs; default 30 s. */
  recoveryEveryMs?: number;
  /** HTTP mode: timeouts and connection caps (defaults in slack/httpLimits.ts). */
  http?: Partial<HttpLimits>;
  /** HTTP mode: more routes on the same server (the sandbox's page and Slack emulator). */
  routes?: CustomRoute[];
  /** HTTP mode: the interface to listen on (default: all). */
  host?: string;
  /**
   * The outbox sender's lease, concurrency and timers (outbox/sender.ts), its Web API timeout,
   * and whether it runs in its worker thread (default: yes, unless the store is in memory).
   */
  outbox?: Partial<OutboxOptions> & { callTimeoutMs?: number; thread?: boolean };
}

export interface TasklaneApp {
  app: App;
  services: Services;
  registry: ListenerRegistry;
  /** Starts serving; resolves with the bound port (HTTP mode) once listening. */
  start(port?: number): Promise<{ port: number | undefined }>;
  /** Stops accepting requests, then waits (bounded) for in-flight handlers. Does not close the store. */
  stop(graceMs?: number): Promise<void>;
}

/** Builds the Bolt app with every feature registered. No I/O happens until `start()`. */
export function createApp({ config, store: storeGiven, logger: given, now = Date.now, recoveryEveryMs = 30_000, http, routes = [], host, outbox: outboxGiven = {} }: CreateAppOptions): TasklaneApp {
  // OUTBOX_LEASE_MS (config) unless the caller sets the lease itself.
  const outboxOptions: NonNullable<CreateAppOptions['outbox']> = { ...(config.outboxLeaseMs !== undefined ? { leaseMs: config.outboxLeaseMs } : {}), ...outboxGiven };
  // Every log line, ours and Bolt's/@slack's, goes through the redactor: no token or secret in logs.
  const logger = new RedactingLogger(given ?? new ConsoleLogger(), [config.botToken, config.signingSecret, config.appToken].filter((s): s is string => Boolean(s)));
  logger.setLevel(toLogLevel(config.logLevel));
  const stores: Stores = 'engine' in storeGiven ? storeGiven : sqliteStores(storeGiven, now);
  /** SQLite only: the file store (the sender thread and the maintenance thread open it too). */
  const sqlite = stores.sqlite;
  const healthz: CustomRoute = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req: IncomingMessage, res: ServerResponse) => {
      void stores.ping().then((ok) => {
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', store: ok ? 'ok' : 'unreachable', database: stores.engine }));
      });
    },
  };

  const socketMode = config.appToken !== undefined;
  const receiver = socketMode
    ? new SocketModeReceiver({
        appToken: config.appToken as string,
        customRoutes: [healthz],
        // clientOptions here reach the socket client's apps.connections.open (SLACK_API_URL).
        installerOptions: { port: config.port, clientOptions: { slackApiUrl: config.slackApiUrl } },
        logger,
        logLevel: toLogLevel(config.logLevel),
      })
    : new HTTPReceiver({
        signingSecret: config.signingSecret as string,
        endpoints: EVENTS_PATH,
        customRoutes: [healthz, ...routes],
        // Verified (once, before anything is parsed) by guardRequests below.
        signatureVerification: false,
        logger,
        logLevel: toLogLevel(config.logLevel),
        // ack() answers Slack at once; the rest of a listener runs after, tracked by InFlight.
        processBeforeResponse: false,
      });
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...http };
  if (receiver instanceof HTTPReceiver) {
    guardRequests(receiver, {
      signingSecret: config.signingSecret as string,
      endpoints: [EVENTS_PATH],
      logger,
      bodyLimit: limits.bodyLimitBytes,
      bufferedLimit: limits.bufferedBytesLimit,
    });
  }

  // Two clients, two queues: a rate-limited effect never holds up a call a person waits on.
  const botClient = new WebClient(config.botToken, webClientOptions(config, logger, 'interactive'));
  const app = new App({
    authorize: botIdentity(botClient, config.botToken),
    receiver,
    logger,
    logLevel: toLogLevel(config.logLevel),
    clientOptions: webClientOptions(config, logger),
    // Conversation state is not used; skip Bolt's in-memory store and its per-request lookups.
    convoStore: false,
  });
  const log = app.logger;

  const inFlight = new InFlight();
  const background = new Background(inFlight, log);
  /** A sender on this thread, with every effect kind (an in-memory store; or the sender thread died). */
  const senderHere = (): Outbox => {
    const { callTimeoutMs, thread: _thread, ...senderOptions } = outboxOptions;
    const client = new WebClient(config.botToken, { ...webClientOptions(config, logger, 'outbox'), ...(callTimeoutMs ? { timeout: callTimeoutMs } : {}) });
    const sender = new Outbox({ outbox: stores.outbox, client, logger: log, now, inFlight }, senderOptions);
    registerEffectKinds(sender, stores, { client, now, auditWebhookUrl: config.auditWebhookUrl });
    return sender;
  };
  // On SQLite the sender runs in a worker thread (outbox/thread.ts) with its own connection; an
  // in-memory store cannot be opened by a second connection, so its sender stays here, as does
  // PostgreSQL's (its work is waiting on the network, and it shares the app's pool).
  const { thread: inThread = true, ...threadOptions } = outboxOptions;
  const outbox: EffectSender = !sqlite || sqlite.sqlite.memory || !inThread
    ? senderHere()
    : new OutboxThread({
        store: sqlite,
        data: { databasePath: sqlite.sqlite.name, writeLock: sqlite.writeLock.buffer, config: { botToken: config.botToken, slackApiUrl: config.slackApiUrl, logLevel: config.logLevel, auditWebhookUrl: config.auditWebhookUrl }, options: threadOptions },
        logger: log,
        background,
        now,
        createFallbackSender: senderHere,
      });
  const startJobs: { name: string; job: () => Promise<void> }[] = [];
  const services: Services = {
    config,
    stores,
    logger: log,
    client: botClient,
    outbox,
    users: new UserDirectory(botClient),
    inFlight,
    background,
    now,
    onStart: (name, job) => void startJobs.push({ name, job }),
  };

  app.use(answerWhenListenerThrows(log));

  // Everything a listener does, including what it does after ack(), is tracked for shutdown.
  app.use(async ({ next }) => {
    await inFlight.track(next());
  });

  // An event redelivered by Slack is ignored, unless a crash cut its first attempt short.
  app.use(handleEachEventOnce(stores.deliveries));

  services.onStart('handle again events a crash cut short', async () => {
    for (const { key, body } of await stores.deliveries.unfinished(now() - 30_000)) {
      try {
        await app.processEvent({ body: JSON.parse(body) as Record<string, unknown>, ack: async () => {} });
      } catch (err) {
        log.warn(`could not handle ${key} again: ${describeError(err)}`);
      }
    }
  });

  // Redelivery guards are only needed while Slack may still retry (minutes); keep a day.
  services.onStart('prune processed deliveries and sent effects', async () => {
    const pruned = await stores.deliveries.pruneEvents(24 * 60 * 60_000);
    if (pruned > 0) log.debug(`pruned ${pruned} processed event deliveries older than a day`);
    await outbox.prune();
  });

  const registry = new ListenerRegistry(app);
  app.use(registry.dispatcher((body) => log.info(`ignored a request no listener handles: ${describePayload(body)}`)));
  // One TaskService for every surface (cards, command, steps, modals, Home); the features may
  // register in any order.
  const tasks = new TaskService(services);
  registerHome(registry, services, tasks);
  registerApprovals(registry, services);
  registerTasks(registry, services, tasks);


  app.error(async (err) => {
    log.error(`unhandled listener error: ${describeError(err.original ?? err)}`);
  });

  // Recovery jobs run once listening, then every `recoveryEveryMs` (a step Slack failed to take
  // is retried without waiting for a restart). A job still running is not started again. Each
  // periodic run is claimed in the store (store/jobs.ts): instances sharing it take turns.
  let recoveryTimer: NodeJS.Timeout | undefined;
  const runningJobs = new Set<string>();
  const jobs = stores.jobs;
  const instance = randomUUID();
  const runRecovery = (startUp: boolean) => {
    for (const { name, job } of startJobs) {
      if (runningJobs.has(name)) continue;
      runningJobs.add(name);
      services.background.run(name, async () => {
        try {
          if (await jobs.claim(name, instance, now(), recoveryEveryMs, startUp)) await job();
        } finally {
          runningJobs.delete(name);
        }
      });
    }
  };

  let server: Server | undefined;
  let maintenance: Maintenance | undefined;
  return {
    app,
    services,
    registry,
    async start(port = config.port) {
      const started = (await (socketMode ? app.start(port) : app.start(host ? { port, host } : port, serverOptions(limits)))) as unknown;
      // An in-memory store has no WAL (and no second connection can see it).
      if (sqlite && !sqlite.sqlite.memory) maintenance = startMaintenance(sqlite, log);
      outbox.start();
      runRecovery(true);
      recoveryTimer = setInterval(() => runRecovery(false), recoveryEveryMs);
      recoveryTimer.unref();
      if (!socketMode) {
        server = started as Server;
        limitConnections(server, limits);
        return { port: (server.address() as AddressInfo).port };
      }
      return { port: undefined };
    },
    async stop(graceMs = 10_000) {
      clearInterval(recoveryTimer);
      await app.stop().catch((err: unknown) => log.warn(`stopping the receiver: ${describeError(err)}`));
      const drained = await inFlight.idle(graceMs);
      if (!drained) log.warn(`shutdown: ${inFlight.size} handler(s) still running after ${graceMs} ms; stopping anyway`);
      await outbox.stop();
      await maintenance?.stop();
    },
  };
}

/**
 * Events are handled at least once. Slack redelivers one it thinks failed (x-slack-retry-num):
 * the first delivery of an event id takes it, keeping its body until its listener finished; a
 * redelivery is acknowledged (Bolt already did) and ignored, unless the first attempt was cut
 * short (a crash), in which case it is handled again, as it is by the recovery job in createApp.
 * Listeners' effects are idempotent (outbox keys, conditional updates). function_executed is
 * not claimed: its listeners are idempotent by function_execution_id (unique in the store) and
 * acknowledge only once it is recorded, so Slack's redelivery after a crash must reach them.
 */
export function handleEachEventOnce(deliveries: Stores['deliveries']): Middleware<AnyMiddlewareArgs> {
  return async ({ body, next, logger: reqLog }) => {
    const b = body as { type?: string; event_id?: string; team_id?: string; event?: { type?: string } };
    if (b.type !== 'event_callback' || typeof b.event_id !== 'string' || b.event?.type === 'function_executed') return next();
    const key = `event:${b.event_id}`;
    // Kept to handle it again after a crash; the Home view app_home_opened carries (tens of KB,
    // never read by the listener) is left out.
    const kept = b.event?.type === 'app_home_opened' ? { ...b, event: { ...b.event, view: undefined } } : body;
    const claim = await deliveries.claim(teamIdOf(b), key, JSON.stringify(kept));
    if (claim === 'duplicate') {
      reqLog.debug(`ignoring redelivered event ${b.event_id} (team ${b.team_id})`);
      return;
    }
    if (claim === 'resume') reqLog.info(`handling event ${b.event_id} (team ${b.team_id}) again: an earlier attempt did not finish`);
    await next();
    await deliveries.finish(key);
  };
}

/**
 * One bot token for every workspace of the org install. Bolt's own token mode calls auth.test
 * in its constructor and keeps a failed answer forever (an unreachable Slack at boot would crash
 * the process); this remembers only a successful answer and asks again after a failure.
 */
function botIdentity(client: WebClient, botToken: string) {
  let identity: Promise<{ botId?: string; botUserId?: string }> | undefined;
  return async () => {
    identity ??= client.auth.test().then((r) => ({ botId: r.bot_id, botUserId: r.user_id }));
    try {
      return { botToken, ...(await identity) };
    } catch (err) {
      identity = undefined;
      throw err;
    }
  };
}

/** Names what a payload is about, for logs: kinds and ids only, never tokens or user text. */
export function describePayload(body: unknown): string {
  const b = body as {
    type?: string;
    command?: string;
    callback_id?: string;
    view?: { callback_id?: string };
    actions?: { action_id?: string }[];
    action_id?: string;
    event?: { type?: string };
  };
  const kind = b.command ? 'slash_command' : (b.type ?? 'unknown');
  const id = b.command ?? b.actions?.[0]?.action_id ?? b.action_id ?? b.view?.callback_id ?? b.callback_id ?? b.event?.type ?? '';
  return `${kind} ${id} (team ${teamIdOf(b) || '?'})`.replace(/\s+/g, ' ');
}

/**
 * A listener that throws must still answer Slack, or Slack waits 3 s, shows the person an error
 * and may retry. The error is logged; if the listener had not acked yet, this acks: a modal
 * submission keeps its form open with a message under its first input, anything else gets a
 * plain 200 (nothing changed, and the person may try again).
 */
function answerWhenListenerThrows(log: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    try {
      await args.next();
    } catch (err) {
      log.error(`a listener failed (${describePayload(args.body)}): ${describeError(err)}`);
      const ack = (args as { ack?: (response?: unknown) => Promise<void> }).ack;
      if (!ack) return;
      const firstInput = (args.body as { type?: string; view?: { blocks?: { type?: string; block_id?: string }[] } }).view?.blocks?.find((b) => b.type === 'input')?.block_id;
      const response =
        args.body.type === 'view_submission' && firstInput !== undefined
          ? { response_action: 'errors', errors: { [firstInput]: 'Something went wrong on our side and nothing was saved. Please try again.' } }
          : undefined;
      // Throws when the listener had already acked: then Slack has its answer.
      await ack(response).catch(() => {});
    }
  };
}
