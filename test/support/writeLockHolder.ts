// Test helper thread (test/store/writeLock.test.ts): takes the store's write lock from another
// thread and holds it for `holdMs`, or until the test opens `gate` (sets its cell to 1); then
// lets go, or exits while holding it (`die`). `releasing` is the time just before it lets go.
import { parentPort, workerData } from 'node:worker_threads';
import { WriteLock } from '../../src/store/db.js';

const { buffer, holdMs, die, gate } = workerData as { buffer: SharedArrayBuffer; holdMs: number; die: boolean; gate?: SharedArrayBuffer };
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
let releasing = 0;
new WriteLock(buffer).hold(() => {
  parentPort?.postMessage({ op: 'holding' });
  if (gate) {
    const cell = new Int32Array(gate);
    while (Atomics.load(cell, 0) === 0) Atomics.wait(cell, 0, 0, 1_000);
  } else sleep(holdMs);
  if (die) process.exit(3);
  releasing = Date.now();
});
parentPort?.postMessage({ op: 'released', at: releasing });
