import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@slack/bolt';
import { ErrorCode, type WebAPICallResult } from '@slack/web-api';
import type { Config } from '../../config.js';
import { describeError, type Background } from '../../runtime.js';
import type { HomeRefresher } from '../../services.js';
import { deserializeError, type CallThread, type SerializedError } from '../../slack/threadedClient.js';

/** What keeps App Homes current: the publisher itself, or its thread (below). */
export interface HomePublishing extends HomeRefresher {
  /** The user opened the Home or clicked on it: publish without waiting for the interval. */
  publishNow(teamId: string, userId: string): void;
  /** Stops publishing; called once nothing is in flight (createApp's stop). */
  close(): Promise<void>;
}

/** What the thread is started with. */
export interface HomeThreadData {
  databasePath: string;
  config: Pick<Config, 'botToken' | 'slackApiUrl' | 'logLevel'>;
}

/** `clockOffsetMs`: the app's clock (`services.now`, which tests may move) minus the real one. */
export type ToHomeThread =
  | { op: 'changed'; seq: number; clockOffsetMs: number; teamId: string; userIds: string[] }
  | { op: 'publishNow'; seq: number; clockOffsetMs: number; teamId: string; userId: string }
  | { op: 'call'; id: number; method: string; options: Record<string, unknown> }
  | { op: 'close' };

/**
 * `ready`: the thread takes Web API calls. `idle`: every Home change up to message `seq` is
 * published. `result`: the outcome of call `id`. `log`: a line for the app's logger.
 */
