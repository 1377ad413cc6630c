import type { Worker } from 'node:worker_threads';
import type { Logger } from '@slack/logger';
import { startWorkerModule } from '../workerThread.js';
import type { Store } from './db.js';

/** What the maintenance thread (maintenanceWorker.ts) is started with. */
export interface MaintenanceData {
  path: string;
  /** The main store's `WriteLock` buffer: the thread's merges take the same lock. */
  writeLock: SharedArrayBuffer;
  everyMs: number;
  /** How long one round may merge the search index for. */
  mergeBudgetMs: number;
}

/** From the thread: a job started failing (once per failing spell). */
export interface MaintenanceProblem {
  job: 'checkpoint' | 'merge';
  message: string;
}

export interface Maintenance {
  stop(): Promise<void>;
}

/**
 * Keeps the SQLite file in shape from a niced worker thread with its own connection, every
 * `everyMs`, off the request path:
 * - merges the search index's segments in small steps (store/searchIndex.ts);
 * - copies the WAL back into the database file (a PASSIVE checkpoint, which blocks no reader or
 *   writer). Left to SQLite, the commit that takes the WAL past its limit checkpoints, on the
 *   request's thread: some megabytes of random writes in one ack. The app's connections keep
 *   that limit only as a safety net (openStore), which this thread keeps from being reached.
 * If the thread stops, both still happen inside commits (a crisis merge; the safety-net
 * checkpoint): slower acks now and then, nothing lost.
 */
export function startMaintenance(store: Store, logger: Logger, everyMs = 100): Maintenance {
  const data: MaintenanceData = { path: store.sqlite.name, writeLock: store.writeLock.buffer, everyMs, mergeBudgetMs: 20 };
  // It allocates next to nothing: a small heap keeps its share of RSS small.
  const worker: Worker = startWorkerModule(import.meta.url, 'maintenanceWorker', data, { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 2 });
  const threadId = worker.threadId; // -1 once it has stopped
  let stopping = false;
  worker.on('message', (p: MaintenanceProblem) =>
    logger.warn(`store: background ${p.job === 'merge' ? 'search index merge' : 'WAL checkpoint'} failed (it happens inside commits meanwhile): ${p.message}`),
  );
  worker.on('error', (err) => logger.warn(`store: the maintenance thread stopped (the WAL and the search index are kept up inside commits from now on): ${err.message}`));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      store.writeLock.releaseIfHeldBy(threadId);
      resolve();
    }),
  );
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
