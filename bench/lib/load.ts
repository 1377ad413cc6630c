import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
 * Drives signed requests at `url` with autocannon: each request is built by `next()` and signed
 * at send time like Slack does. `rate` = requests/s overall (fixed-rate run); omit it for
 * saturation. Latencies are collected from every response, so p95 is exact.
 */
export async function drive(o: {
  url: string;
  secret: string;
  next: () => SignedRequest;
  seconds?: number;
  amount?: number;
  rate?: number;
  connections?: number;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let finish!: (r: autocannon.Result) => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<autocannon.Result>((res, rej) => ((finish = res), (fail = rej)));
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
          const { body, contentType } = o.next();
          return { ...req, body, headers: { 'content-type': contentType, ...signatureHeaders(o.secret, body) } };
        },
      },
    ],
  }, (err, res) => (err ? fail(err) : finish(res)));
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await done;
  latencies.sort((a, b) => a - b);
  return {
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    seconds: result.duration,
    throughput: result.requests.total / result.duration,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  rssMb(): number;
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
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
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
    rssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    output: () => out,
  };
}
