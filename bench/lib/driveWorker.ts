/** Worker-thread entry of `drive()` (bench/lib/load.ts): runs each load it is sent and reports it. */
import { parentPort } from 'node:worker_threads';
import { runLoad, runPaced, type DriveOptions } from './load.js';

parentPort?.on('message', (m: { id: number; options: DriveOptions }) => {
  const o = m.options;
  const run = o.rate !== undefined ? runPaced({ ...o, rate: o.rate, seconds: o.seconds ?? 5 }) : runLoad(o);
  run.then(
    (result) => parentPort?.postMessage({ id: m.id, result }),
    (err: unknown) => parentPort?.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
