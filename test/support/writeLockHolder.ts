// Test helper thread (test/store/writeLock.test.ts): takes the store's write lock from another
// thread, holds it for `holdMs`, then lets go, or exits while holding it (`die`).
import { parentPort, workerData } from 'node:worker_threads';
import { WriteLock } from '../../src/store/db.js';

const { buffer, holdMs, die } = workerData as { buffer: SharedArrayBuffer; holdMs: number; die: boolean };
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
new WriteLock(buffer).hold(() => {
  parentPort?.postMessage({ op: 'holding' });
  sleep(holdMs);
  if (die) process.exit(3);
});
parentPort?.postMessage({ op: 'released', at: Date.now() });
