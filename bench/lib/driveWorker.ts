/** Worker-thread entry of `drive()` (bench/lib/load.ts): runs one load and reports it. */
import { parentPort, workerData } from 'node:worker_threads';
import { runLoad, runPaced, type DriveOptions } from './load.js';

const o = workerData as DriveOptions;
parentPort?.postMessage(o.rate !== undefined ? await runPaced({ ...o, rate: o.rate, seconds: o.seconds ?? 5 }) : await runLoad(o));