export type FromHomeThread =
  | { op: 'ready' }
  | { op: 'idle'; seq: number }
  | { op: 'result'; id: number; ok: true; result: WebAPICallResult }
  | { op: 'result'; id: number; ok: false; error: SerializedError }
  | { op: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

/**
 * Web API calls waiting on the thread, at most: past this the thread is behind (it yields the
 * CPU to acks under load) and further calls are made on the main thread, so a user waiting on a
 * modal or a card never waits for a long queue.
 */
const MAX_PENDING_CALLS = 64;

export interface HomeThreadDeps {
  data: HomeThreadData;
  logger: Logger;
  background: Background;
  now: () => number;
  /** The publisher to use on this thread if the worker thread dies. */
  inThisThread: () => HomePublishing;
}

/**
 * The App Home publisher (publisher.ts) in a worker thread with its own store connection, Web
 * API client and user cache (`publisherThread.ts`). Building a Home (queries and blocks) and
 * serialising it for `views.publish` cost more CPU than most requests; on the main thread that
 * work delayed every ack queued behind it. Here the main thread only posts "these users'
 * Homes changed" (a few microseconds) and the thread, at a lower CPU priority, coalesces and
 * publishes. The store is the truth, so the thread reads it afresh for every publish.
 *
 * While the thread has work, one background job is open on the main thread (shutdown and
 * `t.settle()` wait for it). If the thread dies, the Homes it had not finished are published on
 * the main thread, and so is every later change.
 */
export class HomeThread implements HomePublishing, CallThread {
  /** Started on the first change or Web API call, so an app that does neither starts no thread. */
  private worker: Worker | undefined;
  private seq = 0;
  /** Users whose publish the thread has not reported done (bounded by the number of users). */
  private readonly unsettled = new Map<string, { teamId: string; userId: string; urgent: boolean }>();
  private release: (() => void) | undefined;
  private fallback: HomePublishing | undefined;
  private closing = false;
  private exited = false;
  /** The thread has set up and takes Web API calls. */
  private ready = false;
  private callSeq = 0;
  private readonly calls = new Map<number, { resolve: (r: WebAPICallResult) => void; reject: (e: Error) => void }>();

  constructor(private readonly deps: HomeThreadDeps) {}

  changed(teamId: string, userIds: Iterable<string | null | undefined>): void {
    const ids = [...new Set([...userIds].filter((id): id is string => typeof id === 'string' && id !== ''))];
    if (ids.length === 0) return;
    if (this.fallback) return this.fallback.changed(teamId, ids);
    for (const userId of ids) this.remember(teamId, userId, false);
    this.post({ op: 'changed', seq: ++this.seq, clockOffsetMs: this.deps.now() - Date.now(), teamId, userIds: ids });
  }

  publishNow(teamId: string, userId: string): void {
    if (this.fallback) return this.fallback.publishNow(teamId, userId);
    this.remember(teamId, userId, true);
    this.post({ op: 'publishNow', seq: ++this.seq, clockOffsetMs: this.deps.now() - Date.now(), teamId, userId });
  }

  /** The thread is up and takes Web API calls. */
  get isReady(): boolean {
    return this.ready && !this.fallback;
  }

  /** Also starts the thread: until it is ready (and when it is far behind) calls stay here. */
  call(method: string, options: Record<string, unknown>): Promise<WebAPICallResult> | undefined {
    if (this.fallback || this.closing) return undefined;
    this.worker ??= this.start();
    if (!this.ready || this.calls.size >= MAX_PENDING_CALLS) return undefined;
    const id = ++this.callSeq;
    try {
      this.worker.postMessage({ op: 'call', id, method, options } satisfies ToHomeThread);
    } catch {
      return undefined; // arguments a thread cannot receive (none of ours): call here
    }
    return new Promise((resolve, reject) => this.calls.set(id, { resolve, reject }));
  }

  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.fallback?.close();
    const worker = this.worker;
    if (worker && !this.exited) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ op: 'close' } satisfies ToHomeThread);
      const timer = setTimeout(() => void worker.terminate(), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    this.abandonCalls('the app stopped');
    this.settle();
  }

  private remember(teamId: string, userId: string, urgent: boolean): void {
    const key = `${teamId}:${userId}`;
    this.unsettled.set(key, { teamId, userId, urgent: urgent || (this.unsettled.get(key)?.urgent ?? false) });
  }

  private post(message: ToHomeThread): void {
    this.worker ??= this.start();
    this.worker.postMessage(message);
    if (!this.release) {
      this.deps.background.run('home publisher thread', () => new Promise<void>((resolve) => (this.release = resolve)));
    }
  }

  private start(): Worker {
    const worker = startWorker(this.deps.data);
    worker.on('message', (m: FromHomeThread) => this.received(m));
    worker.on('error', (err) => this.failed(describeError(err)));
    worker.on('exit', (code) => {
      this.exited = true;
      if (!this.closing) this.failed(`it exited with code ${code}`);
    });
    return worker;
  }

  private received(m: FromHomeThread): void {
    if (m.op === 'log') {
      this.deps.logger[m.level](m.message);
    } else if (m.op === 'ready') {
      this.ready = true;
    } else if (m.op === 'result') {
      const waiting = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (m.ok) waiting?.resolve(m.result);
      else waiting?.reject(deserializeError(m.error));
    } else if (m.seq === this.seq) {
      this.settle();
    }
  }

  /**
   * Calls the thread did not answer: whether Slack got them is unknown, so they fail like a call
   * Slack did not answer (callers tell the user what did not happen) rather than run twice.
   */
  private abandonCalls(why: string): void {
    for (const { reject } of this.calls.values()) {
      reject(Object.assign(new Error(`A request error occurred: ${why} before Slack answered`), { code: ErrorCode.RequestError }));
    }
    this.calls.clear();
  }

  /** Nothing is left to publish here: close the background job. */
  private settle(): void {
    this.unsettled.clear();
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  private failed(why: string): void {
    if (this.fallback || this.closing) return;
    this.deps.logger.error(`home: the publisher thread stopped (${why}); Homes are published and Slack called on the main thread from now on`);
    this.ready = false;
    this.abandonCalls('the helper thread stopped');
    const fallback = this.deps.inThisThread();
    this.fallback = fallback;
    for (const { teamId, userId, urgent } of this.unsettled.values()) {
      if (urgent) fallback.publishNow(teamId, userId);
      else fallback.changed(teamId, [userId]);
    }
    this.settle();
  }
}

/**
 * The thread's heap is capped well below the main thread's: left alone V8 grows a busy isolate's
 * young generation and old space towards the process-wide limits, once per thread, and RSS with
 * them. Live data here is small (a user cache, the pending publishes); a thread that runs out
 * dies and the main thread takes over publishing.
 */
const THREAD_HEAP = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 };

/** Compiled (`dist/`), the entry is JavaScript; from source (tests, `npm run dev`) tsx loads it. */
function startWorker(data: HomeThreadData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./publisherThread.js', here), { workerData: data, resourceLimits: THREAD_HEAP });
  // tsx's ESM entry, found from here (not from the working directory) through its package.json.
  const tsxPackage = createRequire(here).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(tsxPackage, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const tsx = pathToFileURL(join(dirname(tsxPackage), exports['./esm/api']?.import.default ?? 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./publisherThread.ts', here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: data, resourceLimits: THREAD_HEAP });
}
