import type { Worker } from 'node:worker_threads';
import type { Logger } from '@slack/bolt';
import type { Config } from '../config.js';
import { describeError, type Background } from '../runtime.js';
import type { Store } from '../store/db.js';
import { OutboxRepository, type Effect } from '../store/outbox.js';
import { sqliteOutboxStore, type OutboxStore } from '../store/outboxStore.js';
import { startWorkerModule } from '../workerThread.js';
import { DEFAULT_OUTBOX_OPTIONS, type EffectSender, type Outbox, type OutboxOptions } from './sender.js';

/** What the thread is started with. */
export interface OutboxThreadData {
  databasePath: string;
  /** The main store's `WriteLock` buffer: the thread's connection takes the same lock. */
  writeLock: SharedArrayBuffer;
  config: Pick<Config, 'botToken' | 'slackApiUrl' | 'logLevel' | 'auditWebhookUrl'>;
  options: Partial<OutboxOptions> & { callTimeoutMs?: number };
}

/** `clockOffsetMs`: the app's clock (`services.now`, which tests may move) minus the real one. */
export type ToOutboxThread =
  | { op: 'kick'; seq: number; clockOffsetMs: number }
  | { op: 'lend'; key: string; token: string; ttlMs?: number; clockOffsetMs: number }
  | { op: 'stop' };

/** `idle`: everything asked up to kick `seq` is sent. `log`: a line for the app's logger. */
export type FromOutboxThread = { op: 'ready' } | { op: 'idle'; seq: number } | { op: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

export interface OutboxThreadDeps {
  store: Store;
  data: OutboxThreadData;
  logger: Logger;
  background: Background;
  now: () => number;
  /** The sender to use on this thread if the worker thread dies. */
  createFallbackSender: () => Outbox;
}

/**
 * The outbox sender (sender.ts) in a worker thread (worker.ts) with its own store connection,
 * Web API client and user cache. Building cards and Homes, serialising them for Slack and
 * parsing Slack's answers cost more CPU than most requests, and on the main thread that work
 * would delay every ack queued behind it (docs/performance.md). The main thread writes effects in
 * its transactions and only posts "kick"; the thread, at a lower CPU priority, claims and sends.
 * Rows are leased, so the two connections never send one row twice.
 *
 * While the thread has work, one background job is open on the main thread (shutdown and
 * `t.settle()` wait for it). If the thread dies, a sender on the main thread takes over: the
 * rows the thread held are sent again once their leases run out (looked for first, if posts).
 */
export class OutboxThread implements EffectSender {
  readonly repo: OutboxStore;
  private worker: Worker | undefined;
  private seq = 0;
  private resolveBackgroundJob: (() => void) | undefined;
  private fallback: Outbox | undefined;
  private started = false;
  private closing = false;
  private exited = false;

  constructor(private readonly deps: OutboxThreadDeps) {
    this.repo = sqliteOutboxStore(new OutboxRepository(deps.store));
  }

  async add(effects: Effect[]): Promise<void> {
    if (this.fallback) return this.fallback.add(effects);
    await this.repo.add(effects, this.deps.now());
    this.kick();
  }

  kick(): void {
    if (this.fallback) return this.fallback.kick();
    if (!this.started || this.closing) return;
    this.post({ op: 'kick', seq: ++this.seq, clockOffsetMs: this.offset() });
    if (!this.resolveBackgroundJob) this.deps.background.run('outbox sender thread', () => new Promise<void>((resolve) => (this.resolveBackgroundJob = resolve)));
  }

  lend(key: string, token: string, ttlMs?: number): void {
    if (this.fallback) return this.fallback.lend(key, token, ttlMs);
    this.post({ op: 'lend', key, token, ...(ttlMs !== undefined ? { ttlMs } : {}), clockOffsetMs: this.offset() });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const worker = startWorker(this.deps.data);
    this.worker = worker;
    const workerThreadId = worker.threadId; // -1 once it has stopped
    worker.on('message', (m: FromOutboxThread) => this.received(m));
    worker.on('error', (err) => this.failed(describeError(err)));
    worker.on('exit', (code) => {
      this.exited = true;
      this.deps.store.writeLock.releaseIfHeldBy(workerThreadId);
      if (!this.closing) this.failed(`it exited with code ${code}`);
    });
    this.kick();
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.fallback?.stop();
    const worker = this.worker;
    if (worker && !this.exited) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ op: 'stop' } satisfies ToOutboxThread);
      const timer = setTimeout(() => void worker.terminate(), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    this.closeBackgroundJob();
  }

  prune(): Promise<number> {
    return this.repo.prune(this.deps.now() - (this.deps.data.options.keepDoneMs ?? DEFAULT_OUTBOX_OPTIONS.keepDoneMs));
  }

  private offset(): number {
    return this.deps.now() - Date.now();
  }

  private post(message: ToOutboxThread): void {
    try {
      this.worker?.postMessage(message);
    } catch (err) {
      this.failed(describeError(err));
    }
  }

  private received(m: FromOutboxThread): void {
    if (m.op === 'log') this.deps.logger[m.level](m.message);
    else if (m.op === 'idle' && m.seq === this.seq) this.closeBackgroundJob();
  }

  /** The thread has nothing left to send for now, or has stopped: shutdown need not wait for it. */
  private closeBackgroundJob(): void {
    const resolve = this.resolveBackgroundJob;
    this.resolveBackgroundJob = undefined;
    resolve?.();
  }

  private failed(why: string): void {
    if (this.fallback || this.closing) return;
    this.deps.logger.error(`outbox: the sender thread stopped (${why}); effects are sent from the main thread from now on`);
    const fallback = this.deps.createFallbackSender();
    this.fallback = fallback;
    fallback.start();
    this.closeBackgroundJob();
  }
}

/**
 * The thread's heap is capped well below the main thread's: left alone V8 grows a busy isolate's
 * young generation and old space towards the process-wide limits, once per thread, and RSS with
 * them. Live data here is small (a user cache, the rows being sent); a thread that runs out dies
 * and the main thread takes over.
 */
const THREAD_HEAP = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 };

function startWorker(data: OutboxThreadData): Worker {
  return startWorkerModule(import.meta.url, 'worker', data, THREAD_HEAP);
}
