import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@slack/logger';

/**
 * Copies the WAL back into the database file from a worker thread of its own (its own
 * connection, niced like the outbox sender thread), every `everyMs`.
 *
 * SQLite otherwise checkpoints inside whichever commit takes the WAL past 1,000 pages: on this
 * app's one main thread, every few hundred writes one ack waited for some megabytes of random
 * writes into the database file (a p99 spike in the benchmark). A PASSIVE checkpoint blocks no
 * reader or writer, and once it has caught up the next commit starts the WAL over, so the
 * in-commit checkpoint stays a safety net that no longer fires. Plain JavaScript (evaluated), so
 * it runs the same from source and compiled.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
if (process.platform === 'linux') {
  try { require('node:os').setPriority(0, 10); } catch {}
}
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
let failing = false;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failing = false;
  } catch (err) {
    if (!failing) parentPort.postMessage(String((err && err.message) || err));
    failing = true;
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  process.exit(0);
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(databasePath: string, logger: Logger, everyMs = 200): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    workerData: { driver, path: databasePath, everyMs },
    // It allocates next to nothing: a small heap keeps its share of RSS small.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  let stopping = false;
  worker.on('message', (why: string) => logger.warn(`store: background WAL checkpoint failed (SQLite checkpoints in commits meanwhile): ${why}`));
  worker.on('error', (err) => logger.warn(`store: the WAL checkpoint thread stopped (SQLite checkpoints in commits from now on): ${err.message}`));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
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
