import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Starts the worker thread whose entry is the module `name` beside `here` (the caller's
 * `import.meta.url`). Compiled (`dist/`), the entry is JavaScript; from source (tests,
 * `npm run dev`) `workerBoot.mjs` registers tsx in the thread and loads the TypeScript entry.
 */
export function startWorkerModule(here: string, name: string, workerData: unknown, resourceLimits: ResourceLimits): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), { workerData, resourceLimits });
  const entry = new URL(`./${name}.ts`, here).href;
  return new Worker(new URL('./workerBoot.mjs', import.meta.url), { argv: [entry], workerData, resourceLimits });
}

/**
 * Lowers the calling thread's CPU priority: Linux keeps a nice value per thread (setpriority on
 * the calling thread), so under load the main thread's acks go first. Elsewhere this would renice
 * the whole process, so it is left alone there.
 */
export async function niceThisThread(): Promise<void> {
  if (process.platform !== 'linux') return;
  const { setPriority } = await import('node:os');
  try {
    setPriority(0, 10);
  } catch {
    // not permitted here: run at normal priority
  }
}
