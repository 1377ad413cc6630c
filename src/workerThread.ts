import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Starts the worker thread whose entry is the module `name` beside `here` (the caller's
 * `import.meta.url`). Compiled (`dist/`), the entry is JavaScript; from source (tests,
 * `npm run dev`) tsx loads the TypeScript entry, found from here through its package.json.
 */
export function startWorkerModule(here: string, name: string, workerData: unknown, resourceLimits: ResourceLimits): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), { workerData, resourceLimits });
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(tsxPackage, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const tsx = pathToFileURL(join(dirname(tsxPackage), exports['./esm/api']?.import.default ?? 'dist/esm/api/index.mjs')).href;
  const entry = new URL(`./${name}.ts`, here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits });
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
