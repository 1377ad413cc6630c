import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';

export interface SignedRequest {
  body: string;
  contentType: string;
}

export interface LoadResult {
  requests: number;
  errors: number;
  non2xx: number;
  seconds: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  /** Every response's latency (ms), sorted: loads can be merged (`merged`). */
  latencies: number[];
}

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_CT = 'application/json';

export function signatureHeaders(secret: string, body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${sig}` };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/**
 * Drives signed requests at `url` in a worker thread (paced at `rate`, or autocannon at
 * saturation / for an `amount`): the fake Slack shares this process's event loop, and its work
 * answering the app must not delay the clock that times the app's answers. Requests are built
 * beforehand (`requests`, cycled if the run outlasts them) and signed at send time like Slack
 * does. Latencies are collected from every response, so p95 is exact. One worker serves every
 * load of the run (it is started once, not per phase).
 */
export async function drive(o: DriveOptions): Promise<LoadResult> {
  const w = loadWorker();
  const id = ++loadIds;
  return new Promise<LoadResult>((resolve, reject) => {
    w.pending.set(id, { resolve, reject });
    w.worker.postMessage({ id, options: o });
  });
}

interface LoadWorker {
  worker: Worker;
  pending: Map<number, { resolve: (r: LoadResult) => void; reject: (e: unknown) => void }>;
}
let running: LoadWorker | undefined;
let loadIds = 0;

/** The thread that generates load, started by the first `drive()` (again after one died). */
function loadWorker(): LoadWorker {
  if (running) return running;
  // The worker's entry is TypeScript: register tsx's loader in the worker before importing it.
  const entry = new URL('./driveWorker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true });
  worker.unref();
  const w: LoadWorker = { worker, pending: new Map() };
  const failAll = (err: unknown) => {
    for (const p of w.pending.values()) p.reject(err);
    w.pending.clear();
    running = undefined;
  };
  worker.on('message', (m: { id: number; result?: LoadResult; error?: string }) => {
    const p = w.pending.get(m.id);
    w.pending.delete(m.id);
    if (m.result) p?.resolve(m.result);
    else p?.reject(new Error(`load failed: ${m.error}`));
  });
  worker.once('error', failAll);
  worker.once('exit', (code) => failAll(new Error(`load worker exited with ${code}`)));
  running = w;
  return w;
}

export interface LoadOptions {
  url: string;
  secret: string;
  /** Built requests (cycled), or a function building each one at send time. */
  requests: SignedRequest[] | (() => SignedRequest);
  seconds?: number;
  amount?: number;
  rate?: number;
  connections?: number;
}
export type DriveOptions = LoadOptions & { requests: SignedRequest[] };

/**
 * A fixed-rate run: request i is sent at start + i/rate, open loop (never waiting for earlier
 * answers), on keep-alive connections (node:http). autocannon's `overallRate` is not used for this: it gives
 * each connection a quota per one-second window, so every second starts with the whole second's
 * requests sent at once, and latency "at 200 req/s" would measure a 200-request burst.
 */
export async function runPaced(o: LoadOptions & { rate: number; seconds: number }): Promise<LoadResult> {
  const list = o.requests;
  let i = 0;
  const next = typeof list === 'function' ? list : () => list[i++ % list.length] as SignedRequest;
  const total = Math.round(o.rate * o.seconds);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const inFlight: Promise<void>[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const target = new URL(o.url);
  const send = () =>
    new Promise<void>((resolve) => {
      const { body, contentType } = next();
      const headers = { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...signatureHeaders(o.secret, body) };
      const sent = performance.now();
      const req = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - sent);
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) non2xx += 1;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(body);
    });
  const start = performance.now();
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(send());
  }
  await Promise.all(inFlight);
  agent.destroy();
  return summarize(latencies, errors, non2xx, (performance.now() - start) / 1000);
}

/**
 * The autocannon run itself: what `drive()`'s worker executes, or, on this thread, a load whose
 * requests depend on what the app has done so far (test/reliability/load.test.ts).
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let finish!: (r: autocannon.Result) => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<autocannon.Result>((res, rej) => ((finish = res), (fail = rej)));
  let i = 0;
  const list = o.requests;
  const next = typeof list === 'function' ? list : () => list[i++ % list.length] as SignedRequest;
  const instance = autocannon({
    url: o.url,
    connections: o.connections ?? (o.rate ? 20 : 16),
    pipelining: 1,
    duration: o.seconds ?? 10,
    amount: o.amount,
    overallRate: o.rate,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: new URL(o.url).pathname,
        setupRequest: (req) => {
          const { body, contentType } = next();
          return { ...req, body, headers: { 'content-type': contentType, ...signatureHeaders(o.secret, body) } };
        },
      },
    ],
  }, (err, res) => (err ? fail(err) : finish(res)));
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await done;
  // In a worker thread autocannon leaves its histograms unsummarised: count the responses here.
  return summarize(latencies, result.errors + result.timeouts, result.non2xx, result.duration);
}

/** One result for several loads against the same target (e.g. slices alternated with another target's). */
export function merged(results: LoadResult[]): LoadResult {
  const all = results.flatMap((r) => r.latencies);
  const sum = (f: (r: LoadResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return summarize(all, sum((r) => r.errors), sum((r) => r.non2xx), sum((r) => r.seconds));
}

/** A load's result from every response's latency (ms), so the percentiles are exact. */
function summarize(latencies: number[], errors: number, non2xx: number, seconds: number): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    non2xx,
    seconds,
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    latencies,
  };
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  rssMb(): number;
  /** CPU time the process has used so far, all its threads (ms). */
  cpuMs(): number;
  stop(): Promise<void>;
  output(): string;
}

/**
 * Starts `node args…` as a separate process and waits until `readyUrl` answers. TypeScript
 * entry points (`.ts`) run through tsx; compiled ones (`dist/…js`, what `npm start` runs) as is.
 */
export async function startProcess(args: string[], env: Record<string, string>, port: number, readyUrl: string): Promise<ServerProcess> {
  const loader = args.some((a) => a.endsWith('.ts')) ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  if (process.env.BENCH_APP_OUT && args.some((a) => a.includes('dist/main.js'))) child.stdout?.on('data', (d: Buffer) => appendFileSync(process.env.BENCH_APP_OUT as string, d));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  // Never outlive the benchmark (a crashed run would leave the ports taken).
  process.once('exit', () => child.kill());
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`\n${args.join(' ')} exited unexpectedly (${code ?? signal}); its last output:\n${out}\n`);
  });
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited early:\n${out}`);
    try {
      const res = await fetch(readyUrl, { method: readyUrl.endsWith('/slack/events') ? 'POST' : 'GET' });
      if (res.status < 500) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > until) throw new Error(`${args.join(' ')} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    port,
    cpuMs: () => cpuMsOf(`/proc/${child.pid}/stat`),
    rssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      stopping = true;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    output: () => out,
  };
}

/**
 * CPU time (user + system, ms) from a /proc stat file: a process's (`/proc/PID/stat`, all its
 * threads) or one thread's (`/proc/PID/task/TID/stat`). Ticks of 10 ms (CLK_TCK 100).
 */
export function cpuMsOf(statPath: string): number {
  const fields = readFileSync(statPath, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
