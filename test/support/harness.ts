import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { LogLevel, type Logger } from '@slack/bolt';
import { createApp, type CreateAppOptions, type TasklaneApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { Services } from '../../src/services.js';
import { openStore, type Store } from '../../src/store/db.js';
import { openStores, sqliteStores, type Stores } from '../../src/store/engine.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import type { OutboxRow } from '../../src/store/schema.js';
import { SlackDriver } from '../../src/sandbox/driver.js';
import { FakeSlack } from '../../src/sandbox/fakeSlack.js';

export const SIGNING_SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
export const TEAM = 'T0AAAAAAA';
export const OTHER_TEAM = 'T0BBBBBBB';
/** The outbox's pauses between attempts in tests: an effect is given up after 4 failed attempts. */
export const TEST_RETRY_DELAYS_MS = [50, 100, 200];

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** A Bolt Logger that keeps every line, so tests can assert on what was (and was not) logged. */
export class CapturingLogger implements Logger {
  readonly lines: LogLine[] = [];
  private level = LogLevel.DEBUG;
  private push(level: LogLine['level'], msg: unknown[]) {
    this.lines.push({ level, message: msg.map((m) => (typeof m === 'string' ? m : safeJson(m))).join(' ') });
    if (process.env.TEST_LOGS) console.log(`[${level}]`, ...msg);
  }
  debug(...m: unknown[]) { this.push('debug', m); }
  info(...m: unknown[]) { this.push('info', m); }
  warn(...m: unknown[]) { this.push('warn', m); }
  error(...m: unknown[]) { this.push('error', m); }
  setLevel(level: LogLevel) { this.level = level; }
  getLevel() { return this.level; }
  setName() {}
  text(): string { return this.lines.map((l) => `${l.level}: ${l.message}`).join('\n'); }
}

/** An object as a console logger would print it (Bolt's ConsoleLogger: console.log), every field and level. */
function safeJson(v: unknown): string {
  return inspect(v, { depth: null, breakLength: Infinity, showHidden: false });
}

export interface TestApp {
  url: string;
  port: number;
  fake: FakeSlack;
  slack: SlackDriver;
  tasklane: TasklaneApp;
  services: Services;
  /** The app's repositories (either engine). */
  stores: Stores;
  /** The SQLite store, for tests that read the file directly (throws on PostgreSQL). */
  store: Store;
  dbPath: string;
  logger: CapturingLogger;
  /** Every outbox row, oldest first. */
  outboxRows(): Promise<OutboxRow[]>;
  /** Waits until every handler and background job the app started has finished. */
  settle(): Promise<void>;
  /** Stops the app and closes its store (keeps the fake and the database file). */
  stop(): Promise<void>;
  /** Stops this app and starts a new one on the same database file and fake Slack (a restart). */
  restart(): Promise<TestApp>;
  /** Stops the app and the fake, deletes the temp folder. */
  dispose(): Promise<void>;
}

export interface TestAppOptions {
  fake?: FakeSlack;
  dbPath?: string;
  /** Runs on this PostgreSQL database (migrated at start) instead of a SQLite file. */
  postgresUrl?: string;
  now?: () => number;
  config?: Partial<Config>;
  /** How often the app's recovery jobs run again (createApp's default: 30 s). */
  recoveryEveryMs?: number;
  /** HTTP timeouts and connection caps (createApp's defaults otherwise). */
  http?: CreateAppOptions['http'];
  /**
   * The outbox sender's options. Tests default to a short retry schedule (TEST_RETRY_DELAYS_MS:
   * four attempts within a second, instead of over most of an hour) so that "Slack keeps failing"
   * ends in the give-up path while the test waits, and to the sender on the main thread: starting
   * its worker thread from the TypeScript sources takes about a second per app. The thread runs
   * in test/reliability/outbox.test.ts (`thread: true`) and in every test of the real process.
   */
  outbox?: CreateAppOptions['outbox'];
  /** Internal: what a restarted app inherits the duty to clean up on dispose. */
  owned?: { fake: boolean; tempDir?: string; database?: TestDatabase };
}

/**
 * Starts the real Tasklane app (createApp, HTTP receiver) on a loopback port, against a real
 * SQLite file in a temp folder (migrated exactly as in production) and the fake Slack.
 */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const ownsFake = opts.owned?.fake ?? !opts.fake;
  const fake = opts.fake ?? (await FakeSlack.start());
  const dir = opts.owned?.tempDir ?? (opts.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'tasklane-test-')));
  const dbPath = opts.dbPath ?? join(dir as string, 'tasklane.db');
  const config: Config = {
    botToken: fake.botToken,
    signingSecret: SIGNING_SECRET,
    appToken: undefined,
    slackApiUrl: fake.apiUrl,
    port: 0,
    databaseUrl: dbPath,
    logLevel: 'debug',
    ...opts.config,
  };
  // TASKLANE_TEST_ENGINE=postgresql (the suite's PostgreSQL project): a database of its own.
  const database = opts.owned?.database ?? (!opts.postgresUrl && !opts.dbPath && process.env.TASKLANE_TEST_ENGINE === 'postgresql' ? await createTestDatabase() : undefined);
  const postgresUrl = opts.postgresUrl ?? database?.url;
  const stores = postgresUrl ? await openStores({ databaseUrl: postgresUrl }, () => {}, opts.now) : sqliteStores(openStore(dbPath), opts.now);
  const sqlite = (): Store => {
    if (!stores.sqlite) throw new Error('this test reads the SQLite file directly: it runs on SQLite only');
    return stores.sqlite;
  };
  const logger = new CapturingLogger();
  const tasklane = createApp({ config: postgresUrl ? { ...config, databaseUrl: postgresUrl } : config, store: stores, logger, now: opts.now, recoveryEveryMs: opts.recoveryEveryMs, http: opts.http, outbox: { retryDelaysMs: TEST_RETRY_DELAYS_MS, thread: false, ...opts.outbox } });
  const { port } = await tasklane.start(0);
  const url = `http://127.0.0.1:${port as number}/slack/events`;
  const slack = new SlackDriver({ appUrl: url, signingSecret: SIGNING_SECRET, fake, teamId: TEAM });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await tasklane.stop(5_000);
    await stores.close();
  };
  const testApp: TestApp = {
    url,
    port: port as number,
    fake,
    slack,
    tasklane,
    services: tasklane.services,
    stores,
    get store() {
      return sqlite();
    },
    dbPath,
    logger,
    outboxRows: () => stores.outbox.all(),
    async settle() {
      // Let responses and the microtasks behind them run, then wait for tracked work, twice:
      // finishing work may schedule more (e.g. a coalesced Home publish).
      for (let i = 0; i < 2; i++) {
        await new Promise((r) => setImmediate(r));
        await tasklane.services.inFlight.idle(10_000);
      }
    },
    stop,
    async restart() {
      await stop();
      return startTestApp({ ...opts, fake, dbPath, owned: { fake: ownsFake, tempDir: dir, database } });
    },
    async dispose() {
      await stop();
      if (ownsFake) await fake.stop().catch(() => {});
      await database?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return testApp;
}
