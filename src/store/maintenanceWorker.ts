/**
 * Entry of the store's maintenance thread (started by `startMaintenance`, maintenance.ts): every
 * `everyMs`, merge the search index a little, then checkpoint the WAL. Problems go to the main
 * thread's logger, once per failing spell.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { niceThisThread } from '../workerThread.js';
import { openStore, WriteLock } from './db.js';
import type { MaintenanceData, MaintenanceProblem } from './maintenance.js';
import { mergeSearchIndex } from './searchIndex.js';

const port = parentPort;
if (!port) throw new Error('store/maintenanceWorker.ts runs as a worker thread (see maintenance.ts)');
const data = workerData as MaintenanceData;
await niceThisThread();

const store = openStore(data.path, null, new WriteLock(data.writeLock));
const failing = new Set<MaintenanceProblem['job']>();
const attempt = (job: MaintenanceProblem['job'], fn: () => void) => {
  try {
    fn();
    failing.delete(job);
  } catch (err) {
    if (!failing.has(job)) port.postMessage({ job, message: err instanceof Error ? err.message : String(err) } satisfies MaintenanceProblem);
    failing.add(job);
  }
};
const timer = setInterval(() => {
  attempt('merge', () => mergeSearchIndex(store, data.mergeBudgetMs));
  attempt('checkpoint', () => store.sqlite.pragma('wal_checkpoint(PASSIVE)'));
}, data.everyMs);

port.on('message', () => {
  clearInterval(timer);
  store.close();
  process.exit(0);
});
