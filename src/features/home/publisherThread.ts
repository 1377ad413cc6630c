/**
 * Entry of the App Home publisher's worker thread (started by `HomeThread`, thread.ts): a
 * HomePublisher with its own store connection (the main thread migrated the store), Web API
 * client and user cache. The same client makes the main thread's bot Web API calls that are
 * handed over (`op: 'call'`, slack/threadedClient.ts). Log lines go to the main thread's logger
 * (and its token redaction).
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger, LogLevel } from '@slack/logger';
import { WebClient } from '@slack/web-api';
import { Background, InFlight } from '../../runtime.js';
import { serializeError } from '../../slack/threadedClient.js';
import { UserDirectory } from '../../slack/users.js';
import { toLogLevel, webClientOptions } from '../../slack/webApi.js';
import { DashboardReadModel } from '../../store/dashboard.js';
import { openStore } from '../../store/db.js';
import { HomeStateRepository } from '../../store/homeState.js';
import { HomePublisher } from './publisher.js';
import type { FromHomeThread, HomeThreadData, ToHomeThread } from './thread.js';

const port = parentPort;
if (!port) throw new Error('publisherThread runs as a worker thread (see thread.ts)');
const data = workerData as HomeThreadData;
const send = (m: FromHomeThread) => port.postMessage(m);

// Linux keeps a nice value per thread (setpriority on the calling thread): under load, acks on
// the main thread go first and Home publishes, coalesced per user, catch up. Elsewhere this call
// would renice the whole process, so it is not made.
if (process.platform === 'linux') {
  try {
    setPriority(0, 10);
  } catch {
    // not permitted here: run at normal priority
  }
}

const RANK = { debug: 0, info: 1, warn: 2, error: 3 } as const;
type Level = keyof typeof RANK;

/** Bolt's Logger interface, forwarding the lines at or above the app's level to the main thread. */
class ParentLogger implements Logger {
  constructor(private level: Level) {}
  debug(...msg: unknown[]) { this.line('debug', msg); }
  info(...msg: unknown[]) { this.line('info', msg); }
  warn(...msg: unknown[]) { this.line('warn', msg); }
  error(...msg: unknown[]) { this.line('error', msg); }
  setLevel(level: LogLevel) { this.level = level as Level; }
  getLevel(): LogLevel { return toLogLevel(this.level); }
  setName() {}
  private line(level: Level, msg: unknown[]) {
    if (RANK[level] < RANK[this.level]) return;
    send({ op: 'log', level, message: msg.map(lineText).join(' ') });
  }
}

/** One argument of a log call as text; a logger must not throw (a circular object is not JSON). */
function lineText(m: unknown): string {
  if (typeof m === 'string') return m;
  if (m instanceof Error) return `${m.name}: ${m.message}`;
  try {
    return JSON.stringify(m) ?? String(m);
  } catch {
    return String(m);
  }
}

const logger = new ParentLogger(data.config.logLevel);
const store = openStore(data.databasePath, null);
const client = new WebClient(data.config.botToken, webClientOptions(data.config, logger));
let clockOffsetMs = 0;
const now = () => Date.now() + clockOffsetMs;
const inFlight = new InFlight();
const publisher = new HomePublisher({
  client,
  dashboard: new DashboardReadModel(store),
  homeState: new HomeStateRepository(store),
  users: new UserDirectory(client, undefined, now),
  background: new Background(inFlight, logger),
  logger,
  now,
});

let lastSeq = 0;
let waiting = false;
/** Tells the main thread once everything received so far is published. */
const reportWhenIdle = () => {
  if (waiting) return;
  waiting = true;
  const wait = (): Promise<void> => inFlight.idle(60_000).then((idle) => (idle ? undefined : wait()));
  void wait().then(() => {
    waiting = false;
    send({ op: 'idle', seq: lastSeq });
  });
};

port.on('message', (m: ToHomeThread) => {
  if (m.op === 'close') {
    store.close();
    process.exit(0);
  }
  if (m.op === 'call') {
    const failed = (err: unknown) => send({ op: 'result', id: m.id, ok: false, error: serializeError(err) });
    client.apiCall(m.method, m.options).then((result) => {
      try {
        send({ op: 'result', id: m.id, ok: true, result });
      } catch (err) {
        failed(err); // an answer that cannot cross threads (never seen from Slack)
      }
    }, failed);
    return;
  }
  clockOffsetMs = m.clockOffsetMs;
  lastSeq = m.seq;
  if (m.op === 'changed') publisher.changed(m.teamId, m.userIds);
  else publisher.publishNow(m.teamId, m.userId);
  reportWhenIdle();
});

send({ op: 'ready' });
