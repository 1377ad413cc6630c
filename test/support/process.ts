import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * Runs the real entry point (`src/main.ts`, as `npm start` does) with exactly `env`; `nodeArgs`
 * go before it (e.g. the heap caps of the `start` script).
 */
export function startMain(env: Record<string, string>, nodeArgs: string[] = []): RunningProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, output: () => out, exited };
}

/** Polls `url` until it answers 200 (the app is listening and the store answers). */
export async function waitForHealthy(url: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not become healthy within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** `startMain(env)` once it answers /healthz on `port`; its output is in the error when it does not. */
export async function startHealthy(env: Record<string, string>, port: number, timeoutMs = 30_000): Promise<RunningProcess> {
  const p = startMain(env);
  try {
    await waitForHealthy(`http://127.0.0.1:${port}/healthz`, timeoutMs);
  } catch (err) {
    p.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${p.output()}`);
  }
  return p;
}

/** SIGKILLs `proc` if it is still running and waits for it to be gone (a test's clean-up). */
export async function killIfRunning(proc: RunningProcess | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGKILL');
  await proc.exited;
}
