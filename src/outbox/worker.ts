/**
 * Entry of the outbox sender's worker thread (started by `OutboxThread`, thread.ts): an Outbox
 * with its own store connection (the main thread migrated the store), Web API client and user
 * cache, with every effect kind registered. Rendering cards and Homes, serialising them and the
 * HTTP exchanges with Slack happen here, at a lower CPU priority, while the main thread answers
 * Slack. Log lines go to the main thread's logger (and its token redaction).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger, LogLevel } from '@slack/logger';
import { WebClient } from '@slack/web-api';
import { InFlight } from '../runtime.js';
import { toLogLevel, webClientOptions } from '../slack/webApi.js';
import { openStore, WriteLock } from '../store/db.js';
import { sqliteStores } from '../store/engine.js';
import { niceThisThread } from '../workerThread.js';
import { registerEffectKinds } from './register.js';
import { Outbox } from './sender.js';
import type { FromOutboxThread, OutboxThreadData, ToOutboxThread } from './thread.js';

const port = parentPort;
if (!port) throw new Error('outbox/worker.ts runs as a worker thread (see thread.ts)');
const data = workerData as OutboxThreadData;
const send = (m: FromOutboxThread) => port.postMessage(m);

// Under load, acks on the main thread go first and effects catch up.
await niceThisThread();

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
const store = openStore(data.databasePath, null, new WriteLock(data.writeLock));
const { callTimeoutMs, ...options } = data.options;
const client = new WebClient(data.config.botToken, { ...webClientOptions(data.config, logger, 'outbox'), ...(callTimeoutMs ? { timeout: callTimeoutMs } : {}) });
let clockOffsetMs = 0;
const now = () => Date.now() + clockOffsetMs;
const inFlight = new InFlight();
const stores = sqliteStores(store, now);
const outbox = new Outbox({ outbox: stores.outbox, client, logger, now, inFlight }, options);
registerEffectKinds(outbox, stores, { client, now, auditWebhookUrl: data.config.auditWebhookUrl });

let lastSeq = 0;
let waiting = false;
/** Tells the main thread once everything asked so far is sent (or waits on a retry further off). */
const reportWhenIdle = () => {
  if (waiting) return;
  waiting = true;
  const wait = (): Promise<void> => inFlight.idle(60_000).then((idle) => (idle ? undefined : wait()));
  void wait().then(() => {
    waiting = false;
    send({ op: 'idle', seq: lastSeq });
  });
};

port.on('message', (m: ToOutboxThread) => {
  if (m.op === 'stop') {
    void outbox.stop().finally(() => {
      store.close();
      process.exit(0);
    });
    return;
  }
  clockOffsetMs = m.clockOffsetMs;
  if (m.op === 'lend') {
    outbox.lend(m.key, m.token, m.ttlMs);
    return;
  }
  lastSeq = m.seq;
  outbox.kick();
  reportWhenIdle();
});

outbox.start();
send({ op: 'ready' });
